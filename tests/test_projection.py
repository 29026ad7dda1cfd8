import numpy as np
import pytest

import v2m
from v2m import ParameterError
from v2m.projection import project, solve_beat_grid
from v2m.timeline import Cut, Shot, Source, Timeline


def _timeline(cut_times, duration=20.0, valence=0.0, arousal=0.0):
    bounds = [0.0, *cut_times, duration]
    shots = [
        Shot(
            start_s=a,
            end_s=b,
            brightness=0.5,
            saturation=0.3,
            colorfulness=0.2,
            warmth=0.2,
            contrast=0.3,
            valence=valence,
            arousal=arousal,
            motion=0.5,
        )
        for a, b in zip(bounds[:-1], bounds[1:], strict=True)
    ]
    hop = 0.04
    n = int(duration / hop) + 1
    return Timeline(
        source=Source(
            path="x.mp4", kind="video", width=320, height=180, fps=25.0, duration_s=duration
        ),
        cuts=[Cut(time_s=t, frame=int(t * 25), score=40.0, kind="hard") for t in cut_times],
        shots=shots,
        motion={"hop_s": hop, "energy": [0.5] * n},
        impact={"hop_s": hop, "envelope": [0.0] * n},
    )


def test_regular_cuts_give_a_steady_tempo():
    period = 60 / 100
    cuts = np.array([8, 16, 24]) * period  # every two bars at 100 BPM
    beats, downbeats, kept = solve_beat_grid(
        anchors_s=cuts,
        weights=np.ones(3),
        duration_s=20,
        tempo_bpm=96,
        tempo_range_bpm=(70, 130),
        beats_per_bar=4,
    )
    assert kept  # at least one cut is an anchor; the others ride the same grid
    assert np.allclose(np.diff(beats)[:24], period, atol=1e-6)
    assert {8, 16, 24} <= set(downbeats)  # every cut starts a bar


