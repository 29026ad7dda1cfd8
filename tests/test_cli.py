"""The command line under bad input, races and signals: a one-line error, exit 2, no
traceback, nothing half-made, never an input or an existing output overwritten."""

import json
import os
import signal
import subprocess
import sys
import time

import av
import numpy as np
import pytest
import synth

from v2m._cli import main
from v2m.cuesheet import make_cue


def _run(argv, capsys):
    """main() in this process: returns (exit code, stderr); a traceback would raise here."""
    rc = main([str(a) for a in argv])
    return rc, capsys.readouterr().err


def _v2m(*argv, **kw):
    return subprocess.Popen(
        [sys.executable, "-m", "v2m", *map(str, argv)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def _files(d):
    return sorted(p.relative_to(d).as_posix() for p in d.rglob("*"))


@pytest.fixture()
def cue_json(tmp_path):
    p = tmp_path / "cue.json"
    make_cue(duration_s=8, style="pop").save(p)
    return p


@pytest.mark.parametrize(
    "extra",
    [
        ["-o", "o.mp4", "--report", "o.mp4"],
        ["-o", "x.mid", "--midi", "x.mid"],
        ["-o", "o.mp4", "--wav", "x.wav", "--midi", "m.mid", "--report", "./x.wav"],
        ["-o", "o.mp4", "--cue", "j.json", "--timeline", "j.json"],
    ],
)
def test_score_outputs_must_be_distinct(bikes, tmp_path, capsys, extra, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc, err = _run(["score", bikes, *extra], capsys)
    assert rc == 2 and "every output needs its own path" in err
    assert _files(tmp_path) == []


def test_compose_plot_and_output_distinct(cue_json, tmp_path, capsys):
    x = tmp_path / "x.mid"
    rc, err = _run(["compose", cue_json, "-o", x, "--plot", x], capsys)
    assert rc == 2 and "--plot must end in .png" in err
    rc, err = _run(["compose", cue_json, "-o", x, "--plot", tmp_path / "p.png", "--force"], capsys)
    assert rc == 0
    rc, err = _run(
        ["analyze", cue_json, "-o", tmp_path / "t.png", "--plot", tmp_path / "t.png"], capsys
    )
    assert rc == 2 and "own path" in err
    assert _files(tmp_path) == ["cue.json", "p.png", "x.mid"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--wav", "music.mp3"], "--wav must end in .flac or .wav"),
        (["--soundfont", "missing.sf2"], "SoundFont not found"),
        (["--seed=-1"], "seed=-1: must be in 0..4294967295"),
        (["--seed=4294967296"], "seed=4294967296"),
        (["--tempo-bpm", "500"], "tempo_bpm=500.0"),
        (["--energy-scale", "9"], "energy=9.0"),
    ],
)
def test_bad_options_refused_before_any_work(bikes, tmp_path, capsys, extra, message, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc, err = _run(["score", bikes, "-o", "o.mp4", *extra], capsys)
    assert rc == 2 and message in err
    assert "analysing" not in err  # refused before the analysis
    assert _files(tmp_path) == []


def test_image_duration_one_limit(tmp_path, capsys):
    img = synth.SHARED / "images" / "chelsea.png"
    if not img.exists():
        pytest.skip("shared image missing")
    rc, err = _run(["score", img, "-o", tmp_path / "o.mp4", "--duration-s", "36000"], capsys)
    assert rc == 2 and "at most 6 hours" in err and "analysing" not in err


def test_stems_folder_checked_before_work(cue_json, tmp_path, capsys):
    stems = tmp_path / "stems"
    stems.mkdir()
    (stems / "bass.wav").write_bytes(b"keep me")
    rc, err = _run(["render", cue_json, "-o", tmp_path / "m.wav", "--stems", stems], capsys)
    assert rc == 2 and "bass.wav: output exists already" in err
    assert (stems / "bass.wav").read_bytes() == b"keep me"
    assert not (tmp_path / "m.wav").exists()
    a_file = tmp_path / "afile"
    a_file.write_text("x")
    rc, err = _run(["render", cue_json, "-o", tmp_path / "m.wav", "--stems", a_file], capsys)
    assert rc == 2 and "needs a folder" in err
    rc, _ = _run(
        ["render", cue_json, "-o", tmp_path / "m.wav", "--stems", stems, "--force"], capsys
    )
    assert rc == 0 and (stems / "bass.wav").stat().st_size > 1000


def test_seed_in_cue_sheet(cue_json, tmp_path, capsys):
    d = json.loads(cue_json.read_text())
    d["seed"] = -1
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(d))
    rc, err = _run(["compose", bad, "-o", tmp_path / "s.mid"], capsys)
    assert rc == 2 and "seed=-1" in err
    rc, err = _run(["cue", "--duration-s", "10", "--seed=-1", "-o", tmp_path / "c.json"], capsys)
    assert rc == 2 and "seed=-1" in err and not (tmp_path / "c.json").exists()


def test_cue_sheet_keys_named(cue_json, tmp_path, capsys, caplog):
    d = json.loads(cue_json.read_text())
    d["sections"][0]["enrgy"] = 0.5
    p = tmp_path / "typo.json"
    p.write_text(json.dumps(d))
    rc, err = _run(["compose", p, "-o", tmp_path / "s.mid"], capsys)
    assert rc == 2 and "sections[0]: unknown key(s) 'enrgy'" in err
    assert "__init__" not in err
    d = json.loads(cue_json.read_text())
    d["temp_bpm"] = 80
    p.write_text(json.dumps(d))
    rc, err = _run(["compose", p, "-o", tmp_path / "s.mid"], capsys)
    assert rc == 0 and "unknown key(s) 'temp_bpm'" in caplog.text
    d = json.loads(cue_json.read_text())
    d["energy"] = d["energy"][:3]
    p.write_text(json.dumps(d))
    rc, err = _run(["compose", p, "-o", tmp_path / "s2.mid"], capsys)
    assert rc == 2 and "energy: 3 values for" in err


def test_write_failure_after_work_leaves_nothing(bikes, tmp_path, capsys, monkeypatch):
    """A full disk at the last file: exit 2 naming it, and the video written before it is
    not left behind either (nor the folder the run made)."""
    import errno
    from pathlib import Path

    real = Path.write_text

    def full(self, *a, **k):
        if self.name.startswith(".v2m-tmp") and self.suffix == ".json":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, *a, **k)

    monkeypatch.setattr(Path, "write_text", full)
    out = tmp_path / "new" / "o.mp4"
    rc, err = _run(["score", bikes, "-o", out, "--report", tmp_path / "new" / "r.json"], capsys)
    assert rc == 2 and "r.json: cannot write (No space left on device)" in err
    assert _files(tmp_path) == []


def test_concurrent_runs_never_overwrite_each_other(bikes, tmp_path):
    out = tmp_path / "same.mp4"
    procs = [_v2m("score", bikes, "-o", out) for _ in range(3)]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    codes = sorted(rc for rc, _ in results)
    assert codes == [0, 2, 2], results
    assert all("Traceback" not in err for _, err in results)
    assert _files(tmp_path) == ["same.mp4"]
    with av.open(str(out)) as c:
        assert c.streams.audio and c.streams.video


def test_sigterm_cleans_up(tmp_path):
    video = synth.SHARED / "video" / "dancer.avi"
    if not video.exists():
        pytest.skip("dancer.avi missing")
    out = tmp_path / "made" / "o.mp4"
    p = _v2m("score", video, "-o", out, "--wav", tmp_path / "made" / "w.wav")
    seen = ""
    while "analysing" not in seen:  # the work has begun (outputs checked, folder made)
        line = p.stderr.readline()
        assert line, "v2m ended before it began analysing"
        seen += line
    time.sleep(0.3)
    p.send_signal(signal.SIGTERM)
    rc = p.wait(timeout=60)
    err = seen + p.stderr.read()
    assert rc == 143 and "terminated" in err and "Traceback" not in err
    assert _files(tmp_path) == []  # no output, no temp file, no folder


def test_sigterm_is_not_an_exception_that_code_may_swallow():
    """A SIGTERM that lands inside ``except Exception`` (the pose probe skips frames that
    do not decode) must still end the run: the CI once saw rc 0 after a SIGTERM there."""
    from v2m._cli import Terminated

    assert issubclass(Terminated, BaseException) and not issubclass(Terminated, Exception)
    try:
        try:
            raise Terminated()
        except Exception:  # noqa: BLE001 - what the probe does
            pytest.fail("swallowed")
    except Terminated:
        pass


def test_stale_temps_of_killed_runs_are_swept(bikes, tmp_path, capsys):
    p = subprocess.Popen(["true"])
    p.wait()
    stale = tmp_path / f".v2m-tmp.{p.pid}.o.x1y2.mp4"
    stale.write_bytes(b"\0" * 1000)
    rc, _ = _run(["score", bikes, "-o", tmp_path / "o.mp4"], capsys)
    assert rc == 0 and not stale.exists()


def _av1_video(path, *, fmt_ok=True):
    if "libsvtav1" not in av.codecs_available:
        pytest.skip("PyAV has no AV1 encoder (libsvtav1) here")
    frames = [synth.shot_image(1, w=128, h=96)] * 30 + [synth.shot_image(2, w=128, h=96)] * 30
    return synth.write_video(path, frames, codec="libsvtav1")


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_av1_is_stream_copied(tmp_path, capsys, suffix):
    src = _av1_video(tmp_path / f"av1{suffix}")
    out = tmp_path / f"scored{suffix}"
    rc, err = _run(["score", src, "-o", out], capsys)
    assert rc == 0, err
    with av.open(str(src)) as a, av.open(str(out)) as b:
        pa = [bytes(p) for p in a.demux(a.streams.video[0]) if p.size]
        pb = [bytes(p) for p in b.demux(b.streams.video[0]) if p.size]
        assert (
            b.streams.video[0].codec_context.codec.id == a.streams.video[0].codec_context.codec.id
        )
        assert pa == pb
        assert b.streams.audio


def test_truncated_mp4_without_index(bikes, tmp_path, capsys):
    data = bikes.read_bytes()
    mdat_first = data.find(b"mdat") < data.find(b"moov")
    if not mdat_first:
        pytest.skip("sample has its index first; nothing to truncate away")
    p = tmp_path / "cut.mp4"
    p.write_bytes(data[: len(data) * 2 // 3])
    rc, err = _run(["score", p, "-o", tmp_path / "o.mp4"], capsys)
    assert rc == 2 and "truncated: the file's index" in err


def test_tall_narrow_video_is_cheap(tmp_path):
    from v2m import _media

    frames = [np.full((2048, 16, 3), 40 + 4 * i, np.uint8) for i in range(10)]
    p = synth.write_video(tmp_path / "tall.mp4", frames)
    info = _media.probe_video(p)
    shapes = {f.bgr.shape for f in _media.iter_frames(p, info, warnings_out=[])}
    assert all(max(s[:2]) <= _media.ANALYSIS_WIDTH for s in shapes), shapes


def test_one_frame_video_gives_standard_json(tmp_path, capsys):
    p = synth.write_video(tmp_path / "one.mp4", [synth.shot_image(3)])
    rep = tmp_path / "r.json"
    rc, err = _run(["score", p, "-o", tmp_path / "o.wav", "--report", rep], capsys)
    assert rc == 0, err

    def no_constants(name):
        raise AssertionError(f"{name} in JSON")

    d = json.loads(rep.read_text(), parse_constant=no_constants)
    assert d["audio"]["loudness_lufs"] is None


def test_render_cue_length_must_fit_the_video(bikes, tmp_path, capsys, caplog):
    long_cue, short_cue = tmp_path / "long.json", tmp_path / "short.json"
    make_cue(duration_s=60, style="piano").save(long_cue)
    make_cue(duration_s=6, style="piano").save(short_cue)
    rc, err = _run(["render-cue", long_cue, "--video", bikes, "-o", tmp_path / "a.mp4"], capsys)
    assert rc == 2 and "60.00 s" in err and "10.00 s" in err
    assert not (tmp_path / "a.mp4").exists()
    rc, err = _run(["render-cue", short_cue, "--video", bikes, "-o", tmp_path / "b.mp4"], capsys)
    assert rc == 0 and "the last 4.00 s will be silent" in caplog.text


def test_eval_fails_when_every_file_fails(tmp_path, capsys):
    gen = tmp_path / "gen"
    gen.mkdir()
    (gen / "a.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01")  # cut short
    (gen / "b.mid").write_bytes(b"not midi at all")
    rc, err = _run(["eval", "--generated", gen, "-o", tmp_path / "rep.json"], capsys)
    assert rc == 2 and "nothing written" in err
    assert "a.mid: not a MIDI file (" in err and "a.mid: not a MIDI file ()" not in err
    assert not (tmp_path / "rep.json").exists()


def test_plot_thumbnails_follow_shots_after_a_dissolve(tmp_path):
    from v2m.analysis import analyze
    from v2m.plotting import shot_thumbnail

    p, _truth = synth.fade_flash_video(tmp_path / "ff.mp4")
    tl = analyze(p, keep_thumbnails=True)
    assert len(tl.shots) >= 3
    for shot in tl.shots:
        img = shot_thumbnail(tl.thumbnails, shot.start_s, shot.end_s)
        assert img is not None
        t = min(
            (t for t in tl.thumbnails if shot.start_s <= t < shot.end_s),
            key=lambda t: abs(t - 0.5 * (shot.start_s + shot.end_s)),
        )
        assert shot.start_s <= t < shot.end_s


def test_help_lists_metrics_and_ranges(capsys):
    with pytest.raises(SystemExit):
        main(["eval", "--help"])
    out = capsys.readouterr().out
    assert "beat_align_score_music" in out and "si_long" in out
    with pytest.raises(SystemExit):
        main(["score", "--help"])
    out = capsys.readouterr().out
    assert "--energy-scale" in out and "4294967295" in out and "30..240" in out


def test_module_entry_point_has_no_traceback_on_bad_input(tmp_path):
    p = _v2m("score", tmp_path / "missing.mp4", "-o", tmp_path / "o.mp4", env=os.environ)
    rc = p.wait(timeout=60)
    err = p.stderr.read()
    assert rc == 2 and "no such file" in err and "Traceback" not in err


def test_score_mode_is_explained_in_the_report(tmp_path, capsys):
    vid = synth.cuts_video(tmp_path / "v.mp4", cut_frames=(30, 80), n_frames=120)
    reasons = {}
    for mode in ("auto", "cuts", "dance"):
        rep = tmp_path / f"{mode}.json"
        rc, err = _run(
            ["score", vid, "-o", tmp_path / f"{mode}.wav", "--mode", mode, "--report", rep], capsys
        )
        assert rc == 0, err
        reasons[mode] = json.dumps(json.loads(rep.read_text()))
    assert "mode cuts: no body was tracked" in reasons["auto"]
    assert "mode cuts (chosen by the user)" in reasons["cuts"]
    assert "mode dance (chosen by the user) without a tracked body" in reasons["dance"]
    with pytest.raises(SystemExit) as exc:  # argparse's own refusal: usage + exit 2
        main(["score", str(vid), "-o", str(tmp_path / "x.wav"), "--mode", "ballet"])
    assert exc.value.code == 2 and "invalid choice: 'ballet'" in capsys.readouterr().err
    assert not (tmp_path / "x.wav").exists()


def _walk_parsers(p, name="v2m"):
    import argparse

    yield name, p
    for a in p._actions:
        if isinstance(a, argparse._SubParsersAction):
            for n, sp in a.choices.items():
                yield from _walk_parsers(sp, f"{name} {n}")


def test_every_option_of_every_command_has_help():
    import argparse

    from v2m._cli import build_parser

    missing = []
    for name, p in _walk_parsers(build_parser()):
        p.format_help()  # a stray % in a help text raises here
        for a in p._actions:
            if isinstance(a, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            if not a.help:
                missing.append(f"{name} {'/'.join(a.option_strings) or a.dest}")
    assert not missing, missing


def test_datasets_never_overwrite_the_dataset_s_own_files(tmp_path):
    root = tmp_path / "ds"
    root.mkdir()
    (root / "SymMV.csv").write_text("a\n")
    (root / "data.jsonl").write_text('{"path": "a.mp4"}\n')
    for args in (["check", "symmv", root, "--json", root / "SymMV.csv", "--force"],
                 ["export", "v2m", root, "-o", root / "data.jsonl", "--force"]):  # fmt: skip
        r = subprocess.run([sys.executable, "-m", "v2m", "datasets", *map(str, args)],
                           capture_output=True, text=True)  # fmt: skip
        assert r.returncode == 2 and "refusing to overwrite" in r.stderr, r.stderr
    assert (root / "SymMV.csv").read_text() == "a\n"
    assert (root / "data.jsonl").read_text() == '{"path": "a.mp4"}\n'


def test_a_text_file_is_not_a_video(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("These are my notes for the video.\n" * 200)
    r = subprocess.run([sys.executable, "-m", "v2m", "analyze", str(notes)],
                       capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 2 and "notes.txt" in r.stderr and "text file" in r.stderr


def test_midi_without_notes_or_too_long_is_refused_before_work(tmp_path):
    import mido

    empty = tmp_path / "empty.mid"
    mf = mido.MidiFile()
    mf.tracks.append(mido.MidiTrack([mido.MetaMessage("end_of_track", time=960)]))
    mf.save(empty)
    long = tmp_path / "long.mid"
    mf = mido.MidiFile()
    mf.tracks.append(mido.MidiTrack([
        mido.Message("note_on", note=60, velocity=80, time=0),
        mido.Message("note_off", note=60, time=480),
        mido.Message("note_on", note=62, velocity=80, time=480 * 2 * 3600 * 10),
        mido.Message("note_off", note=62, time=480),
    ]))  # fmt: skip
    mf.save(long)
    for args, want in [
        (["eval", "--generated", empty, "-o", tmp_path / "e.json"], "has no notes"),
        (["eval", "--generated", long, "-o", tmp_path / "l.json", "--metrics", "si_short"],
         "10.0 hours"),
        (["render", long, "-o", tmp_path / "l.wav"], "10.0 hours"),
        (["render", empty, "-o", tmp_path / "e.wav"], "has no notes"),
    ]:  # fmt: skip
        r = subprocess.run([sys.executable, "-m", "v2m", *map(str, args)], capture_output=True,
                           text=True, timeout=60)  # fmt: skip
        assert r.returncode == 2 and want in r.stderr, (args, r.stderr)
    assert not list(tmp_path.glob("*.json")) and not list(tmp_path.glob("*.wav"))


def test_progress_lines_when_not_on_a_terminal(bikes, tmp_path):
    """Piped stderr gets plain progress lines (stage, percent, seconds) and a last line
    that labels its time; a still says nothing about cuts."""
    env = {**os.environ, "V2M_PROGRESS_EVERY_S": "0.05"}
    cmd = [sys.executable, "-m", "v2m", "score", str(bikes), "-o", str(tmp_path / "b.mp4")]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    import re

    assert re.search(r"v2m: analysing bikes\.mp4: \d+ % \(\d+\.\d s\)", r.stderr), r.stderr
    assert re.search(r"v2m: rendering the music: \d+ % \(\d+\.\d s\)", r.stderr), r.stderr
    assert re.search(r"cuts on beats, \d on downbeats; done in \d+\.\d s$", r.stderr.strip())
    photo = synth.SHARED / "images" / "coffee.png"
    r = subprocess.run([sys.executable, "-m", "v2m", "score", str(photo), "-o",
                        str(tmp_path / "p.wav"), "--duration-s", "4"],
                       capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 0 and "cuts on beats" not in r.stderr.splitlines()[-1]
    assert r.stderr.strip().endswith("s") and "done in" in r.stderr.splitlines()[-1]


def test_verbose_and_quiet_anywhere():
    from v2m._cli import build_parser

    p = build_parser()
    assert p.parse_args(["-v", "analyze", "a.mp4"]).verbose
    assert p.parse_args(["analyze", "a.mp4", "-v"]).verbose
    assert p.parse_args(["datasets", "check", "symmv", "r", "-q"]).quiet
    assert not p.parse_args(["analyze", "a.mp4"]).verbose


def test_inputs_positional_or_as_options():
    """render-cue's video and eval's generated music: positional, like every other
    command's input, or as the option they used to be."""
    from v2m._cli import build_parser

    p = build_parser()
    a = p.parse_args(["render-cue", "c.json", "v.mp4", "-o", "o.mp4"])
    b = p.parse_args(["render-cue", "c.json", "--video", "v.mp4", "-o", "o.mp4"])
    assert str(a.video_pos) == str(b.video) == "v.mp4"
    e = p.parse_args(["eval", "gen", "-o", "r.json"])
    assert str(e.generated_pos) == "gen"
    assert main(["eval", "-o", "r.json"]) == 2


def test_models_list_and_a_bad_pose_model(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("V2M_MODELS", str(tmp_path))
    rc = main(["models", "list"])
    out = capsys.readouterr().out
    assert rc == 0 and str(tmp_path) in out
    assert all(f"pose {v}" in out for v in ("lite", "full", "heavy"))
    with pytest.raises(SystemExit) as e:
        main(["analyze", str(tmp_path / "x.mp4"), "--pose-model", "tiny"])
    assert e.value.code == 2 and "--pose-model" in capsys.readouterr().err
    rc, err = _run(["models", "pose", tmp_path / "nothing.tgz"], capsys)
    assert rc == 2 and "nothing.tgz: no such file" in err
