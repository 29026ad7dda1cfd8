"""Zero-shot mood and scene tags per shot from a local CLIP model (optional).

CLIP (Radford et al. 2021) scores each shot's thumbnail against short captions ("a photo
that feels calm", "a photo of a city street"); the softmax over each vocabulary gives the
shot's mood and scene. The tags feed the style choice (when the user gave none) and the
text prompt of the neural backends, the way Mozart's Touch and MTM turn pictures into
words for a music model. The model is ``transformers``' ``CLIPModel`` with its tokenizer
and image processor, from a folder written by ``save_pretrained`` (e.g. a local copy of
``openai/clip-vit-base-patch32``), never downloaded. Thumbnails are the analysis's own
(at most 128 pixels wide), so no second decode pass is needed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._deps import require
from ..errors import InputError

__all__ = ["MOODS", "SCENES", "STYLE_VOTES", "ClipTagger", "suggest_style", "tag_words"]

MOODS = ("happy", "sad", "tense", "calm", "epic", "romantic", "mysterious", "playful")
SCENES = (
    "nature landscape", "city street", "ocean or beach", "sports", "party or concert",
    "people talking", "animals", "food", "night sky", "snow",
)  # fmt: skip
#: Which v2m style a tag votes for (tags not listed do not vote).
STYLE_VOTES = {
    "epic": "cinematic", "tense": "cinematic", "mysterious": "ambient", "calm": "ambient",
    "nature landscape": "ambient", "night sky": "ambient", "snow": "piano", "sad": "piano",
    "romantic": "piano", "happy": "pop", "playful": "pop", "sports": "electronic",
    "party or concert": "electronic", "city street": "lofi", "food": "lofi",
    "people talking": "lofi", "ocean or beach": "folk", "animals": "folk",
}  # fmt: skip


def _captions(kind: str, labels) -> list[str]:
    return [f"a photo that feels {w}" if kind == "mood" else f"a photo of {w}" for w in labels]


class ClipTagger:
    """CLIP zero-shot tagger from a local folder.

    Parameters
    ----------
    model_dir : path
        ``CLIPModel`` weights, tokenizer and image processor (``save_pretrained`` layout).
    """

    def __init__(self, model_dir: str | Path, *, device: str = "auto"):
        torch = require("torch", purpose="CLIP tags")
        transformers = require("transformers", purpose="CLIP tags")
        from .._models import device as pick_device
        from .._models import model_folder, offline

        p = model_folder(model_dir, "CLIP", "openai/clip-vit-base-patch32", option="--clip-dir")
        offline()
        try:
            self.model = transformers.CLIPModel.from_pretrained(p, local_files_only=True).eval()
            self.tok = transformers.AutoTokenizer.from_pretrained(p, local_files_only=True)
            self.images = transformers.CLIPImageProcessor.from_pretrained(p, local_files_only=True)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{p}: not a CLIP model folder ({exc})") from None
        self.device = pick_device(device)
        self.model.to(self.device)
        self._torch = torch
        self._text = {}
        for kind, labels in (("mood", MOODS), ("scene", SCENES)):
            t = self.tok(_captions(kind, labels), padding=True, return_tensors="pt")
            with torch.no_grad():
                e = self._pooled(self.model.get_text_features(**t.to(self.device)))
            self._text[kind] = torch.nn.functional.normalize(e, dim=-1)

    def _pooled(self, out):
        torch = self._torch
        return out if isinstance(out, torch.Tensor) else out.pooler_output

    def tag_images(self, images_rgb: list[np.ndarray], *, top_k: int = 2) -> list[dict]:
        """Tags of RGB images (h, w, 3 uint8): per image ``{"mood": [(label, p), ...],
        "scene": [...]}``, the ``top_k`` labels of each vocabulary with their softmax
        probabilities (CLIP's logit scale applied to the cosine similarities)."""
        if not images_rgb:
            return []
        torch = self._torch
        px = self.images(images=list(images_rgb), return_tensors="pt").to(self.device)
        with torch.no_grad():
            img = self._pooled(self.model.get_image_features(**px))
            scale = self.model.logit_scale.exp()
        img = torch.nn.functional.normalize(img, dim=-1)
        out = [{} for _ in images_rgb]
        for kind, labels in (("mood", MOODS), ("scene", SCENES)):
            p = torch.softmax(scale * img @ self._text[kind].T, dim=-1).cpu().numpy()
            for i, row in enumerate(p):
                top = np.argsort(-row)[:top_k]
                out[i][kind] = [(labels[j], float(row[j])) for j in top]
                out[i][f"{kind}_probs"] = row.astype(float).tolist()
        return out

    def tag_timeline(self, timeline) -> list[dict]:
        """Tags per shot from the timeline's thumbnails (analyse with
        ``keep_thumbnails=True``): ``[{"start_s", "end_s", "mood", "scene", ...}]``."""
        from ..plotting import shot_thumbnail

        thumbs = getattr(timeline, "thumbnails", {}) or {}
        shots, imgs = [], []
        for s in timeline.shots:
            img = shot_thumbnail(thumbs, s.start_s, s.end_s)
            if img is not None:
                shots.append(s)
                imgs.append(np.ascontiguousarray(img[:, :, ::-1]))  # BGR -> RGB
        tags = self.tag_images(imgs)
        for s, t in zip(shots, tags, strict=True):
            t["start_s"], t["end_s"] = float(s.start_s), float(s.end_s)
        return tags


def _weighted(tags: list[dict], kind: str, labels) -> np.ndarray:
    total = np.zeros(len(labels))
    for t in tags:
        w = max(t.get("end_s", 1.0) - t.get("start_s", 0.0), 1e-3)
        total += w * np.asarray(t[f"{kind}_probs"], float)
    return total


def suggest_style(tags: list[dict]) -> tuple[str | None, dict[str, float]]:
    """The style the tags vote for (each tag's probability times its shot's length), and the
    votes; None without tags."""
    votes: dict[str, float] = {}
    if not tags:
        return None, votes
    for kind, labels in (("mood", MOODS), ("scene", SCENES)):
        for label, v in zip(labels, _weighted(tags, kind, labels), strict=True):
            if label in STYLE_VOTES:
                votes[STYLE_VOTES[label]] = votes.get(STYLE_VOTES[label], 0.0) + float(v)
    return max(votes, key=votes.get), votes


def tag_words(tags: list[dict]) -> list[str]:
    """The piece's strongest mood and scene (duration-weighted), as prompt words."""
    if not tags:
        return []
    out = []
    for kind, labels in (("mood", MOODS), ("scene", SCENES)):
        out.append(labels[int(np.argmax(_weighted(tags, kind, labels)))])
    return out
