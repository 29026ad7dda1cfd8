"""ImageBind towers: the Kaldi front end against kaldi-native-fbank, and tiny random
towers in the published checkpoint's layout (no downloads)."""

import numpy as np
import pytest
from synth import cuts_video, shot_image

from v2m import InputError
from v2m.metrics import imagebind as IB

torch = pytest.importorskip("torch")

TINY = {
    "vision_dim": 32,
    "vision_blocks": 2,
    "vision_heads": 2,
    "audio_dim": 24,
    "audio_blocks": 2,
    "audio_heads": 2,
    "out_dim": 16,
}


def _audio(seconds, sr=44100, f=440.0, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * f * t) + 0.02 * rng.standard_normal(t.size)).astype(np.float32)


def test_kaldi_fbank_equals_kaldi_native_fbank():
    knf = pytest.importorskip("kaldi_native_fbank")
    for bins in (40, 80):  # Kaldi itself refuses 128 bins at 16 kHz (empty low triangles)
        opts = knf.FbankOptions()
        opts.frame_opts.dither = 0
        opts.frame_opts.samp_freq = 16000
        opts.frame_opts.window_type = "hanning"
        opts.mel_opts.num_bins = bins
        opts.mel_opts.low_freq = 20
        opts.mel_opts.high_freq = 0
        opts.use_energy = False
        y = _audio(2.0, sr=16000, seed=bins)
        fb = knf.OnlineFbank(opts)
        fb.accept_waveform(16000, y.tolist())
        fb.input_finished()
        ref = np.array([fb.get_frame(i) for i in range(fb.num_frames_ready)])
        ours = IB.kaldi_fbank(y, n_mels=bins)
        assert ours.shape == ref.shape == (198, bins)
        np.testing.assert_allclose(ours, ref, rtol=0, atol=5e-4)
    # with 128 bins (ImageBind's) the empty low triangles give log(float32 eps), as in torchaudio
    fb128 = IB.kaldi_fbank(_audio(1.0, sr=16000))
    empty = np.all(fb128 == np.float32(np.log(np.finfo(np.float32).eps)), axis=0)
    assert 0 < empty.sum() < 20 and not empty[-64:].any()


def test_clip_sampling_and_audio_inputs():
    np.testing.assert_allclose(IB.clip_starts(10.0, n_clips=5), [0, 2, 4, 6, 8])
    np.testing.assert_allclose(IB.clip_starts(6.0, n_clips=3), [0, 2, 4])
    np.testing.assert_allclose(IB.clip_starts(1.0, n_clips=3), [0, 0, 0])
    x = IB.audio_inputs(_audio(7.0), 44100)
    assert x.shape == (3, 1, 128, 204) and x.dtype == np.float32
    short = IB.audio_inputs(_audio(0.5), 44100)  # padded with zeros past the audio
    assert short.shape == (3, 1, 128, 204)
    assert np.allclose(short[0, 0, :, 60:], -IB.AUDIO_MEAN / IB.AUDIO_STD)


def _tiny_checkpoint(tmp_path):
    torch.manual_seed(0)
    net = IB.build_imagebind(**TINY)
    state = net.state_dict()
    # the real checkpoint also carries other modalities and post-processors: ignored
    state["modality_trunks.text.blocks.0.norm_1.weight"] = torch.ones(8)
    state["modality_postprocessors.audio.1.log_logit_scale"] = torch.tensor(np.log(20.0))
    path = tmp_path / "imagebind_tiny.pth"
    torch.save(state, path)
    return path


def test_tiny_towers_embed_audio_video_and_images(tmp_path):
    path = _tiny_checkpoint(tmp_path)
    ib = IB.ImageBind(path, **TINY)
    a = ib.embed(_audio(6.0), 44100)
    assert a.shape == (3, 16)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-6)
    assert np.array_equal(a, IB.ImageBind(path, **TINY).embed(_audio(6.0), 44100))
    assert not np.allclose(a, ib.embed(_audio(6.0, f=3000.0), 44100))

    video = cuts_video(tmp_path / "cuts.mp4", cut_frames=(30, 70), n_frames=110)
    v = ib.embed_video(video)
    assert v.shape == (15, 16)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-6)
    # the three crops of one clip differ, and clips on either side of a cut differ
    assert not np.allclose(v[0], v[1]) and not np.allclose(v[0], v[-1])
    score = ib.video_audio_score(v, a)
    assert -1 <= score <= 1
    img = ib.embed_image(shot_image(3, w=320, h=180)[..., ::-1].copy())
    assert img.shape == (1, 16)


def test_video_inputs_follow_the_reference_sampling():
    frames = np.zeros((100, 120, 160, 3), np.uint8)
    frames[:, :, :, 0] = np.arange(100)[:, None, None]  # red channel = frame index
    times = np.arange(100) / 10.0  # 10 s at 10 fps
    x = IB.video_inputs(frames, times, 10.0)
    assert tuple(x.shape) == (15, 3, 2, 224, 224)
    red = x[:, 0, :, 112, 112].numpy() * IB.CLIP_STD[0] + IB.CLIP_MEAN[0]
    # clip k covers [2k, 2k + 2) s: its first and last frames are 20k and 20k + 19
    expected = np.repeat([[20 * k, 20 * k + 19] for k in range(5)], 3, axis=0) / 255
    np.testing.assert_allclose(red, expected, atol=2e-3)


def test_missing_or_mismatched_weights(tmp_path):
    with pytest.raises(InputError, match="never downloads"):
        IB.ImageBind(tmp_path / "imagebind_huge.pth")
    path = _tiny_checkpoint(tmp_path)
    with pytest.raises(InputError, match="not ImageBind weights"):
        IB.ImageBind(path, **{**TINY, "audio_dim": 48, "audio_heads": 2})


def test_eval_cli_imagebind_score(tmp_path):
    import json

    import soundfile as sf

    from v2m._cli import main

    path = _tiny_checkpoint(tmp_path)
    gen, vids = tmp_path / "gen", tmp_path / "videos"
    gen.mkdir()
    vids.mkdir()
    sf.write(gen / "clip.wav", _audio(4.4), 44100)
    cuts_video(vids / "clip.mp4", cut_frames=(30, 70), n_frames=110)
    out = tmp_path / "r.json"
    args = ["eval", "--generated", str(gen), "--videos", str(vids), "-o", str(out)]
    ib = ["--embedder", "imagebind", "--embedder-weights", str(path)]
    assert main([*args, *ib, "--metrics", "imagebind_score"]) == 0
    score = json.loads(out.read_text())["files"][str(gen / "clip.wav")]["imagebind_score"]
    model = IB.ImageBind(path)  # sizes read from the checkpoint
    from v2m.evaluation import AUDIO_SR, load_audio

    y, _ = load_audio(gen / "clip.wav")
    expected = model.video_audio_score(
        model.embed_video(vids / "clip.mp4"), model.embed(y, AUDIO_SR)
    )
    assert score == pytest.approx(expected, abs=1e-9)
