"""Talking videos scored: is the voice kept clear, and does the music answer in the pauses?

Builds talking videos with known answers (tests/talking.py: espeak-ng speech at known
times, pauses of 0.5-4 s, over a picture with cuts; with a music bed under the voice, with
impacts and applause, without speech) and a song (``dancer.avi``), scores each with
``v2m.pipeline.score`` and prints per video:

- ``F1``: speech found against the placed speech, frame by frame (10 ms);
- ``SMR med / p5``: speech-to-music ratio in the result (the muxed AAC, decoded), by
  least squares per 0.5 s window of speech against the clean voice and the music as
  rendered before the mix (the sum of its stems): median, and the 5th percentile (the
  level 95 % of the windows reach); target >= 15 and >= 10 dB;
- ``pause dB``: the music's level in pauses >= 1.5 s against its level away from speech
  (least-squares gain; target within 3 dB);
- ``STOI``: short-time objective intelligibility of the voice in the result against the
  clean voice (pystoi; target >= 0.90); ``STOI-15``: the same voice with the same music
  mixed flat 15 dB under it, for reference;
- ``melody %``: share of speech time in which a melody note sounds (target <= 10 %);
  ``crash``: crash cymbals or tom fills starting during speech (target 0);
- ``voice dB``: spread (5th-95th percentile) of the voice's least-squares gain over the
  speech windows, and the one constant gain on the original sound (target +-0.5 dB);
- the loudness and true peak of the soundtrack, and whether the sound was kept.

Then the analysis time of the 3-minute 1080p bench video (with a talking soundtrack added)
with and without the audio pass.

With ``--long``, instead: the peak memory of the audio pass and of the dialogue mix on a
3-hour video (a voice-over every 11 s), each in a child process, against the same child
doing nothing but imports.

    python bench/dialogue.py [--no-timing | --long]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))

from talking import SENTENCES, SR, speech, talking_video  # noqa: E402

SHARED = HERE.parent.parent / "shared" / "data"
CRASH_TOMS = {49, 52, 55, 57, 41, 43, 45, 47, 48, 50}

CASES = {
    "voice-over": dict(
        duration_s=25.0, lines=[(1.0, SENTENCES[0]), (7.5, SENTENCES[1]), (15.0, SENTENCES[2])]
    ),
    "short pauses": dict(
        duration_s=30.0,
        lines=[
            (0.5, SENTENCES[3]),
            (5.2, SENTENCES[4]),
            (10.7, SENTENCES[5]),
            (16.5, SENTENCES[0]),
            (24.0, SENTENCES[1]),
        ],
    ),  # fmt: skip
    "bed under voice": dict(duration_s=25.0, bed_db=-14.0),
    "impacts+applause": dict(duration_s=25.0, impacts_s=(6.3, 13.0), applause_s=(20.5, 24.5)),
    "quiet voice": dict(duration_s=25.0, voice_dbfs=-36.0),
    "no speech": dict(duration_s=20.0, lines=[], bed_db=0.0),
}


def _decode(path: Path, n: int) -> np.ndarray:
    from v2m.muxing import read_audio

    y = read_audio(path, sample_rate=SR, duration_s=n / SR)
    return y.mean(axis=1)


def _ls(y, v, m, win: int):
    """Per window: least-squares gains (a, b) of y ~ a v + b m, and the windows' starts."""
    out = []
    for s in range(0, len(y) - win + 1, win):
        A = np.stack([v[s : s + win], m[s : s + win]], axis=1).astype(np.float64)
        coef, *_ = np.linalg.lstsq(A, y[s : s + win].astype(np.float64), rcond=None)
        out.append((s, coef[0], coef[1]))
    return out


def _mask(spans, n):
    m = np.zeros(n, bool)
    for a, b in spans:
        m[int(a * SR) : int(b * SR)] = True
    return m


