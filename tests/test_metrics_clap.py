"""CLAP through transformers, with a tiny random model and tokenizer built here (offline)."""

import numpy as np
import pytest

from v2m import InputError, ParameterError
from v2m.metrics import embedders as M

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

CAPTIONS = ["a calm piano piece", "upbeat electronic dance music with drums", "sad strings"]


def tiny_clap(folder):
    """A randomly initialised CLAP (HTSAT audio tower, RoBERTa text tower) saved to
    ``folder`` with its feature extractor and a byte-level BPE tokenizer trained here."""
    bpe = tokenizers.ByteLevelBPETokenizer()
    bpe.train_from_iterator(
        CAPTIONS,
        vocab_size=300,
        min_frequency=1,
        special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
    )
    tok_dir = folder / "_bpe"
    tok_dir.mkdir(parents=True)
    bpe.save_model(str(tok_dir))
    tok = transformers.RobertaTokenizerFast(
        vocab=str(tok_dir / "vocab.json"), merges=str(tok_dir / "merges.txt")
    )
    text = transformers.ClapTextConfig(
        vocab_size=len(tok),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=80,
        projection_dim=16,
    )
    audio = transformers.ClapAudioConfig(
        hidden_size=16,
        patch_embeds_hidden_size=8,
        depths=[1, 1],
        num_attention_heads=[2, 2],
        window_size=8,
        spec_size=256,
        num_mel_bins=64,
        projection_dim=16,
    )
    cfg = transformers.ClapConfig(
        text_config=text.to_dict(), audio_config=audio.to_dict(), projection_dim=16
    )
    torch.manual_seed(0)
    model = transformers.ClapModel(cfg).eval()
    features = transformers.ClapFeatureExtractor(truncation="rand_trunc")
    transformers.ClapProcessor(feature_extractor=features, tokenizer=tok).save_pretrained(folder)
    model.save_pretrained(folder)
    return model


def _tone(seconds, sr=44100, f=440.0):
    t = np.arange(int(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * f * t)).astype(np.float32)


@pytest.fixture(scope="module")
def clap_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("tiny_clap")
    tiny_clap(d)
    return d


def test_audio_embeddings_per_window_unit_norm_deterministic(clap_dir):
    emb = M.ClapEmbedder(clap_dir)
    assert emb.sample_rate == 48000 and emb.window_s == 10
    a = emb.embed(_tone(25.0), 44100)  # 10 + 10 + 5 s windows
    assert a.shape == (3, 16)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-6)
    b = M.ClapEmbedder(clap_dir).embed(_tone(25.0), 44100)
    assert np.array_equal(a, b)  # no random crop, weights from disk
    assert M.ClapEmbedder(clap_dir).embed(_tone(10.4), 44100).shape == (1, 16)  # 0.4 s tail dropped
    other = emb.embed(_tone(25.0, f=2500.0), 44100)
    assert not np.allclose(a, other)


def test_same_numbers_as_transformers_directly(clap_dir):
    model = transformers.ClapModel.from_pretrained(clap_dir, local_files_only=True).eval()
    proc = transformers.ClapProcessor.from_pretrained(clap_dir, local_files_only=True)
    y = _tone(4.0, sr=48000, f=660.0)
    with torch.no_grad():
        feats = proc.feature_extractor([y], sampling_rate=48000, return_tensors="pt")
        out = model.get_audio_features(**feats)
        ref = out if isinstance(out, torch.Tensor) else out.pooler_output
        tok = proc.tokenizer(CAPTIONS[:1], padding=True, return_tensors="pt")
        tout = model.get_text_features(**tok)
        tref = tout if isinstance(tout, torch.Tensor) else tout.pooler_output
    emb = M.ClapEmbedder(clap_dir)
    np.testing.assert_allclose(emb.embed(y, 48000), ref.numpy(), atol=1e-6)
    np.testing.assert_allclose(emb.embed_text(CAPTIONS[:1]), tref.numpy(), atol=1e-6)
    score = emb.text_audio_score(y, 48000, CAPTIONS[0])
    assert score == pytest.approx(float(ref.numpy()[0] @ tref.numpy()[0]), abs=1e-6)
    assert -1 <= score <= 1


def test_text_embeddings_and_errors(clap_dir, tmp_path):
    emb = M.ClapEmbedder(clap_dir)
    t = emb.embed_text(CAPTIONS)
    assert t.shape == (3, 16)
    assert not np.allclose(t[0], t[1])
    with pytest.raises(ParameterError):
        emb.embed_text("not a list")
    with pytest.raises(InputError, match="never downloads"):
        M.ClapEmbedder(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="not a CLAP model directory"):
        M.ClapEmbedder(tmp_path / "empty")


def test_eval_cli_clap_score_and_fad(clap_dir, tmp_path):
    import json

    import soundfile as sf

    from v2m._cli import main

    gen, ref = tmp_path / "gen", tmp_path / "ref"
    gen.mkdir()
    ref.mkdir()
    for i, f in enumerate((300.0, 500.0, 800.0)):
        sf.write(gen / f"p{i}.wav", _tone(3.0, f=f), 44100)
        sf.write(ref / f"p{i}.wav", _tone(3.0, f=f * 1.5), 44100)
    caps = tmp_path / "captions.json"
    caps.write_text(json.dumps({"p0": CAPTIONS[0], "p1": CAPTIONS[1]}))
    out = tmp_path / "r.json"
    args = ["eval", "--generated", str(gen), "--reference", str(ref), "-o", str(out)]
    clap = ["--embedder", "clap", "--embedder-weights", str(clap_dir)]
    assert main([*args, "--captions", str(caps)]) == 2  # captions need --embedder clap
    assert main([*args, *clap, "--captions", str(caps), "--metrics", "clap_score"]) == 0
    rep = json.loads(out.read_text())
    files = {k.split("/")[-1]: v for k, v in rep["files"].items()}
    emb = M.ClapEmbedder(clap_dir)
    for stem in ("p0", "p1"):
        y = _tone(3.0, f={"p0": 300.0, "p1": 500.0}[stem])
        expected = emb.text_audio_score(y, 44100, CAPTIONS[int(stem[1])])
        assert files[f"{stem}.wav"]["clap_score"] == pytest.approx(expected, abs=0.02)
    assert "clap_score" not in files["p2.wav"]  # no caption, no score
    assert rep["set_metrics"]["fad"] > 0  # FAD on CLAP embeddings
