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


def test_copy_reused_then_extended(sf3, tmp_path, monkeypatch):
    monkeypatch.setenv("V2M_CACHE_DIR", str(tmp_path))
    few = {(0, 0), (128, 0)}
    first = decoded_soundfont(sf3, few)
    stamp = first.stat().st_mtime_ns
    assert decoded_soundfont(sf3, {(0, 0)}) == first  # a subset: no new copy
    assert first.stat().st_mtime_ns == stamp
    more = decoded_soundfont(sf3, few | {(0, 48)})
    assert more != first and more.is_file() and first.is_file()  # never rewritten in place
    assert decoded_soundfont(sf3, few) == more  # the newest holds the union
    index = json.loads((more.parent / f"{sf3.stem}-{more.name.split('-')[-2]}.json").read_text())
    assert set(index[more.name]) == samples_for(_Font(sf3), few | {(0, 48)})


def test_unwritable_cache_uses_the_sf3(sf3, tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("V2M_CACHE_DIR", str(blocker))
    assert decoded_soundfont(sf3, {(0, 0)}) == sf3


def test_sf2_passes_through(tmp_path):
    p = tmp_path / "x.sf2"
    p.write_bytes(b"")
    assert decoded_soundfont(p, {(0, 0)}) == p
