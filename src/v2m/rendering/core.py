"""The render itself: synthesis in groups of roles, mastering, and the sinks.

:func:`render` returns arrays, :func:`render_to_file` streams to files, :func:`master`
masters audio already in memory.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._io import work_dir
from ..composition import Score
from ..errors import ParameterError
from . import attack
from ._sfcache import presets_of
from .mastering import (
    TARGET_LUFS,
    TRUE_PEAK_DBTP,
    Equalizer,
    Mastering,
    fade_curve,
    fade_s,
)
from .sinks import ArraySinks, FileSinks, Levels, RawStore, subtype_for, write_audio
from .soundfont import fallback_note, find_soundfont
from .sources import MidiFileSource, as_source
from .synth import synthesize

__all__ = ["render", "render_to_file", "master", "RenderInfo", "Rendered"]

log = logging.getLogger("v2m")


@dataclass
class RenderInfo:
    """What a render made: its length, loudness, true peak and where the sound came from.

    ``levels`` (when asked for) holds what :func:`v2m.plotting.plot_render` draws:
    ``times_s`` (frames,), ``freqs_hz`` (bins,), ``spectrogram_db`` (bins, frames) of the
    mix, and ``rms_db`` mapping "mix" and each role to its level per frame.
    """

    duration_s: float
    sample_rate: int
    soundfont: str
    soundfont_origin: str
    synth: str
    loudness_lufs: float
    true_peak_dbtp: float
    roles: list[str] = field(default_factory=list)
    levels: dict | None = None

    @property
    def loudness_text(self) -> str:
        """``"-14.0 LUFS"``, or why there is no figure (under 400 ms of sound)."""
        lufs = self.loudness_lufs
        return f"{lufs:.1f} LUFS" if np.isfinite(lufs) else "too short to measure loudness"

    @property
    def summary(self) -> str:
        return (
            f"{self.duration_s:.3f} s, {self.loudness_text}, true peak "
            f"{self.true_peak_dbtp:.1f} dBTP; SoundFont {self.soundfont} "
            f"({self.soundfont_origin}, {self.synth})"
        )


@dataclass
class Rendered(RenderInfo):
    """Rendered audio in memory.

    ``mix`` has shape (n_samples, 2), float32, at ``sample_rate`` Hz; ``stems`` maps a role
    to an array of the same shape; the stems sum to the mix (to float32 rounding).
    """

    mix: np.ndarray | None = None
    stems: dict[str, np.ndarray] = field(default_factory=dict)

    def save(self, path: str | Path, *, subtype: str | None = None) -> None:
        """Write the mix as WAV or FLAC (by suffix), atomically."""
        write_audio(path, self.mix, self.sample_rate, subtype=subtype)

    def save_stems(self, folder: str | Path, *, suffix: str = ".wav") -> list[Path]:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        out = []
        for role, x in self.stems.items():
            p = folder / f"{role}{suffix}"
            write_audio(p, x, self.sample_rate, subtype="FLOAT" if suffix == ".wav" else None)
            out.append(p)
        return out


def _n_groups() -> int:
    """Synthesisers for a mix: one more than the cores when there are several. The cost
    estimate misjudges presets (Strings Pizzicato costs 4x its sounding time against the
    piano's), so with one synthesiser per core one finishes early and its core idles; a
    third lets the scheduler even them out: 10 minutes of cinematic 10.1-11.3 -> 9.5-10.0 s,
    pop 7.2-8.2 -> 7.4-7.5 s on two cores (four synthesisers: no better)."""
    cores = os.cpu_count() or 1
    return cores + 1 if cores > 1 else 1


def _groups(score: Score | MidiFileSource, n: int) -> list[tuple[str, ...]]:
    """Roles in ``n`` groups of about equal synthesis cost (sounding note time)."""
    roles = score.roles
    if n <= 1 or len(roles) <= 1:
        return [tuple(roles)]
    cost = {r: score.role_cost(r) for r in roles}
    groups: list[list[str]] = [[] for _ in range(min(n, len(roles)))]
    load = [0.0] * len(groups)
    for r in sorted(roles, key=lambda r: -cost[r]):
        i = int(np.argmin(load))
        groups[i].append(r)
        load[i] += cost[r]
    return [tuple(g) for g in groups if g]


def _style_of(score) -> str | None:
    """The v2m style of a score, or of a MIDI file v2m wrote (None for other files)."""
    return score.cue.style if isinstance(score, Score) else getattr(score, "style", None)


def _style_eq(score) -> tuple:
    from ..styles import get_style

    style = _style_of(score)
    return get_style(style).eq if style else ()


def _synth_settings(score) -> dict:
    from ..styles import Room, get_style

    style = _style_of(score)
    room = get_style(style).room if style else Room()
    return {
        "synth.reverb.room-size": room.size,
        "synth.reverb.damp": room.damp,
        "synth.reverb.width": room.width,  # Freeverb width 0..1 (above 1 it inverts phase)
        "synth.reverb.level": room.level,
        # FluidSynth's chorus costs as much as a third of the synthesis; the stereo image
        # comes from the pan positions and the reverb instead
        "synth.chorus.active": 0,
    }


def _synthesis_pass(
    score,
    choice,
    groups,
    roles,
    stem_stores,
    mix_store,
    mastering,
    *,
    ending: str,
    leads,
    progress: bool = False,
) -> None:
    """Pass 1: synthesise every group chunk by chunk, fade the ending, EQ, sum, analyse
    the mix for mastering and keep the raw mix (and stems) in their stores."""
    sr, n = mastering.sr, mastering.n
    duration_s = n / sr
    k_fade = min(n, max(1, int(fade_s(ending, duration_s) * sr)))
    fade = fade_curve(k_fade, ending)
    bands = _style_eq(score)
    # the EQ is linear: on each stem when stems are kept (they still sum to the mix),
    # else once on the mix
    eqs = [Equalizer(bands, sr) for _ in groups] if stem_stores else [Equalizer(bands, sr)]
    from .._progress import Progress

    bar = Progress("rendering the music", n / sr, enabled=progress, unit="s")
    start = 0
    for parts in synthesize(
        str(choice.path),
        [score.to_bytes(roles=g) for g in groups],
        synth=choice.synth,
        sample_rate=sr,
        n_frames=n,
        chunk=mastering.chunk,
        settings=_synth_settings(score),
        leads=leads,
    ):
        k = parts[0].shape[0]
        if start + k > n - k_fade:  # the closing fade, on every part alike
            a = max(start, n - k_fade)
            f = fade[a - (n - k_fade) : start + k - (n - k_fade)]
            for x in parts:
                x[a - start :] *= f
        if stem_stores:
            parts = [eq(x) for eq, x in zip(eqs, parts, strict=True)]
            for r, x in zip(roles, parts, strict=True):
                stem_stores[r].append(x)
        mix = parts[0] if len(parts) == 1 else np.sum(parts, axis=0, dtype=np.float32)
        if not stem_stores:
            mix = eqs[0](mix)
        mastering.feed(mix)
        mix_store.append(mix)
        start += k
        bar.update(k / sr)
    bar.close()


def _attack_leads(choice, enabled: bool) -> dict[int, float]:
    """Program -> lead (s) for this font and synthesiser (see :mod:`.attack`)."""
    return attack.leads_s(choice.path) if enabled and choice.synth == "fluidsynth" else {}


def _attack_guard_s(score, leads: dict[int, float], breaths_s) -> float:
    """The longest attack lead among the programs the piece selects (the renderer starts
    their notes that much early, see :mod:`v2m.rendering.attack`)."""
    if not leads or not breaths_s:
        return 0.0
    programs = {p for bank, p in presets_of([score.to_bytes()]) if bank == 0}
    return max((leads.get(p, 0.0) for p in programs), default=0.0)


def _render(
    score,
    *,
    soundfont,
    synth: str,
    sample_rate: int,
    target_lufs: float,
    stems: bool,
    levels: bool,
    make_sinks,
    attack_leads: bool = True,
    progress: bool = False,
) -> RenderInfo:
    """Synthesise, master and hand the result to the sinks that ``make_sinks(roles, n)``
    returns (a list of objects with ``write(start, mix, stems)``)."""
    if sample_rate not in (44100, 48000):
        raise ParameterError(f"sample_rate={sample_rate}: must be 44100 or 48000")
    score = as_source(score)
    choice = find_soundfont(soundfont, synth=synth)
    note = fallback_note(choice)
    if note:
        log.warning("%s", note)
    log.info("SoundFont: %s (%s, %s)", choice.path, choice.origin, choice.synth)
    duration_s = score.duration_s if isinstance(score, MidiFileSource) else score.cue.duration_s
    ending = score.ending if isinstance(score, MidiFileSource) else score.cue.ending
    n = int(round(duration_s * sample_rate))
    # levels per role need every role on its own: callers pass stems=True with levels
    groups = [(r,) for r in score.roles] if stems else _groups(score, _n_groups())
    roles = [g[0] for g in groups] if stems else []
    leads = _attack_leads(choice, attack_leads)
    breaths = score.breaths_s  # read once: a score finds them through its MIDI conductor
    mastering = Mastering(
        sample_rate,
        n,
        target_lufs=target_lufs,
        breaths_s=breaths,
        breath_guard_s=_attack_guard_s(score, leads, breaths),
        loudness_exclude_s=score.dialogue_s,
    )
    with ExitStack() as stack:
        tmp = work_dir(stack, "render")
        stores = {name: RawStore(tmp / f"{name or 'mix'}.f32") for name in [None, *roles]}
        for st in stores.values():
            stack.callback(st.close)
        mix_store = stores.pop(None)
        _synthesis_pass(
            score,
            choice,
            groups,
            roles,
            stores,
            mix_store,
            mastering,
            ending=ending,
            leads=leads,
            progress=progress,
        )
        mastering.plan(mix_store.read)
        chunk = mastering.chunk

        def chunks() -> Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]:
            for a in range(0, n, chunk):
                yield (
                    mix_store.read(a, a + chunk),
                    {r: st.read(a, a + chunk) for r, st in stores.items()},
                )

        lv = Levels(n, sample_rate, roles) if levels else None
        sinks = make_sinks(roles, n) + ([lv] if lv is not None else [])

        def write(a: int, mix: np.ndarray, st: dict[str, np.ndarray]) -> None:
            for s in sinks:
                s.write(a, mix, st)

        def restart() -> None:
            for s in sinks:
                s.restart()

        mastering.apply(chunks, mix_store.read, write, restart)
        for s in sinks:
            s.finish()
    return RenderInfo(
        duration_s=n / sample_rate,
        sample_rate=sample_rate,
        soundfont=str(choice.path),
        soundfont_origin=choice.origin,
        synth=choice.synth,
        loudness_lufs=mastering.loudness_lufs,
        true_peak_dbtp=mastering.true_peak_dbtp,
        roles=list(score.roles),
        levels=lv.result() if lv is not None else None,
    )


def render(
    score: Score | str | os.PathLike,
    *,
    soundfont: str | os.PathLike | None = None,
    synth: str = "auto",
    sample_rate: int = 48000,
    target_lufs: float = TARGET_LUFS,
    stems: bool = False,
    levels: bool = False,
    attack_leads: bool = True,
) -> Rendered:
    """Synthesise and master a score, in memory.

    Parameters
    ----------
    score : Score or path
        A composed score (:func:`v2m.composition.compose` makes one from a cue sheet) or a
        path to a ``.mid`` file; a cue sheet is a ParameterError that says to compose it.
    soundfont : path, optional
        See :func:`find_soundfont` for the search order when not given.
    synth : {"auto", "fluidsynth", "midirenderer"}
        ``auto``: FluidSynth when installed.
    sample_rate : int
        44100 or 48000 Hz.
    target_lufs : float
        Integrated loudness target (default -14 LUFS).
    stems : bool
        Render each role on its own (``Rendered.stems``; the mix is their sum).
    levels : bool
        Also collect the spectrogram and per-role levels for :func:`v2m.plotting.plot_render`
        (renders per role, like ``stems``).
    attack_leads : bool
        With MuseScore General, start slow-speaking presets early so their attack is heard
        on time (:mod:`v2m.rendering.attack`); False renders every event where the MIDI
        file puts it.

    Returns
    -------
    Rendered
    """
    holder: dict = {}

    def make(roles, n):
        holder["s"] = ArraySinks(roles, n)
        return [holder["s"]]

    info = _render(
        score,
        soundfont=soundfont,
        synth=synth,
        sample_rate=sample_rate,
        target_lufs=target_lufs,
        stems=stems or levels,
        levels=levels,
        make_sinks=make,
        attack_leads=attack_leads,
    )
    sinks = holder["s"]
    return Rendered(
        **{f: getattr(info, f) for f in RenderInfo.__dataclass_fields__},
        mix=sinks.mix,
        stems=sinks.stems if stems else {},
    )


def render_to_file(
    score: Score | str | os.PathLike,
    path: str | os.PathLike | None,
    *,
    stems_dir: str | os.PathLike | None = None,
    stems_suffix: str = ".wav",
    soundfont: str | os.PathLike | None = None,
    synth: str = "auto",
    sample_rate: int = 48000,
    target_lufs: float = TARGET_LUFS,
    levels: bool = False,
    subtype: str | None = None,
    attack_leads: bool = True,
    progress: bool = False,
) -> RenderInfo:
    """Synthesise and master a score straight to WAV/FLAC files, in bounded memory.

    Parameters
    ----------
    path : path or None
        The mix (``.wav`` 24-bit or ``.flac``); None writes only the stems.
    stems_dir : path, optional
        Also write ``<role>.wav`` (32-bit float) per role there; they sum to the mix.
    levels : bool
        Collect what :func:`v2m.plotting.plot_render` draws (``RenderInfo.levels``).
    subtype : str, optional
        libsndfile subtype of the mix (default 24-bit PCM; ``"FLOAT"`` for 32-bit float).
    progress : bool
        Show the synthesis' progress on stderr (a bar on a terminal, else a line every
        few seconds).

    Other parameters as :func:`render`. Peak memory does not depend on the length: the
    audio is synthesised, measured and written in one-second chunks, and the raw audio
    waits in a temporary file (``TMPDIR``) between the passes.
    """
    if path is not None:
        subtype_for(Path(path), None)
    with ExitStack() as stack:

        def make(roles, n):
            stem_paths = {}
            if stems_dir is not None:
                d = Path(stems_dir)
                d.mkdir(parents=True, exist_ok=True)
                stem_paths = {r: d / f"{r}{stems_suffix}" for r in roles}
            return [
                FileSinks(
                    stack, sample_rate, Path(path) if path else None, stem_paths, subtype=subtype
                )
            ]

        return _render(
            score,
            soundfont=soundfont,
            synth=synth,
            sample_rate=sample_rate,
            target_lufs=target_lufs,
            stems=stems_dir is not None or levels,
            levels=levels,
            make_sinks=make,
            attack_leads=attack_leads,
            progress=progress,
        )


def master(
    stems: dict[str, np.ndarray],
    sr: int,
    *,
    duration_s: float,
    ending: str,
    target_lufs: float = TARGET_LUFS,
    ceiling_dbtp: float = TRUE_PEAK_DBTP,
    breaths_s: list[tuple[float, float]] = (),
    breath_guard_s: float = 0.0,
) -> tuple[dict[str, np.ndarray], float, float]:
    """Master audio already in memory: cut to length, shape the ending, normalise loudness
    and limit true peak, with the same block-wise mastering as :func:`render`.

    ``stems`` maps names to (n, 2) arrays; the mix is their sum, and one gain curve is
    applied to every stem. ``breaths_s`` are (start, hit) seconds of breaths before hits
    (:attr:`v2m.composition.Score.breaths_s`), taken down as :func:`render` does (their
    last ``breath_guard_s`` left out of the level that sets the dip, as where notes start
    early). Returns
    the mastered stems (float32), the mix's integrated loudness (LUFS) and its true peak
    (dBTP).
    """
    n = int(round(duration_s * sr))
    k = min(n, max(1, int(fade_s(ending, duration_s) * sr)))
    fade = fade_curve(k, ending)
    raw = {}
    for r, x in stems.items():
        y = np.zeros((n, 2), np.float32)
        m = min(n, x.shape[0])
        y[:m] = x[:m]
        y[n - k :] *= fade
        raw[r] = y
    mix = np.sum(list(raw.values()), axis=0, dtype=np.float32) if raw else np.zeros((n, 2))
    m = Mastering(
        sr,
        n,
        target_lufs=target_lufs,
        ceiling_dbtp=ceiling_dbtp,
        breaths_s=breaths_s,
        breath_guard_s=breath_guard_s,
    )
    for a in range(0, n, m.chunk):
        m.feed(mix[a : a + m.chunk])
    m.plan(lambda a, b: mix[max(0, a) : b])
    out = {r: np.zeros((n, 2), np.float32) for r in raw}

    def chunks():
        for a in range(0, n, m.chunk):
            yield mix[a : a + m.chunk], {r: x[a : a + m.chunk] for r, x in raw.items()}

    def write(a, mx, st):
        for r, x in st.items():
            out[r][a : a + x.shape[0]] = x

    m.apply(chunks, lambda a, b: mix[max(0, a) : b], write, lambda: None)
    return out, m.loudness_lufs, m.true_peak_dbtp
