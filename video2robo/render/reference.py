"""Brute-force per-pixel reference compositor (numpy, float64, explicit loops).

Deliberately naive and independent of the tiled backends: every pixel walks all visible Gaussians in
depth order with gsplat's rules. Only for tests on tiny images.
"""

from __future__ import annotations

import numpy as np

from video2robo.render.projection import ALPHA_THRESHOLD, Projected


def rasterize_reference(proj: Projected, features, width: int, height: int):
    """(features (H, W, C), alpha (H, W)) as float64 numpy arrays."""
    vis = proj.visible.numpy()
    ids = np.nonzero(vis)[0]
    ids = ids[np.argsort(proj.depths.detach().numpy()[ids], kind="stable")]
    mu = proj.means2d.detach().double().numpy()
    con = proj.conics.detach().double().numpy()
    op = proj.opacities.detach().double().numpy()
    f = np.asarray(features.detach().double().numpy())
    out = np.zeros((height, width, f.shape[1]))
    alpha_img = np.zeros((height, width))
    for py in range(height):
        for px in range(width):
            T = 1.0
            for g in ids:
                dx, dy = mu[g, 0] - (px + 0.5), mu[g, 1] - (py + 0.5)
                a, b, c = con[g]
                sigma = 0.5 * (a * dx * dx + c * dy * dy) + b * dx * dy
                if sigma < 0:
                    continue
                alpha = min(0.999, op[g] * np.exp(-sigma))
                if alpha < ALPHA_THRESHOLD:
                    continue
                next_T = T * (1 - alpha)
                if next_T <= 1e-4:
                    break
                out[py, px] += f[g] * alpha * T
                T = next_T
            alpha_img[py, px] = 1 - T
    return out, alpha_img
