"""The video's own sound: speech, loudness, music already in the track, sound events.

:func:`analyze_audio` decodes the first audio stream once (any rate, mono, stereo or 5.1)
in pieces, so memory grows with the number of 32 ms frames, not with the samples, and
measures:

* **Loudness** -- integrated loudness (ITU-R BS.1770-4: K-weighting, 400 ms blocks with
  75 % overlap, absolute gate -70 LUFS, relative gate -10 LU) of the track downmixed to
  stereo at 48 kHz.
* **Speech** -- Silero VAD (v5/v6 ONNX model, 16 kHz, 512-sample windows; the model file
  ships in the ``silero-vad`` wheel and runs with onnxruntime: the ``speech`` extra), or,
  without it, an energy and spectral detector (a frame is voiced when it stands 12 dB over
  the track's noise floor with most of its energy in the speech band, 250-4000 Hz, a
  peaky spectrum, and partials that change within 0.3 s, as a voice's do and music's do
  not). Speech probabilities become spans with hysteresis (on at 0.5, off
  below 0.35), spans shorter than ``MIN_SPEECH_S`` dropped, pauses shorter than
  ``MIN_PAUSE_S`` closed.
* **Music in the track** -- looked for where no one speaks (a voice hides the partials
  under it); harmonic persistence: the spectral peaks above the local
  spectral envelope (94-4000 Hz) correlated with those 256 ms earlier. Sustained notes
  and chords keep their partials for longer than a phoneme does; noise has no stable
  peaks. A frame holds music when that correlation's 1 s median exceeds
  ``MUSIC_PERSISTENCE`` and the frame is above the noise floor.
* **Dialogue or song** -- speech found inside music is taken for a song's vocals when the
  speech covers most of the music, or when the music goes on at the voice's level between
  the vocal spans (voice dominance under ``SONG_DOMINANCE_DB``) and the voice holds its
  notes (harmonic persistence inside the spans over ``SUNG_PERSISTENCE``): a song is
  reported as music and not kept under new music by default; a voice over a bed, even a
  loud one, is dialogue.
* **Sound events** -- onsets of broadband energy (spectral flux peaks that rise at least
  ``EVENT_RISE_DB`` over the last half second), such as a door slam, a hit or applause:
  candidate accents.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import _media
from ..errors import DecodeError

__all__ = [
    "analyze_audio",
    "speech_spans",
    "frame_f1",
    "SR",
    "HOP_S",
]

log = logging.getLogger("v2m")

#: Analysis rate (Hz) and frame (samples): Silero VAD's 16 kHz window of 512 samples.
SR = 16000
HOP = 512
HOP_S = HOP / SR
#: Speech spans: on above ``VAD_ON``, off below ``VAD_OFF``; shorter spans dropped,
#: shorter pauses closed; each span padded by ``PAD_S`` on both sides.
VAD_ON = 0.5
VAD_OFF = 0.35
MIN_SPEECH_S = 0.25
MIN_PAUSE_S = 0.3
PAD_S = 0.05
#: Harmonic persistence above which a second holds music, and the share of the track's
#: sounding time that makes it "a track with music".
MUSIC_PERSISTENCE = 0.5
MUSIC_SHARE = 0.3
#: A voice less than this much louder than the music between its spans, and whose partials
#: persist like sung notes (``SUNG_PERSISTENCE``), is a song's.
SONG_DOMINANCE_DB = 6.0
SUNG_PERSISTENCE = 0.5
#: Speech (s) Silero must hear inside loud music to take it for dialogue over a bed.
MIN_SPEECH_IN_MUSIC_S = 3.0
EVENT_RISE_DB = 15.0
SILENT_DBFS = -60.0
#: Frames above this level sound (music is looked for there).
SOUNDING_DBFS = -55.0
#: Speech spans covering this share of the music are the music itself (a song's voice,
#: or an instrument the energy detector took for a voice).
SONG_COVER = 0.7
#: Less speech than this (s) is not dialogue to keep clear.
MIN_DIALOGUE_S = 1.0
_LAG = 8  # frames (256 ms) between the spectra whose peaks are compared
_K_BLOCK = 4800  # 100 ms at 48 kHz: the loudness meter's segments


@dataclass
class _Frames:
    """Per 32 ms frame features, collected while decoding."""

    rms_db: list[float] = field(default_factory=list)
    band: list[float] = field(default_factory=list)  # share of power in 250-4000 Hz
    flat: list[float] = field(default_factory=list)  # spectral flatness 100-6000 Hz
    flux: list[float] = field(default_factory=list)  # positive log-power change (dB)
    persist: list[float] = field(default_factory=list)  # peak correlation with t - 256 ms
    vad: list[float] = field(default_factory=list)


class _SileroVAD:
    """Silero VAD's ONNX model. Frames are run in blocks of ``BLOCK`` as up to ``STREAMS``
    streams side by side (a batch: half the time per frame on one core); each stream
    starts from the model's initial state, warmed up on the ``WARM`` frames before it
    (on the espeak voice-overs of bench/dialogue.py the same spans as frame by frame, their
    ends within 64 ms, two frames)."""

    name = "silero"
    STREAMS = 8
    BLOCK = 8 * 234  # frames: about a minute
    WARM = 16

    def __init__(self, model: Path):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.inter_op_num_threads = 1
        opts.intra_op_num_threads = 1
        self.session = ort.InferenceSession(
            str(model), sess_options=opts, providers=["CPUExecutionProvider"]
        )
        self.sr = np.array(SR, dtype=np.int64)

    def probs(self, frames: np.ndarray, warm: np.ndarray) -> np.ndarray:
        """Speech probability of each frame of ``frames`` (n, HOP); ``warm`` holds the
        frames just before them (may be empty)."""
        n = len(frames)
        k = int(np.clip(n // (4 * self.WARM), 1, self.STREAMS))
        bounds = np.linspace(0, n, k + 1).astype(int)
        seqs = []
        for i in range(k):
            a, b = bounds[i], bounds[i + 1]
            pre = warm[-self.WARM :] if i == 0 else frames[max(0, a - self.WARM) : a]
            seqs.append((len(pre), np.concatenate([pre, frames[a:b]]) if len(pre) else frames[a:b]))
        steps = max(len(x) for _, x in seqs)
        batch = np.zeros((k, steps, HOP), np.float32)
        for i, (_, x) in enumerate(seqs):
            batch[i, : len(x)] = x
        state = np.zeros((2, k, 128), np.float32)
        context = np.zeros((k, 64), np.float32)
        out = np.zeros((k, steps), np.float32)
        for t in range(steps):
            x = np.concatenate([context, batch[:, t]], axis=1)
            p, state = self.session.run(None, {"input": x, "state": state, "sr": self.sr})
            context = x[:, -64:]
            out[:, t] = p[:, 0]
        return np.concatenate(
            [out[i, w : w + bounds[i + 1] - bounds[i]] for i, (w, _) in enumerate(seqs)]
        )


def silero_model() -> Path | None:
    """The Silero VAD ONNX file of the installed ``silero-vad`` wheel, or None (the wheel
    or onnxruntime missing). The package itself is not imported (it imports torch)."""
    import importlib.util

    try:
        if importlib.util.find_spec("onnxruntime") is None:
            return None
        spec = importlib.util.find_spec("silero_vad")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "silero_vad.onnx"
    return path if path.is_file() else None


def _vad(kind: str):
    """The VAD to run: ``"silero"``, ``"energy"`` or ``"auto"`` (Silero when installed)."""
    model = silero_model() if kind in ("auto", "silero") else None
    if model is not None:
        return _SileroVAD(model)
    if kind == "silero":
        from ..errors import MissingDependencyError

        raise MissingDependencyError(
            "speech detection with Silero VAD needs the 'speech' extra "
            "(pip install 'v2m[speech]' and pip install --no-deps silero-vad)"
        )
    return None


class _FrameAnalyser:
    """Cuts 16 kHz mono audio into 512-sample frames and measures each (see module doc)."""

    def __init__(self, vad):
        self.vad = vad
        self.buf = np.zeros(0, np.float32)
        self.f = _Frames()
        self.window = np.hanning(HOP).astype(np.float32)
        freqs = np.fft.rfftfreq(HOP, 1 / SR)
        self.band = (freqs >= 250) & (freqs <= 4000)
        self.all = (freqs >= 60) & (freqs <= 7800)
        self.flat_sel = (freqs >= 100) & (freqs <= 6000)
        self.peak_sel = slice(3, 129)  # 94-4000 Hz
        self.prev_logp: np.ndarray | None = None
        self.peaks: list[np.ndarray] = []
        self._parts: list[np.ndarray] = []
        self._have = 0
        self._vad_frames: list[np.ndarray] = []
        self._vad_n = 0
        self._vad_warm = np.zeros((0, HOP), np.float32)

    def feed(self, x: np.ndarray) -> None:
        """Take the next samples; frames are measured a second or more at a time."""
        self._parts.append(x)
        self._have += len(x)
        if self._have < SR:
            return
        self.buf = np.concatenate([self.buf, *self._parts])
        self._parts, self._have = [], 0
        n = len(self.buf) // HOP
        frames = self.buf[: n * HOP].reshape(n, HOP)
        self.buf = self.buf[n * HOP :]
        self._measure(frames)

    def _measure(self, frames: np.ndarray) -> None:
        from scipy.ndimage import median_filter

        f = self.f
        rms = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1))
        f.rms_db.extend((20 * np.log10(np.maximum(rms, 1e-7))).tolist())
        p = np.abs(np.fft.rfft(frames * self.window, axis=1)) ** 2 + 1e-12
        tot = p[:, self.all].sum(axis=1)
        f.band.extend((p[:, self.band].sum(axis=1) / tot).tolist())
        pf = p[:, self.flat_sel]
        f.flat.extend((np.exp(np.log(pf).mean(axis=1)) / pf.mean(axis=1)).tolist())
        logp = 10 * np.log10(p[:, self.all])
        prev = np.vstack([logp[:1] if self.prev_logp is None else self.prev_logp, logp[:-1]])
        f.flux.extend(np.maximum(logp - prev, 0).mean(axis=1).tolist())
        self.prev_logp = logp[-1:]
        lp = 10 * np.log10(p[:, self.peak_sel])
        res = np.maximum(lp - median_filter(lp, size=(1, 9), mode="nearest"), 0.0)
        # each frame's peaks against those _LAG frames earlier (carried across batches)
        prev = np.asarray(self.peaks) if self.peaks else np.zeros((0, res.shape[1]))
        allp = np.vstack([prev, res])
        idx = len(prev) + np.arange(len(res)) - _LAG
        valid = idx >= 0
        before = np.zeros_like(res)
        before[valid] = allp[idx[valid]]
        self.peaks = list(allp[-_LAG:])
        num = np.einsum("ij,ij->i", res, before)
        den = np.linalg.norm(res, axis=1) * np.linalg.norm(before, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            per = np.where(valid & (den > 0) & (rms >= 1e-5), num / den, 0.0)
        f.persist.extend(np.nan_to_num(per, nan=0.0).tolist())
        if self.vad is not None:
            self._vad_frames.append(frames.astype(np.float32))
            self._vad_n += len(frames)
            if self._vad_n >= self.vad.BLOCK:
                self._run_vad()

    def _run_vad(self) -> None:
        if not self._vad_n:
            return
        frames = np.concatenate(self._vad_frames)
        self.f.vad.extend(self.vad.probs(frames, self._vad_warm).tolist())
        self._vad_warm = frames[-self.vad.WARM :]
        self._vad_frames, self._vad_n = [], 0

    def finish(self) -> _Frames:
        self.buf = np.concatenate([self.buf, *self._parts])
        self._parts, self._have = [], 0
        n = len(self.buf) // HOP
        if n:
            self._measure(self.buf[: n * HOP].reshape(n, HOP))
            self.buf = self.buf[n * HOP :]
        if len(self.buf):
            self._measure(np.pad(self.buf, (0, HOP - len(self.buf)))[None, :])
            self.buf = np.zeros(0, np.float32)
        if self.vad is not None:
            self._run_vad()
        return self.f


def _decode(path: Path, feed_16k, feed_48k, *, max_s: float | None) -> tuple[int, int]:
    """Decode the first audio stream; hand mono 16 kHz to ``feed_16k`` and stereo 48 kHz
    to ``feed_48k``. Returns the stream's channel count and sample rate."""
    import av

    with _media.open_media(path) as c:
        st = c.streams.audio[0]
        channels = st.codec_context.channels or 0
        rate = st.codec_context.sample_rate or 0
        r16 = av.AudioResampler(format="flt", layout="mono", rate=SR)
        r48 = av.AudioResampler(format="flt", layout="stereo", rate=48000)
        got = 0.0
        skipped = [0]
        try:
            for frame in _media.audio_frames(c, st, skipped=skipped):
                for o in r16.resample(frame):
                    feed_16k(o.to_ndarray().reshape(-1))
                for o in r48.resample(frame):
                    feed_48k(o.to_ndarray().reshape(-1, 2))
                got += frame.samples / max(1, frame.sample_rate)
                if max_s is not None and got >= max_s:
                    break
        except av.error.FFmpegError as exc:
            raise DecodeError(f"{path}: the audio stream cannot be decoded ({exc})") from None
        if skipped[0]:
            log.warning("%s: %d damaged audio packet(s) skipped", path, skipped[0])
        for o in r16.resample(None):
            feed_16k(o.to_ndarray().reshape(-1))
        for o in r48.resample(None):
            feed_48k(o.to_ndarray().reshape(-1, 2))
    return channels, rate


