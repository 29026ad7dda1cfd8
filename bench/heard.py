"""The beat and key a listener hears in v2m's renders, by trackers no one here wrote.

Every style x {60, 84, 100, 128, 140} BPM x two keys (30 s cues from ``make_cue``), rendered
and given to independent beat trackers: Essentia's RhythmExtractor2013 (multifeature),
madmom's RNN beat activations with its DBN tracker, and librosa's beat tracker (the one
v2m's own ``eval`` uses, so the two others are the independent check); and to two key
estimators, Essentia's KeyExtractor and madmom's CNN key recogniser. Per piece it prints
the tempo each tracker hears (exact within 4 %, an octave off, or wrong), the beat
F-measure against the written beats (mir_eval, 70 ms), the phase of the heard beats
(median offset from the nearest written beat in beats: 0 on the beat, 0.5 on the
off-beat) and the key heard (a mode's tonic counts as exact). Then the totals against the
targets: tempo exact >= 90 % and within an octave 100 %, beat F >= 0.8 median and >= 0.5 in
every piece, key exact >= 90 %.

Each tracker is first given a bare click track at every tempo (a low thump on each beat,
nothing between): a tempo it cannot read even there is the tracker's limit, not the
music's (Essentia's RhythmExtractor2013 reports 120 BPM for a 60 BPM click track), and
the totals are also given without the tempi the tracker misreads on clicks.

Needs the ``essentia`` wheel (pip install essentia) and madmom (pip install cython; pip
install --no-build-isolation madmom); neither is a v2m dependency. madmom's last release
(0.16.1) predates NumPy 2, Python 3.10's ``collections`` and setuptools 81: the aliases
it still uses are restored before it is imported (``_madmom``), nothing else is patched.

    python bench/heard.py [--styles pop,lofi] [--seconds 30] [--tempi 60,84,100,128,140]
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

import numpy as np

TEMPI = (60, 84, 100, 128, 140)
KEYS = ("A minor", "D major")
SR = 44100
PCS = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
FLATS = {"Db": "C#", "Eb": "D#", "Gb": "F#", "Ab": "G#", "Bb": "A#"}


def _tempo_class(heard: float, written: float) -> str:
    for factor, name in ((1, "exact"), (2, "octave"), (0.5, "octave"), (3, "wrong"),
                         (1 / 3, "wrong")):  # fmt: skip
        if abs(heard / (written * factor) - 1) <= 0.04:
            return name
    return "wrong"


def _phase(heard: np.ndarray, written: np.ndarray) -> float:
    """Median offset of heard beats from the nearest written beat, in beats (0..0.5)."""
    if not len(heard):
        return float("nan")
    period = float(np.median(np.diff(written)))
    idx = np.clip(np.searchsorted(written, heard), 1, len(written) - 1)
    near = np.where(
        np.abs(written[idx] - heard) < np.abs(written[idx - 1] - heard),
        written[idx],
        written[idx - 1],
    )
    return float(np.median(np.abs(heard - near)) / period)


@functools.cache
def _madmom():
    """Import madmom 0.16.1 on today's NumPy, Python and setuptools (see the docstring)."""
    import collections
    import collections.abc
    import types

    if "pkg_resources" not in sys.modules:
        try:
            import pkg_resources  # noqa: F401
        except ImportError:  # setuptools >= 81: madmom only asks it for its version
            shim = types.ModuleType("pkg_resources")
            shim.get_distribution = lambda name: types.SimpleNamespace(version="0.16.1")
            sys.modules["pkg_resources"] = shim
    for name in ("MutableSequence", "Iterable", "Mapping", "Sequence"):
        if not hasattr(collections, name):
            setattr(collections, name, getattr(collections.abc, name))
    for name, kind in (("float", float), ("int", int), ("complex", complex)):
        if name not in np.__dict__:
            setattr(np, name, kind)
    import madmom.audio.signal
    import madmom.features.beats
    import madmom.features.key

    return madmom


@functools.cache
def _madmom_networks():
    """madmom's beat RNN and key CNN, loaded once (each load reads its model files)."""
    mm = _madmom()
    return mm.features.beats.RNNBeatProcessor(), mm.features.key.CNNKeyRecognitionProcessor()


def _tonic(name: str) -> str:
    t = name.split()[0]
    return FLATS.get(t, t)


def measure(style: str, tempo: int, key: str, seconds: float) -> dict:
    import mir_eval

    from v2m.composition import compose
    from v2m.cuesheet import make_cue
    from v2m.rendering import render

    cue = make_cue(duration_s=seconds, tempo_bpm=tempo, style=style, key=key, seed=1,
                   ending="fade")  # fmt: skip
    mix = render(compose(cue), sample_rate=44100).mix
    mono = mix.mean(axis=1).astype(np.float32)
    written = np.asarray(cue.beats_s)
    written = written[written < seconds - 1.0]
    heard_keys = _keys(mono)
    ref = mir_eval.beat.trim_beats(written)
    out = {"style": style, "tempo": tempo, "key": key, "key_heard": heard_keys,
           "key_ok": {k: _tonic(v) == _tonic(key) for k, v in heard_keys.items()}}  # fmt: skip
    for name, bpm, beats in _trackers(mono):
        est = mir_eval.beat.trim_beats(beats[beats < seconds - 1.0])
        out[name] = {
            "bpm": float(bpm),
            "tempo": _tempo_class(float(bpm), tempo),
            "f": float(mir_eval.beat.f_measure(ref, est, f_measure_threshold=0.07)),
            "phase": _phase(est, ref),
        }
    return out


TRACKERS = ("essentia", "madmom", "librosa")


