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
    """Check embeddings or probabilities: each 2-d and finite; with ``same_dim`` one width.

    Parameters
    ----------
    *arrays : np.ndarray, shape (n_items, dim)
    same_dim : bool
        Require every array to have the same ``dim``.

    Raises
    ------
    ParameterError
        Naming the argument and the problem.

    Examples
    --------
    >>> validate(np.zeros((3, 4)), np.ones((5, 4)))
    >>> validate(np.zeros((3, 4)), np.ones((5, 2)))
    Traceback (most recent call last):
    ...
    v2m.errors.ParameterError: embedding widths differ: [2, 4]
    """
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
    """Mean and covariance of an embedding set (the Gaussian a Frechet distance compares).

    Parameters
    ----------
    emb : np.ndarray, shape (n, dim)
        At least two embeddings.

    Returns
    -------
    mu : np.ndarray, shape (dim,)
    sigma : np.ndarray, shape (dim, dim)
        Unbiased covariance (``np.cov``).

    Examples
    --------
    >>> mu, sigma = gaussian_stats(np.array([[0.0, 1.0], [2.0, 3.0]]))
    >>> mu.tolist(), sigma.tolist()
    ([1.0, 2.0], [[2.0, 2.0], [2.0, 2.0]])
    """
    e = np.asarray(emb, np.float64)
    if e.shape[0] < 2:
        raise ParameterError(f"need at least 2 embeddings for a covariance, got {e.shape[0]}")
    return e.mean(axis=0), np.cov(e, rowvar=False)


def frechet_distance(mu_a, sigma_a, mu_b, sigma_b, *, eps: float = 1e-6) -> float:
    """Frechet distance between two Gaussians (FAD when they describe audio embeddings).

    Parameters
    ----------
    mu_a, mu_b : array-like, shape (dim,)
    sigma_a, sigma_b : array-like, shape (dim, dim)
    eps : float
        Added to the diagonals when the matrix square root is not finite.

    Returns
    -------
    float
        ``|mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))``, >= 0 (lower is better).

    Examples
    --------
    >>> frechet_distance(np.zeros(2), np.eye(2), np.ones(2), np.eye(2))
    2.0
    """
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
    """Frechet distance between Gaussians fitted to two embedding sets.

    Parameters
    ----------
    emb_a, emb_b : np.ndarray, shape (n, dim), (m, dim)

    Returns
    -------
    float
        :func:`frechet_distance` of their :func:`gaussian_stats` (lower is better).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(size=(2000, 2)), rng.normal(1.0, 1.0, size=(2000, 2))
    >>> fd = frechet_distance_from_embeddings(a, b)  # 2 in theory: |mu_a - mu_b|^2
    >>> 1.9 < fd < 2.3
    True
    """
    validate(emb_a, emb_b)
    return frechet_distance(*gaussian_stats(emb_a), *gaussian_stats(emb_b))


def frechet_distance_infinity(
    gen: np.ndarray, ref: np.ndarray, *, n_points: int = 15, min_n: int | None = None, seed: int = 0
) -> float:
    """FAD-infinity: the Frechet distance extrapolated to an infinite generated sample.

    Parameters
    ----------
    gen, ref : np.ndarray, shape (n, dim), (m, dim)
        Generated and reference embeddings.
    n_points : int
        Subset sizes between ``min_n`` and ``n``.
    min_n : int, optional
        Smallest subset (default ``max(dim + 2, n // 4, 2)``).
    seed : int
        Seed of the subsets' generator.

    Returns
    -------
    float
        The intercept of the distances fitted linearly against ``1 / size`` (lower is
        better).

    Raises
    ------
    ParameterError
        When ``gen`` has no more than ``min_n`` items.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(size=(400, 2)), rng.normal(1.0, 1.0, size=(400, 2))
    >>> 1.9 < frechet_distance_infinity(b, a) < 2.4  # 2 in theory
    True
    """
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
    """Mean KL divergence of paired class distributions, reference against generated.

    Parameters
    ----------
    p_reference, p_generated : np.ndarray, shape (n, classes)
        Class probabilities of paired items (rows renormalised after clipping to ``eps``).
    eps : float

    Returns
    -------
    float
        ``mean_i KL(P_ref,i || P_gen,i)`` in nats, >= 0 (lower is better).

    Examples
    --------
    >>> ref = np.array([[0.5, 0.5], [0.9, 0.1]])
    >>> round(kl_divergence(ref, np.full((2, 2), 0.5)), 4)
    0.184
    """
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
    """Inception score of class probabilities.

    Parameters
    ----------
    probs : np.ndarray, shape (n, classes)
    splits : int
        Parts the items are split into (the score's spread is over them).
    eps : float

    Returns
    -------
    mean, std : float
        ``exp(E_x KL(p(y|x) || p(y)))`` over the splits, 1..classes (higher is better).

    Examples
    --------
    >>> m, s = inception_score(np.array([[1.0, 0.0], [0.0, 1.0]]))
    >>> round(m, 6), s
    (2.0, 0.0)
    """
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
    """Mean cosine similarity of paired rows (CLAP and ImageBind scores are 100 times it).

    Parameters
    ----------
    a, b : np.ndarray, shape (n, dim)

    Returns
    -------
    float
        -1..1 (higher is better).

    Examples
    --------
    >>> a = np.array([[1.0, 0.0], [1.0, 1.0]])
    >>> round(cosine_similarity(a, np.array([[1.0, 0.0], [1.0, 0.0]])), 4)
    0.8536
    """
    validate(a, b)
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape:
        raise ParameterError(f"shapes differ: {a.shape} vs {b.shape}")
    na = np.linalg.norm(a, axis=1)
    nb = np.linalg.norm(b, axis=1)
    return float(np.mean(np.sum(a * b, axis=1) / np.maximum(na * nb, 1e-12)))


def evaluate(*, generated: np.ndarray, reference: np.ndarray, seed: int = 0) -> dict:
    """Frechet distance and FAD-infinity between two embedding sets, keyed by stable names.

    Parameters
    ----------
    generated, reference : np.ndarray, shape (n, dim), (m, dim)
    seed : int
        For FAD-infinity's subsets.

    Returns
    -------
    dict
        ``frechet_distance`` and ``frechet_distance_infinity`` (NaN when there are too few
        generated items for it).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(size=(400, 2)), rng.normal(1.0, 1.0, size=(400, 2))
    >>> sorted(evaluate(generated=b, reference=a))
    ['frechet_distance', 'frechet_distance_infinity']
    """
    out = {"frechet_distance": frechet_distance_from_embeddings(generated, reference)}
    try:
        out["frechet_distance_infinity"] = frechet_distance_infinity(
            generated, reference, seed=seed
        )
    except ParameterError:
        out["frechet_distance_infinity"] = math.nan
    return out