def _energy_vad(fr: _Frames, floor_db: float) -> np.ndarray:
    """Speech probability without a model: level over the floor, speech band, peaks."""
    rms = np.asarray(fr.rms_db)
    over = np.clip((rms - floor_db - 6.0) / 12.0, 0, 1)
    band = np.clip((np.asarray(fr.band) - 0.45) / 0.3, 0, 1)
    peaky = np.clip((0.45 - np.asarray(fr.flat)) / 0.3, 0, 1)
    # a voice changes its partials with every phoneme; music holds them (persistence
    # over ~0.3 s: speech 0.24-0.40, music 0.5-0.9 on espeak, v2m's renders, dancer.avi)
    from scipy.ndimage import median_filter

    pers = median_filter(np.asarray(fr.persist), size=9, mode="nearest")
    changing = np.clip((0.55 - pers) / 0.2, 0, 1)
    p = over * band * peaky * changing
    # syllables come and go: smooth over ~100 ms so a word is one run
    return np.convolve(p, np.ones(3) / 3, mode="same")


def speech_spans(
    prob: np.ndarray,
    *,
    hop_s: float = HOP_S,
    on: float = VAD_ON,
    off: float = VAD_OFF,
    min_speech_s: float = MIN_SPEECH_S,
    min_pause_s: float = MIN_PAUSE_S,
    pad_s: float = PAD_S,
) -> list[tuple[float, float]]:
    """Speech spans (start, end) in seconds from per-frame speech probabilities.

    Parameters
    ----------
    prob : np.ndarray, shape (n_frames,)
        Speech probability per frame, frame ``i`` covering ``[i hop_s, (i + 1) hop_s)``.
    hop_s : float
        Frame length in seconds.
    on, off : float
        Hysteresis: a span starts above ``on`` and ends below ``off``.
    min_speech_s, min_pause_s, pad_s : float
        Shorter spans are dropped, shorter pauses closed; spans are padded by ``pad_s``.

    Returns
    -------
    list of (float, float)
        Non-overlapping spans, in order.
    """
    spans: list[list[float]] = []
    active, start = False, 0
    for i, p in enumerate(np.asarray(prob, dtype=float)):
        if not active and p >= on:
            active, start = True, i
        elif active and p < off:
            active = False
            spans.append([start * hop_s, i * hop_s])
    if active:
        spans.append([start * hop_s, len(prob) * hop_s])
    merged: list[list[float]] = []
    for a, b in spans:
        if merged and a - merged[-1][1] < min_pause_s:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    end = len(prob) * hop_s
    out = [
        (round(max(0.0, a - pad_s), 3), round(min(end, b + pad_s), 3))
        for a, b in merged
        if b - a >= min_speech_s
    ]
    return out


