import io

import mido
import numpy as np
import pretty_midi
import pytest

from v2m.composition import compose
from v2m.cuesheet import CueSheet, Hit, make_cue
from v2m.styles import STYLE_NAMES


def _drifting_cue(meter="4/4"):
    # tempo drifts from 90 to 130 BPM and then jumps to 70 BPM
    periods = np.r_[np.linspace(60 / 90, 60 / 130, 40), np.full(24, 60 / 70)]
    beats = np.r_[0.3, 0.3 + np.cumsum(periods)]
    bpb = {"4/4": 4, "3/4": 3, "6/8": 2}[meter]
    dur = float(beats[-1] - 0.2)
    base = make_cue(duration_s=dur, tempo_bpm=100, meter=meter, style="pop")
    d = base.to_dict()
    d["beats_s"] = [float(b) for b in beats]
    d["downbeats"] = list(range(0, len(beats), bpb))
    bars = np.asarray(beats)[d["downbeats"]]
    d["energy"] = [0.8] * int((bars < dur).sum())
    return CueSheet.from_dict(d)


@pytest.mark.parametrize("meter", ["4/4", "3/4", "6/8"])
def test_tempo_map_roundtrip_within_1ms(meter):
    cue = _drifting_cue(meter)
    data = compose(cue).to_bytes()
    mf = mido.MidiFile(file=io.BytesIO(data))
    tpb = 720 if meter == "6/8" else 480
    # walk the tempo map independently of pretty_midi
    tempos = [(m_tick, m.tempo) for m_tick, m in _abs(mf.tracks[0]) if m.type == "set_tempo"]
    got = [_tick_to_s((i + 1) * tpb, tempos, mf.ticks_per_beat) for i in range(len(cue.beats_s))]
    assert np.abs(np.array(got) - cue.beats_s).max() < 1e-3
    # and pretty_midi agrees on the same file
    pm = pretty_midi.PrettyMIDI(io.BytesIO(data))
    assert pm.tick_to_time(tpb * 10 + tpb) == pytest.approx(cue.beats_s[10], abs=1e-3)


def _abs(track):
    t = 0
    for m in track:
        t += m.time
        yield t, m


def _tick_to_s(tick, tempos, ppq):
    s, last_tick, tempo = 0.0, 0, 500000
    for t, tp in tempos:
        if t >= tick:
            break
        s += (t - last_tick) * tempo / ppq / 1e6
        last_tick, tempo = t, tp
    return s + (tick - last_tick) * tempo / ppq / 1e6


def test_midi_has_meta_and_named_tracks():
    cue = make_cue(duration_s=30, tempo_bpm=100, key="E minor", style="pop", meter="3/4")
    mf = mido.MidiFile(file=io.BytesIO(compose(cue).to_bytes()))
    metas = {m.type: m for m in mf.tracks[0] if m.is_meta}
    assert metas["time_signature"].numerator == 3
    assert metas["key_signature"].key == "Em"
    names = [t.name for t in mf.tracks[1:]]
    assert {"drums", "bass", "harmony", "melody"} <= set(names)


def test_hits_land_exactly():
    hit_times = [7.5, 13.125, 21.0]  # on beats at 120 BPM, and one off-grid
    cue = make_cue(
        duration_s=30,
        tempo_bpm=120,
        style="pop",
        hits=[Hit(time_s=t, strength=1.0, kind="cut") for t in hit_times],
    )
    pm = pretty_midi.PrettyMIDI(io.BytesIO(compose(cue).to_bytes()))
    drums = next(i for i in pm.instruments if i.is_drum)
    crashes = [n.start for n in drums.notes if n.pitch == 49]
    for t in hit_times:
        assert min(abs(c - t) for c in crashes) < 1e-3


def test_length_and_final_cadence():
    cue = make_cue(duration_s=45, tempo_bpm=90, key="D major", style="piano")
    sc = compose(cue)
    pm = pretty_midi.PrettyMIDI(io.BytesIO(sc.to_bytes()))
    assert pm.get_end_time() <= 45 + 1e-3
    assert pm.get_end_time() > 44
    last_bass = max(
        (n for i in pm.instruments for n in i.notes if i.name == "bass"), key=lambda n: n.start
    )
    assert last_bass.pitch % 12 == 2  # ends on the tonic D


