"""CLIP mood and scene tags per shot (tiny random CLIP from transformers' config classes)."""

import json
from types import SimpleNamespace

import numpy as np
import pytest

from v2m.analysis import semantics as S
from v2m.backends.prompt import prompt_for
from v2m.cuesheet import make_cue


def _tags(mood, scene, start, end):
    mp = [0.9 if m == mood else 0.1 / (len(S.MOODS) - 1) for m in S.MOODS]
    sp = [0.9 if s == scene else 0.1 / (len(S.SCENES) - 1) for s in S.SCENES]
    return {"start_s": start, "end_s": end, "mood_probs": mp, "scene_probs": sp}


def test_style_votes_weigh_shots_by_length():
    long_calm = _tags("calm", "nature landscape", 0, 20)
    short_party = _tags("happy", "party or concert", 20, 24)
    style, votes = S.suggest_style([long_calm, short_party])
    assert style == "ambient" and votes["ambient"] > votes["electronic"]
    style, _ = S.suggest_style([_tags("calm", "nature landscape", 0, 2),
                                _tags("epic", "sports", 2, 30)])  # fmt: skip
    assert style in ("cinematic", "electronic")
    assert S.suggest_style([]) == (None, {})
    assert S.tag_words([long_calm, short_party]) == ["calm", "nature landscape"]


def test_prompt_takes_the_tags():
    cue = make_cue(duration_s=30, tempo_bpm=80, style="ambient", key="C major", seed=0)
    shot = SimpleNamespace(start_s=0, end_s=30, valence=0.5, arousal=-0.5)
    tl = SimpleNamespace(shots=[shot], semantics=[_tags("mysterious", "snow", 0, 30)])
    text = prompt_for(cue, tl)
    assert "mysterious" in text and "evoking snow" in text and "peaceful" in text


torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory):
    import _tiny_models as tm

    return tm.save_clip(tmp_path_factory.mktemp("clip") / "clip")


def test_tags_equal_clip_called_directly(clip_dir):
    from synth import shot_image

    tagger = S.ClipTagger(clip_dir)
    imgs = [shot_image(1), shot_image(7)]
    tags = tagger.tag_images(imgs)
    model = transformers.CLIPModel.from_pretrained(clip_dir).eval()
    tok = transformers.AutoTokenizer.from_pretrained(clip_dir)
    proc = getattr(transformers, "CLIPImageProcessorPil", transformers.CLIPImageProcessor)
    px = proc.from_pretrained(clip_dir)(images=imgs, return_tensors="pt")
    text = tok([f"a photo that feels {m}" for m in S.MOODS], padding=True, return_tensors="pt")
    with torch.no_grad():
        want = model(**text, **px).logits_per_image.softmax(-1).numpy()
    for t, w in zip(tags, want, strict=True):
        np.testing.assert_allclose(t["mood_probs"], w, atol=1e-5)
        assert t["mood"][0][0] == S.MOODS[int(np.argmax(w))]
        assert sum(t["scene_probs"]) == pytest.approx(1.0, abs=1e-5)


def test_score_picks_the_style_from_clip(clip_dir, tmp_path):
    from synth import cuts_video

    from v2m.pipeline import score

    vid = cuts_video(tmp_path / "v.mp4", cut_frames=(30,), n_frames=75)
    rep = tmp_path / "r.json"
    res = score(vid, output=tmp_path / "m.mid", report=rep, clip_dir=clip_dir)
    r = json.loads(rep.read_text())
    sem = r["semantics"]
    assert len(sem["tags"]) == 2 and sem["style"] in {v for v in S.STYLE_VOTES.values()}
    assert res.projection.cue.style == sem["style"]
    res = score(vid, output=tmp_path / "m2.mid", clip_dir=clip_dir, style="folk")
    assert res.projection.cue.style == "folk"  # the user's choice wins
    with pytest.raises(Exception, match="never downloads"):
        score(vid, output=tmp_path / "m3.mid", clip_dir=tmp_path / "nothing")
