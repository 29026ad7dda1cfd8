"""Colour and affect of a frame or a still image.

Per analysed frame, on a 64 px thumbnail:
brightness B (mean HSV
  value), saturation S (mean HSV saturation), RMS contrast, colourfulness after Hasler &
  Suesstrunk (2003) ``M = sqrt(s_rg^2 + s_yb^2) + 0.3 sqrt(m_rg^2 + m_yb^2)`` with
  ``rg = R - G`` and ``yb = (R + G)/2 - B`` (reported as M/100), warmth as the
  saturation-weighted balance of warm (red..yellow) over cool (cyan..blue) hues in -1..1.
  Valence and arousal use Valdez & Mehrabian (1994): pleasure ``P = 0.69 B + 0.22 S`` and
  colour arousal ``A_c = -0.31 B + 0.60 S`` (B, S in 0..1); v2m reports
  ``valence = clip((P - 0.40) / 0.30 + 0.25 warmth, -1, 1)`` and
  ``arousal = clip(0.5 (A_c - 0.05) / 0.25 + 0.5 (2 m - 1), -1, 1)`` where ``m`` is the
  absolute motion level ``1 - exp(-speed / 0.15)`` (speed in frame widths per second).

"""

from __future__ import annotations

import math

import cv2
import numpy as np

__all__ = ["colour_stats", "motion_level", "valence_arousal"]


def colour_stats(bgr: np.ndarray) -> np.ndarray:
    """Colour statistics of one image.

    Parameters
    ----------
    bgr : np.ndarray, shape (h, w, 3), uint8

    Returns
    -------
    np.ndarray, shape (5,)
        brightness (0..1), saturation (0..1), colourfulness (Hasler & Suesstrunk M / 100),
        warmth (-1..1), RMS contrast (std of luma / 128, 0..~1).
    """
    hsv = cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)
    h = hsv[..., 0].astype(np.float32) * 2.0  # degrees
    s = hsv[..., 1].astype(np.float32) / 255.0
    v = hsv[..., 2].astype(np.float32) / 255.0
    f = bgr.astype(np.float32)
    b, g, r = f[..., 0], f[..., 1], f[..., 2]
    rg = r - g
    yb = 0.5 * (r + g) - b
    colourfulness = math.sqrt(float(rg.var() + yb.var())) + 0.3 * math.sqrt(
        float(rg.mean() ** 2 + yb.mean() ** 2)
    )
    warm = ((h < 70) | (h >= 330)).astype(np.float32)
    cool = ((h >= 160) & (h < 280)).astype(np.float32)
    weight = s * v
    total = float(weight.sum()) + 1e-6
    warmth = float(((warm - cool) * weight).sum()) / total
    luma = 0.299 * r + 0.587 * g + 0.114 * b
    return np.array(
        [
            float(v.mean()),
            float(s.mean()),
            colourfulness / 100.0,
            warmth,
            float(luma.std()) / 128.0,
        ],
        dtype=np.float64,
    )


def motion_level(speed_w_per_s: np.ndarray | float) -> np.ndarray | float:
    """Absolute motion level in 0..1 from flow speed in frame widths per second."""
    return 1.0 - np.exp(-np.asarray(speed_w_per_s) / 0.15)


def valence_arousal(
    *, brightness: float, saturation: float, warmth: float, motion_level_01: float
) -> tuple[float, float]:
    """Valence and arousal in -1..1 from colour (Valdez & Mehrabian 1994) and motion.

    See the module docstring for the formula.
    """
    pleasure = 0.69 * brightness + 0.22 * saturation
    colour_arousal = -0.31 * brightness + 0.60 * saturation
    valence = float(np.clip((pleasure - 0.40) / 0.30 + 0.25 * warmth, -1.0, 1.0))
    arousal = float(
        np.clip(0.5 * (colour_arousal - 0.05) / 0.25 + 0.5 * (2.0 * motion_level_01 - 1.0), -1, 1)
    )
    return valence, arousal