def test_deterministic_and_seed_changes_music():
    cue = make_cue(duration_s=40, style="folk", key="G major", seed=5)
    a = compose(cue).to_bytes()
    assert compose(CueSheet.from_dict(cue.to_dict())).to_bytes() == a
    cue2 = CueSheet.from_dict({**cue.to_dict(), "seed": 6})
    s1, s2 = compose(cue), compose(cue2)
    m1 = [n.pitch for n in s1.parts["melody"]]
    m2 = [n.pitch for n in s2.parts["melody"]]
    assert m1 != m2
    # not merely transposed: the interval sequences differ
    assert np.diff(m1[:20]).tolist() != np.diff(m2[:20]).tolist()


@pytest.mark.parametrize("style", STYLE_NAMES)
def test_scale_consistency_per_style(style):
    import muspy

    for key, floor in (("C major", 0.95), ("A minor", 0.90)):
        cue = make_cue(duration_s=40, style=style, key=key, seed=2)
        m = muspy.from_pretty_midi(pretty_midi.PrettyMIDI(io.BytesIO(compose(cue).to_bytes())))
        assert muspy.scale_consistency(m) >= floor
        assert muspy.empty_beat_rate(m) < 0.2


def test_motif_returns_in_repeated_section():
    cue = make_cue(duration_s=120, tempo_bpm=100, style="pop", seed=1)
    labels = [s.label for s in cue.sections]
    assert labels.count("A") >= 2
    sc = compose(cue)
    a_secs = [s for s in cue.sections if s.label == "A"]
    beats = np.asarray(cue.beats_s)

    def rhythm(sec):
        b0 = np.interp(sec.start_s, beats, np.arange(len(beats)))
        return [round(n.start - b0, 3) for n in sc.parts["melody"] if b0 <= n.start < b0 + 4][:6]

    r0, r1 = rhythm(a_secs[0]), rhythm(a_secs[1])
    assert r0 and len(r0) == len(r1)
    assert np.allclose(r0, r1, atol=0.03)  # the same rhythm, up to the ensemble's timing


def test_section_key_change_and_instrument_override():
    cue = make_cue(duration_s=40, tempo_bpm=120, key="C major", style="pop", seed=0)
    d = cue.to_dict()
    d["sections"][2]["key"] = "Eb major"
    d["instruments"] = {"melody": 73}
    cue = CueSheet.from_dict(d)
    sc = compose(cue)
    assert sc.programs["melody"] == 73
    beats = np.asarray(cue.beats_s)
    sec = cue.sections[2]
    b0, b1 = np.interp([sec.start_s, sec.end_s], beats, np.arange(len(beats)))
    pcs = {n.pitch % 12 for n in sc.parts["harmony"] if b0 <= n.start < b1 - 2}
    assert pcs <= {3, 5, 7, 8, 10, 0, 2}  # E-flat major's pitch classes
    assert 3 in pcs or 10 in pcs  # and not just the shared ones


def test_stop_hit_silences_the_beat_before():
    cue = make_cue(
        duration_s=30,
        tempo_bpm=120,
        style="pop",
        energy=0.9,
        hits=[Hit(time_s=12.0, strength=1.0, kind="stop")],
    )
    sc = compose(cue)
    b = 24.0  # 12 s at 120 BPM
    for role, notes in sc.parts.items():
        assert not [n for n in notes if b - 1 <= n.start < b - 1e-6], role
        assert not [n for n in notes if n.start < b - 1 and n.end > b - 1 + 1e-6], role
    assert any(abs(n.start - b) < 1e-6 for n in sc.parts["drums"])  # the hit itself


def test_density_follows_energy():
    def notes(e):
        sc = compose(make_cue(duration_s=40, tempo_bpm=110, style="pop", energy=e, seed=1))
        return sum(len(v) for v in sc.parts.values()), len(sc.parts["drums"])

    (lo_all, lo_dr), (hi_all, hi_dr) = notes(0.2), notes(0.9)
    assert hi_all > 1.5 * lo_all and hi_dr > 2 * lo_dr
