"""Our PaSST against the ``hear21passt`` package (the classifier AudioCraft's KL loads),
with the same random weights, and our Kaldi mel banks against kaldi-native-fbank's.

``hear21passt`` imports torchaudio (for the mel banks and SpecAugment masks, which are not
used in evaluation) and timm (for a download helper); neither installs beside the CPU
build of torch 2.13, so the test gives it stand-ins: the mel banks come from
kaldi-native-fbank, an independent Kaldi implementation."""

import importlib
import sys
import types

import numpy as np
import pytest

torch = pytest.importorskip("torch")
knf = pytest.importorskip("kaldi_native_fbank")
pytest.importorskip("hear21passt")

from v2m.errors import InputError  # noqa: E402
from v2m.metrics import passt as P  # noqa: E402


def _knf_banks(n_mels, n_fft, sr, fmin, fmax):
    o = knf.MelBanksOptions()
    o.num_bins, o.low_freq, o.high_freq = n_mels, fmin, fmax
    f = knf.FrameExtractionOptions()
    f.samp_freq, f.frame_length_ms = sr, 1000.0 * n_fft / sr
    return np.array(knf.MelBanks(o, f).get_matrix())


def test_kaldi_mel_banks_equal_kaldi_native_fbank():
    ref = _knf_banks(128, 1024, 32000, 0.0, 15000.0)
    ours = P.kaldi_mel_banks()
    assert ours.shape == (128, 512)
    np.testing.assert_allclose(ours, ref[:, :512], atol=1e-4)
    assert np.all(ref[:, 512] == 0)


