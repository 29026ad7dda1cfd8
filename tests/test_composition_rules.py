"""The composer's rules (issue: music a listener would keep), asserted on built cue sheets."""

import numpy as np
import pytest
import synth

from v2m.composition import compose
from v2m.composition.checks import final_chord_s, form_stats, melody_stats, tempo_stats
from v2m.composition.harmony import _plan_harmony
from v2m.cuesheet import RIT_STEP, CueSheet, Hit, make_cue
from v2m.rendering import render
from v2m.styles import STYLE_NAMES, get_style


@pytest.mark.parametrize("style", STYLE_NAMES)
def test_melody_rules_every_style(style):
    sc = compose(make_cue(duration_s=90, style=style, key="E minor", seed=11))
    m = melody_stats(sc)
    assert m["clash_rate"] <= 0.04, m
    assert m["below_rate"] <= 0.05, m
    assert m["repeat_rate"] <= 0.15, m
    assert m["parallel_rate"] <= 0.05, m


@pytest.mark.parametrize("style", ["pop", "cinematic", "lofi"])
def test_form_over_three_minutes(style):
    sc = compose(make_cue(duration_s=180, style=style, seed=2))
    f = form_stats(sc)
    assert f["rhythms_per_64"] >= 12, f
    assert f["longest_repeat"] <= 8, f
    assert f["drum_bars"] >= 8, f


def test_dorian_harmony_has_no_diminished_loop_chords():
    cue = make_cue(duration_s=60, style="cinematic", key="D dorian", seed=0)
    sc = compose(cue)
    dim = [c for _t, c in sc.chords if c.endswith("dim")]
    assert not dim
    # B diminished (B D F) never sounds as a harmony chord in D dorian
    beats = {}
    for n in sc.parts["harmony"]:
        beats.setdefault(round(n.start, 2), set()).add(n.pitch % 12)
    assert not [b for b, pcs in beats.items() if {11, 2, 5} <= pcs]
    # the mode's colour: dorian's major IV (G major: G B D) is used
    assert any({7, 11, 2} <= pcs for pcs in beats.values())


def test_diminished_chords_only_in_first_inversion():
    cue = make_cue(duration_s=120, style="pop", key="C major", seed=5)
    st = get_style(cue.style)
    from v2m.composition import _Composer

    comp = _Composer(cue)
    comp.run()
    for ch, v in zip(comp.chords, comp.voicings, strict=True):
        if ch.diminished:
            assert min(v) % 12 == ch.pcs[1]  # the third in the bass of the voicing
    chords = _plan_harmony(cue, st, comp.bars, comp.bar_sections, np.random.default_rng(0))
    assert chords


def test_seeds_pick_different_loops():
    a = compose(make_cue(duration_s=30, style="pop", seed=0)).chords
    names = {tuple(c for _t, c in compose(make_cue(duration_s=30, style="pop", seed=s)).chords)
             for s in range(6)}  # fmt: skip
    assert len(names) >= 3 and a


def test_quiet_cue_never_falls_silent():
    cue = make_cue(duration_s=40, style="piano", energy=0.1, seed=1)
    sc = compose(cue)
    assert sc.parts["bass"]  # soft bass instead of none
    r = render(sc)
    assert _quietest_100ms_dbfs(r.mix, r.sample_rate) > -45


