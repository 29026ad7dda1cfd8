"""The piece's form from the picture: energy per bar shaped into an arc, sections at the
strongest kept cuts (labels reused where the picture looks alike, so themes return), runs of
alike sections broken, and a new colour for a contrasting theme at a scene change."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..cuesheet import Section, default_sections, energy_arc, song_form
from ..timeline import Timeline

__all__ = [
    "FRAME_MAX_S",
    "ARC_MIN_S",
    "CONTRAST_MIN_S",
    "bar_energy",
    "shape_energy",
    "contrast_colours",
    "break_runs",
    "sections_from_picture",
]

#: Intro and outro at most this long (and at most 30 % of the piece).
FRAME_MAX_S = 20.0


#: Shorter pieces follow the picture more than the energy arc.
ARC_MIN_S = 20.0


#: Pieces at least this long may recolour contrasting sections at scene changes.
CONTRAST_MIN_S = 90.0


def bar_energy(
    timeline: Timeline,
    bar_t: np.ndarray,
    *,
    kin: dict | None,
    arousal: float,
    energy: float,
    why: list[str],
) -> np.ndarray:
    """Energy 0..1 per bar (bars starting at ``bar_t``, seconds): 0.6 motion (a dancer's
    movement intensity) and 0.4 arousal, smoothed over three bars (a still: its arousal),
    shaped into an arc (:func:`shape_energy`) and scaled by ``energy``."""
    dur = float(timeline.duration_s)
    m = timeline.motion
    e_grid = np.asarray(m.get("energy", [0.0]), float)
    hop = float(m.get("hop_s", 0.04))
    if kin is not None:  # a dancer: energy from movement intensity
        e_grid, hop = np.asarray(kin["intensity"], float), float(kin["hop_s"])
    tg = np.arange(len(e_grid)) * hop
    col = timeline.colour
    if col.get("arousal"):
        ar_t = np.arange(len(col["arousal"])) * col["hop_s"]
        ar_v = np.asarray(col["arousal"], float)
    else:
        ar_t = np.array([s.start_s for s in timeline.shots])
        ar_v = np.array([s.arousal for s in timeline.shots])
    bar_e = []
    ends = np.r_[bar_t[1:], dur]
    for a, b in zip(bar_t, ends, strict=True):
        sel = (tg >= a) & (tg < b)
        mo = float(e_grid[sel].mean()) if sel.any() else 0.0
        ar = float(np.interp(0.5 * (a + b), ar_t, ar_v)) if len(ar_t) else 0.0
        bar_e.append(0.6 * mo + 0.4 * (ar + 1) / 2)
    bar_e = np.convolve(np.pad(bar_e, 1, mode="edge"), np.ones(3) / 3, mode="valid")
    if timeline.source.kind == "image":
        bar_e = np.full(len(bar_t), 0.35 + 0.3 * (arousal + 1) / 2)
    bar_e = shape_energy(np.asarray(bar_e, float), bar_t, dur)
    bar_e = np.clip(bar_e * energy, 0.05, 1.0)
    source = (
        "the picture's arousal"
        if timeline.source.kind == "image"
        else ("the dancer's movement intensity" if kin is not None else "motion") + " and arousal"
    )
    peak_s = bar_t[int(np.argmax(bar_e))]
    shape = (
        f"shaped into an arc (climax at {peak_s:.0f} s of {dur:.0f} s)"
        if dur >= ARC_MIN_S
        else f"mostly as the picture goes in a piece this short (loudest at {peak_s:.0f} s)"
    )
    why.append(
        f"energy per bar from {source}, {shape}: mean {bar_e.mean():.2f}, range "
        f"{bar_e.min():.2f}-{bar_e.max():.2f}" + (f" (scaled x{energy:g})" if energy != 1 else "")
    )
    return bar_e


def shape_energy(bar_e: np.ndarray, bar_t: np.ndarray, dur: float) -> np.ndarray:
    """Blend the picture's energy per bar with :func:`energy_arc`. From 60 s on the climax
    is kept in the last third: nothing before it is allowed as loud as its peak. Short
    pieces (< 20 s) follow the picture more closely."""
    if bar_e.size < 4:
        return bar_e
    x = (bar_t + 0.5 * np.r_[np.diff(bar_t), dur - bar_t[-1]]) / dur
    w_arc = 0.3 if dur < ARC_MIN_S else 0.5
    picture = (bar_e - bar_e.min()) / max(np.ptp(bar_e), 1e-6) if np.ptp(bar_e) > 0.05 else bar_e
    shaped = (1 - w_arc) * (0.25 + 0.6 * picture) + w_arc * energy_arc(x)
    if dur >= 60:
        last = x >= 2 / 3
        peak = shaped[last].max()
        shaped[~last] = np.minimum(shaped[~last], 0.85 * peak)
    return shaped


def contrast_colours(sections, st, scene_t, dur: float, why: list[str]) -> None:
    """On a long piece, the first contrasting theme (not the first theme, intro or outro)
    that starts at a strong scene change passes the tune to the style's contrast
    instrument, in every section of that theme (same label, same material, same colour)."""
    if dur < CONTRAST_MIN_S or not st.contrast_programs or not scene_t.size or not sections:
        return
    themes = [s.label for s in sections if s.label not in ("intro", "outro")]
    if len(set(themes)) < 2:
        return
    label = next(
        (
            s.label
            for s in sections[1:]
            if s.label not in ("intro", "outro", themes[0])
            and np.min(np.abs(scene_t - s.start_s)) <= 0.05
        ),
        None,
    )
    if label is None:
        return
    done = []
    for sec in sections:
        if sec.label == label:
            sec.instruments = dict(st.contrast_programs)
            done.append(f"{sec.start_s:.1f} s")
    progs = ", ".join(f"{r} on GM program {p}" for r, p in st.contrast_programs.items())
    why.append(
        f"section {label} (at {', '.join(done)}) starts at a scene change and contrasts with "
        f"the first theme: a new colour, {progs}"
    )


def break_runs(labels: list[str], names, why: list[str]) -> list[str]:
    """Three or more sections in a row that look alike would play one theme over and over:
    every second one of such a run takes a contrasting theme (one new letter per theme,
    from ``names``), so the run alternates as a song does (A A A A -> A C A C)."""
    out, contrast = _broken_runs(labels, names)
    if contrast:
        why.append(_contrast_note(contrast))
    return out


def _broken_runs(labels: list[str], names) -> tuple[list[str], dict[str, str]]:
    """:func:`break_runs`' labels and the contrasting theme it gave each run's theme."""
    out = list(labels)
    contrast: dict[str, str] = {}
    i = 0
    while i < len(out):
        j = i
        while j + 1 < len(out) and labels[j + 1] == labels[i]:
            j += 1
        if j - i >= 2:
            if labels[i] not in contrast:
                new = next(names, None)
                if new is None:
                    break
                contrast[labels[i]] = new
            for k in range(i + 1, j + 1, 2):
                out[k] = contrast[labels[i]]
        i = j + 1
    return out, contrast


def _contrast_note(contrast: dict[str, str]) -> str:
    return "sections that look alike in a row alternate with a contrasting theme: " + ", ".join(
        f"{a} with {b}" for a, b in contrast.items()
    )


#: Sections are at least this many bars long, and aim at about ``TARGET_BARS``; a stretch
#: without a cut is split every ``SPLIT_BARS``.
MIN_BARS = 4
TARGET_BARS = 8
SPLIT_BARS = 16
#: Sections whose (valence, arousal, energy) differ by less than this (L1) share a label.
ALIKE_L1 = 0.35


def sections_from_picture(
    timeline: Timeline,
    bar_t: np.ndarray,
    bar_e: np.ndarray,
    dur: float,
    *,
    kept_times: np.ndarray,
    required_bars: list[int] = (),
    why: list[str],
) -> list[Section]:
    """The piece's sections: they start at the strongest kept cuts (cut score plus the
    change of affect across it; ``required_bars``, e.g. meter changes, always), long
    stretches without cuts split every ``SPLIT_BARS`` bars; labels reused where the picture
    looks alike, a short first and last section as intro and outro. A picture without any
    cut takes a song form (:func:`~v2m.cuesheet.default_sections`).

    ``bar_t`` are the bars' start times (s), ``bar_e`` their energies (0..1); the
    report's lines go to ``why``.
    """
    n_bars = len(bar_t)
    chosen = _boundaries(timeline, bar_t, kept_times=kept_times, required_bars=required_bars)
    if not chosen and not timeline.cuts and n_bars > 8:
        return _song_form_sections(bar_t, bar_e, dur, why=why)
    # no section in the last bar: a required start there (after a longer bar that lands a
    # cut near the end) would make a one-second outro of the final chord
    chosen = [b for b in chosen if n_bars - b >= MIN_BARS // 2]
    bounds = _split_long(chosen, n_bars)
    secs, feats = [], []
    shots = timeline.shots
    for a, b in zip(bounds, bounds[1:] + [n_bars], strict=True):
        t0 = float(bar_t[a])
        t1 = float(bar_t[b]) if b < n_bars else dur
        sel = [s for s in shots if s.end_s > t0 and s.start_s < t1] or shots[-1:]
        e = float(np.mean(bar_e[a:b]))
        feats.append(
            np.array([np.mean([s.valence for s in sel]), np.mean([s.arousal for s in sel]), e])
        )
        secs.append((t0, t1, e))
    labels = _labels(feats, secs, dur, why=why)
    out = [
        Section(
            start_s=round(a, 6),
            end_s=round(min(b, dur), 6),
            label=lab,
            energy=round(float(np.clip(e, 0, 1)), 3),
        )
        for (a, b, e), lab in zip(secs, labels, strict=True)
    ]
    why.append("sections: " + ", ".join(f"{s.label} {s.start_s:.1f}-{s.end_s:.1f} s" for s in out))
    return out


def _boundaries(
    timeline: Timeline, bar_t: np.ndarray, *, kept_times: np.ndarray, required_bars
) -> list[int]:
    """Bars that start a section: the required ones, then kept cuts on downbeats by
    strength (1 + the change of valence, arousal and motion across the cut), at least
    ``MIN_BARS`` apart, about one per ``TARGET_BARS`` bars."""
    n_bars = len(bar_t)
    shots = timeline.shots

    def affect_at(t: float) -> np.ndarray:
        for s in shots:
            if s.start_s - 1e-6 <= t < s.end_s:
                return np.array([s.valence, s.arousal, s.motion])
        return np.array([shots[-1].valence, shots[-1].arousal, shots[-1].motion])

    cands = []
    for t in kept_times:
        bi = int(np.argmin(np.abs(bar_t - t)))
        if abs(bar_t[bi] - t) > 0.05 or bi < MIN_BARS or n_bars - bi < MIN_BARS // 2:
            continue
        change = float(np.abs(affect_at(t + 0.05) - affect_at(t - 0.05)).sum())
        cands.append((1.0 + change, bi))
    n_max = max(0, n_bars // TARGET_BARS - 1)
    chosen: list[int] = [b for b in required_bars if 0 < b < n_bars]
    for _score, bi in sorted(cands, reverse=True):
        if len(chosen) >= n_max:
            break
        if all(abs(bi - c) >= MIN_BARS for c in chosen):
            chosen.append(bi)
    return chosen


def _song_form_sections(bar_t: np.ndarray, bar_e: np.ndarray, dur: float, *, why) -> list:
    """One picture throughout (a still, a single take, a dance): nothing in it to cut the
    music at, so the music takes its own song form, with the picture's energies."""
    form = default_sections(len(bar_t), bar_t, dur, 1.0)
    out = []
    for sec in form:
        inside = (bar_t >= sec.start_s - 1e-6) & (bar_t < sec.end_s - 1e-6)
        e = float(np.mean(bar_e[inside])) if inside.any() else float(np.mean(bar_e))
        out.append(replace(sec, energy=round(float(np.clip(e, 0, 1)), 3)))
    why.append(
        "one picture throughout: the sections take a song form: "
        + ", ".join(f"{s.label} {s.start_s:.1f}-{s.end_s:.1f} s" for s in out)
    )
    return out