def frame_f1(
    ref: list[tuple[float, float]], est: list[tuple[float, float]], *, hop_s: float = 0.01
) -> float:
    """Frame-level F1 of speech spans ``est`` against ``ref`` (seconds), on a ``hop_s``
    grid; 1.0 when neither has speech."""
    end = max([b for _, b in ref + est], default=0.0)
    t = np.arange(0, end, hop_s) + hop_s / 2

    def mask(spans):
        m = np.zeros(len(t), bool)
        for a, b in spans:
            m |= (t >= a) & (t < b)
        return m

    r, e = mask(ref), mask(est)
    tp = float((r & e).sum())
    if not r.any() and not e.any():
        return 1.0
    return 2 * tp / float(r.sum() + e.sum())


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    d = np.diff(np.r_[0, mask.astype(np.int8), 0])
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1), strict=True))


def _music(fr: _Frames) -> np.ndarray:
    """Per frame: does the track hold music there (harmonic persistence over 1 s)."""
    from scipy.ndimage import median_filter

    pers = median_filter(np.asarray(fr.persist), size=31, mode="nearest")
    loud = np.asarray(fr.rms_db) > SOUNDING_DBFS
    loud_1s = median_filter(loud.astype(float), size=31, mode="nearest") > 0.5
    return (pers > MUSIC_PERSISTENCE) & loud_1s


