"""Procedural colour textures with plenty of trackable detail (blobs, stripes, speckle), seeded.

Point trackers need texture: plain colours give them nothing to follow. Each texture is an atlas of
horizontal bands (one per object part, see `shapes.concat`), each band with its own base colour and
pattern. Images are uint8 RGB, row 0 at the top; texture v = 0 is the bottom row (OBJ convention).
"""

from __future__ import annotations

import colorsys

import numpy as np
from scipy.ndimage import gaussian_filter


def _smooth_noise(rng: np.random.Generator, h: int, w: int, sigma: float) -> np.ndarray:
    """Band-limited noise in [0, 1], periodic in x so it wraps around revolved objects seamlessly."""
    n = gaussian_filter(rng.standard_normal((h, w)), sigma, mode=("nearest", "wrap"))
    n -= n.min()
    return n / max(n.max(), 1e-12)


def hsv(h: float, s: float, v: float) -> np.ndarray:
    return np.array(colorsys.hsv_to_rgb(h % 1.0, s, v), dtype=np.float64)


def band_texture(rng: np.random.Generator, h: int, w: int, base_rgb, pattern: str) -> np.ndarray:
    """One band (h, w, 3) float in [0, 1]: a base colour modulated by a pattern and speckle."""
    base = np.asarray(base_rgb, dtype=np.float64)
    accent = 1.0 - 0.7 * base  # a contrasting colour for stripes and dots
    y, x = np.mgrid[0:h, 0:w] / np.array([h, w])[:, None, None]
    if pattern == "stripes":
        k = rng.integers(3, 8)
        mask = (np.sin(2 * np.pi * (k * x + 0.3 * np.sin(2 * np.pi * 2 * y))) > 0.3).astype(float)
    elif pattern == "checker":
        k = rng.integers(4, 10)
        mask = ((np.floor(k * x) + np.floor(k * y * h / w * 2)) % 2).astype(float)
    elif pattern == "dots":
        mask = (_smooth_noise(rng, h, w, 3.0) > 0.62).astype(float)
    else:  # "marble"
        mask = _smooth_noise(rng, h, w, 10.0)
    img = base * (1 - 0.55 * mask[..., None]) + accent * 0.55 * mask[..., None]
    shade = 0.75 + 0.5 * _smooth_noise(rng, h, w, 6.0)  # mottling: texture at every scale
    speckle = 1.0 + 0.12 * rng.standard_normal((h, w))
    return np.clip(img * (shade * speckle)[..., None], 0.0, 1.0)


def atlas(rng: np.random.Generator, n_bands: int = 1, size: int = 256, hues=None, patterns=None) -> np.ndarray:
    """A (≈size, size, 3) uint8 texture made of `n_bands` horizontal bands; band 0 is at the bottom."""
    band_h = size // n_bands
    bands = []
    for i in range(n_bands):
        hue = hues[i] if hues is not None else rng.random()
        pattern = patterns[i] if patterns is not None else rng.choice(["stripes", "checker", "dots", "marble"])
        colour = hsv(hue, 0.45 + 0.4 * rng.random(), 0.55 + 0.4 * rng.random())
        bands.append(band_texture(rng, band_h, size, colour, str(pattern)))
    img = np.concatenate(bands[::-1], axis=0)  # image row 0 is the top = last band
    return (img * 255).round().astype(np.uint8)
