"""The stage's entry point, :func:`analyze`: a video or a still image -> a Timeline."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import cv2
import numpy as np

from .. import _media
from ..cuesheet import MAX_DURATION_S
from ..errors import InputError, ParameterError
from ..timeline import Shot, Source, Timeline
from . import _body
from ._decode import MAX_ANALYSIS_FPS, decode_pass
from .colour import colour_stats, motion_level, valence_arousal
from .cuts import CUT_THRESHOLD
from .motion import motion_curves, visual_beats, visual_tempo

__all__ = ["analyze", "AUDIO_MODES"]

log = logging.getLogger("v2m")

#: What ``analyze(..., audio=)`` takes.
AUDIO_MODES = ("auto", "silero", "energy", "off")
#: A still image's music lasts this long unless asked otherwise.
STILL_DEFAULT_S = 30.0
#: A video shorter than this gets a warning: its music is a chord or two.
SHORT_VIDEO_S = 1.0


def analyze(
    path: str | Path,
    *,
    duration_s: float | None = None,
    cut_threshold: float = CUT_THRESHOLD,
    progress: bool = False,
    keep_thumbnails: bool = False,
    pose: str = "auto",
    pose_model_dir: str | Path | None = None,
    pose_model: str = "full",
    audio: str = "auto",
    video_info: _media.VideoInfo | None = None,
) -> Timeline:
    """Analyse a video or a still image.

    Parameters
    ----------
    path : str or Path
        Any file FFmpeg can open with a video stream, or a still image.
    duration_s : float, optional
        For still images: the length of the timeline in seconds (default 30). Ignored for
        video.
    cut_threshold : float
        ContentDetector threshold for hard cuts (mean HSV difference, 0..255).
    progress : bool
        Show a progress bar on stderr.
    keep_thumbnails : bool
        Keep small BGR thumbnails in ``timeline.thumbnails`` (time in seconds -> image),
        taken regularly (every 0.5 s, at most 600) and at cuts, for plotting.
    pose : {"auto", "on", "off"}
        Body pose and kinematics (video only; needs the ``pose`` extra and the BlazePose
        model files, see :mod:`v2m.analysis.pose`). "auto" first looks at a few frames
        spread over the video and tracks the pose only when one person fills the picture
        (a dance or a performance); "on" always tracks it (with a warning, not an error,
        when the models are not installed); "off" never.
    pose_model_dir : path, optional
        Folder holding the pose models (default: see :func:`v2m.analysis.pose.find_models`).
    pose_model : {"full", "lite", "heavy"}
        The landmark model. "full" (the default; in the mediapipe wheel) keeps the
        kinematic beats; "lite" is 1.4x faster and finds 55-84 % of the reversals full finds
        on the known-answer clips (bench/dance.py); lite and heavy need ``v2m models pose``.
    audio : {"auto", "silero", "energy", "off"}
        The video's own sound (:mod:`v2m.analysis.audio`): speech with Silero VAD when the
        ``speech`` extra is installed ("auto"; "silero" insists), else with the energy
        detector (said on stderr); "off" skips the sound.
    video_info : VideoInfo, optional
        The container's probe of ``path`` when the caller has made it (the pipeline probes
        once and passes it on); default: probed here.

    Returns
    -------
    Timeline

    Raises
    ------
    InputError, NoVideoStreamError, DecodeError, ParameterError
    """
    if duration_s is not None and not (0 < duration_s <= MAX_DURATION_S):
        raise ParameterError(
            f"duration_s={duration_s!r}: must be above 0 and at most "
            f"{MAX_DURATION_S / 3600:g} hours"
        )
    if not (0 < cut_threshold < 255):
        raise ParameterError(f"cut_threshold={cut_threshold!r}: must be in (0, 255)")
    if pose not in ("auto", "on", "off"):
        raise ParameterError(f"pose={pose!r}: must be 'auto', 'on' or 'off'")
    if audio not in AUDIO_MODES:
        raise ParameterError(f"audio={audio!r}: must be one of {', '.join(AUDIO_MODES)}")
    from .pose import landmark_file

    landmark_file(pose_model)  # a ParameterError for another name
    p = _media.check_readable(path)
    if _media.is_image_path(p):
        return _analyze_image(
            p,
            duration_s=STILL_DEFAULT_S if duration_s is None else duration_s,
            keep_thumbnails=keep_thumbnails,
        )
    return _analyze_video(
        p,
        cut_threshold=cut_threshold,
        progress=progress,
        keep_thumbnails=keep_thumbnails,
        pose=pose,
        pose_model_dir=pose_model_dir,
        pose_model=pose_model,
        audio=audio,
        info=video_info,
    )


def _analyze_image(p: Path, *, duration_s: float, keep_thumbnails: bool) -> Timeline:
    img = _media.load_image(p)
    h, w = img.shape[:2]
    small = cv2.resize(
        img, _media.fit_size(w, h, _media.ANALYSIS_WIDTH), interpolation=cv2.INTER_AREA
    )
    b, s, c, warmth, contrast = colour_stats(small)
    grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    med = float(np.median(grey))
    edges = cv2.Canny(grey, int(max(0, 0.66 * med)), int(min(255, 1.33 * med) + 1))
    edge_density = float((edges > 0).mean())
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1)
    complexity = float(np.clip(np.hypot(gx, gy).mean() / 255.0, 0, 1))
    # A still has no motion; visual busyness (edge density) stands in for it in arousal.
    level = float(np.clip(edge_density / 0.25, 0, 1)) * 0.6
    valence, arousal = valence_arousal(
        brightness=b, saturation=s, warmth=warmth, motion_level_01=level
    )
    hop_s = 0.04
    n = int(math.floor(duration_s / hop_s)) + 1
    shot = Shot(
        start_s=0.0,
        end_s=duration_s,
        brightness=_r(b),
        saturation=_r(s),
        colorfulness=_r(c),
        warmth=_r(warmth),
        contrast=_r(contrast),
        valence=_r(valence),
        arousal=_r(arousal),
        motion=0.0,
    )
    tl = Timeline(
        source=Source(
            path=str(p), kind="image", width=w, height=h, fps=0.0, duration_s=float(duration_s)
        ),
        shots=[shot],
        motion={"hop_s": hop_s, "energy": [0.0] * n, "energy_raw": [0.0] * n},
        impact={"hop_s": hop_s, "envelope": [0.0] * n},
        colour={
            "hop_s": hop_s,
            "brightness": [_r(b)],
            "valence": [_r(valence)],
            "arousal": [_r(arousal)],
        },
        image={"edge_density": _r(edge_density), "complexity": _r(complexity)},
    )
    if keep_thumbnails:
        tl.thumbnails = {
            0.0: cv2.resize(small, _media.fit_size(small.shape[1], small.shape[0], 128))
        }
    return tl


def _r(x: float, nd: int = 4) -> float:
    return round(float(x), nd)


def _video_shots(
    bounds: list[float], col_t: np.ndarray, col: np.ndarray, va: np.ndarray, mc: dict, hop_s: float
) -> list[Shot]:
    """One :class:`Shot` per span between ``bounds`` (seconds): mean colour and affect of
    its colour samples (the nearest one if it has none), its motion (normalised, raw and
    peak)."""
    shots: list[Shot] = []
    speed_g, energy = mc["speed_g"], mc["energy"]
    grid_t = np.arange(len(speed_g)) * hop_s
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        sel = (col_t >= a - 1e-9) & (col_t < b - 1e-9)
        if not sel.any():
            sel = np.abs(col_t - a) == np.abs(col_t - a).min()
        m = col[sel].mean(axis=0)
        gsel = (grid_t >= a) & (grid_t < b)
        mot = float(energy[gsel].mean()) if gsel.any() else 0.0
        raw = float(speed_g[gsel].mean()) if gsel.any() else 0.0
        peak = float(speed_g[gsel].max()) if gsel.any() else 0.0
        v, ar = va[sel].mean(axis=0)
        shots.append(
            Shot(
                start_s=_r(a, 6),
                end_s=_r(b, 6),
                brightness=_r(m[0]),
                saturation=_r(m[1]),
                colorfulness=_r(m[2]),
                warmth=_r(m[3]),
                contrast=_r(m[4]),
                valence=_r(v),
                arousal=_r(ar),
                motion=_r(mot),
                motion_raw=_r(raw),
                motion_peak=_r(peak),
                thumbnail_frame=int(np.argmax(sel)),
            )
        )
    return shots


def _analyze_video(
    p: Path,
    *,
    cut_threshold: float,
    progress: bool,
    keep_thumbnails: bool,
    pose: str = "off",
    pose_model_dir: str | Path | None = None,
    pose_model: str = "full",
    audio: str = "off",
    info: _media.VideoInfo | None = None,
) -> Timeline:
    info = info if info is not None else _media.probe_video(p)
    if info.duration_s > MAX_DURATION_S:
        raise InputError(
            f"{p}: the video lasts {info.duration_s / 3600:.1f} hours; v2m scores at most "
            f"{MAX_DURATION_S / 3600:g} hours (cut it into parts)"
        )
    warn: list[str] = []
    # the sound is analysed beside the picture, on its own thread (FFmpeg, numpy and the
    # VAD's runtime release the GIL): it adds little to the analysis' wall time
    sound = _start_sound(p, info, vad=audio)
    notes: list[str] = []
    tracker = _body.start(
        p,
        info,
        mode=pose,
        model_dir=pose_model_dir,
        variant=pose_model,
        warnings_out=warn,
        notes_out=notes,
    )
    ps = decode_pass(
        p,
        info,
        tracker=tracker,
        cut_threshold=cut_threshold,
        progress=progress,
        keep_thumbnails=keep_thumbnails,
        warn=warn,
    )
    cut_list = ps.cuts
    frame_dur = 1.0 / info.fps if info.fps > 0 else 0.04
    duration = ps.last_t + frame_dur
    if info.duration_s > 0 and not any("truncated" in w for w in warn):
        duration = max(duration, min(info.duration_s, duration + frame_dur))
    hop_s = round(1.0 / min(max(info.fps, 10.0) / ps.stride, MAX_ANALYSIS_FPS), 6)
    if duration < SHORT_VIDEO_S:
        msg = (
            f"{p}: the video lasts only {duration:.2f} s, and so does its music (a still "
            f"image of it would get {STILL_DEFAULT_S:g} s, or the length asked for)"
        )
        log.warning("%s", msg)
        warn.append(msg)

    mc = motion_curves(ps, hop_s=hop_s, duration=duration)
    energy, speed_g, env = mc["energy"], mc["speed_g"], mc["env"]
    q5, q95 = mc["q"]
    beats = visual_beats(env, hop_s=hop_s)
    tempo, conf = visual_tempo(env, hop_s=hop_s)

    col_arr = np.array(ps.col) if ps.col else np.zeros((1, 5))
    col_t_arr = np.array(ps.col_t) if ps.col_t else np.zeros(1)
    t = mc["t"]
    level_at_col = (
        motion_level(np.interp(col_t_arr, t, mc["speed"])) if len(t) else np.zeros(len(col_t_arr))
    )
    va = np.array(
        [
            valence_arousal(brightness=c[0], saturation=c[1], warmth=c[3], motion_level_01=float(m))
            for c, m in zip(col_arr, level_at_col, strict=True)
        ]
    )
    bounds = [0.0] + [c.time_s for c in cut_list] + [duration]
    shots = _video_shots(bounds, col_t_arr, col_arr, va, mc, hop_s)
    # Colour/affect curves on a coarse 0.5 s grid (enough for music, small JSON).
    chop = 0.5
    cgrid = np.arange(0, duration, chop) if duration > chop else np.array([0.0])

    def curve(x: np.ndarray) -> list[float]:
        return [_r(v, 3) for v in np.interp(cgrid, col_t_arr, x)]

    tl = Timeline(
        source=Source(
            path=str(p),
            kind="video",
            width=info.width,
            height=info.height,
            fps=round(info.fps, 6),
            duration_s=round(duration, 6),
            rotation_deg=info.rotation_deg,
            has_audio=info.has_audio,
        ),
        cuts=cut_list,
        shots=shots,
        motion={
            "hop_s": hop_s,
            "energy": [_r(v) for v in energy],
            "energy_raw": [_r(v, 5) for v in speed_g],
            "quantiles_raw": [_r(q5, 5), _r(q95, 5)],
            "unit_raw": "frame widths per second",
        },
        impact={"hop_s": hop_s, "envelope": [_r(v, 5) for v in env]},
        visual_beats=beats,
        visual_tempo_bpm=tempo,
        visual_tempo_confidence=conf,
        colour={
            "hop_s": chop,
            "brightness": curve(col_arr[:, 0]),
            "saturation": curve(col_arr[:, 1]),
            "warmth": curve(col_arr[:, 3]),
            "valence": curve(va[:, 0]),
            "arousal": curve(va[:, 1]),
        },
        warnings=warn,
        notes=notes,
    )
    if tracker is not None:
        tl.pose, tl.kinematics = tracker.finish(duration_s=duration)
    if sound is not None:
        tl.audio = _finish_sound(sound, vad=audio, duration_s=duration, warn=warn)
    if keep_thumbnails:
        tl.thumbnails = ps.thumbs
    return tl


def _start_sound(p: Path, info, *, vad: str):
    """The audio pass (:func:`v2m.analysis.audio.analyze_audio`) started on a thread of its
    own, over the video's length; None without sound or with ``vad="off"``."""
    if not info.has_audio or vad == "off":
        return None
    from concurrent.futures import ThreadPoolExecutor

    from .audio import analyze_audio

    pool = ThreadPoolExecutor(1, thread_name_prefix="v2m-sound")
    limit = info.duration_s + 0.5 if info.duration_s > 0 else None
    fut = pool.submit(analyze_audio, p, vad=vad, max_duration_s=limit)
    pool.shutdown(wait=False)
    return fut


def _finish_sound(fut, *, vad: str, duration_s: float, warn: list[str]) -> dict | None:
    """The audio pass's result (its errors raised here), saying on stderr (and in the
    timeline's warnings) when speech was looked for without Silero."""
    from ..errors import MissingDependencyError, V2MError
    from .audio import silero_model

    try:
        res = fut.result()
    except MissingDependencyError:
        raise  # asked for Silero without the extra: the user must know
    except (V2MError, OSError, ValueError) as exc:  # a damaged sound track
        msg = f"the video's sound could not be analysed ({exc}); the picture alone is scored"
        log.warning("%s", msg)
        warn.append(msg)
        return None
    if res is not None and vad == "auto" and silero_model() is None:
        msg = (
            "speech found with the energy detector (Silero VAD is not installed: the "
            "'speech' extra); a voice over loud sound may be missed"
        )
        log.warning("%s", msg)
        warn.append(msg)
    return res