def _events(fr: _Frames, speech: list[tuple[float, float]]) -> list[dict]:
    """Onsets of broadband energy: a frame at least ``EVENT_RISE_DB`` over the loudest of
    the half second before it, and well above the floor."""
    rms = np.asarray(fr.rms_db)
    flux = np.asarray(fr.flux)
    n = len(rms)
    look = int(round(0.5 / HOP_S))
    out: list[dict] = []
    last = -1e9
    for i in range(look, n):
        before = float(np.median(rms[i - look : i]))
        rise = rms[i] - before
        if rise >= EVENT_RISE_DB and flux[i] >= 6.0 and rms[i] > SILENT_DBFS + 20:
            t = i * HOP_S
            # a voice starting is speech, not an event
            if t - last < 0.25 or any(a - 0.1 <= t < b for a, b in speech):
                continue
            out.append(
                {"time_s": round(t, 3), "strength": round(float(np.clip(rise / 30.0, 0, 1)), 3)}
            )
            last = t
    return out


def analyze_audio(
    path: str | Path, *, vad: str = "auto", max_duration_s: float | None = None
) -> dict | None:
    """Analyse the first audio stream of ``path``.

    Parameters
    ----------
    path : path
        A video (or audio) file.
    vad : {"auto", "silero", "energy"}
        The speech detector: Silero VAD when installed (``auto``), or the energy and
        spectral detector.
    max_duration_s : float, optional
        Analyse at most this much of the track (seconds).

    Returns
    -------
    dict or None
        None when the file has no audio stream. Else (times in seconds): ``channels``,
        ``sample_rate`` (the stream's), ``duration_s``, ``hop_s`` and ``level_db``
        (RMS dBFS per 0.1 s), ``loudness_lufs`` (None when too short or silent),
        ``silent``, ``vad`` ("silero" or "energy"), ``speech`` (list of [start, end]),
        ``speech_s``, ``music_share`` (share of the sounding time outside speech that
        holds music),
        ``holds_music``, ``song`` (the speech is a song's vocals), ``dialogue`` (speech
        to keep clear), ``voice_dominance_db`` and ``events`` (list of {time_s, strength},
        outside speech).
    """
    from ..rendering.mastering import KMeter, gated_loudness

    p = Path(path)
    detector = _vad(vad)
    fa = _FrameAnalyser(detector)
    meter = KMeter(48000, _K_BLOCK, channels=2)
    carry = [np.zeros((0, 2), np.float32)]

    def feed48(x: np.ndarray) -> None:
        y = np.concatenate([carry[0], x]) if carry[0].size else x
        k = len(y) // _K_BLOCK * _K_BLOCK
        meter.feed(y[:k])
        carry[0] = y[k:]

    with _media.open_media(p) as c:
        if not c.streams.audio:
            return None
    channels, rate = _decode(p, fa.feed, feed48, max_s=max_duration_s)
    fr = fa.finish()
    n = len(fr.rms_db)
    rms = np.asarray(fr.rms_db) if n else np.zeros(0)
    duration = n * HOP_S
    floor_db = float(np.percentile(rms, 10)) if n else SILENT_DBFS
    silent = not n or float(np.percentile(rms, 95)) < SILENT_DBFS
    lufs = gated_loudness(meter.energies())
    kind = detector.name if detector is not None else "energy"
    if silent:
        prob = np.zeros(n)
    elif detector is not None:
        prob = np.asarray(fr.vad)
    else:
        prob = _energy_vad(fr, floor_db)
    speech = speech_spans(prob) if n else []
    held = _what_it_holds(fr, rms, speech, silent=silent, trusted=detector is not None)
    speech_s = held["speech_s"]
    level = _coarse_level(rms)
    return {
        "channels": int(channels),
        "sample_rate": int(rate),
        "duration_s": round(duration, 3),
        "hop_s": 0.1,
        "level_db": level,
        "loudness_lufs": round(lufs, 2) if np.isfinite(lufs) else None,
        "silent": bool(silent),
        "vad": kind,
        "speech": [[a, b] for a, b in speech],
        "speech_s": round(speech_s, 3),
        "music_share": round(held["music_share"], 3),
        "holds_music": held["holds_music"],
        "song": held["song"],
        "dialogue": held["dialogue"],
        "voice_dominance_db": None if held["dominance"] is None else round(held["dominance"], 2),
        "events": _events(fr, speech) if not silent else [],
    }