def _trackers(mono: np.ndarray):
    """(name, bpm, beat times) from each tracker for mono float32 audio at SR.

    madmom's DBN tracker gives beats only; its tempo is 60 over their median interval.
    """
    import essentia.standard as es
    import librosa

    mm = _madmom()
    bpm_e, beats_e, *_ = es.RhythmExtractor2013(method="multifeature")(mono)
    signal = mm.audio.signal.Signal(mono, sample_rate=SR)
    act = _madmom_networks()[0](signal)
    beats_m = np.asarray(mm.features.beats.DBNBeatTrackingProcessor(fps=100)(act))
    bpm_m = 60.0 / float(np.median(np.diff(beats_m))) if len(beats_m) > 1 else 0.0
    tempo_l, beats_l = librosa.beat.beat_track(y=mono, sr=SR, units="time")
    tempo_l = float(np.atleast_1d(tempo_l)[0])
    return (("essentia", float(bpm_e), np.asarray(beats_e)),
            ("madmom", bpm_m, beats_m),
            ("librosa", tempo_l, np.asarray(beats_l)))  # fmt: skip


def _keys(mono: np.ndarray) -> dict[str, str]:
    """The key each estimator hears, as 'tonic mode' ('A minor')."""
    import essentia.standard as es

    mm = _madmom()
    key_e, scale_e, _strength = es.KeyExtractor()(mono)
    probs = _madmom_networks()[1](mm.audio.signal.Signal(mono, sample_rate=SR))
    return {"essentia": f"{key_e} {scale_e}",
            "madmom": mm.features.key.key_prediction_to_label(probs)}  # fmt: skip


def clicks(tempo: float, seconds: float = 30.0) -> np.ndarray:
    """A bare click track: a decaying 100 Hz thump with a short noise burst on every beat."""
    y = np.zeros(int(seconds * SR), np.float32)
    k = np.arange(2000)
    click = 0.8 * np.sin(2 * np.pi * 100 * k / SR) * np.exp(-k / 400)
    click += 0.3 * np.random.default_rng(0).normal(size=k.size) * np.exp(-k / 100)
    for t in np.arange(0.5, seconds - 0.5, 60.0 / tempo):
        n = int(t * SR)
        y[n : n + k.size] += click[: len(y) - n].astype(np.float32)
    return y


def calibrate(tempi=TEMPI, seconds: float = 30.0) -> dict[str, set[int]]:
    """The tempi each tracker reads exactly on a bare click track."""
    ok: dict[str, set[int]] = {name: set() for name in TRACKERS}
    for tempo in tempi:
        for name, bpm, _ in _trackers(clicks(tempo, seconds)):
            verdict = _tempo_class(bpm, tempo)
            print(f"click track {tempo} BPM: {name} hears {bpm:.1f} ({verdict})")
            if verdict == "exact":
                ok[name].add(tempo)
    return ok


def main() -> int:
    from v2m.styles import STYLE_NAMES

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--styles", default=",".join(STYLE_NAMES))
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--tempi", default=",".join(map(str, TEMPI)), help="BPM, comma-separated")
    a = ap.parse_args()
    tempi = tuple(int(x) for x in a.tempi.split(","))
    readable = calibrate(tempi, a.seconds)
    rows = []
    head = " | ".join(f"{t:>22}" for t in TRACKERS)
    print(f"{'style':11} {'BPM':>4} {'key':8} | {head} | keys heard (essentia, madmom)")
    for style in a.styles.split(","):
        for tempo in tempi:
            for key in KEYS:
                r = measure(style, tempo, key, a.seconds)
                rows.append(r)
                cols = " | ".join(
                    f"{r[t]['bpm']:6.1f} {r[t]['tempo']:6} F{r[t]['f']:.2f} ph{r[t]['phase']:.2f}"
                    for t in TRACKERS
                )
                keys = ", ".join(f"{v}{'' if r['key_ok'][k] else ' (wrong)'}"
                                 for k, v in r["key_heard"].items())  # fmt: skip
                print(f"{style:11} {tempo:4d} {key:8} | {cols} | {keys}", flush=True)
    for t in TRACKERS:
        exact = np.mean([r[t]["tempo"] == "exact" for r in rows])
        octave = np.mean([r[t]["tempo"] in ("exact", "octave") for r in rows])
        fs = np.array([r[t]["f"] for r in rows])
        offbeat = sum(r[t]["phase"] > 0.35 for r in rows)
        print(
            f"{t}: tempo exact {100 * exact:.0f} % (target 90), within an octave "
            f"{100 * octave:.0f} % (100); beat F median {np.median(fs):.2f} (0.8), min "
            f"{fs.min():.2f} (0.5); heard on the off-beat in {offbeat} of {len(rows)}"
        )
        fair = [r for r in rows if r["tempo"] in readable[t]]
        if len(fair) < len(rows):
            ex = np.mean([r[t]["tempo"] == "exact" for r in fair]) if fair else float("nan")
            fsf = np.array([r[t]["f"] for r in fair]) if fair else np.array([np.nan])
            print(
                f"  without the tempi {t} misreads on a click track "
                f"({', '.join(str(x) for x in tempi if x not in readable[t])} BPM): tempo exact "
                f"{100 * ex:.0f} % of {len(fair)}; beat F median {np.median(fsf):.2f}, min "
                f"{fsf.min():.2f}"
            )
    for k in ("essentia", "madmom"):
        share = 100 * np.mean([r["key_ok"][k] for r in rows])
        print(f"key exact (tonic), {k}: {share:.0f} % (target 90)")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    sys.exit(main())
