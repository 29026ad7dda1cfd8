"""The whole path in one call: video or image -> soundtrack (and the files between).

:func:`score` runs analyze -> project -> compose -> render -> mux;
:func:`render_cue` re-renders an edited cue sheet under a video.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import _media
from ._io import OutputSet, check_suffix, json_safe, work_dir, write_text_atomic
from .analysis import analyze
from .composition import compose
from .cuesheet import CueSheet
from .errors import ParameterError
from .projection import Controls, Projection, project
from .rendering import TARGET_LUFS, RenderInfo, copy_audio, find_soundfont

__all__ = ["score", "render_cue", "ScoreResult"]

log = logging.getLogger("v2m")

AUDIO_SUFFIXES = {".wav", ".flac"}
MIDI_SUFFIXES = {".mid", ".midi"}
#: Containers that hold a copied H.264/HEVC/VP9/AV1 stream next to AAC audio.
VIDEO_SUFFIXES = {".mp4", ".m4v", ".mov", ".mkv"}


@dataclass
class ScoreResult:
    """What :func:`score` made, with the path of every file it wrote."""

    projection: Projection | None
    rendered: RenderInfo | None
    outputs: dict[str, str] = field(default_factory=dict)
    timings_s: dict[str, float] = field(default_factory=dict)


def _write_media(
    out: Path,
    *,
    picture: Path,
    music: Path,
    sample_rate: int,
    duration_s: float,
    keep_audio: bool,
    info: _media.VideoInfo | None = None,
) -> None:
    """Write the music alone (.wav/.flac), under a still image, or under the video."""
    if out.suffix.lower() in AUDIO_SUFFIXES:
        copy_audio(music, out)
    elif _media.is_image_path(picture):
        from .muxing import still_video

        still_video(picture, music, sample_rate, out, duration_s=duration_s)
    else:
        from .muxing import mux

        mux(picture, music, sample_rate, out, keep_audio=keep_audio, info=info)


@dataclass
class Soundtrack:
    """What :func:`make_soundtrack` made: the render's ``rendered`` info, the mastered
    ``music`` (float WAV), the file that goes under the picture (``path``: the music, or
    the dialogue-first mix of the video's own sound and the music), the backend's report
    (None for the rules backend) and the :class:`~v2m.rendering.dialogue.DialogueMix`
    (None when the original sound is left out); ``timings_s`` the render's and the mix's
    wall time."""

    rendered: RenderInfo
    music: Path
    path: Path
    backend_report: dict | None = None
    dialogue_mix: object | None = None
    timings_s: dict[str, float] = field(default_factory=dict)


def make_soundtrack(
    sc,
    *,
    folder: Path,
    video: Path | None = None,
    keep_audio: bool = False,
    backend=None,
    soundfont=None,
    timeline=None,
    target_lufs: float = TARGET_LUFS,
    stems_dir=None,
    progress: bool = False,
) -> Soundtrack:
    """The run's one route from a score to its soundtrack (``score``, ``render-cue``, the
    app): the music through the ``backend`` (default: rules with ``soundfont``) as
    ``folder/music.wav``, then, with ``keep_audio``, ``video``'s own sound mixed
    dialogue-first as ``folder/soundtrack.wav``.

    Parameters
    ----------
    sc : v2m.composition.Score
        The composed score (``sc.cue`` its cue sheet).
    folder : Path
        Where the files go (an existing folder).
    video : Path, optional
        The input whose sound is kept (with ``keep_audio``).
    keep_audio : bool
        Mix the original sound (see :func:`keep_decision`).
    target_lufs : float
        Delivery loudness of the music and of the mix.
    stems_dir : path, optional
        The music's role stems, and the mix's ``original.wav`` and ``music.wav``.
    """
    music = folder / "music.wav"
    t = time.perf_counter()
    if backend is None:
        backend = _backend("rules", None, soundfont, None)
    info, report = backend.render_file(
        sc.cue,
        music,
        score=sc,
        timeline=timeline,
        target_lufs=target_lufs,
        stems_dir=stems_dir,
        progress=progress,
    )
    out = Soundtrack(rendered=info, music=music, path=music, backend_report=report)
    out.timings_s["render"] = time.perf_counter() - t
    if keep_audio and video is not None:
        t = time.perf_counter()
        out.path, out.dialogue_mix = _mix_original(
            music, video, sc.cue, info, loudness_lufs=target_lufs, stems=stems_dir
        )
        out.timings_s["dialogue mix"] = time.perf_counter() - t
    return out


def _backend(name: str | None, model_dir, soundfont, options: dict | None):
    """The backend object from the registry (``rules`` by default); checked and loaded
    before any work."""
    from .backends import get_backend

    b = get_backend(name or "rules", model_dir=model_dir, soundfont=soundfont, **(options or {}))
    if b.needs_model and not model_dir:
        raise ParameterError(
            f"backend {name!r} needs --model-dir (a local model folder; v2m never downloads)"
        )
    b.load()
    return b


#: What ``keep_audio`` takes: keep the video's own sound when it holds dialogue ("auto"),
#: always ("on") or never ("off").
KEEP_AUDIO = ("auto", "on", "off")


def _keep_mode(keep_audio) -> str:
    if keep_audio is True:
        return "on"
    if keep_audio is False or keep_audio is None:
        return "off"
    if keep_audio not in KEEP_AUDIO:
        raise ParameterError(f"keep_audio={keep_audio!r}: must be one of {', '.join(KEEP_AUDIO)}")
    return keep_audio


def _check_loudness(loudness_lufs: float) -> None:
    ok = isinstance(loudness_lufs, (int, float)) and not isinstance(loudness_lufs, bool)
    if not ok or not (-40.0 <= loudness_lufs <= -5.0):
        raise ParameterError(
            f"loudness={loudness_lufs!r}: a delivery loudness in LUFS from -40 to -5 "
            "(-14 for the web, -23 or -24 for broadcast)"
        )


def keep_decision(
    mode: str, *, has_audio: bool, audio: dict | None, dialogue: list
) -> tuple[bool, str]:
    """Whether the video's own sound stays under (over) the music, and why.

    ``mode`` is "auto", "on" or "off"; ``audio`` the timeline's sound analysis (None when
    not analysed); ``dialogue`` the cue sheet's speech spans."""
    if not has_audio:
        return False, "the input has no sound of its own"
    if mode == "off":
        return False, "the video's own sound is left out (--keep-audio off)"
    if mode == "on":
        return (
            True,
            "the video's own sound is kept (--keep-audio on), the music ducked under speech",
        )
    if dialogue:
        return (
            True,
            "the video's sound holds dialogue: kept at its level, the music written and "
            "mixed around it",
        )
    if audio and audio.get("song"):
        return (
            False,
            "the video's sound is a song: left out, not kept under new music "
            "(--keep-audio on keeps it)",
        )
    if audio and audio.get("holds_music"):
        return False, (
            f"the video's sound is music ({100 * audio.get('music_share', 0):.0f} % of it), "
            "not dialogue: left out, not kept under new music (--keep-audio on keeps it)"
        )
    return False, "no dialogue in the video's sound: left out (--keep-audio on keeps it)"