def _quietest_100ms_dbfs(x: np.ndarray, sr: int) -> float:
    """The quietest 100 ms window of the piece (the last second, its release, left out)."""
    hop = sr // 10
    body = x.mean(axis=1)[: len(x) - int(1.0 * sr)]
    rms = np.sqrt(np.mean(body[: len(body) // hop * hop].reshape(-1, hop) ** 2, axis=1))
    return float(20 * np.log10(rms.min() + 1e-12))


def test_a_piano_alone_strikes_its_final_chord_forte():
    """Nothing sustains under a piano's final chord: struck softly, its decay over a long
    last bar (4.9 s in this 3-minute cue) fell under -45 dBFS (-46.0) inside the piece."""
    from v2m.composition.ending import FINAL_VELOCITY, FINAL_VELOCITY_ALONE

    cue = make_cue(duration_s=180, style="piano", key="A minor", seed=7)
    sc = compose(cue)
    b0 = max(n.start for n in sc.parts["harmony"])
    final = [n for n in sc.parts["harmony"] + sc.parts["bass"] if n.start >= b0 - 0.1]
    assert final and min(n.velocity for n in final) >= 0.9 * FINAL_VELOCITY_ALONE
    # the tune's last note stays on top of the chord
    assert max(sc.parts["melody"], key=lambda n: n.start).velocity >= max(n.velocity for n in final)
    r = render(sc)
    assert _quietest_100ms_dbfs(r.mix, r.sample_rate) > -45
    # a pad holds a pop ending: struck as before
    pop = compose(make_cue(duration_s=30, style="pop", seed=7))
    b0 = max(n.start for n in pop.parts["harmony"])
    chord = [n for n in pop.parts["harmony"] if n.start >= b0 - 0.1]
    assert max(n.velocity for n in chord) <= 1.1 * FINAL_VELOCITY + 3


@pytest.mark.parametrize("ending", ["cadence", "stop", "fade"])
def test_ending_held_and_clean(ending):
    cue = make_cue(duration_s=20, style="pop", seed=4, ending=ending)
    sc = compose(cue)
    if ending == "cadence":
        assert final_chord_s(sc) >= 2.0
    r = render(sc)
    x = r.mix
    sr = r.sample_rate
    assert x.shape[0] == int(round(20 * sr))
    tail = x[-int(0.05 * sr) :]
    assert 20 * np.log10(np.abs(tail).max() + 1e-12) < -40
    last = x[-int(0.2 * sr) :]
    assert np.abs(np.diff(last, axis=0)).max() <= 0.01


def test_tempo_rules_on_made_cues():
    for meter in ("4/4", "3/4", "6/8"):
        t = tempo_stats(make_cue(duration_s=60, tempo_bpm=100, meter=meter))
        # constant but for the closing ritardando (3 % a beat)
        assert t["max_change"] <= RIT_STEP + 1e-9 and t["irregular_bars"] == 0


def test_hand_edited_cue_renders_deterministically():
    d = make_cue(duration_s=24, style="folk", seed=9).to_dict()
    d["sections"][1]["energy"] = 0.95
    d["key"] = "G mixolydian"
    cue = CueSheet.from_dict(d)
    assert compose(cue).to_bytes() == compose(CueSheet.from_dict(d)).to_bytes()


def test_two_images_get_different_music(tmp_path):
    from v2m.analysis import analyze
    from v2m.projection import project

    imgs = [synth.SHARED / "images" / n for n in ("astronaut.png", "chelsea.png")]
    if not all(p.exists() for p in imgs):
        pytest.skip("shared images missing")
    mel = []
    for p in imgs:
        pr = project(analyze(p, duration_s=30))
        notes = compose(pr.cue).parts["melody"]
        mel.append({(round(n.start, 1), n.pitch) for n in notes})
    shared = len(mel[0] & mel[1]) / max(1, min(len(mel[0]), len(mel[1])))
    assert shared <= 0.5


@pytest.mark.parametrize("style", ["piano", "pop"])
def test_hit_inside_the_final_chord_does_not_cut_it(style):
    """A cut during the held final tonic is marked, but the chord still lasts >= 2 s
    (a stab on the same pitches used to end the held notes at the hit)."""
    cue = make_cue(duration_s=30, tempo_bpm=100, style=style, seed=2)
    base = compose(cue)
    assert final_chord_s(base) >= 2.0
    cue.hits.append(Hit(time_s=cue.duration_s - 1.6, strength=0.9))
    sc = compose(cue)
    assert final_chord_s(sc) >= 2.0
    # the hit is still heard: a new onset at it
    b = float(np.interp(cue.duration_s - 1.6, cue.beats_s, np.arange(len(cue.beats_s))))
    onsets = [n for notes in sc.parts.values() for n in notes if abs(n.start - b) < 0.05]
    assert onsets


def test_strong_hit_gets_a_breath_and_a_snare():
    """The sixteenth before a strong hit is left empty by the drums and the upper parts
    (bass and pad hold the floor; the master takes the breath down); the hit has a snare
    for a sharp attack (light accents too, softer)."""
    cue = make_cue(duration_s=40, tempo_bpm=96, style="pop", seed=5)
    t = float(cue.beats_s[32])  # a downbeat in the middle
    cue.hits = [Hit(time_s=t, strength=1.0), Hit(time_s=float(cue.beats_s[50]), strength=0.3)]
    sc = compose(cue)
    for role, notes in sc.parts.items():
        if role in ("bass", "pad"):  # they keep sounding under the breath
            continue
        inside = [n for n in notes if 32 - 0.25 + 0.02 < n.start < 32 - 0.02]
        assert not inside, role
        # (swing may move the eighth's start later, never to the hit)
        held = [n for n in notes if n.start < 31.5 and n.end > 32 - 0.2]
        assert not held, role
    snares = {round(n.start) for n in sc.parts["drums"] if n.pitch == 38}
    assert {32, 50} <= snares


def test_off_grid_hit_has_no_flam_and_the_tune_accents_it():
    """A cut caught between beats: no note of the band starts within FLAM_S (or inside
    the breath) beside it -- pitched notes move onto the hit, drum notes go -- and a
    melody note on a hit is played as loudly as the hit's stab."""
    from v2m.composition import FLAM_S
    from v2m.cuesheet import time_to_beat

    cue = make_cue(duration_s=40, tempo_bpm=100, style="pop", seed=3, energy=0.7)
    t = float(cue.beats_s[40]) + 0.04  # 40 ms after a downbeat's grid onsets
    cue.hits = [Hit(time_s=t, strength=0.7)]
    b = float(time_to_beat(t, cue.beats_s))
    lo = float(time_to_beat(t - FLAM_S, cue.beats_s))
    hi = float(time_to_beat(t + FLAM_S, cue.beats_s))
    sc = compose(cue)
    for role, notes in sc.parts.items():
        near = [n for n in notes if min(lo, b - 0.25) < n.start < hi and abs(n.start - b) > 1e-3]
        assert not near, (role, near[:3])
    at_hit = [n for n in sc.parts["melody"] if abs(n.start - b) < 1e-3]
    assert at_hit
    stab = max(n.velocity for n in sc.parts["harmony"] if abs(n.start - b) < 1e-3)
    assert min(n.velocity for n in at_hit) >= stab - 12  # both then shaped by the phrase


@pytest.mark.parametrize("style", ["pop", "cinematic"])
def test_melody_note_held_across_a_hit_is_struck_again(style):
    """A tune note that would sound through a strong hit breathes before it and the tune
    strikes a note on the hit, at least as loud as before (the melody's refinement may
    re-pitch it, since a repeated pitch is avoided)."""
    cue = make_cue(duration_s=40, style=style, seed=4, energy=0.7)
    plain = compose(cue)
    held = next(  # a note that sounds through a whole beat, which gets the hit
        n
        for n in plain.parts["melody"]
        if n.start > 8 and np.floor(n.start) + 1 < n.end - 0.3 and n.start % 1 < 0.5
    )
    b = float(np.floor(held.start) + 1)
    cue.hits = [Hit(time_s=float(cue.beats_s[int(b)]), strength=0.7)]
    sc = compose(cue)
    mel = sc.parts["melody"]
    before = [n for n in mel if n.pitch == held.pitch and abs(n.start - held.start) < 0.05]
    assert before and before[0].end < b - 0.05
    again = [n for n in mel if abs(n.start - b) < 1e-3]
    assert again and again[0].velocity >= before[0].velocity


def test_breath_is_short_in_slow_tempi():
    """At 60 BPM a sixteenth is 250 ms, which would fall silent: the breath lasts at most
    BREATH_MAX_S (the chords stop that early; bass and pad hold the floor under it, even
    before a scene change, and the score marks the breath for the master)."""
    from v2m.composition import BREATH_MAX_S

    cue = make_cue(duration_s=60, tempo_bpm=60, style="lofi", seed=2, energy=0.8)
    plain = compose(cue)
    cue.hits = [Hit(time_s=float(cue.beats_s[24]), strength=1.0)]
    sc = compose(cue)
    gap = BREATH_MAX_S * 60 / 60  # in beats at 60 BPM
    assert sc.breaths == [(pytest.approx(24 - gap), 24.0)]
    checked = {"harmony": 0, "bass": 0, "pad": 0}
    for role in checked:
        held = [n for n in plain.parts[role] if n.start < 23.5 and n.end > 24 - gap + 0.02]
        for n in sc.parts[role]:
            if any(abs(n.start - m.start) < 0.02 and n.pitch == m.pitch for m in held):
                if role == "harmony":
                    assert 24 - gap - 0.02 <= n.end <= 24 - gap + 1e-6, (role, n)
                else:
                    assert n.end > 24 - gap + 0.02, (role, n)
                checked[role] += 1
    assert checked["harmony"] and checked["bass"] + checked["pad"]


def test_lofi_guitar_plucks_only_the_hits():
    """Lofi's arp role (a jazz guitar) plays no arpeggio, only the plucked layer of hits."""
    cue = make_cue(duration_s=40, style="lofi", seed=1, energy=0.9)
    cue.hits = [Hit(time_s=float(cue.beats_s[k]), strength=0.8) for k in (16, 33)]
    sc = compose(cue)
    starts = {round(n.start, 2) for n in sc.parts["arp"]}
    assert sc.programs["arp"] == 26
    assert starts == {16.0, 33.0}


def test_key_lift_on_long_pieces():
    """Pieces of 90 s or more lift the key a whole step for the last strong return of a
    theme and end in the new key; short ones and hand-set section keys are left alone."""
    short = make_cue(duration_s=60, style="pop", key="A minor", seed=3)
    assert not any(s.key for s in short.sections)
    cue = make_cue(duration_s=180, style="pop", key="A minor", seed=3)
    lifted = [i for i, s in enumerate(cue.sections) if s.key]
    assert lifted and cue.sections[lifted[0]].start_s >= 90
    assert all(cue.sections[i].key == "B minor" for i in range(lifted[0], len(cue.sections)))
    first = cue.sections[lifted[0]]
    assert any(s.label == first.label for s in cue.sections[: lifted[0]])  # a return
    sc = compose(cue)
    # the final chord is B minor's tonic, and the bass line's last note is a B
    assert sc.chords[-1][1] == "Bm"
    assert max(sc.parts["bass"], key=lambda n: n.start).pitch % 12 == 11
    # a hand-set key in any section: no automatic lift
    from v2m.cuesheet import key_lift

    cue.sections[1].key = "C major"
    for s in cue.sections[2:]:
        s.key = None
    assert key_lift(cue.sections, key="A minor", duration_s=180) is None


def test_style_from_movement_in_long_shots():
    from v2m.projection.choices import choose_style

    calm = dict(arousal=0.0, valence=0.05, brightness=0.5, saturation=0.4, warmth=0.0)
    assert choose_style(cut_rate_per_min=2, motion=0.1, **calm)[0] == "lofi"
    style, why = choose_style(cut_rate_per_min=2, motion=0.5, **calm)
    assert style == "pop" and "movement" in why
    assert choose_style(cut_rate_per_min=30, motion=0.5, **calm)[0] != "pop"


def _scene_montage(duration_s: float):
    from test_projection import _timeline

    rng = np.random.default_rng(5)
    cuts = np.sort(rng.uniform(1.0, duration_s - 1.0, int(duration_s / 3))).round(3)
    cuts = cuts[np.r_[True, np.diff(cuts) > 0.4]]
    tl = _timeline(list(cuts), duration=duration_s)
    for i, (c, s) in enumerate(zip(tl.cuts, tl.shots[1:], strict=True)):
        c.score = 80.0 if i % 4 == 0 else 35.0  # every fourth cut a scene change
        s.valence, s.arousal = np.sin(i / 3) * 0.4, np.cos(i / 5) * 0.5
    return tl, cuts[::4]


def test_contrasting_theme_at_a_scene_change_gets_a_new_colour():
    import io

    import mido

    from v2m.projection import project

    tl, scenes = _scene_montage(150.0)
    proj = project(tl, style="cinematic")
    recoloured = [s for s in proj.cue.sections if s.instruments]
    assert recoloured and {s.label for s in recoloured} == {recoloured[0].label}
    assert recoloured[0].label not in ("intro", "outro", proj.cue.sections[1].label)
    assert np.min(np.abs(scenes - recoloured[0].start_s)) <= 0.05  # at a scene change
    assert all(s.instruments == {"melody": 68} for s in recoloured)  # the oboe takes the tune
    assert any("new colour" in w for w in proj.explanations)
    # the MIDI: the melody track changes to the oboe at the section and back after it
    sc = compose(proj.cue)
    mf = mido.MidiFile(file=io.BytesIO(sc.to_bytes()))
    tracks = {tr.name: tr for tr in mf.tracks}
    progs, tick = [], 0
    for m in tracks["melody"]:
        tick += m.time
        if m.type == "program_change":
            progs.append((tick, m.program))
    sec = recoloured[0]
    assert progs[0] == (0, 60) and (sc.beat_to_tick(_beat(proj.cue, sec.start_s)), 68) in progs
    assert progs[-1][1] == 60 or sec.end_s >= proj.cue.duration_s - 1e-6
    assert [m for m in tracks["harmony"] if m.type == "program_change"][0].program == 48
    assert len([m for m in tracks["harmony"] if m.type == "program_change"]) == 1
    # short pieces keep one colour
    short, _ = _scene_montage(60.0)
    assert not any(s.instruments for s in project(short, style="cinematic").cue.sections)


def _beat(cue, t):
    return int(np.argmin(np.abs(np.asarray(cue.beats_s) - t)))


def test_section_instruments_change_the_sound_only_inside_the_section():
    from v2m.cuesheet import CueSheetError, Section

    base = make_cue(duration_s=16, style="folk", key="D major", seed=1, tempo_bpm=120)
    base.sections = [
        Section(0.0, 8.0, "A", 0.6),
        Section(8.0, 16.0, "B", 0.6),
    ]
    base.validate()
    coloured = CueSheet.from_dict(base.to_dict())
    coloured.sections[1].instruments = {"melody": 40}  # the violin takes the tune
    again = CueSheet.from_dict(coloured.to_dict())  # JSON round trip
    assert again.sections[1].instruments == {"melody": 40}
    a = render(compose(base), stems=True, sample_rate=44100).stems["melody"]
    b = render(compose(again), stems=True, sample_rate=44100).stems["melody"]
    sr = 44100
    before = slice(0, int(7.5 * sr))
    inside = slice(int(8.5 * sr), int(15.0 * sr))
    assert np.abs(a[inside]).max() > 0.01 and np.abs(b[inside]).max() > 0.01

    def residual(x, y):  # what is left of y after the best gain on x (mastering gains differ)
        g = float(np.sum(x * y) / np.sum(x * x))
        return float(np.sqrt(np.mean((y - g * x) ** 2) / np.mean(y**2)))

    assert residual(a[before], b[before]) < 0.01  # the first section: the same flute
    assert residual(a[inside], b[inside]) > 0.3  # another instrument plays the tune
    bad = again.to_dict()
    bad["sections"][1]["instruments"] = {"melody": 200}
    with pytest.raises(CueSheetError, match=r"sections\[1\]\.instruments\.melody"):
        CueSheet.from_dict(bad)
    old = base.to_dict()
    old["schema_version"] = "1.0"
    assert CueSheet.from_dict(old).sections[1].instruments is None  # 1.0 cue sheets load


def test_a_new_colour_keeps_the_level():
    """The alto sax is 3.4 dB louder than the vibraphone in MuseScore General: the lofi
    melody's channel volume drops by that much where the sax takes the tune, and returns."""
    from v2m.composition.mixing import CC_VOLUME, cc_to_db
    from v2m.cuesheet import Section

    cue = make_cue(duration_s=24, style="lofi", key="D minor", seed=2, tempo_bpm=90)
    cue.sections = [Section(0.0, 8.0, "A", 0.5), Section(8.0, 16.0, "B", 0.5)]
    cue.sections.append(Section(16.0, 24.0, "A", 0.5))
    cue.sections[1].instruments = {"melody": 65}
    sc = compose(cue.validate())
    vol = [(b, v) for b, cc, v in sc.controls["melody"] if cc == CC_VOLUME]
    start, end = (_beat(cue, t) for t in (8.0, 16.0))
    assert [b for b, _ in vol] == [None, start, end]
    assert cc_to_db(vol[1][1]) - cc_to_db(vol[0][1]) == pytest.approx(-3.4, abs=0.3)
    assert vol[2][1] == vol[0][1]
    assert sc.program_changes == {"melody": [(start, 65), (end, 11)]}


@pytest.mark.parametrize("style", STYLE_NAMES)
def test_a_sting_of_a_few_seconds_still_has_a_tune(style):
    # 4-5 s: the final chord (>= 2 s and its release) starts on the first bar; the tune
    # sings over it and lands on a chord tone of the tonic two beats before the release
    for seconds in (4.0, 5.0):
        cue = make_cue(duration_s=seconds, tempo_bpm=90, style=style, key="C major", seed=1)
        sc = compose(cue)
        mel = sorted(sc.parts["melody"], key=lambda n: n.start)
        assert len(mel) >= 2, (style, seconds)
        assert final_chord_s(sc) >= 2.0
        assert mel[-1].pitch % 12 in (0, 4, 7, 11)  # C major's tonic chord (with its 7th)
        assert melody_stats(sc)["clash_rate"] == 0.0


@pytest.mark.parametrize("style", ["cinematic", "pop"])
def test_hit_drums_lead_by_the_kits_attack(style):
    """The orchestra kit builds its attack ~10 ms more slowly than the standard kit: on a
    hit its drums start KIT_LEAD_S early (so the attack is heard at the cut) and the
    breath's end moves with them; the standard kit plays on the hit."""
    from v2m.composition.hits import KIT_LEAD_S

    cue = make_cue(duration_s=40, tempo_bpm=100, style=style, seed=3, energy=0.7)
    k = 32
    cue.hits = [Hit(time_s=float(cue.beats_s[k]), strength=0.9)]
    sc = compose(cue)
    lead_s = KIT_LEAD_S.get(get_style(style).drum_kit, 0.0)
    assert (lead_s > 0) == (style == "cinematic")
    period = cue.beats_s[k + 1] - cue.beats_s[k]
    on_hit = [n for n in sc.parts["drums"] if abs(n.start - k) < 0.2]
    assert {38, 36} <= {n.pitch for n in on_hit}
    for n in on_hit:
        if n.pitch in (36, 38):
            assert (k - n.start) * period == pytest.approx(lead_s, abs=1e-4), n
    ((a_s, b_s),) = sc.breaths_s
    assert b_s == pytest.approx(cue.beats_s[k] - lead_s, abs=1e-4)
    # the harmony's stab (where there is one) stays on the hit
    assert all(abs(n.start - k) < 1e-6 for n in sc.parts["harmony"] if abs(n.start - k) < 0.2)


def _beat_velocities(notes, downbeats, pitch=None):
    """Median velocity of notes on beat 1, on the other beats, and off the beat."""
    on_bar, on_beat, off = [], [], []
    bars = set(downbeats)
    for n in notes:
        if pitch is not None and n.pitch != pitch:
            continue
        b = round(n.start)
        if abs(n.start - b) > 0.05:
            off.append(n.velocity)
        elif b in bars:
            on_bar.append(n.velocity)
        else:
            on_beat.append(n.velocity)
    return tuple(float(np.median(v)) if v else float("nan") for v in (on_bar, on_beat, off))


def test_cinematic_timpani_keep_the_beat_when_fast():
    """Soft timpani on 2 and 4 between loud ones are heard as off-beats of a half-time pulse
    at fast tempi: from 120 BPM they are as loud as the beat they stand between."""
    ratios = {}
    for bpm in (84, 128):
        cue = make_cue(duration_s=40, tempo_bpm=bpm, style="cinematic", seed=1)
        sc = compose(cue)
        timp = [
            n for n in sc.parts["drums"] if n.pitch == 45 and abs(n.start - round(n.start)) < 0.05
        ]
        db = np.asarray(cue.downbeats)
        pos = {2: [], 3: []}  # beat 2 and 4 (soft in the groove) against beat 3 (loud)
        for n in timp:
            bar = int(np.searchsorted(db, round(n.start), side="right")) - 1
            k = round(n.start) - db[bar]
            if k in (1, 3):
                pos[2].append(n.velocity)
            elif k == 2:
                pos[3].append(n.velocity)
        ratios[bpm] = np.median(pos[2]) / np.median(pos[3])
    assert ratios[84] < 0.85
    assert ratios[128] > 0.93


def test_slow_tempi_soften_the_offbeats():
    """At 60 BPM the band's off-beat eighths (pop's hi-hat) sit well under its beats (a
    listener taps the beat, not the eighths); at 120 BPM nearly level."""
    ratio = {}
    for bpm in (60, 120):
        cue = make_cue(duration_s=40, tempo_bpm=bpm, style="pop", seed=1)
        sc = compose(cue)
        _bar, beat, off = _beat_velocities(sc.parts["drums"], cue.downbeats, pitch=42)
        ratio[bpm] = off / beat
    assert ratio[60] < 0.75
    assert ratio[120] > 0.85


@pytest.mark.parametrize("style", STYLE_NAMES)
def test_minor_keys_have_a_major_dominant(style):
    """In A minor every E chord is E major (G#, never G natural), loops included, so the
    key is not heard as C major; the melody over it takes the raised note too."""
    from v2m.composition import _Composer

    cue = make_cue(duration_s=60, tempo_bpm=100, style=style, key="A minor", seed=3)
    composer = _Composer(cue)
    sc = composer.run()
    dominants = [ch for ch in composer.chords if ch.degree == 4]
    assert dominants, "no dominant chord to check"
    assert all(8 in ch.pcs and 7 not in ch.pcs for ch in dominants)
    for ch in dominants:
        over = [n for n in sc.parts["melody"] if ch.start + 0.05 <= n.start < ch.end - 0.05]
        assert all(n.pitch % 12 != 7 for n in over), (ch.start, [n.pitch for n in over])


def test_slow_tempi_move_the_accompaniments_figures_a_note_a_beat():
    """Below 76 BPM broken chords and arpeggios move a note a beat (the tune keeps its
    eighths): Essentia's tracker heard piano at 68-70 BPM at double time from its broken
    chords in eighths. At 90 BPM they move in eighths again."""

    def offbeat_share(notes):
        return np.mean([abs(n.start - round(n.start)) > 0.05 for n in notes])

    for style, role in (("piano", "harmony"), ("ambient", "arp")):
        slow = compose(make_cue(duration_s=40, tempo_bpm=68, style=style, seed=1, energy=0.8))
        fast = compose(make_cue(duration_s=40, tempo_bpm=90, style=style, seed=1, energy=0.8))
        assert slow.parts[role] and offbeat_share(slow.parts[role]) < 0.02, style
        assert offbeat_share(fast.parts[role]) > 0.3, style
        assert offbeat_share(slow.parts["melody"]) > 0.1, style  # the tune keeps its eighths


def test_a_pickup_bar_leads_into_the_loops_first_chord():
    """A dance's grid may open with a short bar (her strong beats set the bars): the loop
    starts on the first full bar, and the pickup plays the loop's last chord into it."""
    from dataclasses import replace

    from v2m.composition import _Composer

    cue = make_cue(duration_s=40, style="pop", key="C major", seed=3)
    plain = _Composer(cue)
    plain.run()
    db = [0, 2] + [d + 2 for d in cue.downbeats[1:] if d + 2 < len(cue.beats_s) - 1]
    picked = _Composer(replace(cue, downbeats=db, energy=[]))
    picked.run()
    assert picked.bars[0] == (0, 2)

    def degree_at(comp, beat):
        return next(c.degree for c in comp.chords if c.start <= beat < c.end)

    loop_first = degree_at(plain, 0.0)
    assert degree_at(picked, 2.0) == loop_first  # the loop starts on the full bar
    assert degree_at(picked, 0.0) != loop_first  # the pickup leads into it
