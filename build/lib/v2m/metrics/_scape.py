"""Numba kernels for the fitness scape plot (see :mod:`v2m.metrics.structure`).

For one segment (start ``s0``, length ``m``) of an N x N self-similarity matrix, the
accumulated score matrix D has columns 0 (the elevator) and j = 1..m (a path whose last
cell is in segment column j - 1). ``d`` follows FMP's forward recursion, which may also
enter column 2 from the elevator and, on row 2, step (2,1) from row 0; ``ln`` / ``cv`` are
the cell count and row coverage of the path family that FMP's backtracking returns from
that cell. Its rules: the first maximum among (1,1), (2,1), (1,2); no (2,1) step on rows
<= 2; no (1,2) step into columns <= 2; into the elevator from a path end only if strictly
better; at the last row, the path end unless strictly worse. Tracking them forward gives
the backtracked family's statistics without storing D.
"""

from __future__ import annotations

import math

import numpy as np

from .._deps import require

numba = require("numba", purpose="the structure indicator's scape plot")

NEG = -math.inf


@numba.njit(cache=True, nogil=True)
def fitness_segment(s, s0, m):  # pragma: no cover - compiled
    n = s.shape[0]
    w = m + 1
    d2 = np.full(w, NEG)
    l2 = np.zeros(w)
    c2 = np.zeros(w)
    d1 = np.full(w, NEG)
    l1 = np.zeros(w)
    c1 = np.zeros(w)
    d = np.full(w, NEG)
    ln = np.zeros(w)
    cv = np.zeros(w)
    d1[0] = 0.0
    d1[1] = s[0, s0]
    l1[1] = 1.0
    c1[1] = 1.0
    for r in range(1, n):
        if d1[m] > d1[0]:
            d[0] = d1[m]
            ln[0] = l1[m]
            cv[0] = c1[m]
        else:
            d[0] = d1[0]
            ln[0] = l1[0]
            cv[0] = c1[0]
        d[1] = d[0] + s[r, s0]
        ln[1] = ln[0] + 1.0
        cv[1] = cv[0] + 1.0
        for j in range(2, w):
            a = d1[j - 1]
            b = d1[j - 2]
            c = d2[j - 1] if r >= 2 else NEG
            best = a
            if b > best:
                best = b
            if c > best:
                best = c
            d[j] = s[r, s0 + j - 1] + best
            # the backtracker's predecessor
            pick = 0
            top = a
            if r > 2 and c > top:
                pick = 1
                top = c
            if j > 2 and b > top:
                pick = 2
            if pick == 0:
                ln[j] = l1[j - 1] + 1.0
                cv[j] = c1[j - 1] + 1.0
            elif pick == 1:
                ln[j] = l2[j - 1] + 1.0
                cv[j] = c2[j - 1] + 2.0
            else:
                ln[j] = l1[j - 2] + 1.0
                cv[j] = c1[j - 2] + 1.0
        d2, d1, d = d1, d, d2
        l2, l1, ln = l1, ln, l2
        c2, c1, cv = c1, cv, c2
    if d1[m] < d1[0]:
        score, plen, cover = d1[0], l1[0], c1[0]
    else:
        score, plen, cover = d1[m], l1[m], c1[m]
    eps = 1e-16
    score_n = (score - m) / (plen + eps)
    cover_n = (cover - m) / (n + eps)
    return 2.0 * score_n * cover_n / (score_n + cover_n + eps)


@numba.njit(cache=True, parallel=True)
def scape(s, min_len, max_len, out):  # pragma: no cover - compiled
    n = s.shape[0]
    for m in range(min_len, max_len + 1):
        for s0 in numba.prange(n - m + 1):
            out[m - 1, s0] = fitness_segment(s, s0, m)