def _say(progress: bool, msg: str) -> None:
    if progress:
        print(f"v2m: {msg}", file=sys.stderr)


def score(
    input_path: str | Path,
    *,
    output: str | Path,
    style: str | None = None,
    tempo_bpm: float | None = None,
    key: str | None = None,
    energy: float = 1.0,
    seed: int | None = None,
    hits_s: list[float] | None = None,
    duration_s: float | None = None,
    keep_audio: str | bool = "auto",
    loudness_lufs: float = TARGET_LUFS,
    stems: str | Path | None = None,
    plot: str | Path | None = None,
    midi: str | Path | None = None,
    wav: str | Path | None = None,
    cue: str | Path | None = None,
    timeline: str | Path | None = None,
    report: str | Path | None = None,
    soundfont: str | Path | None = None,
    force: bool = False,
    progress: bool = False,
    mode: str = "auto",
    pose_model: str = "full",
    backend: str = "rules",
    model_dir: str | Path | None = None,
    backend_options: dict | None = None,
    clip_dir: str | Path | None = None,
) -> ScoreResult:
    """Give a video (or an image) its soundtrack.

    Parameters
    ----------
    input_path : path
        A video, or a still image (then ``duration_s`` sets the length, default 30 s).
    output : path
        ``.mp4``/``.mov``/``.mkv``/... for a video with the music (the video stream is
        copied, not re-encoded), ``.wav``/``.flac`` for the music alone, ``.mid`` for the
        score alone.
    midi, wav, cue, timeline, report : path, optional
        Also write the score, the audio, the cue sheet, the timeline, and the report that
        explains every choice (JSON).
    style, tempo_bpm, key, energy, seed, hits_s
        User controls; each overrides the automatic choice.
    keep_audio : {"auto", "on", "off"}
        The video's own sound: kept when it holds dialogue ("auto"; a song or sound
        without speech is left out), always, or never. Kept, it stays at one gain and the
        music is ducked under speech (:mod:`v2m.rendering.dialogue`). ``True``/``False``
        mean "on"/"off".
    loudness_lufs : float
        Delivery loudness of the soundtrack (default -14 LUFS for the web; -23 or -24 for
        broadcast), true peak at most -1 dBTP.
    stems : path, optional
        A folder for one WAV per part of the music; with the original sound kept, also
        ``original.wav`` and ``music.wav`` as mixed (they sum to the soundtrack).
    plot : path, optional
        A PNG of the picture's cuts and hits against the music's sections, bars and beats,
        and the speech the music makes room for (:func:`v2m.plotting.plot_scored`).
    force : bool
        Overwrite existing outputs (never the input).
    mode : {"auto", "cuts", "dance", "performance"}
        What the beat grid follows (see :func:`v2m.projection.project`); "auto" and "dance"
        track the body pose when the ``pose`` extra is installed.
    pose_model : {"full", "lite", "heavy"}
        The pose landmark model (see :func:`v2m.analysis.analyze`).
    backend : str
        What makes the audio (see :mod:`v2m.backends`): ``rules`` (the composer and the
        SoundFont renderer, default) or ``musicgen`` (needs ``model_dir``).
    model_dir : path, optional
        The local model folder of a neural backend (never downloaded).
    backend_options : dict, optional
        More options for the backend (``window_s``, ``device``, ``sync``, ...).
    clip_dir : path, optional
        A local CLIP model folder: mood and scene tags per shot choose the style (when
        ``style`` is not given) and go into a neural backend's prompt
        (:mod:`v2m.analysis.semantics`).

    Returns
    -------
    ScoreResult
    """
    inp = _media.check_readable(input_path)
    out = Path(output)
    suffix = out.suffix.lower()
    if suffix not in AUDIO_SUFFIXES | VIDEO_SUFFIXES | MIDI_SUFFIXES:
        raise ParameterError(
            f"{out}: unknown output type {suffix!r} (use .mp4, .mov, .mkv, .wav, .flac or .mid)"
        )
    keep_mode = _keep_mode(keep_audio)
    _check_loudness(loudness_lufs)
    check_suffix(midi, MIDI_SUFFIXES, "--midi")
    check_suffix(wav, AUDIO_SUFFIXES, "--wav")
    is_image = _media.is_image_path(inp)
    controls = Controls(
        style=style,
        tempo_bpm=tempo_bpm,
        key=key,
        energy=energy,
        seed=seed,
        duration_s=duration_s,
        hits_s=tuple(hits_s or ()),
        mode=mode,
    )
    needs_audio = suffix not in MIDI_SUFFIXES or wav is not None
    if needs_audio:
        find_soundfont(soundfont)  # a missing --soundfont is found before any work
    # a bad backend or a missing model folder is found before any work, too
    engine = _backend(backend, model_dir, soundfont, backend_options) if needs_audio else None
    tagger = None
    if clip_dir is not None:
        from .analysis.semantics import ClipTagger

        tagger = ClipTagger(clip_dir)
    if suffix in VIDEO_SUFFIXES and not is_image:
        from .muxing import check_mux

        check_mux(inp, out)
    elif suffix in VIDEO_SUFFIXES:
        from .muxing import check_still

        check_still(inp)
    outs = {
        "--output": out,
        "--midi": midi,
        "--wav": wav,
        "--cue": cue,
        "--timeline": timeline,
        "--report": report,
        "--plot": plot,
        **_stem_outputs(stems),
    }
    with OutputSet(outs, force=force, inputs=(inp,)):
        return _score(
            inp,
            out=out,
            is_image=is_image,
            needs_audio=needs_audio,
            engine=engine,
            tagger=tagger,
            controls=controls,
            keep_audio=keep_mode,
            loudness_lufs=loudness_lufs,
            stems=stems,
            plot=plot,
            midi=midi,
            wav=wav,
            cue=cue,
            timeline=timeline,
            report=report,
            soundfont=soundfont,
            progress=progress,
            pose_model=pose_model,
        )


