import json

import numpy as np
import pytest

from v2m import CueSheetError, InputError
from v2m.cuesheet import RIT_MAX, RIT_S, CueSheet, Hit, make_cue, parse_key, time_to_beat
from v2m.styles import STYLE_NAMES


def test_make_cue_is_complete_and_roundtrips(tmp_path):
    cue = make_cue(duration_s=60, tempo_bpm=96, key="A minor", style="cinematic")
    assert cue.beats_s[0] == 0 and cue.beats_s[-1] >= 60
    b = np.asarray(cue.beats_s)
    assert np.allclose(np.diff(b)[b[1:] <= 60 - RIT_S], 60 / 96, atol=1e-6)
    assert cue.downbeats[:3] == [0, 4, 8]
    assert cue.sections[0].label == "intro" and cue.sections[-1].label == "outro"
    assert cue.sections[-1].end_s == 60
    assert len(cue.energy) == len(cue.downbeats)
    cue.save(tmp_path / "c.json")
    back = CueSheet.load(tmp_path / "c.json")
    assert back.to_dict() == cue.to_dict()


def test_make_cue_ends_with_a_ritardando_after_the_last_hit():
    """A cadence slows down over the last seconds, smoothly (<= 4 % a beat), by at most
    RIT_MAX; never before a hit; a fade keeps its tempo."""
    period = 60 / 100
    cue = make_cue(duration_s=40, tempo_bpm=100, style="pop")
    p = np.diff(cue.beats_s)
    assert p.max() > 1.1 * period and p.max() <= (1 + RIT_MAX) * period + 1e-6
    assert np.abs(np.diff(np.log(p))).max() <= 0.04
    assert any("ritardando" in n for n in cue.notes)
    late_hit = make_cue(duration_s=40, tempo_bpm=100, style="pop", hits=[Hit(time_s=37.0)])
    b = np.asarray(late_hit.beats_s)
    assert np.allclose(np.diff(b)[b[1:] <= 37.0], period, atol=1e-6)
    fade = make_cue(duration_s=40, tempo_bpm=100, style="pop", ending="fade")
    assert np.allclose(np.diff(fade.beats_s), period, atol=1e-6)


@pytest.mark.parametrize(
    "text,tonic,mode",
    [
        ("A minor", 9, "minor"),
        ("Eb", 3, "major"),
        ("f#m", 6, "minor"),
        ("D dorian", 2, "dorian"),
        ("G mixolydian", 7, "mixolydian"),
    ],
)
def test_parse_key(text, tonic, mode):
    k = parse_key(text)
    assert (k.tonic, k.mode) == (tonic, mode)


@pytest.mark.parametrize(
    "field,value,msg",
    [
        ("duration_s", -5, "duration_s"),
        ("beats_s", [0.0, 1.0, 0.5, 2.0], "beats_s.*out of order"),
        ("style", "polka-metal", "style.*unknown"),
        ("key", "H major", "key"),
        ("meter", "5/4", "meter"),
        ("ending", "explode", "ending"),
    ],
)
def test_bad_cue_sheets_name_the_field(field, value, msg):
    d = make_cue(duration_s=20, tempo_bpm=100).to_dict()
    d[field] = value
    with pytest.raises(CueSheetError, match=msg):
        CueSheet.from_dict(d)


def test_bad_hit_and_file_errors(tmp_path):
    d = make_cue(duration_s=20, tempo_bpm=100).to_dict()
    d["hits"] = [{"time_s": 50.0, "strength": 1, "kind": "cut"}]
    with pytest.raises(CueSheetError, match=r"hits\[0\]"):
        CueSheet.from_dict(d)
    p = tmp_path / "bad.json"
    p.write_text("{not json")
    with pytest.raises(InputError, match="bad.json"):
        CueSheet.load(p)
    p.write_text(json.dumps({"duration_s": 10}))
    with pytest.raises(CueSheetError, match="beats_s: missing"):
        CueSheet.load(p)


def test_time_to_beat_inverts_grid():
    beats = [0.0, 0.5, 1.1, 1.6]
    assert time_to_beat([0.25, 1.1, 1.35], beats) == pytest.approx([0.5, 2.0, 2.5])


def test_every_style_makes_a_valid_cue():
    for s in STYLE_NAMES:
        cue = make_cue(duration_s=30, style=s, hits=[Hit(time_s=10.0)])
        assert cue.validate() is cue


def test_song_form_has_a_bridge_before_the_last_chorus_and_a_third_theme():
    from v2m.cuesheet import make_cue, song_form

    assert song_form(2) == ["A", "B"]
    assert song_form(4) == ["A", "B", "bridge", "B"]
    assert song_form(8) == ["A", "B", "A", "B", "C", "B", "bridge", "B"]
    # a cue sheet long enough for 4 blocks gets the bridge (the old plan lost it), quieter
    # than the themes, and ends on its loudest theme before the outro
    secs = make_cue(duration_s=120, style="pop", seed=1).sections
    labels = [s.label for s in secs]
    assert labels[-3:] == ["bridge", "B", "outro"]
    energy = {s.label: s.energy for s in secs}
    assert energy["bridge"] < energy["A"] < energy["B"]
    long = [s.label for s in make_cue(duration_s=300, style="pop", seed=1).sections]
    assert {"A", "B", "C", "bridge"} <= set(long)