def _split_long(chosen: list[int], n_bars: int) -> list[int]:
    """Section starts: ``chosen`` and bar 0, with long stretches without cuts split every
    ``SPLIT_BARS`` bars so the music still develops."""
    bounds = sorted(set([0] + chosen))
    filled = []
    for a, b in zip(bounds, bounds[1:] + [n_bars], strict=True):
        filled.append(a)
        k = a + SPLIT_BARS
        while b - k >= MIN_BARS:
            filled.append(k)
            k += SPLIT_BARS
    return sorted(set(filled))


def _labels(feats: list[np.ndarray], secs: list[tuple], dur: float, *, why) -> list[str]:
    """A letter per section, reused where the picture looks alike (``ALIKE_L1``); intro
    and outro around the piece (:func:`_frame`); a song form between them when every
    section looks alike; runs broken (:func:`break_runs`); the themes lettered in the order
    they are first heard."""
    labels: list[str] = []
    protos: list[tuple[str, np.ndarray]] = []
    names = iter(THEME_LETTERS)
    for f in feats:
        match = next((lab for lab, p in protos if float(np.abs(f - p).sum()) < ALIKE_L1), None)
        if match is None:
            match = next(names, "A")
            protos.append((match, f))
        labels.append(match)
    intro, outro = _frame(secs, dur)
    lo, hi = int(intro), len(labels) - int(outro)
    if len(labels) >= 2 and len(set(labels)) == 1:
        # one picture throughout, or the same shots over and over: the picture gives the
        # music no contrast, so the music brings its own form
        labels[lo:hi] = song_form(hi - lo)
        why.append(
            "every section looks alike: the sections take a song form"
            if hi - lo > 1
            else "every section looks alike: one theme"
            + (" between intro and outro" if intro and outro else "")
        )
    if intro:
        labels[0] = "intro"
    if outro:
        labels[-1] = "outro"
    labels, contrast = _broken_runs(labels, names)
    rename = {x: THEME_LETTERS[i] for i, x in enumerate(_letters_heard(labels))}
    if contrast:
        renamed = {rename.get(a, a): rename.get(b, b) for a, b in contrast.items()}
        why.append(_contrast_note(renamed))
    return [rename.get(x, x) for x in labels]


THEME_LETTERS = ("A", "B", "C", "D", "E", "F", "G", "H")


def _letters_heard(labels: list[str]) -> list[str]:
    """The theme letters of ``labels`` in the order they are first heard."""
    return [x for x in dict.fromkeys(labels) if x in THEME_LETTERS]


def _frame(secs: list[tuple], dur: float) -> tuple[bool, bool]:
    """Whether the first and the last section are an intro and an outro.

    An intro or outro is a short frame around the piece (the melody rests in it): at least
    three sections, and at most 30 % of the piece or ``FRAME_MAX_S``; a long first or last
    section is a theme, or a long piece would have no tune in its climax. And an outro
    winds down: a last section with more energy than every section before it holds the
    climax (a 60 s montage's arc peaked in an 11.5 s last section, which as an outro
    without its tune left the loudest 10 s in the middle of the piece)."""
    frame = min(0.3 * dur, FRAME_MAX_S)
    intro = len(secs) >= 3 and secs[0][1] - secs[0][0] <= frame
    outro = (
        len(secs) >= 3
        and secs[-1][1] - secs[-1][0] <= frame
        and secs[-1][2] <= max(e for _, _, e in secs[:-1])
    )
    return intro, outro
