import numpy as np
import pytest

from v2m import InputError
from v2m.metrics import embedders as M

torch = pytest.importorskip("torch")  # the "neural" extra; CI installs it


def _noise_folders(tmp_path, *, n=3, seconds=3, sr=44100, seed=0):
    import soundfile as sf

    gen, ref = tmp_path / "gen", tmp_path / "ref"
    gen.mkdir()
    ref.mkdir()
    rng = np.random.default_rng(seed)
    for i in range(n):
        sf.write(gen / f"a{i}.wav", 0.1 * rng.normal(size=sr * seconds), sr)
        sf.write(ref / f"a{i}.wav", 0.1 * rng.normal(size=sr * seconds), sr)
    return gen, ref


def _audio(seconds=3.0, sr=44100, f=440.0):
    t = np.arange(int(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * f * t)).astype(np.float32), sr


def test_log_mel_patches_shape():
    y, sr = _audio(3.0)
    p = M.vggish_log_mel(y, sr)
    assert p.shape == (3, 96, 64)
    # a 440 Hz tone puts its energy in one low mel band
    band = p.mean(axis=(0, 1)).argmax()
    assert 5 <= band <= 25


def test_tiny_vggish_from_local_weights(tmp_path):
    torch.manual_seed(0)
    net = M.build_vggish(width=1 / 64)
    path = tmp_path / "tiny_vggish.pt"
    torch.save(net.state_dict(), path)
    emb = M.VGGish(path, width=1 / 64)
    y, sr = _audio(4.0)
    a = emb.embed(y, sr)
    assert a.shape == (4, 128) and np.all(np.isfinite(a))
    again = M.VGGish(path, width=1 / 64).embed(y, sr)
    assert np.array_equal(a, again)  # deterministic, and the weights really came from disk
    z, _ = _audio(4.0, f=3000.0)
    assert not np.allclose(emb.embed(z, sr), a)  # other audio, other embeddings


def test_missing_or_wrong_weights_are_clear_errors(tmp_path):
    with pytest.raises(InputError, match="never downloads"):
        M.VGGish(tmp_path / "nope.pt")
    torch.save(M.build_vggish(width=1 / 32).state_dict(), tmp_path / "w.pt")
    with pytest.raises(InputError, match="not VGGish weights"):
        M.VGGish(tmp_path / "w.pt", width=1 / 64)


def test_torchscript_embedder(tmp_path):
    class Tiny(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv1d(1, 8, kernel_size=400, stride=160)

        def forward(self, x):
            return self.conv(x[:, None]).mean(-1)

    torch.manual_seed(1)
    path = tmp_path / "tiny.ts"
    torch.jit.script(Tiny()).save(str(path))
    emb = M.load_embedder("torchscript", path, sample_rate=16000)
    y, sr = _audio(1.0)
    a = emb.embed(y, sr)
    assert a.shape == (1, 8)
    assert np.array_equal(a, M.load_embedder("torchscript", path, sample_rate=16000).embed(y, sr))
    with pytest.raises(InputError, match="never downloads"):
        M.load_embedder("torchscript", tmp_path / "missing.ts", sample_rate=16000)


def test_eval_cli_fad_with_local_tiny_vggish(tmp_path):

    from v2m._cli import main

    torch.manual_seed(0)
    w = tmp_path / "vggish_tiny.pt"
    torch.save(M.build_vggish(width=1.0 / 64).state_dict(), w)
    gen, ref = _noise_folders(tmp_path)
    out = tmp_path / "r.json"

    def run(kind, weights, *extra):
        return main(
            [
                "eval",
                "--generated",
                str(gen),
                "--reference",
                str(ref),
                "--embedder",
                kind,
                "--embedder-weights",
                str(weights),
                *extra,
                "-o",
                str(out),
            ]
        )

    # a tiny random network of width 1/64 cannot be loaded as the full one: clear error
    assert run("vggish", w) == 2

    # an exported TorchScript embedder gives the set-level FAD
    class Tiny(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv1d(1, 4, kernel_size=400, stride=400)

        def forward(self, x):
            return self.conv(x[:, None])[0].T  # (frames, 4)

    ts = tmp_path / "tiny.ts"
    torch.jit.script(Tiny()).save(str(ts))
    assert run("torchscript", ts, "--embedder-sample-rate", "16000") == 0
    import json

    rep = json.loads(out.read_text())
    assert rep["set_metrics"]["fad"] >= 0 and "fad_infinity" in rep["set_metrics"]


def test_tiny_panns_cnn14_from_local_weights(tmp_path):
    torch.manual_seed(0)
    net = M.build_cnn14(width=1 / 32)
    # the published checkpoint nests the state dict under "model" and carries STFT buffers
    state = {
        "model": {**net.state_dict(), "spectrogram_extractor.stft.conv_real.weight": torch.zeros(3)}
    }
    path = tmp_path / "cnn14_tiny.pth"
    torch.save(state, path)
    m = M.PANNsCnn14(path, width=1 / 32)
    y, sr = _audio(2.0)
    e = m.embed(y, sr)
    p = m.classify(y, sr)
    assert e.shape == (1, 64) and p.shape == (1, 527)
    assert np.all((p > 0) & (p < 1))
    assert np.array_equal(e, M.PANNsCnn14(path, width=1 / 32).embed(y, sr))
    short, _ = _audio(0.2)
    assert m.embed(short, sr).shape == (1, 64)  # padded to the minimum length
    with pytest.raises(InputError, match="not CNN14 weights"):
        M.PANNsCnn14(path, width=1 / 16)
    with pytest.raises(InputError, match="never downloads"):
        M.load_embedder("panns", tmp_path / "absent.pth")


def test_eval_with_panns_gives_fad_is_and_kl(tmp_path):

    from v2m.evaluation import evaluate_files

    torch.manual_seed(0)
    w = tmp_path / "cnn14_tiny.pth"
    torch.save(M.build_cnn14(width=1 / 32).state_dict(), w)
    gen, ref = _noise_folders(tmp_path, seconds=2, sr=22050, seed=1)
    rep = evaluate_files(gen, reference=ref, embedder=M.PANNsCnn14(w, width=1 / 32))
    sm = rep.set_metrics
    assert sm["inception_score"] >= 1.0 and sm["kl_ref_gen"] >= 0 and "fad" in sm
    assert "| inception_score (whole set) |" in rep.to_markdown()


def test_a_file_that_is_not_a_checkpoint_is_a_clear_error(tmp_path):
    from v2m._cli import main

    fake = tmp_path / "w.pt"
    fake.write_text("not a checkpoint")
    import numpy as np
    import soundfile as sf

    sf.write(tmp_path / "g.wav", np.random.default_rng(0).standard_normal(48000) * 0.1, 48000)
    for emb in ("panns", "vggish"):
        rc = main(["eval", "--generated", str(tmp_path / "g.wav"), "--reference",
                   str(tmp_path / "g.wav"), "--embedder", emb, "--embedder-weights", str(fake),
                   "-o", str(tmp_path / f"{emb}.json")])  # fmt: skip
        assert rc == 2 and not (tmp_path / f"{emb}.json").exists()