def _score(
    inp: Path,
    *,
    out: Path,
    is_image: bool,
    needs_audio: bool,
    controls: Controls,
    keep_audio,
    midi,
    wav,
    cue,
    timeline,
    report,
    soundfont,
    progress,
    engine=None,
    tagger=None,
    loudness_lufs=TARGET_LUFS,
    stems=None,
    plot=None,
    pose_model="full",
) -> ScoreResult:
    suffix = out.suffix.lower()
    if controls.duration_s is not None and not is_image:
        log.info("--duration-s applies to still images; the video sets the length")
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    _say(progress, f"analysing {inp.name}")
    pose = {"auto": "auto", "cuts": "off", "dance": "on", "performance": "on"}[controls.mode]
    info = None if is_image else _media.probe_video(inp)  # once: the analysis and mux reuse it
    tl = analyze(
        inp,
        duration_s=controls.duration_s,
        progress=progress,
        pose=pose,
        pose_model=pose_model,
        keep_thumbnails=bool(tagger) or plot is not None,
        video_info=info,
    )
    semantics = None
    if tagger is not None:
        from .analysis.semantics import suggest_style, tag_words

        tl.semantics = tagger.tag_timeline(tl)
        chosen, votes = suggest_style(tl.semantics)
        semantics = {"tags": tl.semantics, "words": tag_words(tl.semantics),
                     "style_votes": votes, "style": chosen}  # fmt: skip
        if controls.style is None and chosen is not None:
            controls = replace(controls, style=chosen)
            _say(progress, f"style {chosen} from CLIP's tags {', '.join(semantics['words'])}")
    timings["analyze"] = time.perf_counter() - t0
    t = time.perf_counter()
    proj = project(tl, controls=controls)
    for line in proj.explanations:
        _say(progress, line)
    sc = compose(proj.cue)
    timings["project+compose"] = time.perf_counter() - t
    keep, keep_why = keep_decision(
        keep_audio,
        has_audio=tl.source.has_audio and not is_image,
        audio=tl.audio,
        dialogue=proj.cue.dialogue,
    )
    if tl.source.has_audio:
        _say(progress, keep_why)
    dmix = None
    outputs: dict[str, str] = {}
    t = time.perf_counter()
    rendered = None
    backend_report = None
    with ExitStack() as stack:
        if needs_audio:
            _say(progress, "rendering the music")
            made = make_soundtrack(
                sc,
                folder=work_dir(stack, "music"),
                video=inp,
                keep_audio=keep,
                backend=engine,
                soundfont=soundfont,
                timeline=tl,
                target_lufs=loudness_lufs,
                stems_dir=stems,
                progress=progress,
            )
            rendered, music, backend_report = made.rendered, made.path, made.backend_report
            dmix = made.dialogue_mix
            timings.update(made.timings_s)
        t = time.perf_counter()
        if suffix in MIDI_SUFFIXES:
            sc.save(out)
        else:
            _write_media(
                out,
                picture=inp,
                music=music,
                sample_rate=rendered.sample_rate,
                duration_s=tl.duration_s,
                keep_audio=False,
                info=info,
            )
        outputs["output"] = str(out)
        timings["write"] = time.perf_counter() - t
        if wav:
            copy_audio(music, Path(wav))
            outputs["wav"] = str(wav)
    if midi:
        sc.save(midi)
        outputs["midi"] = str(midi)
    if cue:
        proj.cue.save(cue)
        outputs["cue"] = str(cue)
    if timeline:
        tl.save(timeline)
        outputs["timeline"] = str(timeline)
    if plot:
        from .plotting import plot_scored

        plot_scored(tl, proj, plot, melody=sc.parts.get("melody"))
        outputs["plot"] = str(plot)
    timings["total"] = time.perf_counter() - t0
    if report:
        rep = proj.report()
        rep["outputs"] = outputs
        rep["timings_s"] = {k: round(v, 3) for k, v in timings.items()}
        if tl.pose:  # the pose model's own share of the analysis
            rep["timings_s"]["analyze: pose model"] = tl.pose.get("model_time_s")
            rep["timings_s"]["analyze: pose probe"] = tl.pose.get("probe_time_s")
        if rendered is not None:
            rep["audio"] = {
                "loudness_lufs": round(rendered.loudness_lufs, 2),
                "true_peak_dbtp": round(rendered.true_peak_dbtp, 2),
                "soundfont": rendered.soundfont,
                "soundfont_origin": rendered.soundfont_origin,
                "synth": rendered.synth,
            }
        rep["backend"] = backend_report or {"backend": "rules"}
        if semantics is not None:
            rep["semantics"] = semantics
        if tl.source.has_audio:
            rep["sound"] = _sound_report(tl, proj.cue, sc, keep, keep_why, dmix)
        write_text_atomic(report, json.dumps(json_safe(rep), indent=1, allow_nan=False))
        outputs["report"] = str(report)
    if dmix is not None:
        _say(progress, _mix_line(dmix))
    if rendered is not None:
        _say(
            progress,
            f"SoundFont {rendered.soundfont} ({rendered.soundfont_origin}, {rendered.synth}); "
            f"{rendered.loudness_text}, true peak {rendered.true_peak_dbtp:.1f} dBTP",
        )
    return ScoreResult(projection=proj, rendered=rendered, outputs=outputs, timings_s=timings)


