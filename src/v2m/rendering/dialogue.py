"""The dialogue-first mix: the video's own sound kept at one gain, the music bed under it.

:func:`mix_dialogue` streams the rendered music and the video's original track (decoded
again, piece by piece: memory does not grow with the length) and writes

``G (g(t) m(t) + c o(t))``

where ``o`` is the original sound and ``m`` the music:

* ``c`` is one constant for the whole original: the voice's loudness (K-weighted, over
  the active 0.1 s frames of the speech spans) is set ``VOICE_UNDER_MUSIC_DB`` under the
  delivery loudness, where the music's own master puts the music away from speech
  (changed by at most ``MAX_VOICE_GAIN_DB`` either way);
* ``g(t)`` ducks the music under each speech span so that its loudest 0.5 s there lies
  ``smr_db`` (default 20 dB) under the voice; it is down ``LOOKAHEAD_S`` before the first
  syllable (falling over ``DOWN_S``), holds ``HOLD_S`` after the last one and comes back
  over ``UP_S`` (raised-cosine ramps in dB, slow enough not to pump); a pause too short
  for the bed to come back all the way keeps it partly down;
* ``G`` brings the result to the delivery loudness (default -14 LUFS, BS.1770-4) with
  the true peak at or under the ceiling (-1 dBTP), as the music's own master does
  (:class:`~v2m.rendering.mastering.Mastering`: one make-up gain, a look-ahead limiter on
  the 1 ms blocks whose true peak would pass the ceiling, 5 ms release). Nothing clips;
  the limiter touches only the loudest syllables (on espeak speech the voice's
  least-squares gain per 0.5 s window stays within a few tenths of a dB of one constant,
  see ``bench/dialogue.py``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._io import work_dir
from .mastering import TARGET_LUFS, TRUE_PEAK_DBTP, KMeter, Mastering
from .sinks import FileSinks, RawStore

__all__ = ["mix_dialogue", "DialogueMix", "duck_curve_db", "SMR_DB"]

#: The music bed under speech: its loudest 0.5 s this far under the voice (dB).
SMR_DB = 20.0
LOOKAHEAD_S = 0.05
DOWN_S = 0.15
HOLD_S = 0.05
UP_S = 0.3
MAX_VOICE_GAIN_DB = 20.0
#: The limiter's release (ms): short, so it takes only the loudest syllables' peaks down
#: and the voice keeps one level from window to window (the music's master uses 80 ms;
#: 10 ms left a long monologue's loudest windows 0.55 dB down, 5 ms 0.47).
LIMITER_RELEASE_MS = 5.0
#: The voice's level under the music's level away from speech (dB): the loudest
#: syllables then need less of the limiter to meet the loudness target.
VOICE_UNDER_MUSIC_DB = 2.0
_FRAME_S = 0.1  # level frames
_CURVE_HOP_S = 0.005  # resolution of the gain curve


@dataclass
class DialogueMix:
    """What :func:`mix_dialogue` did (levels in dB, times in seconds)."""

    voice_gain_db: float  # on the original sound, c G
    music_gain_db: float  # on the music away from speech, G
    loudness_lufs: float
    true_peak_dbtp: float
    target_lufs: float
    spans: list[dict] = field(default_factory=list)

    def report(self) -> dict:
        return {
            "voice_gain_db": round(self.voice_gain_db, 2),
            "music_gain_db": round(self.music_gain_db, 2),
            "loudness_lufs": round(self.loudness_lufs, 2)
            if math.isfinite(self.loudness_lufs)
            else None,
            "true_peak_dbtp": round(self.true_peak_dbtp, 2),
            "target_lufs": self.target_lufs,
            "speech": self.spans,
        }


def _music_chunks(path: Path, n: int, chunk: int) -> Iterator[np.ndarray]:
    import soundfile as sf

    with sf.SoundFile(str(path)) as f:
        done = 0
        while done < n:
            x = f.read(min(chunk, n - done), dtype="float32", always_2d=True)
            if x.shape[0] < min(chunk, n - done):
                x = np.vstack([x, np.zeros((min(chunk, n - done) - x.shape[0], 2), np.float32)])
            if x.shape[1] == 1:
                x = np.repeat(x, 2, axis=1)
            done += x.shape[0]
            yield x[:, :2]


def _original_chunks(video: Path, sr: int, n: int, chunk: int) -> Iterator[np.ndarray]:
    """The first audio stream of ``video`` as float32 stereo at ``sr``, in chunks of
    ``chunk`` frames, exactly ``n`` frames in all (silence past its end)."""
    import av

    from .. import _media

    buf: list[np.ndarray] = []
    have = 0
    done = 0
    with _media.open_media(video) as c:
        res = av.AudioResampler(format="flt", layout="stereo", rate=sr)

        def frames():
            for frame in _media.audio_frames(c, c.streams.audio[0]):
                yield from res.resample(frame)
            yield from res.resample(None)

        for o in frames():
            x = o.to_ndarray().reshape(-1, 2)
            buf.append(x)
            have += x.shape[0]
            while have >= chunk and done < n:
                joined = np.concatenate(buf)
                k = min(chunk, n - done)
                yield joined[:k]
                buf, have, done = [joined[k:]], joined.shape[0] - k, done + k
            if done >= n:
                return
    rest = np.concatenate(buf) if buf else np.zeros((0, 2), np.float32)
    while done < n:
        k = min(chunk, n - done)
        x = np.zeros((k, 2), np.float32)
        m = min(k, rest.shape[0])
        x[:m] = rest[:m]
        rest = rest[m:]
        done += k
        yield x


def _frame_power(chunks: Iterator[np.ndarray], frame: int, meter=None) -> np.ndarray:
    """Mean square (both channels) per ``frame`` samples; chunks are multiples of it.
    ``meter`` (a :class:`~v2m.rendering.mastering.KMeter` of ``frame`` blocks) is fed
    the same chunks."""
    out = []
    for x in chunks:
        k = x.shape[0] // frame * frame
        if meter is not None:
            meter.feed(x)
        if k:
            out.append((x[:k].astype(np.float64) ** 2).mean(axis=1).reshape(-1, frame).mean(1))
        if x.shape[0] > k:
            out.append(np.array([(x[k:].astype(np.float64) ** 2).mean()]))
    return np.concatenate(out) if out else np.zeros(0)


def _db(p: float) -> float:
    return 10 * math.log10(max(p, 1e-12))


def duck_curve_db(
    spans: list[tuple[float, float, float]], *, duration_s: float, hop_s: float = _CURVE_HOP_S
) -> np.ndarray:
    """The music's gain (dB, <= 0) every ``hop_s`` seconds from t = 0.

    Parameters
    ----------
    spans : list of (start_s, end_s, duck_db)
        Speech spans and how far the music goes down under each (duck_db <= 0).
    duration_s : float
        Length of the curve.

    Returns
    -------
    np.ndarray, shape (ceil(duration_s / hop_s) + 1,)
        Down by ``duck_db`` from ``LOOKAHEAD_S`` before each span to ``HOLD_S`` after it,
        with raised-cosine ramps of ``DOWN_S`` before and ``UP_S`` after; where spans'
        ramps meet, the lower gain holds.
    """
    n = int(math.ceil(duration_s / hop_s)) + 1
    g = np.zeros(n)
    for a, b, duck in spans:
        if duck >= 0:
            continue
        full_a, full_b = a - LOOKAHEAD_S, b + HOLD_S
        # only the points this span reaches (a long video has many spans)
        i0 = max(0, int((full_a - DOWN_S) / hop_s) - 1)
        i1 = min(n, int((full_b + UP_S) / hop_s) + 2)
        t = np.arange(i0, i1) * hop_s
        w = np.zeros(len(t))
        w[(t >= full_a) & (t <= full_b)] = 1.0
        down = (t >= full_a - DOWN_S) & (t < full_a)
        w[down] = 0.5 - 0.5 * np.cos(np.pi * (t[down] - (full_a - DOWN_S)) / DOWN_S)
        up = (t > full_b) & (t <= full_b + UP_S)
        w[up] = 0.5 + 0.5 * np.cos(np.pi * (t[up] - full_b) / UP_S)
        g[i0:i1] = np.minimum(g[i0:i1], duck * w)
    return g


def _levels(music: Path, video: Path, sr: int, n: int):
    """Per 0.1 s frame: the music's and the original's mean square, and the original's
    K-weighted energy (BS.1770, channels summed)."""
    frame = int(round(_FRAME_S * sr))
    chunk = frame * 10
    pm = _frame_power(_music_chunks(music, n, chunk), frame)
    meter = KMeter(sr, frame, channels=2)
    po = _frame_power(_original_chunks(video, sr, n, chunk), frame, meter)
    return pm, po, meter.energies()


def _span_frames(a: float, b: float, n_frames: int) -> slice:
    return slice(max(0, int(a / _FRAME_S)), min(n_frames, int(math.ceil(b / _FRAME_S))))


def _plan(pm, po, ko, speech_s, smr_db, target_lufs):
    """The original's gain ``c`` (dB) and each span's duck (dB) from the frame powers:
    the voice's loudness (K-weighted, over the frames of the speech spans within 25 dB of
    their span's peak) is set ``VOICE_UNDER_MUSIC_DB`` under the target, where the music's
    own master put the music away from speech."""
    nf = min(len(pm), len(po), len(ko))
    voice_k = []
    for a, b in speech_s:
        sl = _span_frames(a, b, nf)
        seg = po[sl]
        if seg.size:
            voice_k.append(ko[sl][seg > seg.max() * 10 ** (-2.5)])
    if voice_k and np.concatenate(voice_k).size:
        voice_lufs = -0.691 + _db(float(np.concatenate(voice_k).mean()))
        want = target_lufs - VOICE_UNDER_MUSIC_DB - voice_lufs
        c_db = float(np.clip(want, -MAX_VOICE_GAIN_DB, MAX_VOICE_GAIN_DB))
    else:
        c_db = 0.0
    ducks = []
    for a, b in speech_s:
        sl = _span_frames(a, b, nf)
        seg_o, seg_m = po[sl], pm[sl]
        if not seg_o.size:
            ducks.append((a, b, 0.0, None, None))
            continue
        act = seg_o > seg_o.max() * 10 ** (-2.5)
        v_db = _db(float(seg_o[act].mean())) + c_db
        k = min(5, len(seg_m))
        loudest = float(np.convolve(seg_m, np.ones(k) / k, mode="valid").max())
        m_db = _db(loudest)
        duck = min(0.0, v_db - smr_db - m_db)
        ducks.append((a, b, duck, v_db, m_db))
    return c_db, ducks


def mix_dialogue(
    music: str | Path,
    video: str | Path,
    out: str | Path,
    *,
    speech_s: list[tuple[float, float]],
    sample_rate: int,
    duration_s: float,
    target_lufs: float = TARGET_LUFS,
    ceiling_dbtp: float = TRUE_PEAK_DBTP,
    smr_db: float = SMR_DB,
    stems_dir: str | Path | None = None,
) -> DialogueMix:
    """Mix the video's own sound with the music, dialogue first (see the module doc).

    Parameters
    ----------
    music : path
        The rendered music (WAV/FLAC, stereo, at ``sample_rate``).
    video : path
        The video whose first audio stream is the original sound.
    out : path
        The mix (WAV 32-bit float or FLAC, by suffix), written atomically.
    speech_s : list of (start_s, end_s)
        The dialogue to keep clear (the cue sheet's ``dialogue``).
    sample_rate : int
        Hz, of the music and the mix.
    duration_s : float
        Length of the mix.
    target_lufs, ceiling_dbtp : float
        Delivery loudness (LUFS) and true-peak ceiling (dBTP).
    smr_db : float
        How far under the voice the music's loudest 0.5 s in each span lies.
    stems_dir : path, optional
        Also write ``original.wav`` and ``music.wav`` there (as mixed: they sum to the mix).

    Returns
    -------
    DialogueMix
    """
    music, video = Path(music), Path(video)
    sr = int(sample_rate)
    n = int(round(duration_s * sr))
    pm, po, ko = _levels(music, video, sr, n)
    c_db, ducks = _plan(pm, po, ko, speech_s, smr_db, target_lufs)
    curve = duck_curve_db([(a, b, d) for a, b, d, _, _ in ducks], duration_s=duration_s)
    c = np.float32(10 ** (c_db / 20))
    chunk = sr  # one second

    def mixed() -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        for i, (m, o) in enumerate(
            zip(_music_chunks(music, n, chunk), _original_chunks(video, sr, n, chunk), strict=True)
        ):
            a = i * chunk
            t = (a + np.arange(m.shape[0])) / sr
            # the curve's points around this chunk only (the curve spans the whole length)
            lo = max(0, int(t[0] / _CURVE_HOP_S) - 1)
            hi = min(len(curve), int(t[-1] / _CURVE_HOP_S) + 3)
            g = 10 ** (np.interp(t, np.arange(lo, hi) * _CURVE_HOP_S, curve[lo:hi]) / 20)
            yield a, m * g[:, None].astype(np.float32), o * c

    with ExitStack() as stack:
        tmp = work_dir(stack, "dialogue")
        names = [None, "original", "music"] if stems_dir is not None else [None]
        stores = {k: RawStore(tmp / f"{k or 'mix'}.f32") for k in names}
        for st in stores.values():
            stack.callback(st.close)
        mastering = Mastering(
            sr, n, target_lufs=target_lufs, ceiling_dbtp=ceiling_dbtp, release_ms=LIMITER_RELEASE_MS
        )
        for _, m, o in mixed():
            y = m + o
            mastering.feed(y)
            stores[None].append(y)
            if stems_dir is not None:
                stores["original"].append(o)
                stores["music"].append(m)
        mix_store = stores.pop(None)
        mastering.plan(mix_store.read)
        chunk_m = mastering.chunk

        def chunks():
            for a in range(0, n, chunk_m):
                yield (
                    mix_store.read(a, a + chunk_m),
                    {k: st.read(a, a + chunk_m) for k, st in stores.items()},
                )

        stem_paths = {}
        if stems_dir is not None:
            d = Path(stems_dir)
            d.mkdir(parents=True, exist_ok=True)
            stem_paths = {k: d / f"{k}.wav" for k in stores}
        sub = "FLOAT" if Path(out).suffix.lower() == ".wav" else None
        sink = FileSinks(stack, sr, Path(out), stem_paths, subtype=sub)
        mastering.apply(chunks, mix_store.read, sink.write, sink.restart)
        sink.finish()
    g_db = mastering.make_up_gain_db
    spans = [
        {
            "start_s": round(a, 3),
            "end_s": round(b, 3),
            "music_gain_db": round(d + g_db, 2),
            "speech_to_music_db": None if v is None else round(v - (m + d), 2),
        }
        for a, b, d, v, m in ducks
    ]
    return DialogueMix(
        voice_gain_db=c_db + g_db,
        music_gain_db=g_db,
        loudness_lufs=mastering.loudness_lufs,
        true_peak_dbtp=mastering.true_peak_dbtp,
        target_lufs=target_lufs,
        spans=spans,
    )
