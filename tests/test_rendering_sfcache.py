"""The decoded-SoundFont cache: an .sf3's samples decoded once into a standard .sf2."""

import json

import numpy as np
import pytest

from v2m.composition import compose
from v2m.cuesheet import make_cue
from v2m.rendering import _fluidsynth, find_soundfont
from v2m.rendering._sfcache import _Font, decoded_soundfont, presets_of, samples_for
from v2m.rendering.synth import _fluid_chunks


@pytest.fixture(scope="module")
def sf3():
    choice = find_soundfont()
    if choice.path.suffix != ".sf3" or not _fluidsynth.available():
        pytest.skip("MuseScore General (.sf3) and FluidSynth not installed (see README)")
    return choice.path


def _score(style="cinematic", seed=3):
    return compose(make_cue(duration_s=6, tempo_bpm=96, style=style, key="D minor", seed=seed))


def test_presets_of_reads_programs_and_drum_kit():
    sc = _score()
    got = presets_of([sc.to_bytes()])
    for role, prog in sc.programs.items():
        if role != "drums" and sc.parts.get(role):
            assert (0, prog) in got, role
    assert (128, sc.drum_kit) in got and (128, 0) in got


def test_decoded_copy_sounds_like_the_sf3(sf3, tmp_path, monkeypatch):
    monkeypatch.setenv("V2M_CACHE_DIR", str(tmp_path))
    midi = _score().to_bytes()
    sf2 = decoded_soundfont(sf3, presets_of([midi]))
    assert sf2.suffix == ".sf2" and sf2.parent == tmp_path / "soundfonts"
    # only the samples in use are decoded: far smaller than the whole font decoded
    font = _Font(sf3)
    assert len(samples_for(font, presets_of([midi]))) < len(font.shdr) // 2

    def play(path):
        return np.concatenate(
            list(
                _fluid_chunks(
                    str(path),
                    midi,
                    sample_rate=44100,
                    n_frames=44100 * 6,
                    chunk=44100,
                    settings=None,
                )
            )
        )

    a, b = play(sf3), play(sf2)
    assert np.sqrt((a**2).mean()) > 1e-3  # it plays
    np.testing.assert_allclose(b, a, atol=1e-5)  # float rounding only


def test_copy_reused_then_the_whole_font_then_pruned(sf3, tmp_path, monkeypatch):
    """The first copy holds what its render needs; a render that needs more gets a copy of
    the whole font (never a chain of growing copies), which serves every later render;
    superseded copies (and strays of the same font) go once older than _KEEP_OLD_S."""
    import os
    import time

    from v2m.rendering import _sfcache

    monkeypatch.setenv("V2M_CACHE_DIR", str(tmp_path))
    few = {(0, 0), (128, 0)}
    first = decoded_soundfont(sf3, few)
    stamp = first.stat().st_mtime_ns
    assert decoded_soundfont(sf3, {(0, 0)}) == first  # a subset: no new copy
    assert first.stat().st_mtime_ns == stamp
    font = _Font(sf3)
    whole = decoded_soundfont(sf3, few | {(0, 48)})
    assert whole != first and whole.is_file() and first.is_file()  # never rewritten in place
    stem = whole.name.rsplit("-", 1)[0]
    index = json.loads((whole.parent / f"{stem}.json").read_text())
    assert set(index[whole.name]) == set(range(len(font.shdr) - 1))
    all_presets = {(b, p) for b, p, _ in font.presets()}
    assert decoded_soundfont(sf3, all_presets) == whole  # nothing more is ever written
    assert sorted(p.name for p in whole.parent.glob("*.sf2")) == sorted([first.name, whole.name])

    # an hour later, the next use removes the superseded copy and an old stray, not a new one
    old = time.time() - _sfcache._KEEP_OLD_S - 10
    os.utime(first, (old, old))
    stray_old, stray_new = whole.parent / f"{stem}-0123456789.sf2", whole.parent / f"{stem}-x.sf2"
    for p in (stray_old, stray_new):
        p.write_bytes(b"RIFF")
    os.utime(stray_old, (old, old))
    assert decoded_soundfont(sf3, few) == whole
    assert not first.exists() and not stray_old.exists() and stray_new.exists()
    index = json.loads((whole.parent / f"{stem}.json").read_text())
    assert list(index) == [whole.name]


def test_unwritable_cache_uses_the_sf3(sf3, tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("V2M_CACHE_DIR", str(blocker))
    assert decoded_soundfont(sf3, {(0, 0)}) == sf3


def test_sf2_passes_through(tmp_path):
    p = tmp_path / "x.sf2"
    p.write_bytes(b"")
    assert decoded_soundfont(p, {(0, 0)}) == p
