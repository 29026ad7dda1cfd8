"""Our VGGish and CNN14 against their reference PyTorch implementations (torchvggish, the
harritaylor port used by the FAD tools; panns_inference, the PANNs authors' package),
with the same random weights: v2m can load their checkpoints and gives their numbers."""

import importlib.util
import sys
import types

import numpy as np
import pytest

from v2m.metrics import embedders as M

torch = pytest.importorskip("torch")
torchvggish = pytest.importorskip("torchvggish")


def _panns_models():
    """``panns_inference.models`` without running the package's __init__ (which tries to
    download a label file)."""
    spec = importlib.util.find_spec("panns_inference")
    if spec is None:
        pytest.skip("panns_inference is not installed")
    if "panns_inference.models" not in sys.modules:
        pkg = types.ModuleType("panns_inference")
        pkg.__path__ = list(spec.submodule_search_locations)
        sys.modules.setdefault("panns_inference", pkg)
    return importlib.import_module("panns_inference.models")


def _audio(sr, seconds, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(sr * seconds)) / sr
    y = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.2 * np.sin(2 * np.pi * 3100 * t)
    return (y + 0.05 * rng.standard_normal(t.size)).astype(np.float32)


def test_vggish_front_end_equals_torchvggish():
    from torchvggish import vggish_input

    for sr in (16000, 44100, 22050):
        y = _audio(sr, 3.1, seed=sr)
        ref = vggish_input.waveform_to_examples(y, sr, return_tensor=False)
        ours = M.vggish_log_mel(y, sr)
        assert ours.shape == ref.shape
        np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-5)


def test_vggish_network_equals_torchvggish_with_same_weights():
    from torchvggish.torchvggish import _vgg

    torch.manual_seed(0)
    ref = _vgg(postprocess=False).eval()
    state = ref.state_dict()
    y = _audio(16000, 2.0)
    x = torch.from_numpy(M.vggish_log_mel(y, 16000))[:, None]
    with torch.no_grad():
        expected = ref(x).numpy()
        pre_relu = ref.embeddings[:5](ref.features(x).permute(0, 2, 3, 1).flatten(1)).numpy()
    ours = M.VGGish(state, final_relu=True).embed(y, 16000)
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-6)
    # the FAD convention (Google's VGGish): the embedding layer without its ReLU
    ours_fad = M.VGGish(state).embed(y, 16000)
    np.testing.assert_allclose(ours_fad, pre_relu, rtol=1e-5, atol=1e-6)
    assert (ours_fad < 0).any() and not (expected < 0).any()


def test_cnn14_equals_panns_inference_with_same_weights():
    models = _panns_models()
    torch.manual_seed(0)
    ref = models.Cnn14(
        sample_rate=32000,
        window_size=1024,
        hop_size=320,
        mel_bins=64,
        fmin=50,
        fmax=14000,
        classes_num=527,
    )
    # non-trivial batch-norm statistics, so a wrong axis or layer order would show
    with torch.no_grad():
        for mod in ref.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.uniform_(-1, 1)
                mod.running_var.uniform_(0.5, 2)
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.2, 0.2)
    ref.eval()
    y = _audio(32000, 2.5)
    with torch.no_grad():
        out = ref(torch.from_numpy(y)[None])
    ours = M.PANNsCnn14({"model": ref.state_dict()})  # the published checkpoint's nesting
    np.testing.assert_allclose(ours.embed(y, 32000), out["embedding"].numpy(), rtol=0, atol=1e-5)
    np.testing.assert_allclose(
        ours.classify(y, 32000), out["clipwise_output"].numpy(), rtol=0, atol=1e-6
    )
