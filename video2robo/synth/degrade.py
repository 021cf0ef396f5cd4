"""Phone-camera image degradations applied to clean renders: lens softness, sensor noise.

Motion blur is not done here: the capture averages renders at sub-frame times (`capture.py`), which
blurs moving objects and camera shake correctly. H.264 compression happens when writing the video.
"""

from __future__ import annotations

import numpy as np


def lens_soften(img: np.ndarray, sigma: float = 0.5) -> np.ndarray:
    """A slight Gaussian blur (σ in pixels): MuJoCo renders without anti-aliasing; real lenses and
    demosaicing never give pixel-sharp edges."""
    import cv2

    if sigma <= 0:
        return img
    return cv2.GaussianBlur(img, (0, 0), sigma)


def sensor_noise(img: np.ndarray, rng: np.random.Generator, read_sigma: float = 2.0, shot: float = 0.05) -> np.ndarray:
    """Signal-dependent noise on a uint8 image: σ² = read² + shot · I (intensity in 0..255 units)."""
    x = img.astype(np.float32)
    sigma = np.sqrt(read_sigma**2 + shot * x)
    x += sigma * rng.standard_normal(x.shape, dtype=np.float32)
    return np.clip(x + 0.5, 0, 255).astype(np.uint8)
