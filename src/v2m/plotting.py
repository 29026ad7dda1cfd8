"""Pictures of what v2m saw and wrote (matplotlib, Agg backend, written atomically)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._io import atomic_path
from .timeline import Timeline


def shot_thumbnail(thumbs: dict, start_s: float, end_s: float):
    """The thumbnail nearest the middle of the shot, among those taken inside it."""
    inside = [t for t in thumbs if start_s - 1e-6 <= t < end_s]
    if not inside:
        return None
    mid = 0.5 * (start_s + end_s)
    return thumbs[min(inside, key=lambda t: abs(t - mid))]


def plot_timeline(timeline: Timeline, path: str | Path) -> None:
    """Plot thumbnails per shot, motion, impact envelope, visual beats and cuts on one axis.

    Thumbnails are drawn when the timeline came from ``analyze(..., keep_thumbnails=True)``
    (a dict of time in seconds -> image); each shot shows the one nearest its middle. A
    still image gets one panel for the picture and one for its affect.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    dur = max(timeline.duration_s, 1e-3)
    thumbs = getattr(timeline, "thumbnails", {}) or {}
    name = Path(timeline.source.path).name
    if timeline.source.kind == "image":
        fig, (ax_t, ax_c) = plt.subplots(
            2, 1, figsize=(12, 4.5), gridspec_kw={"height_ratios": [1.5, 1]}
        )
        shot = timeline.shots[0]
        ax_t.set_title(f"{name}: still image, {dur:g} s of music")
        if thumbs:
            ax_t.imshow(next(iter(thumbs.values()))[..., ::-1])
        ax_t.axis("off")
        names = ["brightness", "saturation", "warmth", "valence", "arousal"]
        vals = [getattr(shot, n) for n in names]
        ax_c.barh(names, vals, color=["0.6", "tab:cyan", "tab:orange", "tab:green", "tab:purple"])
        ax_c.set_xlim(-1.05, 1.05)
        ax_c.axvline(0, color="k", lw=0.8)
        ax_c.set_xlabel("value (-1..1; brightness and saturation 0..1)")
        fig.tight_layout()
        _save(fig, path, dpi=90)
        return
    kin = timeline.kinematics
    snd = timeline.audio
    ratios = [1.3, 1, 1, 0.8] + ([1.0] if kin else []) + ([0.8] if snd else [])
    fig, axes = plt.subplots(
        len(ratios),
        1,
        figsize=(12, 7 + 1.6 * bool(kin) + 1.3 * bool(snd)),
        sharex=True,
        gridspec_kw={"height_ratios": ratios},
    )
    ax_t, ax_m, ax_i, ax_c = axes[:4]
    ax_t.set_ylim(0, 1)
    ax_t.set_yticks([])
    n_hard = sum(c.kind == "hard" for c in timeline.cuts)
    tempo = (
        f"visual tempo {timeline.visual_tempo_bpm:.1f} BPM"
        if timeline.visual_tempo_bpm
        else "no visual tempo"
    )
    ax_t.set_title(
        f"{name}: {n_hard} cuts, {len(timeline.cuts) - n_hard} gradual transitions, "
        f"{len(timeline.visual_beats)} visual beats (the strongest drawn), {tempo}"
    )
    for shot in timeline.shots:
        if kin and timeline.pose and thumbs:
            _pose_strip(ax_t, timeline, thumbs, shot.start_s, shot.end_s)
        else:
            img = shot_thumbnail(thumbs, shot.start_s, shot.end_s)
            if img is not None:
                ax_t.imshow(img[..., ::-1], extent=(shot.start_s, shot.end_s, 0, 1), aspect="auto")
        ax_t.axvline(shot.start_s, color="k", lw=1)
    m = timeline.motion
    e = np.asarray(m.get("energy", []))
    ax_m.plot(np.arange(len(e)) * m.get("hop_s", 0.04), e, color="tab:blue", lw=0.8)
    ax_m.set_ylabel("motion\n(0..1)")
    imp = timeline.impact
    env = np.asarray(imp.get("envelope", []))
    ax_i.plot(np.arange(len(env)) * imp.get("hop_s", 0.04), env, color="tab:orange", lw=0.8)
    for b in _thinned(timeline.visual_beats, dur):
        ax_i.axvline(b.time_s, color="tab:red", alpha=0.3 + 0.7 * b.strength, lw=1)
    ax_i.set_ylabel("impact +\nvisual beats")
    col = timeline.colour
    tt = np.arange(len(col.get("valence", []))) * col.get("hop_s", 0.5)
    ax_c.plot(tt, col.get("valence", []), color="tab:green")
    ax_c.plot(tt, col.get("arousal", []), color="tab:purple")
    ax_c.set_ylim(-1.05, 1.05)
    ax_c.set_ylabel("affect")
    for c in timeline.cuts:
        for ax in axes[1:]:
            if c.kind == "gradual":
                ax.axvspan(c.start_s, c.end_s, color="grey", alpha=0.2)
            else:
                ax.axvline(c.time_s, color="k", ls="--", lw=0.8)
    handles = [
        Line2D([], [], color="k", ls="--", lw=0.8, label="hard cut"),
        Patch(color="grey", alpha=0.3, label="gradual transition"),
        Line2D([], [], color="tab:blue", lw=0.8, label="motion energy"),
        Line2D([], [], color="tab:orange", lw=0.8, label="visual impact"),
        Line2D([], [], color="tab:red", lw=1, label="visual beat (alpha = strength)"),
        Line2D([], [], color="tab:green", label="valence"),
        Line2D([], [], color="tab:purple", label="arousal"),
    ]
    if kin:
        ax_k = axes[4]
        hop = kin["hop_s"]
        inten = np.asarray(kin["intensity"], float)
        ax_k.plot(np.arange(len(inten)) * hop, inten, color="tab:brown", lw=0.8)
        for b in _thinned(kin["beats"], dur):
            ax_k.axvline(b["time_s"], color="tab:olive", alpha=0.15 + 0.85 * b["strength"], lw=1)
        for a in kin["accents"]:
            ax_k.plot(a["time_s"], 1.02, marker="v", color="k", ms=5)
        conf = kin.get("tempo_confidence") or 0.0
        kt = (
            f"{kin['tempo_bpm']:.0f} BPM, conf. {conf:.2f}"
            + (" (no steady tempo)" if conf < 0.3 else "")
            if kin.get("tempo_bpm")
            else "no tempo"
        )
        ax_k.set_ylabel("body")
        ax_k.text(0.005, 0.95, f"body tempo: {kt}", transform=ax_k.transAxes, fontsize=8,
                  va="top", bbox={"facecolor": "white", "alpha": 0.7, "lw": 0})  # fmt: skip
        ax_k.set_ylim(0, 1.1)
        handles += [
            Line2D([], [], color="tab:brown", lw=0.8, label="movement intensity"),
            Line2D([], [], color="tab:olive", lw=1, label="kinematic beat"),
            Line2D([], [], color="k", marker="v", ls="", label="accent"),
        ]
    if snd:
        handles += _sound_panel(axes[-1], snd)
    fig.legend(handles=handles, loc="lower center", ncol=7, fontsize=7, frameon=False)
    axes[-1].set_xlim(0, dur)
    axes[-1].set_xlabel("time (s)")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    _save(fig, path, dpi=90)