def test_a_short_piece_slows_down_only_at_its_very_end():
    from v2m.cuesheet import RIT_MAX_SHARE, ritardando

    beats = list(np.arange(0, 6.01, 0.8))  # a 5.3 s sting at 75 BPM, no cut in it
    out, n = ritardando(beats, after_s=0.0, duration_s=5.3)
    moved = [b for a, b in zip(out, beats, strict=True) if abs(a - b) > 1e-6]
    assert moved and min(moved) >= (1 - RIT_MAX_SHARE) * 5.3
    assert np.allclose(out[:5], beats[:5]) and n <= 2
    # a long piece keeps the full RIT_S window
    long = list(np.arange(0, 61, 0.6))
    out, n = ritardando(long, after_s=0.0, duration_s=60.0)
    assert n >= 8


def _fields_to_fuzz(d):
    """(path, setter) for every numeric field of a cue sheet dict."""
    yield "duration_s", lambda x, v: x.__setitem__("duration_s", v)
    yield "tempo_bpm", lambda x, v: x.__setitem__("tempo_bpm", v)
    yield "seed", lambda x, v: x.__setitem__("seed", v)
    yield "beats_s[1]", lambda x, v: x["beats_s"].__setitem__(1, v)
    yield "downbeats[1]", lambda x, v: x["downbeats"].__setitem__(1, v)
    yield "energy[0]", lambda x, v: x["energy"].__setitem__(0, v)
    yield "sections[0].energy", lambda x, v: x["sections"][0].__setitem__("energy", v)
    yield "sections[0].end_s", lambda x, v: x["sections"][0].__setitem__("end_s", v)
    yield "hits[0].time_s", lambda x, v: x["hits"][0].__setitem__("time_s", v)
    yield "hits[0].strength", lambda x, v: x["hits"][0].__setitem__("strength", v)
    yield "dialogue[0].start_s", lambda x, v: x["dialogue"][0].__setitem__("start_s", v)
    yield "instruments.bass", lambda x, v: x["instruments"].__setitem__("bass", v)


BAD_VALUES = [float("nan"), float("inf"), -float("inf"), -120, 1e308, "12", None, [1], {"a": 1},
              True]  # fmt: skip


def test_fuzz_numeric_fields_give_a_clear_error_or_a_valid_cue():
    """Every numeric field set to NaN, inf, negative, huge or a wrong type: a
    CueSheetError naming the field (or a cue that still validates), never a traceback."""
    import copy
    import math

    from v2m.cuesheet import Dialogue, Hit
    from v2m.errors import CueSheetError

    cue = make_cue(duration_s=8, tempo_bpm=100, style="pop", hits=[Hit(2.0, 0.8, "cut")])
    cue.dialogue = [Dialogue(1.0, 3.0)]
    cue.instruments = {"bass": 33}
    base = json.loads(json.dumps(cue.to_dict()))
    for name, setter in _fields_to_fuzz(base):
        for v in BAD_VALUES:
            d = copy.deepcopy(base)
            setter(d, v)
            try:
                got = CueSheet.from_dict(d)
            except CueSheetError as exc:
                field = name.split("[")[0].split(".")[0]
                assert field in str(exc) or "malformed" in str(exc), (name, v, str(exc))
                continue
            # accepted: then it is a sane cue sheet
            assert math.isfinite(got.duration_s) and got.duration_s > 0, (name, v)
            assert all(0 <= h.strength <= 1 for h in got.hits), (name, v)


def test_fit_cue_cuts_or_continues_every_part():
    from v2m.cuesheet import Dialogue, Hit, fit_cue

    cue = make_cue(duration_s=30, tempo_bpm=120, style="pop", hits=[Hit(25.0, 1.0, "cut")])
    cue.dialogue = [Dialogue(2.0, 5.0), Dialogue(9.0, 14.0)]
    short = fit_cue(cue.validate(), 10.0)
    assert short.duration_s == 10.0 and short.sections[-1].end_s == 10.0
    assert len(short.energy) == int(np.sum(short.bar_times() < 10.0 - 1e-6))
    assert short.hits == [] and [(d.start_s, d.end_s) for d in short.dialogue] == [
        (2.0, 5.0), (9.0, 10.0)]  # fmt: skip
    long = fit_cue(cue, 45.0)
    assert long.duration_s == 45.0 and long.beats_s[-1] >= 45.0
    assert np.allclose(np.diff(long.beats_s)[-5:], np.diff(cue.beats_s)[-1])
    assert long.sections[-1].end_s == 45.0 and long.energy[-1] == cue.energy[-1]
    assert len(long.energy) == int(np.sum(long.bar_times() < 45.0 - 1e-6))


def test_render_cue_fit_follows_one_hint(tmp_path, bikes):
    """A cue sheet longer than the video: the error names --fit, and --fit renders."""
    import subprocess
    import sys

    cue = make_cue(duration_s=30, tempo_bpm=100, style="pop")
    cue.save(tmp_path / "cue.json")
    cmd = [sys.executable, "-m", "v2m", "render-cue", str(tmp_path / "cue.json"), "--video",
           str(bikes), "-o", str(tmp_path / "out.mp4")]  # fmt: skip
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 2 and "--fit" in r.stderr
    r = subprocess.run([*cmd, "--fit"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "out.mp4").exists()


def test_beat_period_is_the_length_of_the_beat_holding_a_fractional_index():
    from v2m.cuesheet import beat_period_s

    beats = [0.0, 0.5, 1.1, 1.8]
    assert beat_period_s(beats, 0.0) == 0.5
    assert beat_period_s(beats, 1.7) == pytest.approx(0.6)
    assert beat_period_s(beats, -3.0) == 0.5  # before the grid: the first beat's
    assert beat_period_s(beats, 9.0) == pytest.approx(0.7)  # after it: the last one's