def _stem_outputs(stems) -> dict:
    """The files ``--stems`` writes, for the no-clobber check."""
    if stems is None:
        return {}
    d = Path(stems)
    if d.exists() and not d.is_dir():
        raise ParameterError(f"{d}: --stems needs a folder, and this is a file")
    from .composition import ROLES

    names = [*ROLES, "original", "music"]
    return {f"--stems ({n})": d / f"{n}.wav" for n in names}


def _mix_original(music: Path, video: Path, cue: CueSheet, rendered, *, loudness_lufs, stems):
    """The dialogue-first mix of ``video``'s own sound and the ``music`` WAV, written
    beside it; returns its path and the :class:`~v2m.rendering.dialogue.DialogueMix`."""
    from .rendering.dialogue import mix_dialogue

    mixed = music.with_name("soundtrack.wav")
    dmix = mix_dialogue(
        music,
        video,
        mixed,
        speech_s=[(d.start_s, d.end_s) for d in cue.dialogue],
        sample_rate=rendered.sample_rate,
        duration_s=cue.duration_s,
        target_lufs=loudness_lufs,
        stems_dir=stems,
    )
    return mixed, dmix


def _mix_line(dmix) -> str:
    smr = [s["speech_to_music_db"] for s in dmix.spans if s["speech_to_music_db"] is not None]
    under = f"; music {min(smr):.0f} dB or more under the voice" if smr else ""
    return (
        f"original sound kept at {dmix.voice_gain_db:+.1f} dB{under} in {len(dmix.spans)} "
        f"speech span(s); soundtrack {dmix.loudness_lufs:.1f} LUFS "
        f"(target {dmix.target_lufs:g}), true peak {dmix.true_peak_dbtp:.1f} dBTP"
    )


