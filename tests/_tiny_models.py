"""Tiny random neural models saved the way real ones are (``save_pretrained``), built from
the libraries' own config classes, for the tests of the neural backends."""

import json
from pathlib import Path

WORDS = (
    "a an the of in and with to from at no s bpm time major minor instrumental vocals "
    "music piano strings drums synth calm energetic happy sad tense peaceful uplifting "
    "melancholic quiet gentle driving intense section climax builds intro outro pop"
).split()


def save_tokenizer(path: Path) -> None:
    """A word-level tokenizer standing in for T5's SentencePiece one (unknown words map to
    <unk>; the prompt text itself is checked by the tests, not its tokenisation)."""
    import transformers as T
    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2, **{w: i + 3 for i, w in enumerate(WORDS)}}
    tk = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tk.pre_tokenizer = pre_tokenizers.Whitespace()
    tk.post_processor = processors.TemplateProcessing(
        single="$A </s>", special_tokens=[("</s>", 1)]
    )
    fast = T.PreTrainedTokenizerFast(
        tokenizer_object=tk,
        pad_token="<pad>",
        eos_token="</s>",
        unk_token="<unk>",
        model_max_length=128,
    )
    fast.save_pretrained(path)


def _parts(codebook_size=64):
    import transformers as T

    text = T.T5Config(
        vocab_size=len(WORDS) + 3, d_model=16, d_kv=4, d_ff=32, num_layers=1, num_heads=2
    )
    audio = T.EncodecConfig(
        target_bandwidths=[1.5], sampling_rate=32000, audio_channels=1, num_filters=4,
        hidden_size=8, codebook_size=codebook_size, upsampling_ratios=[8, 5, 4, 4],
        codebook_dim=8, num_lstm_layers=1,
    )  # fmt: skip
    return text, audio


def save_musicgen(path: Path, *, melody: bool = False, seed: int = 0) -> Path:
    """A tiny random MusicGen (or MusicGen-Melody) in ``path``: 32 kHz, 50 frames/s."""
    import torch
    import transformers as T

    torch.manual_seed(seed)
    text, audio = _parts()
    k = 64
    dec_kw = dict(
        vocab_size=k, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, ffn_dim=32,
        num_codebooks=audio.num_quantizers, max_position_embeddings=4096, pad_token_id=k,
        bos_token_id=k,
    )  # fmt: skip
    if melody:
        dec = T.MusicgenMelodyDecoderConfig(**dec_kw)
        cfg = T.MusicgenMelodyConfig(
            text_encoder=text.to_dict(), audio_encoder=audio.to_dict(), decoder=dec.to_dict(),
            num_chroma=12, chroma_length=235,
        )  # fmt: skip
        model = T.MusicgenMelodyForConditionalGeneration(cfg)
        # the feature extractor's config as the published folder has it (the class itself
        # needs torchaudio, which v2m does not use: our chroma comes from the score)
        path.mkdir(parents=True, exist_ok=True)
        (path / "preprocessor_config.json").write_text(json.dumps({
            "chunk_length": 30, "feature_extractor_type": "MusicgenMelodyFeatureExtractor",
            "feature_size": 12, "hop_length": 4096, "n_fft": 16384, "num_chroma": 12,
            "padding_side": "left", "padding_value": 0.0, "return_attention_mask": True,
            "sampling_rate": 32000, "stem_indices": [3, 2],
        }))  # fmt: skip
    else:
        dec = T.MusicgenDecoderConfig(**dec_kw)
        cfg = T.MusicgenConfig(
            text_encoder=text.to_dict(), audio_encoder=audio.to_dict(), decoder=dec.to_dict()
        )
        model = T.MusicgenForConditionalGeneration(cfg)
    with torch.no_grad():  # EnCodec's codebooks start as zeros (learnt): make codes audible
        for layer in model.audio_encoder.quantizer.layers:
            layer.codebook.embed.normal_()
    g = model.generation_config
    g.decoder_start_token_id, g.pad_token_id, g.do_sample, g.guidance_scale = k, k, True, 3.0
    model.save_pretrained(path)
    save_tokenizer(path)
    return path


def save_stable_audio(path: Path, *, seed: int = 0) -> Path:
    """A tiny random Stable Audio pipeline (diffusers) in ``path``: 44.1 kHz stereo."""
    import diffusers as D
    import torch
    import transformers as T

    torch.manual_seed(seed)
    vae = D.AutoencoderOobleck(
        encoder_hidden_size=4, downsampling_ratios=[4, 8, 8, 8], channel_multiples=[1, 1, 2, 2],
        decoder_channels=6, decoder_input_channels=4, audio_channels=2, sampling_rate=44100,
    )  # fmt: skip
    text_dim, cond_dim = 16, 8
    text = T.T5EncoderModel(
        T.T5Config(
            vocab_size=len(WORDS) + 3,
            d_model=text_dim,
            d_kv=4,
            d_ff=32,
            num_layers=1,
            num_heads=2,
        )  # fmt: skip
    )
    proj = D.StableAudioProjectionModel(
        text_encoder_dim=text_dim, conditioning_dim=cond_dim, min_value=0, max_value=64
    )
    dit = D.StableAudioDiTModel(
        sample_size=64, in_channels=4, num_layers=1, attention_head_dim=4,
        num_attention_heads=2, num_key_value_attention_heads=2, out_channels=4,
        cross_attention_dim=4, time_proj_dim=8, global_states_input_dim=2 * cond_dim,
        cross_attention_input_dim=cond_dim,
    )  # fmt: skip
    sched = D.CosineDPMSolverMultistepScheduler(
        solver_order=2, prediction_type="v_prediction", sigma_data=1.0, sigma_min=0.3,
        sigma_max=500.0, sigma_schedule="exponential",
    )  # fmt: skip
    path.mkdir(parents=True, exist_ok=True)
    save_tokenizer(path / "tokenizer")
    tok = T.PreTrainedTokenizerFast.from_pretrained(path / "tokenizer")
    pipe = D.StableAudioPipeline(
        vae=vae, text_encoder=text, projection_model=proj, tokenizer=tok, transformer=dit,
        scheduler=sched,
    )  # fmt: skip
    pipe.save_pretrained(path)
    return path


def save_clip(path: Path, *, seed: int = 0) -> Path:
    """A tiny random CLIP (transformers) with tokenizer and image processor in ``path``."""
    import torch
    import transformers as T

    torch.manual_seed(seed)
    cfg = T.CLIPConfig(
        text_config=dict(
            vocab_size=len(WORDS) + 3, hidden_size=16, intermediate_size=32,
            num_hidden_layers=1, num_attention_heads=2, max_position_embeddings=32,
            eos_token_id=1, pad_token_id=0, bos_token_id=0,
        ),
        vision_config=dict(
            image_size=32, patch_size=8, hidden_size=16, intermediate_size=32,
            num_hidden_layers=1, num_attention_heads=2,
        ),
        projection_dim=8,
    )  # fmt: skip
    T.CLIPModel(cfg).save_pretrained(path)
    T.CLIPImageProcessor(
        size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
    ).save_pretrained(path)
    save_tokenizer(path)
    return path
