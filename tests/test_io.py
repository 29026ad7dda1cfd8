"""Outputs: checked before work, committed together, never clobbered, nothing half-made."""

import errno
import os
import subprocess

import pytest

from v2m._io import OutputSet, atomic_path, sweep_stale_temps, write_text_atomic
from v2m.errors import OutputError, OutputExistsError, ParameterError


def _dead_pid() -> int:
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def test_outputs_must_be_distinct(tmp_path):
    with pytest.raises(ParameterError, match="both --output and --report"):
        OutputSet({"--output": tmp_path / "o.mp4", "--report": tmp_path / "o.mp4"}, force=False)
    with pytest.raises(ParameterError, match="both"):
        OutputSet({"-o": tmp_path / "x.wav", "--wav": tmp_path / "." / "x.wav"}, force=True)
    assert list(tmp_path.iterdir()) == []


def test_refuses_input_existing_and_directory(tmp_path):
    inp = tmp_path / "in.mp4"
    inp.write_bytes(b"x")
    with pytest.raises(ParameterError, match="input"):
        OutputSet({"-o": inp}, force=True, inputs=(inp,))
    with pytest.raises(OutputExistsError, match="--force"):
        OutputSet({"-o": inp}, force=False)
    with pytest.raises(ParameterError, match="directory"):
        OutputSet({"-o": tmp_path}, force=True)


def test_files_appear_only_on_success(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "sub" / "b.txt"
    with OutputSet({"a": a, "b": b}, force=False):
        write_text_atomic(a, "A")
        assert not a.exists()  # staged until the set commits
        write_text_atomic(b, "B")
    assert a.read_text() == "A" and b.read_text() == "B"
    assert not [p for p in tmp_path.rglob(".v2m-tmp*")]


def test_failure_leaves_nothing(tmp_path):
    a, b = tmp_path / "new" / "deeper" / "a.txt", tmp_path / "b.txt"
    with pytest.raises(RuntimeError):
        with OutputSet({"a": a, "b": b}, force=False):
            write_text_atomic(a, "A")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []  # no file, no temp file, no folder we made


def test_commit_does_not_clobber_a_file_that_appeared(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    with pytest.raises(OutputExistsError, match="appeared"):
        with OutputSet({"a": a, "b": b}, force=False):
            write_text_atomic(a, "ours")
            write_text_atomic(b, "ours")
            b.write_text("theirs")  # another run finished first
    assert b.read_text() == "theirs"
    assert not a.exists()  # all or nothing
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.txt"]


def test_force_replaces(tmp_path):
    a = tmp_path / "a.txt"
    a.write_text("old")
    with OutputSet({"a": a}, force=True):
        write_text_atomic(a, "new")
    assert a.read_text() == "new"


def test_write_error_names_the_path(tmp_path):
    a = tmp_path / "a.txt"
    with pytest.raises(OutputError, match=r"a\.txt: cannot write \(No space"):
        with atomic_path(a):
            raise OSError(errno.ENOSPC, "No space left on device")
    assert list(tmp_path.iterdir()) == []


def test_devices_are_written_in_place(tmp_path):
    if not os.path.exists("/dev/null"):
        pytest.skip("no /dev/null")
    with OutputSet({"-o": "/dev/null"}, force=True):
        write_text_atomic("/dev/null", "x")
    assert not os.path.isfile("/dev/null")  # still the device


def test_sweep_removes_only_dead_runs_temps(tmp_path):
    dead = tmp_path / f".v2m-tmp.{_dead_pid()}.out.abc.mp4"
    mine = tmp_path / f".v2m-tmp.{os.getpid()}.out.def.mp4"
    other = tmp_path / ".hidden.mp4"
    for p in (dead, mine, other):
        p.write_bytes(b"x")
    assert sweep_stale_temps(tmp_path) == [dead]
    assert not dead.exists() and mine.exists() and other.exists()


def test_unwritable_directory_is_refused_before_work(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    if os.geteuid() == 0:
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(ro)])
        if r.returncode != 0:
            pytest.skip("root cannot be refused by permissions and cannot mount here")
    else:
        ro.chmod(0o555)
    try:
        with pytest.raises(OutputError, match="cannot write there"):
            OutputSet({"-o": ro / "o.mp4"}, force=False)
    finally:
        if os.geteuid() == 0:
            subprocess.run(["umount", str(ro)])
        else:
            ro.chmod(0o755)


def test_work_folders_of_killed_runs_are_removed(tmp_path, monkeypatch):
    """A render killed with SIGKILL leaves its work folder; the next run removes it, and
    leaves the folders of runs still going."""
    import os
    import subprocess
    import sys

    from v2m._io import sweep_work_dirs

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    gone = tmp_path / f"v2m-render-{dead}-abc123"
    gone.mkdir()
    (gone / "mix.f32").write_bytes(b"\0" * 1024)
    live = tmp_path / f"v2m-render-{os.getppid()}-def456"
    live.mkdir()
    other = tmp_path / "v2m-render-notapid"
    other.mkdir()
    assert sweep_work_dirs(tmp_path) == [gone]
    assert not gone.exists() and live.exists() and other.exists()
    # render() sweeps TMPDIR itself
    gone.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    from v2m.composition import compose
    from v2m.cuesheet import make_cue
    from v2m.rendering import render

    render(compose(make_cue(duration_s=2, tempo_bpm=100, style="pop")))
    assert not gone.exists() and live.exists()
