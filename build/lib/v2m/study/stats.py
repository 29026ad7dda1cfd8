"""Statistics of a listening study (pure numpy/scipy).

``mean_ci``
    Mean and two-sided 95 % confidence interval from Student's t (``n - 1`` degrees of
    freedom), as MOS tables report them.
``holm``
    Holm-Bonferroni step-down correction of a family of p-values.
``wilcoxon_pairs``
    Wilcoxon signed-rank tests between every pair of systems on paired ratings (the same
    participant rating the same item), Holm-corrected within the family.
``krippendorff_alpha``
    Krippendorff's alpha for interval data (units x raters with missing values): 1 minus
    observed over expected disagreement, from the coincidence of all pairable values.
    Equals the ``krippendorff`` package (0.849 on Krippendorff's own example).
"""

from __future__ import annotations

import itertools
import math

import numpy as np

__all__ = ["mean_ci", "holm", "wilcoxon_pairs", "krippendorff_alpha"]


def mean_ci(x, *, level: float = 0.95) -> dict:
    """``{"n", "mean", "sd", "ci_low", "ci_high"}`` of the values ``x`` (NaN CI when n < 2)."""
    from scipy import stats

    v = np.asarray(x, float)
    v = v[np.isfinite(v)]
    n = int(v.size)
    if n == 0:
        return {"n": 0, "mean": math.nan, "sd": math.nan, "ci_low": math.nan, "ci_high": math.nan}
    m = float(v.mean())
    if n < 2:
        return {"n": 1, "mean": m, "sd": math.nan, "ci_low": math.nan, "ci_high": math.nan}
    sd = float(v.std(ddof=1))
    h = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
    return {"n": n, "mean": m, "sd": sd, "ci_low": m - h, "ci_high": m + h}


def holm(p_values) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the input order (monotone, capped at 1)."""
    p = np.asarray(p_values, float)
    k = p.size
    order = np.argsort(p)
    adj = np.empty(k)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (k - rank) * p[i]))
        adj[i] = running
    return adj.tolist()


def wilcoxon_pairs(ratings: dict[str, dict], *, min_pairs: int = 1) -> list[dict]:
    """Wilcoxon signed-rank tests between all pairs of systems.

    Parameters
    ----------
    ratings : dict
        system -> {(participant, item): rating}.

    Returns
    -------
    list of dict
        ``a``, ``b``, ``n`` (paired ratings), ``median_diff`` (a - b), ``statistic``,
        ``p``, ``p_holm``; p is NaN when every difference is zero or there are fewer than
        ``min_pairs`` pairs.
    """
    from scipy import stats

    out = []
    for a, b in itertools.combinations(sorted(ratings), 2):
        keys = sorted(set(ratings[a]) & set(ratings[b]))
        d = np.array([ratings[a][k] - ratings[b][k] for k in keys], float)
        row = {"a": a, "b": b, "n": int(d.size),
               "median_diff": float(np.median(d)) if d.size else math.nan,
               "statistic": math.nan, "p": math.nan}  # fmt: skip
        if d.size >= min_pairs and np.any(d != 0):
            res = stats.wilcoxon(d, zero_method="wilcox", alternative="two-sided")
            row["statistic"], row["p"] = float(res.statistic), float(res.pvalue)
        out.append(row)
    ps = [r["p"] for r in out]
    finite = [i for i, p in enumerate(ps) if np.isfinite(p)]
    adj = holm([ps[i] for i in finite]) if finite else []
    for r in out:
        r["p_holm"] = math.nan
    for i, q in zip(finite, adj, strict=True):
        out[i]["p_holm"] = q
    return out


def krippendorff_alpha(data) -> float:
    """Krippendorff's alpha (interval metric).

    Parameters
    ----------
    data : array_like, shape (raters, units)
        Ratings, NaN where a rater did not rate a unit.
    """
    x = np.asarray(data, float)
    units = [x[:, u][np.isfinite(x[:, u])] for u in range(x.shape[1])]
    units = [v for v in units if v.size >= 2]  # only pairable values count
    n = sum(v.size for v in units)
    if n < 2:
        return math.nan
    d_o = sum(((v[:, None] - v[None, :]) ** 2).sum() / (v.size - 1) for v in units) / n
    allv = np.concatenate(units)
    d_e = ((allv[:, None] - allv[None, :]) ** 2).sum() / (n * (n - 1))
    return float(1.0 - d_o / d_e) if d_e > 0 else math.nan