def _what_it_holds(fr: _Frames, rms: np.ndarray, speech, *, silent: bool, trusted: bool) -> dict:
    """Music in the track, song or dialogue (see the module docstring): ``music_share``,
    ``holds_music``, ``song``, ``dialogue``, ``dominance`` (dB or None), ``speech_s``.
    ``trusted``: the speech comes from Silero (not the energy detector)."""
    n = len(rms)
    music = _music(fr) if n else np.zeros(0, bool)
    # music is looked for where no one speaks: a voice over it hides its partials
    # (unless "speech" covers nearly all of it: then the speech may be the music itself)
    sounding = rms > SOUNDING_DBFS
    free = sounding & ~_span_mask(speech, n)
    if free.sum() < max(1.0 / HOP_S, 0.2 * sounding.sum()):
        free = sounding
    music_share = float((music & free).sum() / free.sum()) if free.any() and not silent else 0.0
    holds_music = music_share >= MUSIC_SHARE
    dominance, quiet_voice = _dominance(rms, speech, music)
    speech_s = float(sum(b - a for a, b in speech))
    # a song's voice holds its notes (its partials persist like the music's); a voice that
    # speaks over a loud bed changes them with every phoneme. Only Silero's speech is
    # trusted inside loud music (the energy detector picks the music's own dips), and only
    # a few seconds of it (a cartoon's cries in its score are not a monologue).
    speechlike = (
        trusted
        and speech_s >= MIN_SPEECH_IN_MUSIC_S
        and _persistence_in(fr, speech) <= SUNG_PERSISTENCE
    )
    song = holds_music and (
        _covered(speech, music) >= SONG_COVER or (quiet_voice and not speechlike)
    )
    dialogue = bool(speech_s >= MIN_DIALOGUE_S and not song)
    return {
        "music_share": music_share,
        "holds_music": bool(holds_music),
        "song": bool(song),
        "dialogue": dialogue,
        "dominance": dominance,
        "speech_s": speech_s,
    }