#: Marks per second of the plot's width before the weakest beats are left out.
MAX_MARKS_PER_S = 0.8


def _thinned(beats: list, duration_s: float) -> list:
    """The strongest beats (objects or dicts with ``strength``), at most
    ``MAX_MARKS_PER_S`` per second, so the marks do not merge into a wall."""

    def strength(b):
        return b["strength"] if isinstance(b, dict) else b.strength

    n = max(1, int(MAX_MARKS_PER_S * duration_s))
    if len(beats) <= n:
        return list(beats)
    return sorted(beats, key=strength, reverse=True)[:n]


def _sound_panel(ax, snd: dict) -> list:
    """The video's own sound: its level, the speech spans (dialogue or a song's voice) and
    the sound events; returns the legend's handles."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    level = np.asarray(snd.get("level_db", []), float)
    ax.plot(np.arange(len(level)) * snd.get("hop_s", 0.1), level, color="0.3", lw=0.7)
    colour = "tab:cyan" if snd.get("dialogue") else "0.75"
    for a, b in snd.get("speech", []):
        ax.axvspan(a, b, color=colour, alpha=0.35, lw=0)
    for e in snd.get("events", []):
        ax.plot(e["time_s"], -3, marker="v", color="tab:red", ms=5)
    ax.set_ylim(-75, 0)
    what = (
        "dialogue" if snd.get("dialogue") else "a song" if snd.get("song")
        else "music" if snd.get("holds_music") else "no speech"
    )  # fmt: skip
    lufs = snd.get("loudness_lufs")
    ax.set_ylabel("sound\n(dBFS)")
    ax.text(0.005, 0.95, what + (f", {lufs:.0f} LUFS" if lufs is not None else ""),
            transform=ax.transAxes, fontsize=8, va="top",
            bbox={"facecolor": "white", "alpha": 0.7, "lw": 0})  # fmt: skip
    return [
        Line2D([], [], color="0.3", lw=0.7, label="sound level"),
        Patch(color=colour, alpha=0.35, label=f"speech ({snd.get('vad')} VAD)"),
        Line2D([], [], color="tab:red", marker="v", ls="", label="sound event"),
    ]


def _pose_strip(ax, timeline: Timeline, thumbs: dict, start_s: float, end_s: float) -> None:
    """Up to eight thumbnails across a shot, each with the tracked skeleton drawn on it."""
    from .analysis.pose import SKELETON

    pose = timeline.pose
    times = np.asarray(pose.get("times_s", []), float)
    inside = sorted(t for t in thumbs if start_s - 1e-6 <= t < end_s)
    if not inside:
        return
    n = min(8, len(inside))
    width = (end_s - start_s) / n
    for k in range(n):
        t = inside[int(k * len(inside) / n)]
        img = thumbs[t][..., ::-1]
        x0 = start_s + k * width
        ax.imshow(img, extent=(x0, x0 + width, 0, 1), aspect="auto")
        if not len(times):
            continue
        lm = pose["landmarks"][int(np.argmin(np.abs(times - t)))]
        if lm is None:
            continue
        p = np.asarray(lm, float)
        for a, b in SKELETON:
            ax.plot(x0 + width * p[[a, b], 0], 1 - p[[a, b], 1], color="lime", lw=0.8, alpha=0.9)


def _save(fig, path: str | Path, *, dpi: int) -> None:
    import matplotlib.pyplot as plt

    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format=Path(path).suffix.lstrip(".").lower() or "png")
    plt.close(fig)


ROLE_COLOURS = {
    "drums": "tab:grey",
    "bass": "tab:blue",
    "harmony": "tab:green",
    "melody": "tab:red",
    "arp": "tab:orange",
    "pad": "tab:cyan",
}


def plot_render(info, path: str | Path) -> None:
    """The mix made visible: a spectrogram of the master (log frequency) above the level
    of the mix and of every stem over time (RMS, dBFS, on the same time axis).

    ``info`` is a :class:`~v2m.rendering.RenderInfo` rendered with ``levels=True``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lv = info.levels
    if lv is None:
        raise ValueError("plot_render needs a render made with levels=True")
    t, f, spec = lv["times_s"], lv["freqs_hz"], lv["spectrogram_db"]
    fig, (ax_s, ax_l) = plt.subplots(
        2, 1, figsize=(14, 7), sharex=True, gridspec_kw={"height_ratios": [3, 2]}
    )
    keep = f >= 30
    top = float(np.percentile(spec[keep], 99.5)) if spec.size else 0.0
    mesh = ax_s.pcolormesh(
        t, f[keep], spec[keep], shading="nearest", cmap="magma", vmin=top - 80, vmax=top
    )
    ax_s.set_yscale("log")
    ax_s.set_ylim(30, f[-1])
    ax_s.set_ylabel("frequency (Hz)")
    ax_s.set_title(
        f"{Path(info.soundfont).name} ({info.synth}): {info.loudness_text}, "
        f"true peak {info.true_peak_dbtp:.1f} dBTP"
    )
    fig.colorbar(mesh, ax=ax_s, pad=0.01, label="power (dB)")
    for name, db in lv["rms_db"].items():
        ax_l.plot(
            t,
            db,
            lw=1.8 if name == "mix" else 1.0,
            color="k" if name == "mix" else ROLE_COLOURS.get(name),
            label=name,
        )
    ax_l.set_ylim(-70, 0)
    ax_l.set_ylabel("level (dBFS RMS)")
    ax_l.set_xlabel("time (s)")
    ax_l.legend(loc="lower left", fontsize=8, ncol=7)
    ax_l.grid(alpha=0.3)
    fig.tight_layout()
    _save(fig, path, dpi=80)