@pytest.fixture
def hear21passt(monkeypatch):
    """hear21passt's modules, imported with stand-ins for torchaudio and timm."""
    ta = types.ModuleType("torchaudio")
    ta.compliance = types.SimpleNamespace(
        kaldi=types.SimpleNamespace(
            get_mel_banks=lambda n, n_fft, sr, fmin, fmax, **kw: (
                torch.from_numpy(_knf_banks(n, n_fft, sr, fmin, fmax)[:, : n_fft // 2]).float(),
                None,
            )
        )
    )
    ta.transforms = types.SimpleNamespace(
        FrequencyMasking=lambda *a, **k: torch.nn.Identity(),
        TimeMasking=lambda *a, **k: torch.nn.Identity(),
    )
    hub = types.ModuleType("timm.models._hub")

    def no_download(*a, **k):
        raise AssertionError("no downloads")

    hub.download_cached_file = no_download
    monkeypatch.setitem(sys.modules, "torchaudio", ta)
    monkeypatch.setitem(sys.modules, "timm", types.ModuleType("timm"))
    monkeypatch.setitem(sys.modules, "timm.models", types.ModuleType("timm.models"))
    monkeypatch.setitem(sys.modules, "timm.models._hub", hub)
    for name in [m for m in sys.modules if m.startswith("hear21passt.")]:
        monkeypatch.delitem(sys.modules, name)
    return types.SimpleNamespace(
        passt=importlib.import_module("hear21passt.models.passt"),
        pre=importlib.import_module("hear21passt.models.preprocess"),
        wrapper=importlib.import_module("hear21passt.wrapper"),
    )


def _reference(h, *, width=32, depth=2, heads=4, tdim=998, seed=0):
    """A tiny random PaSST inside hear21passt's wrapper, in logits mode (AudioCraft's)."""
    torch.manual_seed(seed)
    net = h.passt.PaSST(
        img_size=(128, tdim), patch_size=16, stride=(10, 10), in_chans=1, num_classes=527,
        embed_dim=width, depth=depth, num_heads=heads, distilled=True,
    )  # fmt: skip
    with torch.no_grad():  # make the zero-initialised tokens and biases matter
        for p in net.parameters():
            p.add_(0.05 * torch.randn_like(p))
    mel = h.pre.AugmentMelSTFT(
        n_mels=128, sr=32000, win_length=800, hopsize=320, n_fft=1024, freqm=48, timem=192,
        htk=False, fmin=0.0, fmax=None, norm=1, fmin_aug_range=10, fmax_aug_range=2000,
    )  # fmt: skip
    return h.wrapper.PasstBasicWrapper(mel=mel, net=net, mode="logits").eval(), net


def _audio(sr, seconds, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(sr * seconds)) / sr
    y = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.2 * np.sign(np.sin(2 * np.pi * 2 * t))
    return (y + 0.05 * rng.standard_normal(t.size)).astype(np.float32)


def _ref_logits(model, x):
    import warnings

    old = torch.stft

    def stft(*a, **k):  # hear21passt calls the pre-complex stft API, as AudioCraft patches it
        k["return_complex"] = False
        return old(*a, **k)

    torch.stft = stft
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            return model(torch.from_numpy(x)[None]).double().numpy()[0]
    finally:
        torch.stft = old


def test_log_mel_and_logits_equal_hear21passt(hear21passt, capsys):
    model, net = _reference(hear21passt)
    x = _audio(32000, 3.3)
    with torch.no_grad():
        ref_mel = model.mel(torch.from_numpy(x)[None])[0].numpy()
    ours_mel = P.passt_log_mel(x, 32000)
    assert ours_mel.shape == ref_mel.shape == (128, 1 + (x.size - 1) // 320)
    np.testing.assert_allclose(ours_mel, ref_mel, atol=2e-4)

    ours = P.PaSST(net.state_dict(), heads=4)
    assert ours.segment_s == 10.0 and ours.classes == 527
    ref = _ref_logits(model, x)
    got = ours.logits(x, 32000)
    assert np.abs(ref).max() > 0.1  # the comparison is not between near-zero vectors
    np.testing.assert_allclose(got, ref, atol=2e-3)
    # a wrapper's state dict (net. prefix, mel buffers) loads the same
    again = P.PaSST(model.state_dict(), heads=4).logits(x, 32000)
    np.testing.assert_allclose(again, got, atol=1e-6)


def test_classify_segments_and_kl_as_audiocraft(hear21passt):
    """A 22.5 s piece: two 10 s segments and a 2.5 s tail (kept), each the reference's
    softmax; the KL per pair is torch's kl_div(log(p_gen + 1e-6), p_ref) summed."""
    model, net = _reference(hear21passt, seed=1)
    ours = P.PaSST(net.state_dict(), heads=4)
    gen = _audio(32000, 22.5, seed=2)
    ref = _audio(32000, 21.0, seed=3) * 0.5
    pg, pr = ours.classify(gen, 32000), ours.classify(ref, 32000)
    assert pg.shape == (3, 527) and pr.shape == (3, 527)
    seg = 320000
    expect_g = [
        torch.softmax(torch.from_numpy(_ref_logits(model, gen[i : i + seg])), -1).numpy()
        for i in range(0, gen.size, seg)
    ]
    np.testing.assert_allclose(pg, np.array(expect_g), atol=1e-5)
    kl = P.kl_segments(pg, pr)
    torch_kl = torch.nn.functional.kl_div(
        torch.from_numpy(pg + 1e-6).log(), torch.from_numpy(pr), reduction="none"
    ).sum(-1)
    np.testing.assert_allclose(kl, torch_kl.numpy(), rtol=1e-9)
    assert np.all(kl >= 0) and P.kl_segments(pg, pg).max() < 1e-4
    # a tail of 0.15 s or less is dropped, as AudioCraft does
    short = ours.classify(_audio(32000, 10.1), 32000)
    assert short.shape == (1, 527)


def test_bad_weights_are_clear_errors(tmp_path):
    with pytest.raises(InputError, match="never downloads"):
        P.PaSST(tmp_path / "missing.pt")
    with pytest.raises(InputError, match="not PaSST weights"):
        P.PaSST({"cls_token": torch.zeros(1, 1, 8)})