def _sound_report(tl, cue: CueSheet, sc, keep: bool, why: str, dmix) -> dict:
    """The report's ``sound`` part: what the track held, what v2m did with it."""
    from .composition.dialogue import answers

    a = tl.audio or {}
    return {
        "analysed": bool(tl.audio),
        "vad": a.get("vad"),
        "loudness_lufs": a.get("loudness_lufs"),
        "holds_music": a.get("holds_music"),
        "music_share": a.get("music_share"),
        "song": a.get("song"),
        "speech_s": a.get("speech_s"),
        "events": a.get("events", []),
        "kept": keep,
        "why": why,
        "dialogue": [{"start_s": d.start_s, "end_s": d.end_s} for d in cue.dialogue],
        "answers": answers(cue, sc.parts.get("melody", [])),
        "mix": dmix.report() if dmix is not None else None,
    }


def render_cue(
    cue_path: str | Path,
    *,
    video: str | Path,
    output: str | Path,
    soundfont: str | Path | None = None,
    keep_audio: str | bool = "auto",
    loudness_lufs: float = TARGET_LUFS,
    fit: bool = False,
    force: bool = False,
    backend: str = "rules",
    model_dir: str | Path | None = None,
    backend_options: dict | None = None,
) -> ScoreResult:
    """Compose and render an (edited) cue sheet, and put it under ``video``.

    ``keep_audio`` and ``loudness_lufs`` as for :func:`score`; with "auto" the video's
    own sound is kept when the cue sheet has dialogue spans. ``fit``: a cue sheet of
    another length is fitted to the video first (:func:`v2m.cuesheet.fit_cue`).

    Deterministic: the same cue sheet gives the same music (with a neural ``backend``, the
    same model too: sampling is seeded from the cue's seed).
    """
    vid = _media.check_readable(video)
    out = Path(output)
    if out.suffix.lower() not in AUDIO_SUFFIXES | VIDEO_SUFFIXES:
        raise ParameterError(
            f"{output}: unsupported output type (use .mp4, .mov, .mkv, .wav or .flac)"
        )
    keep_mode = _keep_mode(keep_audio)
    _check_loudness(loudness_lufs)
    cue_obj = CueSheet.load(cue_path)
    find_soundfont(soundfont)
    engine = _backend(backend, model_dir, soundfont, backend_options)
    info = None if _media.is_image_path(vid) else _media.probe_video(vid)  # once
    if info is not None and out.suffix.lower() not in AUDIO_SUFFIXES:
        from .muxing import check_mux

        check_mux(vid, out)
        video_s = info.duration_s
        if fit and video_s > 0 and abs(cue_obj.duration_s - video_s) > 1e-3:
            from .cuesheet import fit_cue

            cue_obj = fit_cue(cue_obj, video_s)
        _check_cue_fits(cue_obj, video_s, cue_path, vid)
    with OutputSet({"--output": out}, force=force, inputs=(vid, cue_path)), ExitStack() as st:
        sc = compose(cue_obj)
        has_audio = info is not None and info.has_audio
        keep, _ = keep_decision(
            keep_mode, has_audio=has_audio, audio=None, dialogue=cue_obj.dialogue
        )
        made = make_soundtrack(
            sc,
            folder=work_dir(st, "music"),
            video=vid,
            keep_audio=keep,
            backend=engine,
            soundfont=soundfont,
            target_lufs=loudness_lufs,
        )
        rendered, music = made.rendered, made.path
        _write_media(
            out,
            picture=vid,
            music=music,
            sample_rate=rendered.sample_rate,
            duration_s=cue_obj.duration_s,
            keep_audio=False,
            info=info,
        )
    return ScoreResult(projection=None, rendered=rendered, outputs={"output": str(out)})


def _check_cue_fits(cue: CueSheet, video_s: float, cue_path, video) -> None:
    """A cue longer than the video would lose its ending; a shorter one leaves silence."""
    if video_s <= 0:
        return
    if cue.duration_s > video_s + 0.5:
        raise ParameterError(
            f"{cue_path}: the cue sheet lasts {cue.duration_s:.2f} s but {video} only "
            f"{video_s:.2f} s, so the music would be cut before its ending; add --fit to fit "
            "the cue sheet to the video (beats, sections, per-bar energy, hits and dialogue "
            "cut at its end), or score the video again with --cue"
        )
    if cue.duration_s < video_s - 0.5:
        log.warning(
            "%s: the cue sheet lasts %.2f s but %s %.2f s: the last %.2f s will be silent "
            "(--fit continues the music to the video's end)",
            cue_path,
            cue.duration_s,
            video,
            video_s,
            video_s - cue.duration_s,
        )