def plot_score(score, path: str | Path) -> None:
    """Piano roll of a :class:`~v2m.composition.Score`: one colour per role, time in seconds,
    bar lines and hits marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import PolyCollection

    cue = score.cue
    beats = np.asarray(cue.beats_s)
    idx = np.arange(len(beats))

    def b2t(b):
        b = np.asarray(b, float)
        t = np.interp(b, idx, beats)
        p0, p1 = beats[1] - beats[0], beats[-1] - beats[-2]
        return np.where(
            b < 0, beats[0] + b * p0, np.where(b > idx[-1], beats[-1] + (b - idx[-1]) * p1, t)
        )

    colours = ROLE_COLOURS
    fig, ax = plt.subplots(figsize=(14, 6))
    for role in score.roles:
        notes = score.parts[role]
        s = b2t([n.start for n in notes])
        e = b2t([n.end for n in notes])
        p = np.array([n.pitch for n in notes], float)
        if role == "drums":
            p = 20 + (p - 35) * 0.5
        polys = [
            [(a, q - 0.4), (b, q - 0.4), (b, q + 0.4), (a, q + 0.4)]
            for a, b, q in zip(s, e, p, strict=True)
        ]
        ax.add_collection(
            PolyCollection(
                polys, facecolors=colours[role], edgecolors="none", alpha=0.8, label=role
            )
        )
    for d in cue.downbeats:
        ax.axvline(beats[d], color="k", lw=0.3, alpha=0.3)
    for i, sec in enumerate(cue.sections):
        ax.axvline(
            sec.start_s, color="k", lw=1, label="section (label, energy)" if i == 0 else None
        )
        ax.text(sec.start_s, 100, f" {sec.label} ({sec.energy:.2f})", fontsize=8, va="top")
    for i, h in enumerate(cue.hits):
        ax.axvline(h.time_s, color="m", lw=1.5, ls="--", label="hit" if i == 0 else None)
    ax.set_xlim(0, cue.duration_s)
    ax.set_ylim(15, 102)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("MIDI pitch (drums squeezed at the bottom)")
    ax.set_title(f"{cue.style}, {cue.key}, {cue.meter}, seed {cue.seed}")
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    _save(fig, path, dpi=80)


def plot_scored(timeline: Timeline, projection, path: str | Path, *, melody=None) -> None:
    """What ``v2m score`` promises, on one time axis: the picture (thumbnails per shot)
    with its cuts and hits; the music's sections, bars and beats, energy per bar, and
    what each cut got (on a beat, caught by an accent, let go); the video's speech and the
    pauses where the music answers.

    Parameters
    ----------
    timeline : Timeline
        From ``analyze(..., keep_thumbnails=True)`` for the thumbnails.
    projection : v2m.projection.Projection
        The cue sheet and the per-cut decisions.
    path : path
        PNG to write.
    melody : list of Note, optional
        The score's melody, to mark where the music answers in speech pauses.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    cue = projection.cue
    dur = max(cue.duration_s, 1e-3)
    thumbs = getattr(timeline, "thumbnails", {}) or {}
    has_sound = bool(timeline.audio) or bool(cue.dialogue)
    ratios = [1.2, 1.4] + ([0.6] if has_sound else [])
    fig, axes = plt.subplots(len(ratios), 1, figsize=(13, 2.2 + 1.6 * len(ratios)), sharex=True,
                             gridspec_kw={"height_ratios": ratios})  # fmt: skip
    ax_p, ax_m = axes[0], axes[1]
    # the picture
    ax_p.set_ylim(0, 1)
    ax_p.set_yticks([])
    for shot in timeline.shots:
        img = shot_thumbnail(thumbs, shot.start_s, shot.end_s)
        if img is not None:
            ax_p.imshow(img[..., ::-1], extent=(shot.start_s, shot.end_s, 0, 1), aspect="auto")
    s = projection.summary()
    ax_p.set_title(
        f"{Path(timeline.source.path).name}: {s['n_cuts']} cuts, {s['cuts_on_beat_35ms']} on "
        f"beats ({s['cuts_on_downbeat']} on downbeats), {s['cuts_caught']} caught, "
        f"{s['cuts_let_go']} let go; {cue.style}, {cue.key}, {cue.tempo_bpm or 0:.0f} BPM"
    )
    # the music: sections, bars, beats, energy
    beats = np.asarray(cue.beats_s)
    bars = beats[cue.downbeats]
    palette = ["#dbe9f6", "#fde2c8", "#dff0d8", "#eadcf2", "#fff3b0", "#f8d7da"]
    labels = sorted({sec.label for sec in cue.sections})
    for sec in cue.sections:
        colour = palette[labels.index(sec.label) % len(palette)]
        ax_m.axvspan(sec.start_s, sec.end_s, color=colour, lw=0)
        ax_m.text(sec.start_s + 0.2, 1.12, sec.label, fontsize=9, va="top")
    ax_m.vlines(beats[beats <= dur], 0, 0.12, color="0.45", lw=0.5)
    ax_m.vlines(bars[bars <= dur], 0, 0.3, color="k", lw=1.0)
    if cue.energy:
        edges = np.r_[bars[: len(cue.energy)], dur]
        ax_m.stairs(cue.energy, edges, color="tab:purple", lw=1.2, baseline=None)
    for h in cue.hits:
        ax_m.plot(h.time_s, 1.02, marker="v", color="tab:red", ms=4 + 5 * h.strength)
    status_style = {"on_beat": ("tab:green", "o"), "caught": ("tab:orange", "s"),
                    "let_go": ("0.5", "x")}  # fmt: skip
    for c in projection.cut_offsets:
        colour, marker = status_style.get(c.get("status", "on_beat"), ("k", "o"))
        ax_m.plot(c["time_s"], 0.45, marker=marker, color=colour, ms=6)
    ax_m.set_ylim(0, 1.15)
    ax_m.set_ylabel("music\n(energy 0..1)")
    handles = [
        Line2D([], [], color="k", ls="--", lw=0.8, label="cut"),
        Line2D([], [], color="k", lw=1.0, label="bar"),
        Line2D([], [], color="0.45", lw=0.5, label="beat"),
        Line2D([], [], color="tab:purple", lw=1.2, label="energy per bar"),
        Line2D([], [], color="tab:red", marker="v", ls="", label="hit"),
        Line2D([], [], color="tab:green", marker="o", ls="", label="cut on a beat"),
        Line2D([], [], color="tab:orange", marker="s", ls="", label="cut caught by an accent"),
        Line2D([], [], color="0.5", marker="x", ls="", label="cut let go"),
    ]
    if has_sound:
        ax_s = axes[2]
        snd = timeline.audio or {}
        level = np.asarray(snd.get("level_db", []), float)
        if level.size:
            ax_s.plot(np.arange(len(level)) * snd.get("hop_s", 0.1), level, color="0.3", lw=0.6)
        for d in cue.dialogue:
            ax_s.axvspan(d.start_s, d.end_s, color="tab:cyan", alpha=0.35, lw=0)
        if melody is not None:
            from .composition.dialogue import answers

            for a in answers(cue, melody):
                ax_s.axvspan(a["start_s"], a["end_s"], ymin=0.85, color="tab:olive", lw=0)
        ax_s.set_ylim(-75, 0)
        ax_s.set_ylabel("the video's\nsound (dBFS)")
        handles += [Patch(color="tab:cyan", alpha=0.35, label="speech: the music makes room"),
                    Patch(color="tab:olive", label="the music answers")]  # fmt: skip
    for c in timeline.cuts:
        for ax in axes:
            ax.axvline(c.time_s, color="k", ls="--", lw=0.8)
    fig.legend(handles=handles, loc="lower center", ncol=6, fontsize=7, frameon=False)
    axes[-1].set_xlim(0, dur)
    axes[-1].set_xlabel("time (s)")
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    _save(fig, path, dpi=90)
