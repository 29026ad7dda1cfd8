"""Embedding-based metrics on an embedding-agnostic core.

Inputs are arrays of embeddings, shape (n_items, dim), or class probabilities, shape
(n_items, n_classes); which network made them (VGGish, PANNs, CLAP, ImageBind, ...) is the
caller's business.

``frechet_distance``
    ``|mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))`` between Gaussians fitted to two
    embedding sets (FAD on audio embeddings, FD on others).
``frechet_distance_infinity``
    FAD-infinity (Chong & Forsyth 2020, as used by Gui et al. 2024): the Frechet distance
    of random subsets of the generated set at ``n_points`` sizes between ``min_n`` and all
    items, fitted linearly against ``1 / n``; the intercept is the value for an infinite
    sample. Subsets are drawn with a seeded generator.
``kl_divergence``
    Mean over paired items of ``KL(P_reference || P_generated)`` (this direction: how badly
    the generated class distribution explains the reference one), in nats, with
    probabilities clipped to ``eps``.
``inception_score``
    ``exp(E_x KL(p(y|x) || p(y)))`` over ``splits`` splits (mean and standard deviation).
``cosine_similarity``
    Mean cosine similarity of paired rows (CLAP / ImageBind scores multiply it by 100).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ParameterError

__all__ = [
    "validate",
    "gaussian_stats",
    "frechet_distance",
    "frechet_distance_from_embeddings",
    "frechet_distance_infinity",
    "kl_divergence",
    "inception_score",
    "cosine_similarity",
    "evaluate",
]


def validate(*arrays: np.ndarray, same_dim: bool = True) -> None:
    """Each array must be 2-d and finite; with ``same_dim`` they must share the width."""
    dims = set()
    for i, a in enumerate(arrays):
        a = np.asarray(a)
        if a.ndim != 2:
            raise ParameterError(f"argument {i}: expected shape (n_items, dim), got {a.shape}")
        if not np.all(np.isfinite(a)):
            raise ParameterError(f"argument {i}: contains NaN or infinity")
        dims.add(a.shape[1])
    if same_dim and len(dims) > 1:
        raise ParameterError(f"embedding widths differ: {sorted(dims)}")


def gaussian_stats(emb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (dim,) and covariance (dim, dim) of embeddings (n, dim)."""
    e = np.asarray(emb, np.float64)
    if e.shape[0] < 2:
        raise ParameterError(f"need at least 2 embeddings for a covariance, got {e.shape[0]}")
    return e.mean(axis=0), np.cov(e, rowvar=False)


def frechet_distance(mu_a, sigma_a, mu_b, sigma_b, *, eps: float = 1e-6) -> float:
    """Frechet distance between N(mu_a, sigma_a) and N(mu_b, sigma_b)."""
    from scipy import linalg

    mu_a, mu_b = np.atleast_1d(mu_a).astype(float), np.atleast_1d(mu_b).astype(float)
    sa, sb = np.atleast_2d(sigma_a).astype(float), np.atleast_2d(sigma_b).astype(float)
    if mu_a.shape != mu_b.shape or sa.shape != sb.shape:
        raise ParameterError("mean and covariance shapes differ between the two sets")
    diff = mu_a - mu_b
    covmean, _ = linalg.sqrtm(sa @ sb, disp=False)
    if not np.all(np.isfinite(covmean)):
        off = np.eye(sa.shape[0]) * eps
        covmean = linalg.sqrtm((sa + off) @ (sb + off))
    covmean = np.real(covmean)
    return float(diff @ diff + np.trace(sa) + np.trace(sb) - 2 * np.trace(covmean))


def frechet_distance_from_embeddings(emb_a: np.ndarray, emb_b: np.ndarray) -> float:
    validate(emb_a, emb_b)
    return frechet_distance(*gaussian_stats(emb_a), *gaussian_stats(emb_b))


def frechet_distance_infinity(
    gen: np.ndarray, ref: np.ndarray, *, n_points: int = 15, min_n: int | None = None, seed: int = 0
) -> float:
    """FAD-infinity: extrapolate the Frechet distance to an infinite generated sample."""
    validate(gen, ref)
    gen = np.asarray(gen, float)
    n = gen.shape[0]
    min_n = min_n or max(gen.shape[1] + 2, n // 4, 2)
    if n <= min_n:
        raise ParameterError(f"FAD-infinity needs more than {min_n} generated items, got {n}")
    mu_r, s_r = gaussian_stats(ref)
    rng = np.random.default_rng(seed)
    sizes = np.unique(np.linspace(min_n, n, n_points).astype(int))
    fd = []
    for k in sizes:
        sub = gen[rng.choice(n, size=k, replace=False)]
        fd.append(frechet_distance(*gaussian_stats(sub), mu_r, s_r))
    slope, intercept = np.polyfit(1.0 / sizes, np.array(fd), 1)
    return float(intercept)


def kl_divergence(p_reference: np.ndarray, p_generated: np.ndarray, *, eps: float = 1e-6) -> float:
    """Mean KL(P_reference || P_generated) over paired rows of class probabilities."""
    validate(p_reference, p_generated)
    p = np.clip(np.asarray(p_reference, float), eps, 1.0)
    q = np.clip(np.asarray(p_generated, float), eps, 1.0)
    if p.shape != q.shape:
        raise ParameterError(f"shapes differ: {p.shape} vs {q.shape}")
    p /= p.sum(axis=1, keepdims=True)
    q /= q.sum(axis=1, keepdims=True)
    return float(np.mean(np.sum(p * np.log(p / q), axis=1)))


def inception_score(
    probs: np.ndarray, *, splits: int = 1, eps: float = 1e-12
) -> tuple[float, float]:
    """Inception score (mean, std over ``splits``) from class probabilities (n, classes)."""
    validate(probs)
    p = np.asarray(probs, float)
    if splits < 1 or splits > p.shape[0]:
        raise ParameterError(f"splits={splits}: must be in 1..{p.shape[0]}")
    scores = []
    for part in np.array_split(p, splits):
        py = part.mean(axis=0, keepdims=True)
        kl = np.sum(part * (np.log(part + eps) - np.log(py + eps)), axis=1)
        scores.append(math.exp(float(kl.mean())))
    return float(np.mean(scores)), float(np.std(scores))


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Mean cosine similarity of paired rows of ``a`` and ``b``."""
    validate(a, b)
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape:
        raise ParameterError(f"shapes differ: {a.shape} vs {b.shape}")
    na = np.linalg.norm(a, axis=1)
    nb = np.linalg.norm(b, axis=1)
    return float(np.mean(np.sum(a * b, axis=1) / np.maximum(na * nb, 1e-12)))


def evaluate(*, generated: np.ndarray, reference: np.ndarray, seed: int = 0) -> dict:
    """Frechet distance and FAD-infinity between two embedding sets."""
    out = {"frechet_distance": frechet_distance_from_embeddings(generated, reference)}
    try:
        out["frechet_distance_infinity"] = frechet_distance_infinity(
            generated, reference, seed=seed
        )
    except ParameterError:
        out["frechet_distance_infinity"] = math.nan
    return out