def _persistence_in(fr: _Frames, spans: list[tuple[float, float]]) -> float:
    """Median harmonic persistence (over ~0.3 s) of the frames inside ``spans``."""
    from scipy.ndimage import median_filter

    if not spans:
        return 0.0
    pers = median_filter(np.asarray(fr.persist), size=9, mode="nearest")
    inside = _span_mask(spans, len(pers))
    return float(np.median(pers[inside])) if inside.any() else 0.0


def _span_mask(spans: list[tuple[float, float]], n: int) -> np.ndarray:
    """Frames (of ``n``) inside any of ``spans`` (seconds)."""
    inside = np.zeros(n, bool)
    for a, b in spans:
        inside[int(a / HOP_S) : int(np.ceil(b / HOP_S))] = True
    return inside


def _covered(speech: list[tuple[float, float]], music: np.ndarray) -> float:
    """Share of the music frames that speech spans cover."""
    if not music.any():
        return 0.0
    return float((_span_mask(speech, len(music)) & music).sum() / music.sum())


def _coarse_level(rms_db: np.ndarray) -> list[float]:
    """RMS level per 0.1 s (about three frames), for plots and reports."""
    k = 3
    m = len(rms_db) // k * k
    if not m:
        return []
    p = 10 ** (rms_db[:m].reshape(-1, k) / 10)
    return [round(float(v), 1) for v in 10 * np.log10(p.mean(axis=1))]


def _dominance(
    rms_db: np.ndarray, speech: list[tuple[float, float]], music: np.ndarray
) -> tuple[float | None, bool]:
    """How much louder the track is in speech than in the music between speech spans
    (dB, power means), and whether that makes the speech a song's vocals."""
    if not speech or not music.any():
        return None, False
    inside = _span_mask(speech, len(rms_db))
    between = music & ~inside
    if between.sum() < int(1.0 / HOP_S) or not inside.any():
        return None, False
    p = 10 ** (rms_db / 10)
    dom = float(10 * np.log10(p[inside].mean() / p[between].mean()))
    return dom, dom < SONG_DOMINANCE_DB
