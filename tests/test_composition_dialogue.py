"""Music written around speech: the cue sheet's dialogue spans and what the composer does
under them (known answers on cues built here)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from v2m.composition import compose
from v2m.composition.dialogue import (
    ANSWER_PAUSE_S,
    PULSE_UNDER_SPEECH,
    SPEECH_LEAD_S,
    answers,
)
from v2m.cuesheet import CueSheet, Dialogue, Hit, make_cue
from v2m.errors import CueSheetError

SPANS = [(2.0, 6.0), (7.8, 12.0), (16.0, 21.0)]
CRASH_TOMS = {49, 52, 55, 57, 41, 43, 45, 47, 48, 50}


def _cue(style="pop", spans=SPANS, hits=()):
    cue = make_cue(duration_s=30, tempo_bpm=100, style=style, seed=5, hits=list(hits))
    cue.dialogue = [Dialogue(a, b) for a, b in spans]
    return cue.validate()


def _t(cue, beat):
    return float(np.interp(beat, np.arange(len(cue.beats_s)), cue.beats_s))


def _in(spans, t, lead=0.0, tail=0.0):
    return any(a - lead <= t < b + tail for a, b in spans)


@pytest.mark.parametrize("style", ["pop", "cinematic", "lofi", "folk"])
def test_the_tune_rests_and_the_band_thins_under_speech(style):
    cue = _cue(style, hits=[Hit(4.0, 1.0, "cut"), Hit(9.0, 0.3, "cut")])
    sc = compose(cue)
    mel = sc.parts["melody"]
    # no melody note sounds under speech (the lead before it included)
    for n in mel:
        a, b = _t(cue, n.start), _t(cue, n.end)
        assert not any(a < s1 and b > s0 - SPEECH_LEAD_S + 0.05 for s0, s1 in SPANS), (a, b)
    assert not [n for n in sc.parts.get("arp", []) if _in(SPANS, _t(cue, n.start))]
    # drums: a soft pulse (kick, closed hat) and the light cut's kick/snare, nothing else
    for n in sc.parts.get("drums", []):
        t = _t(cue, n.start)
        if _in(SPANS, t):
            assert n.pitch not in CRASH_TOMS, (t, n.pitch)
            assert n.pitch in PULSE_UNDER_SPEECH or n.pitch in (35, 36, 38, 40)


def test_outside_speech_the_music_is_as_composed():
    """Notes well away from speech are the same with or without the dialogue spans (to
    the performance's timing, which draws its jitter note by note)."""
    with_d, without = compose(_cue()), compose(_cue(spans=[]))
    far = [(a - 1.0, b + 1.0) for a, b in SPANS]
    for role in ("drums", "bass", "harmony"):

        def away(sc, role=role):
            return [
                (n.start, n.pitch, n.velocity)
                for n in sc.parts[role]
                if not _in(far, _t(sc.cue, n.start)) and not _in(far, _t(sc.cue, n.end))
            ]

        a, b = away(with_d), away(without)
        assert [x[1:] for x in a] == [x[1:] for x in b], role
        assert np.allclose([x[0] for x in a], [x[0] for x in b], atol=0.05), role


def test_harmony_holds_under_speech():
    """Inside a span the harmony strikes only where the chord changes (folk strums many
    times per chord without speech)."""
    inner = [(a + 0.05, b) for a, b in SPANS]

    def onsets(sc):
        return sorted(
            {round(n.start, 2) for n in sc.parts["harmony"] if _in(inner, _t(sc.cue, n.start))}
        )

    sc, plain = compose(_cue("folk")), compose(_cue("folk", spans=[]))
    chord_starts = np.array([c[0] for c in sc.chords])
    got = onsets(sc)
    assert all(np.abs(chord_starts - b).min() < 0.1 for b in got), got
    assert len(got) * 3 < len(onsets(plain))


def test_the_tune_answers_in_long_pauses():
    cue = _cue()
    sc = compose(cue)
    got = answers(cue, sc.parts["melody"])
    pauses = [(e, s) for (_, e), (s, _) in zip(SPANS, SPANS[1:] + [(30.0, None)], strict=True)
              if s - e >= ANSWER_PAUSE_S] + [(0.0, 2.0)]  # fmt: skip
    assert {round(p["start_s"], 3) for p in got} <= {round(a, 3) for a, _ in pauses}
    assert len(got) >= 2 and all(p["notes"] > 0 for p in got)


def test_dialogue_round_trips_and_bad_spans_are_refused(tmp_path):
    cue = _cue()
    p = tmp_path / "cue.json"
    cue.save(p)
    back = CueSheet.load(p)
    assert [(d.start_s, d.end_s) for d in back.dialogue] == SPANS
    assert back.schema_version == "1.3"
    d = json.loads(p.read_text())
    for bad, msg in [
        ([{"start_s": 5, "end_s": 3}], r"dialogue\[0\]"),
        ([{"start_s": 1, "end_s": 5}, {"start_s": 4, "end_s": 8}], r"dialogue\[1\].*overlap"),
        ([{"start_s": 1, "end_s": 99}], r"dialogue\[0\]"),
        ([{"start_s": float("nan"), "end_s": 2}], r"dialogue\[0\]"),
        ([{"start_s": 1}], r"dialogue\[0\]: missing end_s"),
        ("speech", r"dialogue: must be a list"),
    ]:
        with pytest.raises(CueSheetError, match=msg):
            CueSheet.from_dict({**d, "dialogue": bad})
    old = {k: v for k, v in d.items() if k != "dialogue"}
    old["schema_version"] = "1.2"
    assert CueSheet.from_dict(old).dialogue == []


def test_speech_markers_travel_in_the_midi_file(tmp_path):
    from v2m.rendering import MidiFileSource

    sc = compose(_cue())
    path = tmp_path / "s.mid"
    sc.save(path)
    back = MidiFileSource(path).dialogue_s
    assert len(back) == len(SPANS)
    assert np.allclose(back, SPANS, atol=0.02)


def test_cuts_under_speech_are_light():
    from v2m.projection.dialogue import CLEAR_BEFORE_S, LIGHT_UNDER_SPEECH, soften_hits

    spans = [Dialogue(2.0, 6.0)]
    hits = [Hit(1.5, 1.0, "cut"), Hit(3.0, 0.9, "impact"), Hit(4.0, 1.0, "user"),
            Hit(0.5, 1.0, "cut"), Hit(6.5, 1.0, "cut")]  # fmt: skip
    out = soften_hits(hits, spans)
    assert [h.strength for h in out] == [LIGHT_UNDER_SPEECH, LIGHT_UNDER_SPEECH, 1.0, 1.0, 1.0]
    assert 2.0 - 1.5 < CLEAR_BEFORE_S


def test_a_section_energy_edit_takes_effect_and_is_said(caplog, tmp_path):
    """Editing a section's energy in a saved cue sheet changes that section's bars (and
    so its notes) and no other bar's energy; the contradiction is named in a warning."""
    import logging

    from v2m.composition import compose

    cue = make_cue(duration_s=60, tempo_bpm=100, style="pop", seed=2, energy=0.7)
    p = tmp_path / "cue.json"
    cue.save(p)
    d = json.loads(p.read_text())
    sec = d["sections"][1]
    assert abs(sec["energy"] - 0.15) > 0.2
    d["sections"][1]["energy"] = 0.15
    edited = CueSheet.from_dict(d)
    with caplog.at_level(logging.WARNING, logger="v2m"):
        bars = edited.bar_energy()
    assert "sections[1].energy" in caplog.text and "bars" in caplog.text
    bar_t = cue.bar_times()[: len(cue.energy)]
    inside = (bar_t >= sec["start_s"] - 1e-3) & (bar_t < sec["end_s"] - 1e-6)
    assert np.mean(np.asarray(bars)[inside]) == pytest.approx(0.15, abs=0.01)
    assert np.allclose(np.asarray(bars)[~inside], np.asarray(cue.energy)[~inside])
    a, b = compose(cue), compose(edited)
    t0, t1 = sec["start_s"], sec["end_s"]

    def in_section(sc):
        return [n for r in sc.roles for n in sc.parts[r] if t0 <= _t(sc.cue, n.start) < t1]

    before, after = in_section(a), in_section(b)
    assert (
        len(after) < len(before)
        or np.mean([n.velocity for n in after]) < np.mean([n.velocity for n in before]) - 5
    )
    # a cue sheet from before schema 1.3 keeps its per-bar list as written
    old = dict(d, schema_version="1.2")
    assert CueSheet.from_dict(old).bar_energy() == pytest.approx(cue.energy)
