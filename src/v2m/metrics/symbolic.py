"""Symbolic (MIDI) music metrics from the V2M literature, each named after its source.

Shape after mir_eval: :func:`validate`, one function per metric, and :func:`evaluate`
returning a dict with stable names. All functions take a :class:`Notes` (arrays of notes in
ticks and seconds), built with :func:`notes_from_midi`, :func:`notes_from_pretty_midi` or
:func:`notes_from_muspy`. Everything is vectorised numpy.

Definitions (where the literature disagrees, each variant has its own name):

``pitch_entropy``, ``pitch_class_entropy``
    muspy: base-2 entropy of the histogram of MIDI pitches (128 bins) / pitch classes (12)
    over all notes of non-drum tracks; NaN without notes.
``pitch_class_entropy_1bar``, ``pitch_class_entropy_4bar``
    MusDr's H1 / H4 (Wu & Yang 2020): the pitch-class entropy of every window of 1 / 4
    bars (sliding by one bar; windows without notes skipped), averaged.
``scale_consistency``
    muspy: the largest fraction of non-drum notes inside one of the 24 major and natural
    minor scales.
``empty_beat_rate``
    muspy: the fraction of beats (``resolution`` ticks) in which no note of any track
    sounds; a note covers beats ``onset // r`` to ``end // r`` inclusive.
``groove_consistency``
    muspy: one minus the mean Hamming distance between the onset patterns (one slot per
    tick, ``measure_resolution`` ticks a bar) of *adjacent* bars, all tracks.
``grooving_pattern_similarity``
    MusDr's GS: onset patterns quantised to 64 positions per bar, one minus the Hamming
    distance / 64 averaged over *all* bar pairs (at most ``max_pairs`` pairs, drawn with a
    seeded generator when there are more).
``average_ioi_s``
    mgeval (Yang & Lerch 2020): the mean difference between consecutive note onsets in
    seconds, over the sorted onsets of all notes (duplicates kept, as pretty_midi's
    ``get_onsets`` returns them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError, ParameterError

__all__ = [
    "Notes",
    "notes_from_midi",
    "notes_from_pretty_midi",
    "notes_from_muspy",
    "validate",
    "pitch_entropy",
    "pitch_class_entropy",
    "pitch_class_entropy_windowed",
    "scale_consistency",
    "empty_beat_rate",
    "groove_consistency",
    "grooving_pattern_similarity",
    "average_ioi_s",
    "evaluate",
]

_MAJOR = np.array([1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1], bool)
_MINOR = np.array([1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0], bool)
#: (24, 12) membership of each pitch class in the 12 major then 12 minor scales.
_SCALES = np.array([np.roll(s, r) for s in (_MAJOR, _MINOR) for r in range(12)], np.int64)


@dataclass
class Notes:
    """Notes of a piece.

    Attributes
    ----------
    onset, end : np.ndarray, shape (n,), int
        Start and end of each note in ticks.
    pitch : np.ndarray, shape (n,), int
        MIDI pitch 0..127.
    is_drum : np.ndarray, shape (n,), bool
        True for notes of drum tracks.
    resolution : int
        Ticks per beat (quarter note).
    onset_s : np.ndarray, shape (n,), float
        Start of each note in seconds.
    beats_per_bar : float
        Quarter notes per bar (4 for 4/4, 3 for 3/4, 3 for 6/8).
    """

    onset: np.ndarray
    end: np.ndarray
    pitch: np.ndarray
    is_drum: np.ndarray
    resolution: int
    onset_s: np.ndarray
    beats_per_bar: float = 4.0

    def __post_init__(self) -> None:
        self.onset = np.asarray(self.onset, np.int64)
        self.end = np.asarray(self.end, np.int64)
        self.pitch = np.asarray(self.pitch, np.int64)
        self.is_drum = np.asarray(self.is_drum, bool)
        self.onset_s = np.asarray(self.onset_s, float)

    @property
    def pitched(self) -> np.ndarray:
        return self.pitch[~self.is_drum]


def _from_lists(onset, end, pitch, drum, resolution, onset_s, beats_per_bar) -> Notes:
    order = np.lexsort((np.asarray(pitch), np.asarray(onset)))
    return Notes(
        onset=np.asarray(onset, np.int64)[order],
        end=np.asarray(end, np.int64)[order],
        pitch=np.asarray(pitch, np.int64)[order],
        is_drum=np.asarray(drum, bool)[order],
        resolution=int(resolution),
        onset_s=np.asarray(onset_s, float)[order],
        beats_per_bar=float(beats_per_bar),
    )


def notes_from_muspy(music) -> Notes:
    """From a ``muspy.Music`` (the same notes muspy's metrics see)."""
    on, en, pi, dr = [], [], [], []
    for track in music.tracks:
        for n in track.notes:
            on.append(n.time)
            en.append(n.time + n.duration)
            pi.append(n.pitch)
            dr.append(track.is_drum)
    res = music.resolution
    bpb = 4.0
    if music.time_signatures:
        ts = music.time_signatures[0]
        bpb = ts.numerator * 4.0 / ts.denominator
    qpm = music.tempos[0].qpm if music.tempos else 120.0
    return _from_lists(on, en, pi, dr, res, np.asarray(on, float) / res * 60.0 / qpm, bpb)


def notes_from_pretty_midi(pm) -> Notes:
    """From a ``pretty_midi.PrettyMIDI``; ticks from its resolution, seconds from its tempo
    map."""
    on, en, pi, dr, os_ = [], [], [], [], []
    for inst in pm.instruments:
        for n in inst.notes:
            on.append(pm.time_to_tick(n.start))
            en.append(pm.time_to_tick(n.end))
            pi.append(n.pitch)
            dr.append(inst.is_drum)
            os_.append(n.start)
    bpb = 4.0
    if pm.time_signature_changes:
        ts = pm.time_signature_changes[0]
        bpb = ts.numerator * 4.0 / ts.denominator
    return _from_lists(on, en, pi, dr, pm.resolution, os_, bpb)


def notes_from_midi(path: str | Path) -> Notes:
    """Read a MIDI file with mido: notes in ticks (note-on/off paired first in, first out per
    channel and pitch), seconds through the file's tempo map, channel 10 = drums.

    Raises
    ------
    InputError
        If the file is missing or not a MIDI file.
    """
    import mido

    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file")
    try:
        mf = mido.MidiFile(str(p))
    except (OSError, ValueError, EOFError, KeyError, IndexError) as exc:
        why = str(exc) or "the file ends early"
        raise InputError(f"{p}: not a MIDI file ({why})") from None
    check_midi_length(mf, p)
    res = mf.ticks_per_beat
    bpb = 4.0
    for tr in mf.tracks:
        ts = next((m for m in tr if m.type == "time_signature"), None)
        if ts is not None:
            bpb = ts.numerator * 4.0 / ts.denominator
            break
    on, en, pi, dr = [], [], [], []
    for tr in mf.tracks:
        t = 0
        open_: dict[tuple[int, int], list[int]] = {}
        for m in tr:
            t += m.time
            if m.type == "note_on" and m.velocity > 0:
                open_.setdefault((m.channel, m.note), []).append(t)
            elif m.type in ("note_off", "note_on"):
                starts = open_.get((m.channel, m.note))
                if starts:
                    s = starts.pop(0)
                    on.append(s)
                    en.append(t)
                    pi.append(m.note)
                    dr.append(m.channel == 9)
    if not on:
        raise InputError(f"{p}: MIDI file has no notes")
    onset = np.asarray(on, np.int64)
    return _from_lists(on, en, pi, dr, res, ticks_to_s(mf, onset), bpb)


def ticks_to_s(mf, ticks) -> np.ndarray:
    """Seconds of ``ticks`` (array of tick times) through the tempo map of the mido
    ``MidiFile`` ``mf`` (every track's ``set_tempo`` events; 120 BPM before the first)."""
    res = mf.ticks_per_beat
    tempos: list[tuple[int, int]] = [(0, 500000)]
    for tr in mf.tracks:
        t = 0
        for m in tr:
            t += m.time
            if m.type == "set_tempo":
                tempos.append((t, m.tempo))
    tempos.sort()
    tk = np.array([a for a, _ in tempos], float)
    us = np.array([b for _, b in tempos], float)
    seg_s = np.r_[0.0, np.cumsum(np.diff(tk) * us[:-1] / res / 1e6)]
    x = np.asarray(ticks, np.int64)
    if not x.size:
        return x * 1.0
    i = np.searchsorted(tk, x, side="right") - 1
    return seg_s[i] + (x - tk[i]) * us[i] / res / 1e6


def check_midi_length(mf, path) -> float:
    """The length of a mido ``MidiFile`` in seconds; :class:`InputError` naming ``path`` if
    it is longer than the longest music v2m handles (:data:`v2m.cuesheet.MAX_DURATION_S`),
    before any work that grows with the length."""
    from ..cuesheet import MAX_DURATION_S

    try:
        length = float(mf.length)
    except (ValueError, TypeError) as exc:  # asynchronous (type 2) files have no length
        raise InputError(f"{path}: cannot read the MIDI file's length ({exc})") from None
    if length > MAX_DURATION_S:
        raise InputError(
            f"{path}: the MIDI file lasts {length / 3600:.1f} hours; v2m handles at most "
            f"{MAX_DURATION_S / 3600:g} hours"
        )
    return length


def validate(notes: Notes) -> None:
    """Check a :class:`Notes`: equal lengths, pitches 0..127, ends not before onsets, a
    positive resolution.

    Parameters
    ----------
    notes : Notes

    Raises
    ------
    ParameterError
        Naming the field and the problem.

    Examples
    --------
    >>> bad = Notes(onset=[0], end=[4], pitch=[200], is_drum=[False], resolution=4,
    ...             onset_s=[0.0])
    >>> validate(bad)
    Traceback (most recent call last):
    ...
    v2m.errors.ParameterError: notes.pitch: outside 0..127
    """
    n = len(notes.onset)
    for name in ("end", "pitch", "is_drum", "onset_s"):
        if len(getattr(notes, name)) != n:
            raise ParameterError(f"notes.{name}: length {len(getattr(notes, name))} != {n}")
    if notes.resolution < 1:
        raise ParameterError(f"notes.resolution: {notes.resolution} must be >= 1")
    if n and (notes.pitch.min() < 0 or notes.pitch.max() > 127):
        raise ParameterError("notes.pitch: outside 0..127")
    if n and np.any(notes.end < notes.onset):
        raise ParameterError("notes.end: a note ends before it starts")


def _entropy(counts: np.ndarray) -> float:
    total = counts.sum()
    if total < 1:
        return math.nan
    p = counts[counts > 0] / total
    return float(-(p * np.log2(p)).sum())


def pitch_entropy(notes: Notes) -> float:
    """Entropy of the pitch histogram (128 bins) of the non-drum notes (muspy).

    Parameters
    ----------
    notes : Notes
        The piece (:func:`notes_from_midi` and its siblings build one).

    Returns
    -------
    float
        Bits, 0..7 (a measure of variety, not of quality); NaN without notes.

    Examples
    --------
    >>> notes = Notes(
    ...     onset=[0, 4, 8, 12, 16, 24], end=[4, 8, 12, 16, 20, 28],
    ...     pitch=[60, 64, 67, 72, 62, 65], is_drum=[False] * 6, resolution=4,
    ...     onset_s=[0.0, 0.5, 1.0, 1.5, 2.0, 3.0],
    ... )
    >>> round(pitch_entropy(notes), 4)  # six different pitches: log2(6)
    2.585
    """
    return _entropy(np.bincount(notes.pitched, minlength=128).astype(float))


def pitch_class_entropy(notes: Notes) -> float:
    """Entropy of the pitch-class histogram (12 bins) of the non-drum notes (muspy).

    Parameters
    ----------
    notes : Notes
        The piece (:func:`notes_from_midi` and its siblings build one).

    Returns
    -------
    float
        Bits, 0..log2(12) = 3.585 (lower: more tonal); NaN without notes.

    Examples
    --------
    >>> notes = Notes(
    ...     onset=[0, 4, 8, 12, 16, 24], end=[4, 8, 12, 16, 20, 28],
    ...     pitch=[60, 64, 67, 72, 62, 65], is_drum=[False] * 6, resolution=4,
    ...     onset_s=[0.0, 0.5, 1.0, 1.5, 2.0, 3.0],
    ... )
    >>> round(pitch_class_entropy(notes), 4)  # C twice, E, G, D, F
    2.2516
    """
    return _entropy(np.bincount(notes.pitched % 12, minlength=12).astype(float))


def pitch_class_entropy_windowed(notes: Notes, *, bars: int) -> float:
    """MusDr's H1 (``bars=1``) and H4 (``bars=4``): the pitch-class entropy of every window
    of ``bars`` bars (sliding by one bar, windows without notes skipped), averaged.

    Parameters
    ----------
    notes : Notes
    bars : int
        Window length in bars (of ``notes.beats_per_bar`` beats).

    Returns
    -------
    float
        Bits, 0..3.585 (lower: more tonal within a bar); NaN without notes.

    Examples
    --------
    >>> notes = Notes(
    ...     onset=[0, 4, 8, 12, 16, 24], end=[4, 8, 12, 16, 20, 28],
    ...     pitch=[60, 64, 67, 72, 62, 65], is_drum=[False] * 6, resolution=4,
    ...     onset_s=[0.0, 0.5, 1.0, 1.5, 2.0, 3.0],
    ... )
    >>> pitch_class_entropy_windowed(notes, bars=1)  # bar 1: C E G C, bar 2: D F
    1.25
    """
    if bars < 1:
        raise ParameterError(f"bars={bars}: must be >= 1")
    sel = ~notes.is_drum
    if not sel.any():
        return math.nan
    bar_ticks = notes.resolution * notes.beats_per_bar
    bar = (notes.onset[sel] // bar_ticks).astype(np.int64)
    pcs = notes.pitch[sel] % 12
    n_bars = int(bar.max()) + 1
    hist = np.zeros((n_bars, 12))
    np.add.at(hist, (bar, pcs), 1)
    csum = np.vstack([np.zeros((1, 12)), np.cumsum(hist, axis=0)])
    w = min(bars, n_bars)
    win = csum[w:] - csum[:-w]
    tot = win.sum(axis=1)
    win = win[tot > 0]
    if win.size == 0:
        return math.nan
    p = win / win.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = -np.nansum(np.where(p > 0, p * np.log2(p), 0.0), axis=1)
    return float(ent.mean())


def scale_consistency(notes: Notes) -> float:
    """The largest share of non-drum notes inside one of the 24 major and natural minor
    scales (muspy).

    Parameters
    ----------
    notes : Notes
        The piece (:func:`notes_from_midi` and its siblings build one).

    Returns
    -------
    float
        0..1 (1: every note in one scale); NaN without notes.

    Examples
    --------
    >>> notes = Notes(
    ...     onset=[0, 4, 8, 12, 16, 24], end=[4, 8, 12, 16, 20, 28],
    ...     pitch=[60, 64, 67, 72, 62, 65], is_drum=[False] * 6, resolution=4,
    ...     onset_s=[0.0, 0.5, 1.0, 1.5, 2.0, 3.0],
    ... )
    >>> scale_consistency(notes)  # all in C major
    1.0
    """
    pcs = notes.pitched % 12
    if pcs.size == 0:
        return math.nan
    counts = np.bincount(pcs, minlength=12)
    return int((_SCALES @ counts).max()) / pcs.size


def empty_beat_rate(notes: Notes) -> float:
    """The share of beats in which no note of any track sounds (muspy).

    Parameters
    ----------
    notes : Notes
        The piece (:func:`notes_from_midi` and its siblings build one).

    Returns
    -------
    float
        0..1 (lower: fewer silent beats); NaN without notes.

    Examples
    --------
    >>> notes = Notes(
    ...     onset=[0, 4, 8, 12, 16, 24], end=[4, 8, 12, 16, 20, 28],
    ...     pitch=[60, 64, 67, 72, 62, 65], is_drum=[False] * 6, resolution=4,
    ...     onset_s=[0.0, 0.5, 1.0, 1.5, 2.0, 3.0],
    ... )
    >>> empty_beat_rate(notes)
    0.0
    """
    if notes.onset.size == 0:
        return math.nan
    length = int(notes.end.max())
    if length < 1:
        return math.nan
    r = notes.resolution
    n_beats = length // r + 1
    cover = np.bincount(notes.onset // r, minlength=n_beats + 1) - np.bincount(
        notes.end // r + 1, minlength=n_beats + 1
    )
    return float(1.0 - np.count_nonzero(np.cumsum(cover)[:n_beats]) / n_beats)


def groove_consistency(notes: Notes, *, measure_resolution: int) -> float:
    """One minus the mean Hamming distance between the onset patterns of adjacent bars
    (muspy; all tracks, one slot per tick).

    Parameters
    ----------
    notes : Notes
    measure_resolution : int
        Ticks a bar.

    Returns
    -------
    float
        0..1 (higher: a steadier groove); NaN with fewer than two bars.

    Examples
    --------
    >>> notes = Notes(
    ...     onset=[0, 4, 8, 12, 16, 24], end=[4, 8, 12, 16, 20, 28],
    ...     pitch=[60, 64, 67, 72, 62, 65], is_drum=[False] * 6, resolution=4,
    ...     onset_s=[0.0, 0.5, 1.0, 1.5, 2.0, 3.0],
    ... )
    >>> groove_consistency(notes, measure_resolution=16)
    0.875
    """
    if measure_resolution < 1:
        raise ParameterError(f"measure_resolution={measure_resolution}: must be >= 1")
    if notes.onset.size == 0:
        return math.nan
    length = int(notes.end.max())
    n_measures = length // measure_resolution + 1
    if n_measures < 2:
        return math.nan
    pat = np.zeros((n_measures, measure_resolution), bool)
    m, pos = np.divmod(notes.onset, measure_resolution)
    pat[m, pos] = True
    ham = np.count_nonzero(pat[:-1] != pat[1:])
    return float(1.0 - ham / (measure_resolution * (n_measures - 1)))


def grooving_pattern_similarity(
    notes: Notes, *, positions: int = 64, max_pairs: int = 1000, seed: int = 0
) -> float:
    """MusDr's GS: ``1 - hamming / positions`` of the bars' onset patterns (quantised to
    ``positions`` slots), averaged over all bar pairs.

    Parameters
    ----------
    notes : Notes
    positions : int
        Slots a bar (64).
    max_pairs : int
        At most this many pairs, drawn with a generator seeded by ``seed``.
    seed : int

    Returns
    -------
    float
        0..1 (higher: bars share their rhythm); NaN with fewer than two bars.

    Examples
    --------
    >>> notes = Notes(
    ...     onset=[0, 4, 8, 12, 16, 24], end=[4, 8, 12, 16, 20, 28],
    ...     pitch=[60, 64, 67, 72, 62, 65], is_drum=[False] * 6, resolution=4,
    ...     onset_s=[0.0, 0.5, 1.0, 1.5, 2.0, 3.0],
    ... )
    >>> grooving_pattern_similarity(notes)
    0.96875
    """
    if notes.onset.size == 0:
        return math.nan
    bar_ticks = notes.resolution * notes.beats_per_bar
    bar = (notes.onset // bar_ticks).astype(np.int64)
    slot = np.minimum(
        ((notes.onset % bar_ticks) / bar_ticks * positions).astype(np.int64), positions - 1
    )
    n_bars = int(bar.max()) + 1
    if n_bars < 2:
        return math.nan
    pat = np.zeros((n_bars, positions), bool)
    pat[bar, slot] = True
    i, j = np.triu_indices(n_bars, k=1)
    if len(i) > max_pairs:
        pick = np.random.default_rng(seed).choice(len(i), size=max_pairs, replace=False)
        i, j = i[pick], j[pick]
    ham = np.count_nonzero(pat[i] != pat[j], axis=1)
    return float(np.mean(1.0 - ham / positions))


def average_ioi_s(notes: Notes) -> float:
    """mgeval's average inter-onset interval: the mean gap between consecutive onsets of all
    notes (duplicates kept, as pretty_midi's ``get_onsets``).

    Parameters
    ----------
    notes : Notes
        The piece (:func:`notes_from_midi` and its siblings build one).

    Returns
    -------
    float
        Seconds; NaN with fewer than two notes.

    Examples
    --------
    >>> notes = Notes(
    ...     onset=[0, 4, 8, 12, 16, 24], end=[4, 8, 12, 16, 20, 28],
    ...     pitch=[60, 64, 67, 72, 62, 65], is_drum=[False] * 6, resolution=4,
    ...     onset_s=[0.0, 0.5, 1.0, 1.5, 2.0, 3.0],
    ... )
    >>> round(average_ioi_s(notes), 6)
    0.6
    """
    if notes.onset_s.size < 2:
        return math.nan
    return float(np.mean(np.diff(np.sort(notes.onset_s))))


def evaluate(notes: Notes, *, measure_resolution: int | None = None, seed: int = 0) -> dict:
    """Every symbolic metric, keyed by stable names.

    Parameters
    ----------
    notes : Notes
    measure_resolution : int, optional
        Ticks a bar for ``groove_consistency`` (default: one bar of the piece's meter).
    seed : int
        For ``grooving_pattern_similarity``'s pairs.

    Returns
    -------
    dict
        ``pitch_entropy``, ``pitch_class_entropy``, ``pitch_class_entropy_1bar``,
        ``pitch_class_entropy_4bar``, ``scale_consistency``, ``empty_beat_rate``,
        ``groove_consistency``, ``grooving_pattern_similarity``, ``average_ioi_s``.

    Examples
    --------
    >>> notes = Notes(
    ...     onset=[0, 4, 8, 12, 16, 24], end=[4, 8, 12, 16, 20, 28],
    ...     pitch=[60, 64, 67, 72, 62, 65], is_drum=[False] * 6, resolution=4,
    ...     onset_s=[0.0, 0.5, 1.0, 1.5, 2.0, 3.0],
    ... )
    >>> {k: round(v, 3) for k, v in evaluate(notes).items()}  # doctest: +NORMALIZE_WHITESPACE
    {'pitch_entropy': 2.585, 'pitch_class_entropy': 2.252, 'pitch_class_entropy_1bar': 1.25,
     'pitch_class_entropy_4bar': 2.252, 'scale_consistency': 1.0, 'empty_beat_rate': 0.0,
     'groove_consistency': 0.875, 'grooving_pattern_similarity': 0.969, 'average_ioi_s': 0.6}
    """
    validate(notes)
    mres = measure_resolution or int(round(notes.resolution * notes.beats_per_bar))
    return {
        "pitch_entropy": pitch_entropy(notes),
        "pitch_class_entropy": pitch_class_entropy(notes),
        "pitch_class_entropy_1bar": pitch_class_entropy_windowed(notes, bars=1),
        "pitch_class_entropy_4bar": pitch_class_entropy_windowed(notes, bars=4),
        "scale_consistency": scale_consistency(notes),
        "empty_beat_rate": empty_beat_rate(notes),
        "groove_consistency": groove_consistency(notes, measure_resolution=mres),
        "grooving_pattern_similarity": grooving_pattern_similarity(notes, seed=seed),
        "average_ioi_s": average_ioi_s(notes),
    }
