"""Evaluation protocols: each paper's metrics with every parameter stated.

A protocol computes per-item values from one system's output for an item (and the item's
reference music when the protocol needs one), then set-level values over all items.
:data:`PROTOCOLS` registers them; ``v2m bench --protocol NAME`` picks one.

================  =========================================================================
``symbolic``      muspy's set (Dong et al. 2020) on the generated MIDI: pitch and
                  pitch-class entropy, scale consistency, empty-beat rate, groove
                  consistency, ... (:mod:`v2m.metrics.symbolic`).
``diffbgm``       Diff-BGM (Li et al., CVPR 2024) on the generated MIDI: PCHE (pitch-class
                  histogram entropy), GPS (grooving pattern similarity), SI (MusDr's
                  structure indicator over 3-8, 8-15 and 15-128 s segments, on the MIDI
                  rendered by v2m).
``d2mgan``        D2M-GAN / CDCD (Zhu et al.): BCS = generated onset bins / reference onset
                  bins (can exceed 1), BHS = bins with an onset in both / reference onset
                  bins; librosa onsets at 22050 Hz, ``wait=1, delta=0.2, pre_avg=1,
                  post_avg=1, pre_max=1, post_max=1``, 1 bin a second.
``loris``         LORIS (Yu et al., ICML 2023, ``beats_scores.py``): BCS = bins with an
                  onset in both / generated onset bins, BHS as above, their F1, and over
                  the set CSD and HSD (the standard deviations of BCS and BHS, ddof 0);
                  onsets ``wait=1, delta=0.2, pre_avg=3, post_avg=3, pre_max=3,
                  post_max=3``, 1 bin a second.
``vidmuse``       V2M-bench (VidMuse, Tian et al., CVPR 2025): FAD between the generated and
                  the reference set on VGGish embeddings (audio resampled to 16 kHz, 0.96 s
                  patches, no final ReLU); KL on PaSST labels as AudioCraft computes it
                  (32 kHz, segments of the checkpoint's length, softmax of the logits,
                  ``KL(reference || generated)`` with eps 1e-6, mean over segment pairs);
                  and the ImageBind score (cosine similarity of the video's and the music's
                  ImageBind embeddings) reported raw and x100 (papers differ). Needs local
                  weights: ``vggish=PATH``, ``imagebind=PATH`` and, for KL, ``passt=PATH``.
================  =========================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._registry import Registry
from ..errors import InputError, ParameterError

PROTOCOLS: Registry[Protocol] = Registry("protocol")


@dataclass
class Outputs:
    """What a system produced for one item (paths that exist, or None)."""

    midi: str | None = None
    audio: str | None = None
    video: str | None = None  # the item's video, for the cross-modal metrics

    def need(self, kind: str, item_id: str, protocol: str) -> str:
        p = getattr(self, kind)
        if p is None:
            raise InputError(f"item {item_id}: no {kind} output, which protocol {protocol} needs")
        return p


@dataclass
class Metric:
    name: str
    label: str  # the column heading in the table, the paper's name
    higher_is_better: bool | None = True


class Protocol:
    """A paper's evaluation. Subclasses set ``name``, ``title``, ``params`` (every
    parameter, shown with the results), ``metrics`` (per-item) and ``set_metrics`` and
    implement :meth:`item`; :meth:`finish` computes set-level values."""

    name = ""
    title = ""
    needs_reference = False
    params: dict = {}
    metrics: tuple[Metric, ...] = ()
    set_metrics: tuple[Metric, ...] = ()
    #: What the protocol leaves out, and why (shown under the table).
    notes: tuple[str, ...] = ()

    def __init__(self, weights: dict[str, str] | None = None):
        self.weights = dict(weights or {})

    def item(self, item: dict, out: Outputs) -> dict[str, float]:
        raise NotImplementedError

    def finish(self, items: list[dict], outputs: dict[str, Outputs], results: dict) -> dict:
        """Set-level values over all evaluated items (``results``: id -> per-item values)."""
        return {}

    def describe(self) -> dict:
        return {
            "name": self.name,
            "title": self.title,
            "params": self.params,
            "metrics": [m.name for m in self.metrics],
            "set_metrics": [m.name for m in self.set_metrics],
            "notes": list(self.notes),
        }


def _reference(item: dict, protocol: str) -> str:
    ref = item.get("audio")
    if not ref:
        raise InputError(
            f"item {item['id']}: no reference audio in the dataset copy, which protocol "
            f"{protocol} compares against"
        )
    return ref


@PROTOCOLS.register
class Symbolic(Protocol):
    name = "symbolic"
    title = "muspy's objective metrics (Dong et al. 2020) on the generated MIDI"
    params = {
        "input": "generated MIDI",
        "measure_resolution": "ticks per bar from the file's first time signature",
        "grooving_pattern_similarity": "mean over consecutive bar pairs",
        "pitch_class_entropy_1bar/4bar": "mean over 1- and 4-bar windows",
    }
    metrics = (
        Metric("pitch_entropy", "PE"),
        Metric("pitch_class_entropy", "PCE"),
        Metric("scale_consistency", "SC"),
        Metric("empty_beat_rate", "EBR", None),
        Metric("groove_consistency", "GC"),
        Metric("grooving_pattern_similarity", "GPS"),
        Metric("average_ioi_s", "IOI (s)", None),
    )

    def item(self, item: dict, out: Outputs) -> dict[str, float]:
        from ..metrics import symbolic

        notes = symbolic.notes_from_midi(out.need("midi", item["id"], self.name))
        vals = symbolic.evaluate(notes)
        return {m.name: float(vals[m.name]) for m in self.metrics if m.name in vals}


@PROTOCOLS.register(aliases=("diff-bgm",))
class DiffBGM(Protocol):
    name = "diffbgm"
    title = "Diff-BGM (Li et al., CVPR 2024): PCHE, GPS, SI"
    params = {
        "input": "generated MIDI; SI on its rendering by v2m (44.1 kHz, default SoundFont)",
        "PCHE": "entropy (bits) of the duration-weighted pitch-class histogram",
        "GPS": "grooving pattern similarity over consecutive bars (muspy)",
        "SI": "MusDr structure indicator: largest fitness of the chroma self-similarity "
        "scape plot over segment lengths 3-8 s (short), 8-15 s (mid), 15-128 s (long)",
    }
    metrics = (
        Metric("pitch_class_entropy", "PCHE", None),
        Metric("grooving_pattern_similarity", "GPS"),
        Metric("si_short", "SI short"),
        Metric("si_mid", "SI mid"),
        Metric("si_long", "SI long"),
    )

    def item(self, item: dict, out: Outputs) -> dict[str, float]:
        from ..metrics import structure, symbolic
        from ..rendering.cache import render_mix

        midi = out.need("midi", item["id"], self.name)
        notes = symbolic.notes_from_midi(midi)
        vals = {
            "pitch_class_entropy": symbolic.pitch_class_entropy(notes),
            "grooving_pattern_similarity": symbolic.evaluate(notes)["grooving_pattern_similarity"],
        }
        try:
            vals.update(structure.evaluate(*render_mix(midi, sample_rate=44100)))
        except ParameterError:
            pass  # too long for the scape plot: SI left out of this item
        return {k: float(v) for k, v in vals.items()}


def _onset_scores(item: dict, out: Outputs, protocol: str, variant: str) -> dict[str, float]:
    from ..evaluation import onset_scores

    gen = Path(out.need("audio", item["id"], protocol))
    return onset_scores(gen, Path(_reference(item, protocol)), variant=variant)


@PROTOCOLS.register(aliases=("d2m-gan", "cdcd"))
class D2MGAN(Protocol):
    name = "d2mgan"
    title = "D2M-GAN / CDCD (Zhu et al. 2022, 2023): BCS, BHS"
    needs_reference = True
    params = {
        "sample_rate_hz": 22050,
        "onsets": "librosa.onset.onset_detect(wait=1, delta=0.2, pre_avg=1, post_avg=1, "
        "pre_max=1, post_max=1)",
        "bins_per_s": 1,
        "BCS": "generated onset bins / reference onset bins (can exceed 1)",
        "BHS": "bins with an onset in both / reference onset bins",
        "reference": "the item's own music, cut to the generated length",
    }
    metrics = (Metric("bcs_d2mgan", "BCS"), Metric("bhs_d2mgan", "BHS"))

    def item(self, item: dict, out: Outputs) -> dict[str, float]:
        return _onset_scores(item, out, self.name, "d2mgan")


@PROTOCOLS.register
class LORIS(Protocol):
    name = "loris"
    title = "LORIS (Yu et al., ICML 2023): BCS, CSD, BHS, HSD, F1"
    needs_reference = True
    params = {
        "sample_rate_hz": 22050,
        "onsets": "librosa.onset.onset_detect(wait=1, delta=0.2, pre_avg=3, post_avg=3, "
        "pre_max=3, post_max=3)",
        "bins_per_s": 1,
        "BCS": "bins with an onset in both / generated onset bins",
        "BHS": "bins with an onset in both / reference onset bins",
        "F1": "2 BCS BHS / (BCS + BHS) per item",
        "CSD, HSD": "standard deviation (ddof 0) of BCS and BHS over the items",
        "reference": "the item's own music, cut to the generated length",
    }
    metrics = (
        Metric("bcs_loris", "BCS"),
        Metric("bhs_loris", "BHS"),
        Metric("beats_f1_loris", "F1"),
    )
    set_metrics = (Metric("csd", "CSD", False), Metric("hsd", "HSD", False))

    def item(self, item: dict, out: Outputs) -> dict[str, float]:
        return _onset_scores(item, out, self.name, "loris")

    def finish(self, items, outputs, results) -> dict:
        out = {}
        for key, name in (("bcs_loris", "csd"), ("bhs_loris", "hsd")):
            v = np.array([r[key] for r in results.values() if key in r], float)
            v = v[np.isfinite(v)]
            if v.size:
                out[name] = float(np.std(v))
        return out


@PROTOCOLS.register(aliases=("v2m-bench",))
class VidMuse(Protocol):
    name = "vidmuse"
    title = "V2M-bench (VidMuse, Tian et al. 2025): FAD (VGGish), KL (PaSST), ImageBind score"
    needs_reference = True
    params = {
        "FAD": "Frechet distance of VGGish embeddings (16 kHz, 0.96 s patches, 128-d, no "
        "final ReLU) of all generated vs all reference music",
        "KL": "AudioCraft's PasstKLDivergenceMetric: audio at 32 kHz cut into segments of "
        "the PaSST checkpoint's length (10/20/30 s; segments <= 0.15 s dropped), softmax of "
        "the 527 AudioSet logits per segment, sum(p_ref (log p_ref - log(p_gen + 1e-6))) per "
        "segment pair; per item the mean over its pairs, over the set the mean over all pairs",
        "ImageBind score": "cosine similarity of ImageBind video and audio embeddings; "
        "reported raw and x100",
        "reference": "the item's own music, cut to the generated length (KL)",
        "weights": "vggish=PATH (a VGGish state dict), imagebind=PATH (imagebind_huge.pth), "
        "passt=PATH (a PaSST checkpoint, e.g. passt-s-f128-20sec-p16-s10-ap474-swa.pt)",
    }
    metrics = (
        Metric("kl_passt", "KL", False),
        Metric("imagebind_score", "IB"),
        Metric("imagebind_score_x100", "IB x100"),
    )
    set_metrics = (
        Metric("fad_vggish", "FAD", False),
        Metric("kl_passt_pairs", "KL (pairs)", False),
    )

    def __init__(self, weights=None):
        super().__init__(weights)
        missing = [k for k in ("vggish", "imagebind") if k not in self.weights]
        if missing:
            raise ParameterError(
                "protocol vidmuse needs local weights: "
                + ", ".join(f"--weights {k}=PATH" for k in missing)
                + " (v2m never downloads them)"
            )
        if "passt" not in self.weights:
            self.notes = ("KL on PaSST labels not computed: no --weights passt=PATH given.",)
        self._ib = None
        self._vggish = None
        self._passt = None

    def _imagebind(self):
        if self._ib is None:
            from ..metrics.imagebind import ImageBind

            self._ib = ImageBind(self.weights["imagebind"])
        return self._ib

    def _kl(self, item: dict, gen: str) -> dict[str, float]:
        from ..evaluation import load_audio
        from ..metrics.passt import PASST_SR, PaSST, kl_segments

        if self._passt is None:
            self._passt = PaSST(self.weights["passt"])
        yg, _ = load_audio(Path(gen), sample_rate=PASST_SR)
        yr, _ = load_audio(Path(_reference(item, self.name)), sample_rate=PASST_SR)
        pg = self._passt.classify(yg, PASST_SR)
        pr = self._passt.classify(yr[: yg.size], PASST_SR)
        kl = kl_segments(pg, pr)
        if not kl.size:
            return {}
        return {"kl_passt": float(kl.mean()), "passt_segments": float(kl.size)}

    def item(self, item: dict, out: Outputs) -> dict[str, float]:
        from ..evaluation import AUDIO_SR, load_audio

        video = out.need("video", item["id"], self.name)
        audio = out.need("audio", item["id"], self.name)
        y, _ = load_audio(Path(audio))
        ib = self._imagebind()
        s = float(ib.video_audio_score(ib.embed_video(video), ib.embed(y, AUDIO_SR)))
        vals = {"imagebind_score": s, "imagebind_score_x100": 100.0 * s}
        if "passt" in self.weights:
            vals.update(self._kl(item, audio))
        return vals

    def finish(self, items, outputs, results) -> dict:
        from ..evaluation import AUDIO_SR, load_audio
        from ..metrics import embedding
        from ..metrics.embedders import VGGish

        out = {}
        pairs = [(r["kl_passt"], r["passt_segments"]) for r in results.values() if "kl_passt" in r]
        if pairs:  # AudioCraft's aggregate: every segment pair weighs the same
            kl, n = np.array(pairs, float).T
            out["kl_passt_pairs"] = float((kl * n).sum() / n.sum())
        if self._vggish is None:
            self._vggish = VGGish(self.weights["vggish"], width=None)
        gen, ref = [], []
        for it in items:
            o = outputs.get(it["id"])
            if it["id"] not in results or o is None or not o.audio or not it.get("audio"):
                continue
            gen.append(self._vggish.embed(load_audio(Path(o.audio))[0], AUDIO_SR))
            ref.append(self._vggish.embed(load_audio(Path(it["audio"]))[0], AUDIO_SR))
        if len(gen) < 1 or sum(g.shape[0] for g in gen) < 2:
            return out
        vals = embedding.evaluate(generated=np.concatenate(gen), reference=np.concatenate(ref))
        out["fad_vggish"] = float(vals["frechet_distance"])
        return out


def describe_all() -> str:
    """One line per protocol: its name and title."""
    return "\n".join(f"{n}: {PROTOCOLS.get_class(n).title}" for n in PROTOCOLS.names())