def measure(name: str, talk, out_dir: Path) -> dict:
    from pystoi import stoi

    from v2m.analysis.audio import frame_f1
    from v2m.composition import compose
    from v2m.cuesheet import CueSheet
    from v2m.pipeline import score

    out = out_dir / f"{name}.mp4"
    stems = out_dir / f"{name}-stems"
    t0 = time.perf_counter()
    score(talk.path, output=out, report=out_dir / f"{name}.json", cue=out_dir / f"{name}.cue.json",
          stems=stems, force=True)  # fmt: skip
    took = time.perf_counter() - t0
    rep = json.loads((out_dir / f"{name}.json").read_text())
    snd = rep["sound"]
    cue = CueSheet.load(out_dir / f"{name}.cue.json")
    n = int(talk.duration_s * SR)
    y = _decode(out, n)
    import soundfile as sf

    roles = [p for p in stems.glob("*.wav") if p.stem not in ("original", "music")]
    music = sum(sf.read(str(p), dtype="float32", always_2d=True)[0].mean(axis=1) for p in roles)
    music = np.resize(np.asarray(music, np.float32), n)
    v = talk.voice[:n]
    found = [(d["start_s"], d["end_s"]) for d in snd["dialogue"]]
    res = {
        "F1": frame_f1(talk.spans, found) if talk.spans else (1.0 if not found else 0.0),
        "kept": snd["kept"],
        "song": snd["song"],
        "took_s": took,
    }
    mix = snd.get("mix")
    if mix:
        res["lufs"] = mix["loudness_lufs"]
        res["dbtp"] = mix["true_peak_dbtp"]
        res["voice_gain_db"] = mix["voice_gain_db"]
        res["music_gain_db"] = mix["music_gain_db"]
    if not talk.spans or not snd["kept"]:
        return res
    win = SR // 2
    sp = _mask(talk.spans, n)
    rows = _ls(y, v, music, win)
    inside = [(a, b) for s, a, b in rows if sp[s : s + win].mean() > 0.8]
    smr = []
    for s, a, b in rows:
        if sp[s : s + win].mean() <= 0.8:
            continue
        pv = np.sqrt(np.mean((a * v[s : s + win]) ** 2))
        pm = np.sqrt(np.mean((b * music[s : s + win]) ** 2)) + 1e-12
        smr.append(20 * np.log10(pv / pm + 1e-12))
    res["SMR_med"] = float(np.median(smr))
    res["SMR_p5"] = float(np.percentile(smr, 5))
    gains = np.array([abs(a) for a, _ in inside])
    gdb = 20 * np.log10(gains / np.median(gains))
    res["voice_spread_db"] = (float(np.percentile(gdb, 5)), float(np.percentile(gdb, 95)))
    # music in pauses >= 1.5 s against the music's gain away from speech (the report's)
    ref_b = 10 ** (mix["music_gain_db"] / 20)
    pauses = [
        (e, s2) for (_, e), (s2, _) in zip(talk.spans, talk.spans[1:], strict=False)
        if s2 - e >= 1.5
    ]  # fmt: skip
    pdb = []
    for a, b in pauses:
        seg = slice(int(a * SR), int(b * SR))
        A = np.stack([v[seg], music[seg]], axis=1).astype(np.float64)
        coef, *_ = np.linalg.lstsq(A, y[seg].astype(np.float64), rcond=None)
        pdb.append(20 * np.log10(abs(coef[1]) / ref_b))
    res["pause_db"] = min(pdb) if pdb else None
    res["STOI"] = float(stoi(v, y, SR, extended=False))
    flat = v + music * (np.sqrt(np.mean(v[sp] ** 2)) / np.sqrt(np.mean(music[sp] ** 2) + 1e-12)
                        * 10 ** (-15 / 20))  # fmt: skip
    res["STOI_15"] = float(stoi(v, flat, SR, extended=False))
    sc = compose(cue)
    beats = np.arange(len(cue.beats_s))

    def t(b):
        return float(np.interp(b, beats, cue.beats_s))

    grid = np.arange(n // (SR // 100)) * 0.01
    sounding = np.zeros(len(grid), bool)
    for note in sc.parts.get("melody", []):
        sounding |= (grid >= t(note.start)) & (grid < t(note.end))
    spg = _mask(talk.spans, n)[:: SR // 100][: len(grid)]
    res["melody_pct"] = float(100 * (sounding & spg).sum() / max(1, spg.sum()))
    res["crash"] = sum(
        1
        for note in sc.parts.get("drums", [])
        if note.pitch in CRASH_TOMS and any(a <= t(note.start) < b for a, b in talk.spans)
    )
    return res


def analysis_time() -> tuple[float, float]:
    """`analyze` of the 3-minute 1080p bench video with a talking soundtrack, without and
    with the audio pass (best of three each, interleaved)."""
    import av
    from _media import long_video

    from v2m.analysis import analyze

    src = long_video(180)
    dst = src.with_name("bench_180s_1080p_talk.mp4")
    if not dst.exists():
        with tempfile.TemporaryDirectory() as d:
            lines = [(2.0 + 11.0 * i, SENTENCES[i % len(SENTENCES)]) for i in range(16)]
            talk = talking_video(Path(d) / "t.mp4", duration_s=180.0, lines=lines, fps=5)
            with av.open(str(src)) as a, av.open(str(talk.path)) as b, av.open(str(dst), "w") as o:
                vi, ai = a.streams.video[0], b.streams.audio[0]
                vo = o.add_stream_from_template(vi)
                ao = o.add_stream_from_template(ai)
                for pk in a.demux(vi):
                    if pk.dts is not None:
                        pk.stream = vo
                        o.mux(pk)
                for pk in b.demux(ai):
                    if pk.dts is not None:
                        pk.stream = ao
                        o.mux(pk)
    times = {}
    for mode in ("off", "auto") * 3:
        t0 = time.perf_counter()
        analyze(dst, audio=mode)
        times[mode] = min(times.get(mode, 1e9), time.perf_counter() - t0)
    return times["off"], times["auto"]


def _long_video(path: Path, hours: float = 3.0) -> Path:
    """A ``hours``-long video: a 64x48 grey picture at 1 fps, a voice every 11 s (AAC)."""
    from fractions import Fraction

    import av

    if path.exists():
        return path
    sents = [speech(t) for t in SENTENCES]
    n = int(hours * 3600 * SR)
    tmp = path.with_suffix(".part.mp4")
    with av.open(str(tmp), "w") as c:
        vs = c.add_stream("libx264", rate=1)
        vs.width, vs.height, vs.pix_fmt = 64, 48, "yuv420p"
        a = c.add_stream("aac", rate=SR)
        a.layout = "mono"
        img = np.full((48, 64, 3), 100, np.uint8)
        pos, k, sec = 0, 0, 0
        while pos < n:
            block = np.zeros(11 * SR, np.float32)
            x = sents[k % len(sents)] * 0.3
            block[SR : SR + min(len(x), 9 * SR)] = x[: 9 * SR]
            block = block[: n - pos]
            for i in range(0, len(block), 1024):
                fr = av.AudioFrame.from_ndarray(block[None, i : i + 1024], "fltp", "mono")
                fr.sample_rate, fr.pts, fr.time_base = SR, pos + i, Fraction(1, SR)
                for pk in a.encode(fr):
                    c.mux(pk)
            while sec < (pos + len(block)) / SR:
                f = av.VideoFrame.from_ndarray(img, format="rgb24")
                f.pts = sec
                for pk in vs.encode(f):
                    c.mux(pk)
                sec += 1
            pos += len(block)
            k += 1
        for st in (a, vs):
            for pk in st.encode():
                c.mux(pk)
    tmp.rename(path)
    return path


def _child_peak_mb(code: str) -> tuple[float, float]:
    """Peak RSS (MB) of a child running ``code``, and its wall time (s)."""
    import subprocess

    wrap = (code + "\nimport resource\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)")  # fmt: skip
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", wrap], capture_output=True, text=True, check=True)
    return float(r.stdout.strip().splitlines()[-1]), time.perf_counter() - t0


def long_run() -> None:
    """Peak memory of the audio pass and the dialogue mix on a 3-hour video."""
    from _media import MEDIA

    MEDIA.mkdir(exist_ok=True)
    video = _long_video(MEDIA / "talk_3h.mp4")
    tmp = Path(tempfile.mkdtemp(prefix="v2m-bench-long-"))
    base, _ = _child_peak_mb("import numpy, av, scipy.signal, soundfile, onnxruntime\n"
                             "import v2m.analysis.audio, v2m.rendering.dialogue")  # fmt: skip
    code = (f"import json\nfrom v2m.analysis.audio import analyze_audio\n"
            f"a = analyze_audio({str(video)!r})\n"
            f"json.dump(a['speech'], open({str(tmp / 'speech.json')!r}, 'w'))")  # fmt: skip
    peak_a, took_a = _child_peak_mb(code)
    speech = json.loads((tmp / "speech.json").read_text())
    import soundfile as sf

    music = tmp / "music.wav"
    with sf.SoundFile(str(music), "w", SR, 2, subtype="PCM_16") as f:
        t = np.arange(SR * 60) / SR
        minute = 0.1 * np.sin(2 * np.pi * 220 * t) + 0.05 * np.sin(2 * np.pi * 330 * t)
        for _ in range(180):
            f.write(np.stack([minute, minute], axis=1).astype(np.float32))
    code = (f"from v2m.rendering.dialogue import mix_dialogue\n"
            f"import json\nsp = json.load(open({str(tmp / 'speech.json')!r}))\n"
            f"mix_dialogue({str(music)!r}, {str(video)!r}, {str(tmp / 'mix.flac')!r}, "
            f"speech_s=sp, sample_rate={SR}, duration_s=10800.0)")  # fmt: skip
    peak_m, took_m = _child_peak_mb(code)
    print(
        f"3-hour video, {len(speech)} speech spans: audio pass peak {peak_a:.0f} MB "
        f"({took_a:.0f} s), dialogue mix peak {peak_m:.0f} MB ({took_m:.0f} s); the same "
        f"child with only the imports {base:.0f} MB"
    )
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    if "--long" in sys.argv:
        long_run()
        return 0
    out_dir = Path(tempfile.mkdtemp(prefix="v2m-bench-dialogue-"))
    print(f"outputs in {out_dir}")
    head = (f"{'video':18} {'F1':>5} {'SMR med':>7} {'p5':>5} {'pause':>6} {'STOI':>5} "
            f"{'STOI-15':>7} {'mel%':>5} {'crash':>5} {'voice spread':>13} {'LUFS':>6} "
            f"{'dBTP':>5} {'G':>5} {'c':>5} kept")  # fmt: skip
    print(head)

    def f(x, w=5, d=2):
        return f"{x:>{w}.{d}f}" if isinstance(x, (int, float)) else f"{'-':>{w}}"

    for name, kw in CASES.items():
        talk = talking_video(out_dir / f"{name.replace(' ', '_')}-in.mp4", **kw)
        r = measure(name.replace(" ", "_"), talk, out_dir)
        spread = r.get("voice_spread_db")
        print(
            f"{name:18} {f(r['F1'])} {f(r.get('SMR_med'), 7, 1)} {f(r.get('SMR_p5'), 5, 1)} "
            f"{f(r.get('pause_db'), 6, 1)} {f(r.get('STOI'))} {f(r.get('STOI_15'), 7)} "
            f"{f(r.get('melody_pct'), 5, 1)} {r.get('crash', '-'):>5} "
            f"{(f'{spread[0]:+.2f}..{spread[1]:+.2f}' if spread else '-'):>13} "
            f"{f(r.get('lufs'), 6, 1)} {f(r.get('dbtp'), 5, 1)} {f(r.get('music_gain_db'), 5, 1)} "
            f"{f(r.get('voice_gain_db'), 5, 1)} {r['kept']}",
            flush=True,
        )
    if (SHARED / "video" / "dancer.avi").exists():
        from v2m.pipeline import score

        rep = out_dir / "dancer.json"
        score(SHARED / "video" / "dancer.avi", output=out_dir / "dancer.mp4", report=rep,
              force=True)  # fmt: skip
        snd = json.loads(rep.read_text())["sound"]
        print(f"{'dancer.avi (song)':18} song={snd['song']} music_share={snd['music_share']} "
              f"speech_s={snd['speech_s']} kept={snd['kept']}: {snd['why']}")  # fmt: skip
    if "--no-timing" in sys.argv:
        return 0
    off, on = analysis_time()
    print(f"analyze, 3-minute 1080p with a talking track: without the audio pass {off:.2f} s, "
          f"with it {on:.2f} s (+{100 * (on / off - 1):.1f} %)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