def _tempo_rules(cue, *, bpb=4):
    """The composer's rules for a tempo map, asserted."""
    p = np.diff(cue.beats_s)
    change = np.abs(p[1:] / p[:-1] - 1)
    assert change.max() <= 0.04 + 1e-9, change.max()
    bars = np.diff(cue.downbeats)
    odd = np.flatnonzero(bars != bpb)
    assert bars.min() >= 2
    assert len(odd) <= max(1, len(bars) // 8)
    starts = {round(s.start_s, 3) for s in cue.sections}
    for i in odd:  # an irregular bar ends where a section starts
        assert round(cue.beats_s[cue.downbeats[i + 1]], 3) in starts


def test_cut_forcing_a_tempo_jump_is_caught_not_chased():
    """Cuts 0.5 s apart among 2 s ones would need a 20 % tempo jump: the tempo stays
    smooth and the odd cut gets an accent at its exact time."""
    cuts = [2.4, 4.8, 5.3, 7.2, 9.6, 12.0, 14.4, 16.8]
    pr = project(_timeline(cuts, duration=19.0), style="pop", tempo_bpm=100)
    _tempo_rules(pr.cue)
    status = {round(c["time_s"], 2): c["status"] for c in pr.cut_offsets}
    assert all(v in ("on_beat", "caught") for v in status.values())
    assert sum(v == "on_beat" for v in status.values()) >= 6
    for t, v in status.items():
        if v == "caught":
            assert any(abs(h.time_s - t) < 1e-6 for h in pr.cue.hits)  # accent at the cut
    assert all(c["why"] for c in pr.cut_offsets)


def test_irregular_cuts_on_beats_or_caught_with_smooth_tempo():
    cuts = [1.37, 3.9, 5.05, 8.61, 12.2, 15.93]
    pr = project(_timeline(cuts), style="pop")
    _tempo_rules(pr.cue)
    s = pr.summary()
    assert s["cuts_on_beat_35ms"] + s["cuts_caught"] >= 0.9 * len(cuts)
    tempi = 60 / np.diff(pr.cue.beats_s)
    lo, hi = 90 * 0.8, 128 * 1.2  # pop's range, widened by the projection
    assert tempi.min() >= lo - 1e-6 and tempi.max() <= hi + 1e-6
    assert any("cuts on beats" in e for e in pr.explanations)


def test_strong_cuts_on_beats():
    rng = np.random.default_rng(5)
    cuts = np.sort(rng.uniform(1, 59, 24)).round(2)
    tl = _timeline(list(cuts), duration=60.0)
    for i, c in enumerate(tl.cuts):
        c.score = 80.0 if i % 4 == 0 else 30.0  # every fourth cut is a scene change
    pr = project(tl, style="electronic")
    _tempo_rules(pr.cue)
    strong = [o for o, c in zip(pr.cut_offsets, tl.cuts, strict=True) if c.score == 80.0]
    # a scene change 1 s after another cannot also take a beat without a tempo jump
    apart = [o for k, o in enumerate(strong) if k == 0 or o["time_s"] - strong[k - 1]["time_s"] > 2]
    assert np.mean([o["status"] == "on_beat" for o in apart]) >= 0.8
    assert all(o["status"] in ("on_beat", "caught") for o in strong)


def test_long_piece_has_its_climax_in_the_last_third():
    pr = project(_timeline([20.0, 45.0, 70.0, 100.0], duration=120.0), style="cinematic")
    e = np.asarray(pr.cue.energy)
    bar_t = np.asarray(pr.cue.beats_s)[pr.cue.downbeats][: len(e)]
    assert bar_t[int(np.argmax(e))] >= 80.0
    assert e[bar_t < 80].max() < e.max()


def test_seed_follows_the_content():
    a = project(_timeline([5.0, 9.0]))
    b = project(_timeline([5.0, 9.0]))
    c = project(_timeline([5.5, 9.0]))
    assert a.cue.seed == b.cue.seed != c.cue.seed


def test_user_choices_override_and_are_explained():
    pr = project(
        _timeline([5.0, 10.0]),
        style="folk",
        tempo_bpm=100,
        key="D major",
        energy=0.5,
        hits_s=[7.25],
        seed=4,
    )
    cue = pr.cue
    assert cue.style == "folk" and cue.key == "D major" and cue.seed == 4
    assert 100 * 0.88 <= 60 / np.median(np.diff(cue.beats_s)) <= 100 * 1.12
    assert any(h.kind == "user" and h.time_s == 7.25 for h in cue.hits)
    assert "style folk: chosen by the user" in pr.explanations
    with pytest.raises(ParameterError, match="energy"):
        project(_timeline([5.0]), energy=5)


def test_mood_picks_mode():
    happy = project(_timeline([5.0], valence=0.6, arousal=0.4))
    sad = project(_timeline([5.0], valence=-0.6, arousal=-0.5))
    assert happy.cue.key.endswith("major") and sad.cue.key.endswith("minor")
    assert any("valence" in e for e in sad.explanations)


def test_lazy_entry_points():
    assert v2m.project is project
    assert callable(v2m.score) and callable(v2m.compose) and callable(v2m.render)
    with pytest.raises(AttributeError):
        v2m.nothing_here  # noqa: B018


# ------------------------------------------------------------------ dance mode


def _dance_timeline(beat_times, duration, *, coverage=1.0, height=0.7, cuts=()):
    from test_analysis_kinematics import _bouncing

    from v2m.analysis.kinematics import kinematics

    t, xy, vis = _bouncing(np.asarray(beat_times), duration)
    tl = _timeline(list(cuts), duration=duration, arousal=0.1)
    tl.pose = {"coverage": coverage, "body_height": height, "rate_hz": 25.0}
    tl.kinematics = kinematics(t, xy, vis, duration_s=duration)
    return tl


def test_auto_mode_follows_a_dancer():
    from v2m.projection import choose_mode

    beats = np.arange(0.3, 30.0, 60 / 112)  # a dancer at 112 BPM, phase 0.3 s
    tl = _dance_timeline(beats, 30.0)
    kind, why = choose_mode(tl)
    assert kind == "dance" and "mode dance" in why
    proj = project(tl)
    cue = proj.cue
    assert cue.style in ("pop", "electronic")
    b = np.asarray(cue.beats_s)
    inner = beats[(beats > 1.0) & (beats < 29.0)]
    d = np.array([np.min(np.abs(b - x)) for x in inner])
    assert np.median(d) < 0.03 and d.max() < 0.06  # the music's beats on her beats
    per = np.diff(b)
    assert np.abs(np.diff(np.log(per))).max() <= 0.021  # smooth, as a band plays
    assert 60 / np.median(per) == pytest.approx(112, rel=0.03)
    assert any("beat grid on the dancer" in w for w in proj.explanations)
    assert any("energy per bar from the dancer's movement" in w for w in proj.explanations)


def test_dance_grid_follows_a_drifting_dancer():
    periods = np.linspace(0.56, 0.48, 60)
    beats = np.r_[0.2, 0.2 + np.cumsum(periods)]
    dur = float(beats[-1]) + 0.3
    cue = project(_dance_timeline(beats, dur), mode="dance").cue
    b = np.asarray(cue.beats_s)
    inner = beats[(beats > 2.0) & (beats < dur - 2.0)]
    d = np.array([np.min(np.abs(b - x)) for x in inner])
    assert np.median(d) < 0.04
    per = np.diff(b)
    assert per[: len(per) // 4].mean() > per[-len(per) // 4 :].mean() * 1.08


def test_mode_choice_needs_a_dominant_body_and_few_cuts():
    from v2m.projection import choose_mode

    beats = np.arange(0.0, 20.0, 0.5)
    assert choose_mode(_dance_timeline(beats, 20.0, coverage=0.3))[0] == "cuts"
    assert choose_mode(_dance_timeline(beats, 20.0, height=0.2))[0] == "cuts"
    busy = _dance_timeline(beats, 20.0, cuts=[2.0, 5.0, 9.0])  # 9 cuts/min
    kind, why = choose_mode(busy)
    assert kind == "cuts" and "cuts/min" in why
    assert choose_mode(_dance_timeline(beats, 20.0), mode="cuts")[0] == "cuts"
    with pytest.raises(ParameterError, match="mode"):
        project(_dance_timeline(beats, 20.0), mode="ballet")


def test_dance_mode_without_pose_follows_visual_beats():
    from v2m.timeline import VisualBeat

    tl = _timeline([], duration=20.0)
    vb = np.arange(0.25, 20.0, 0.5)
    tl.visual_beats = [VisualBeat(time_s=float(t), strength=0.8) for t in vb]
    tl.visual_tempo_bpm, tl.visual_tempo_confidence = 120.0, 0.6
    proj = project(tl, mode="dance")
    assert any("optical-flow" in w for w in proj.explanations)
    b = np.asarray(proj.cue.beats_s)
    d = np.array([np.min(np.abs(b - x)) for x in vb[2:-2]])
    assert np.median(d) < 0.04


def test_scene_changes_among_equal_cuts_land_on_beats():
    """Many cuts of one score and every fourth a scene change (a higher score): the scene
    changes are the strong cuts, all on beats, even where irregular cutting makes the
    ordinary cuts unreachable with a smooth tempo."""
    rng = np.random.default_rng(3)
    cuts = np.sort(rng.uniform(1.0, 89.0, 30)).round(3)
    cuts = cuts[np.r_[True, np.diff(cuts) > 0.4]]
    tl = _timeline(list(cuts), duration=90.0)
    for i, c in enumerate(tl.cuts):
        c.score = 80.0 if i % 4 == 0 else 35.0
    scene = cuts[::4]
    for style in ("cinematic", "piano", "lofi"):
        cue = project(tl, style=style).cue
        b = np.asarray(cue.beats_s)
        off = np.array([np.min(np.abs(b - c)) for c in scene])
        assert (off <= 0.035).all(), (style, scene[off > 0.035])
        _tempo_rules(cue)


def test_the_ending_slows_down_after_the_last_cut_only():
    from v2m.composition import compose
    from v2m.composition.checks import final_chord_s, tempo_stats
    from v2m.cuesheet import RIT_MAX, RIT_S, RIT_STEP, ritardando

    proj = project(_timeline([4.0, 9.0], duration=30.0), style="pop", seed=1)
    cue = proj.cue
    b = np.asarray(cue.beats_s)
    p = np.diff(b)
    inside = b[:-1] < cue.duration_s
    late = inside & (b[:-1] >= cue.duration_s - RIT_S)
    early = inside & (b[:-1] < 9.5)
    assert p[late].max() > (1 + 0.8 * RIT_MAX) * np.median(p[early])  # it slows...
    assert np.max(np.abs(np.diff(np.log(p)))) <= np.log(1 + RIT_STEP) + 1e-6  # ...smoothly
    assert tempo_stats(cue)["max_change"] <= 0.04
    rit = [line for line in proj.explanations if line.startswith("ritardando")]
    assert rit and rit[0].endswith("after the last cut")
    # it is told after the tempo it slows from
    assert proj.explanations.index(rit[0]) > min(
        i for i, line in enumerate(proj.explanations) if " BPM in pop" in line
    )
    for c in (4.0, 9.0):  # the cuts keep their beats
        assert np.min(np.abs(b - c)) < 0.036
    assert final_chord_s(compose(cue)) >= 2.0
    # a cut near the end: nothing before it moves
    beats = list(np.arange(0, 31, 0.5))
    out, n = ritardando(beats, after_s=28.0, duration_s=30.0)
    assert out[:57] == beats[:57] and n <= 3
    assert ritardando(beats, after_s=29.5, duration_s=30.0) == (beats, 0)
    # the report gives the slowing reached: the two or three beats after a cut 2 s before
    # the end slow by 6-9 % (3 % a beat), not by the 15 % cap
    from v2m.projection.choices import slow_ending

    why: list[str] = []
    out = np.asarray(slow_ending(beats, cuts_s=[28.0], hits_s=[], dur=30.0, why=why))
    p = np.diff(out)
    reached = p[out[:-1] < 30.0].max() / 0.5 - 1
    assert f"beats slow down by {100 * reached:.0f} %" in why[0], (why, reached)
    assert 0.05 < reached < 0.1


def test_intro_and_outro_are_short_frames():
    """The montage's last section spans 48 s: a theme (with its tune), not an outro."""
    from synth import montage_timeline

    from v2m.projection.form import FRAME_MAX_S

    cue = project(montage_timeline(180.0), style="lofi", seed=7).cue
    assert cue.sections[-1].end_s - cue.sections[-1].start_s > FRAME_MAX_S
    for s in cue.sections:
        if s.label in ("intro", "outro"):
            assert s.end_s - s.start_s <= FRAME_MAX_S + 1e-6, s
    assert cue.sections[-1].label != "outro"


def test_one_shot_gets_a_song_form():
    # no cuts and one picture: every 16-bar section looks the same, yet the music must not
    # play one theme throughout
    pr = project(_timeline([], duration=60.0), style="pop", tempo_bpm=120, seed=1)
    labels = [s.label for s in pr.cue.sections]
    assert labels[0] == "intro" and labels[-1] == "outro" and labels[1:3] == ["A", "B"]
    assert any("song form" in w for w in pr.explanations)
    # no cut to slow down after: the report does not name one
    assert not any("last cut" in w for w in pr.explanations)
    # the sections' energies still come from the picture
    assert all(0.0 <= s.energy <= 1.0 for s in pr.cue.sections)


def test_runs_of_alike_sections_alternate_with_a_contrasting_theme():
    from v2m.projection.form import break_runs as _break_runs

    why = []
    labels = ["intro", "A", "A", "A", "A", "B", "B", "outro"]
    out = _break_runs(labels, iter(["C", "D"]), why)
    assert out == ["intro", "A", "C", "A", "C", "B", "B", "outro"]  # a pair stays a pair
    assert why and "A with C" in why[0]
    assert _break_runs(["A", "A", "A", "B", "A", "A", "A"], iter(["C"]), []) == [
        "A", "C", "A", "B", "A", "C", "A",
    ]  # fmt: skip
    assert _break_runs(["A", "A", "A"], iter([]), []) == ["A", "A", "A"]  # no letter left


def test_controls_are_checked_once_and_carried_whole():
    """One Controls object: made (and checked) once, given to project as it is."""
    from v2m.errors import V2MError
    from v2m.projection import Controls, project

    for bad in ({"energy": 3}, {"tempo_bpm": 10}, {"mode": "ballet"}, {"style": "polka"},
                {"key": "H minor"}, {"seed": -1}, {"hits_s": (float("nan"),)},
                {"style": ["pop"]}, {"ending": "abrupt"}, {"duration_s": 0}):  # fmt: skip
        with pytest.raises(V2MError):
            Controls(**bad)
    c = Controls(style="pop", tempo_bpm=100, seed=3, hits_s=[2.5])
    assert c.hits_s == (2.5,)
    from synth import montage_timeline

    tl = montage_timeline(20.0, seed=1)
    a = project(tl, controls=c).cue
    b = project(tl, style="pop", tempo_bpm=100, seed=3, hits_s=[2.5]).cue
    assert a.to_dict() == b.to_dict() and a.style == "pop" and a.seed == 3


def test_section_letters_start_at_a_after_the_intro_and_alike_sections_take_a_song_form():
    """The first theme heard is A (it was B when the intro took the first section, A);
    sections that all look alike -- a montage cycling through the same shots -- take a song
    form between intro and outro, and the report does not call it one picture."""
    from v2m.projection.form import _labels

    x, y, z = (np.array(v, float) for v in ([0, 0, 0.2], [0.8, 0.8, 0.9], [-0.8, 0.6, 0.5]))
    secs = [(0.0, 6.0, 0.3), (6.0, 30.0, 0.5), (30.0, 54.0, 0.6), (54.0, 80.0, 0.7)]
    why: list[str] = []
    assert _labels([x, y, x, z], secs, 80.0, why=why) == ["intro", "A", "B", "C"]
    secs5 = secs + [(80.0, 86.0, 0.4)]
    why = []
    labels = _labels([x, x, x, x, x], secs5, 86.0, why=why)
    assert labels == ["intro", "A", "B", "A", "outro"]
    assert any("every section looks alike: the sections take a song form" in w for w in why)
    assert not any("one picture" in w for w in why)
    why = []
    three = [(0.0, 6.0, 0.3), (6.0, 50.0, 0.6), (50.0, 56.0, 0.4)]
    assert _labels([x, x, x], three, 56.0, why=why) == ["intro", "A", "outro"]
    assert why == ["every section looks alike: one theme between intro and outro"]


def test_a_short_last_section_holding_the_climax_is_a_theme_not_an_outro():
    """An outro winds down (its tune rests): a short last section with more energy than
    every section before it keeps its theme, one with less is the outro."""
    from v2m.projection.form import _labels

    x, y = np.array([0.0, 0.0, 0.5]), np.array([0.8, 0.8, 0.6])
    climax = [(0.0, 6.9, 0.42), (6.9, 29.3, 0.47), (29.3, 48.5, 0.58), (48.5, 60.0, 0.61)]
    labels = _labels([x, x, y, x], climax, 60.0, why=[])
    assert labels[-1] != "outro" and labels[0] == "intro"
    winding = climax[:3] + [(48.5, 60.0, 0.4)]
    assert _labels([x, x, y, x], winding, 60.0, why=[])[-1] == "outro"


def test_no_section_starts_in_the_last_bar():
    """A longer bar that lands a cut just before the end requires a section after it; in
    the last bar that would be a one-second outro of the final chord, so none starts."""
    from v2m.projection.form import sections_from_picture

    tl = _timeline([10.0, 20.0, 30.0], duration=60.0)
    bar_t = np.arange(25) * 2.4  # 25 bars of 2.4 s, the last one cut short by the end
    bar_e = np.linspace(0.3, 0.7, 25)
    secs = sections_from_picture(
        tl, bar_t, bar_e, 60.0, kept_times=np.zeros(0), required_bars=[24], why=[]
    )
    assert all(s.start_s < 24 * 2.4 - 1e-6 for s in secs)
    assert secs[-1].end_s == 60.0 and secs[-1].end_s - secs[-1].start_s >= 2 * 2.4
    with_12 = sections_from_picture(
        tl, bar_t, bar_e, 60.0, kept_times=np.zeros(0), required_bars=[12], why=[]
    )
    assert any(abs(s.start_s - 12 * 2.4) < 1e-6 for s in with_12)  # elsewhere it still does


def test_a_strong_visual_beat_on_a_cut_makes_that_cuts_accent_full_not_a_second_hit():
    from v2m.projection.cuts import cut_hits
    from v2m.timeline import VisualBeat

    beats = np.arange(0.0, 20.01, 0.5)
    hits = cut_hits(
        beats,
        np.arange(0.0, 20.0, 2.0),
        np.array([2.0, 6.0, 10.0]),
        np.array([1.5, 1.2, 0.3]),  # the cut at 10 s is the weakest: a light accent
        [VisualBeat(time_s=10.02, strength=0.9), VisualBeat(time_s=15.0, strength=0.9)],
        20.0,
        caught=[],
        user_hits_s=[],
    )
    at10 = [h for h in hits if abs(h.time_s - 10.0) < 0.35]
    assert len(at10) == 1 and at10[0].kind == "cut" and at10[0].strength == 0.63
    assert [h.kind for h in hits if abs(h.time_s - 15.0) < 0.01] == ["impact"]  # alone: a hit


def test_the_contrasting_theme_of_a_run_is_lettered_in_the_order_heard():
    """A run of alike sections alternates with a contrasting theme; it is heard before the
    next new theme, so it takes the next letter (was: A C A C B B, the report 'A with C')."""
    from v2m.projection.form import _labels

    x, z = np.array([0.0, 0.0, 0.2]), np.array([-0.8, 0.6, 0.5])
    secs = [(0, 4, 0.3), (4, 45, 0.5), (45, 70, 0.5), (70, 91, 0.5), (91, 117, 0.5)]
    secs += [(117, 144, 0.6), (144, 172, 0.6), (172, 180, 0.4)]
    why: list[str] = []
    labels = _labels([x, x, x, x, x, z, z, x], secs, 180.0, why=why)
    assert labels == ["intro", "A", "B", "A", "B", "C", "C", "outro"]
    assert why == ["sections that look alike in a row alternate with a contrasting theme: A with B"]


def test_a_cut_in_a_dance_is_marked_as_the_report_says():
    """The grid follows the dancer, so a cut between her beats is caught by an accent at
    its own time -- the report said so, but no hit was written."""
    beats = np.arange(0.3, 30.0, 60 / 112)
    cut = float(beats[30] + 0.22)  # between two of her beats
    proj = project(_dance_timeline(beats, 30.0, cuts=[cut]), mode="dance")
    caught = [o for o in proj.cut_offsets if o.get("status") == "caught"]
    assert len(caught) == 1
    at_cut = [h for h in proj.cue.hits if abs(h.time_s - cut) < 0.01]
    assert [h.kind for h in at_cut] == ["cut"]
    assert not [h for h in proj.cue.hits if h.kind != "cut" and abs(h.time_s - cut) < 0.35]
