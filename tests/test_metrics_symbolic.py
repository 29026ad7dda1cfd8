import math

import muspy
import numpy as np
import pretty_midi
import pytest

from v2m import ParameterError
from v2m.metrics import symbolic as S

N_PIECES = 200


@pytest.fixture(scope="module")
def corpus_files(tmp_path_factory):
    """>= 200 real pieces: Bach chorales from music21's corpus, written as MIDI."""
    from music21 import corpus

    d = tmp_path_factory.mktemp("corpus")
    paths = sorted(p for p in corpus.getComposer("bach") if str(p).endswith(".mxl"))
    out = []
    for p in paths:
        if len(out) >= N_PIECES:
            break
        dest = d / (p.name.rsplit(".", 1)[0] + ".mid")
        try:
            corpus.parse(p).write("midi", fp=str(dest))
        except Exception:  # noqa: BLE001 - a piece music21 cannot write is skipped
            continue
        out.append(dest)
    assert len(out) >= N_PIECES
    return out


def test_equal_to_muspy_on_200_real_pieces(corpus_files):
    worst = dict.fromkeys(("pe", "pce", "sc", "ebr", "gc"), 0.0)
    for f in corpus_files:
        m = muspy.read_midi(str(f))
        n = S.notes_from_muspy(m)
        mres = 4 * m.resolution
        pairs = {
            "pe": (S.pitch_entropy(n), muspy.pitch_entropy(m)),
            "pce": (S.pitch_class_entropy(n), muspy.pitch_class_entropy(m)),
            "sc": (S.scale_consistency(n), muspy.scale_consistency(m)),
            "ebr": (S.empty_beat_rate(n), muspy.empty_beat_rate(m)),
            "gc": (
                S.groove_consistency(n, measure_resolution=mres),
                muspy.groove_consistency(m, mres),
            ),
        }
        for k, (ours, ref) in pairs.items():
            worst[k] = max(worst[k], abs(ours - ref))
    assert max(worst.values()) <= 1e-9, worst


def test_midi_reader_agrees_with_muspy(corpus_files):
    for f in corpus_files[:20]:
        a = S.notes_from_midi(f)
        b = S.notes_from_muspy(muspy.read_midi(str(f)))
        assert np.array_equal(a.onset, b.onset) and np.array_equal(a.end, b.end)
        assert np.array_equal(a.pitch, b.pitch)


def test_average_ioi_is_mgevals(corpus_files):
    for f in corpus_files[:10]:
        pm = pretty_midi.PrettyMIDI(str(f))
        ref = float(np.mean(np.diff(pm.get_onsets())))
        assert S.average_ioi_s(S.notes_from_pretty_midi(pm)) == pytest.approx(ref, abs=1e-9)
        assert S.average_ioi_s(S.notes_from_midi(f)) == pytest.approx(ref, abs=1e-6)


def _notes(onsets_beats, pitches, res=4, bpb=4.0, dur=1):
    on = np.asarray(onsets_beats) * res
    return S.Notes(
        onset=on.astype(int),
        end=(on + dur * res).astype(int),
        pitch=np.asarray(pitches),
        is_drum=np.zeros(len(on), bool),
        resolution=res,
        onset_s=np.asarray(onsets_beats, float) * 0.5,
        beats_per_bar=bpb,
    )


def test_windowed_entropy_known_answers():
    # bar 0: C C C C; bar 1: C D E F  -> H1 = mean(0, 2) = 1
    n = _notes(range(8), [60, 60, 60, 60, 60, 62, 64, 65])
    assert S.pitch_class_entropy_windowed(n, bars=1) == pytest.approx(1.0)
    # one 4-bar window over 2 bars covers everything: counts C5 D1 E1 F1
    p = np.array([5, 1, 1, 1]) / 8
    assert S.pitch_class_entropy_windowed(n, bars=4) == pytest.approx(-(p * np.log2(p)).sum())


def test_grooving_pattern_similarity_known_answers():
    same = _notes([0, 1, 2, 3, 4, 5, 6, 7], [60] * 8)
    assert S.grooving_pattern_similarity(same) == 1.0
    # bar 0 has 4 onsets, bar 1 only its downbeat: 3 of 64 slots differ
    diff = _notes([0, 1, 2, 3, 4], [60] * 5)
    assert S.grooving_pattern_similarity(diff) == pytest.approx(1 - 3 / 64)
    # sampling is seeded: the same seed gives the same value
    long = _notes(np.arange(0, 400, 1.5), [60] * len(np.arange(0, 400, 1.5)))
    a = S.grooving_pattern_similarity(long, max_pairs=50, seed=1)
    assert a == S.grooving_pattern_similarity(long, max_pairs=50, seed=1)


def test_evaluate_names_and_validation():
    n = _notes(range(8), [60, 62, 64, 65, 67, 69, 71, 72])
    d = S.evaluate(n)
    assert set(d) == {
        "pitch_entropy",
        "pitch_class_entropy",
        "pitch_class_entropy_1bar",
        "pitch_class_entropy_4bar",
        "scale_consistency",
        "empty_beat_rate",
        "groove_consistency",
        "grooving_pattern_similarity",
        "average_ioi_s",
    }
    assert d["scale_consistency"] == 1.0 and d["empty_beat_rate"] == 0.0
    assert d["pitch_entropy"] == pytest.approx(3.0)
    bad = _notes([0, 1], [60, 200])
    with pytest.raises(ParameterError, match="pitch"):
        S.evaluate(bad)
    empty = _notes([], [])
    assert math.isnan(S.pitch_entropy(empty))
