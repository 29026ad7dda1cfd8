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
    assert kept[0] == 0  # the first cut is an anchor; later ones may ride the same grid
    assert np.allclose(np.diff(beats)[:24], period, atol=1e-6)
    assert {8, 16, 24} <= set(downbeats)  # every cut starts a bar


def test_irregular_cuts_land_on_downbeats_within_the_tempo_range():
    cuts = [1.37, 3.9, 5.05, 8.61, 12.2, 15.93]
    pr = project(_timeline(cuts), style="pop")
    s = pr.summary()
    assert s["cuts_on_beat_35ms"] == 6 and s["cuts_on_downbeat"] == 6
    tempi = 60 / np.diff(pr.cue.beats_s)
    lo, hi = 90 * 0.8, 128 * 1.2  # pop's range, widened by the projection
    assert tempi.min() >= lo - 1e-6 and tempi.max() <= hi + 1e-6
    assert any("cuts on beats" in e for e in pr.explanations)


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
