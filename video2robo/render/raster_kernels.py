"""The numba kernels of `raster_numba`, at module level so numba's on-disk cache works.

Kept in their own module, imported on first use: building them inside a function made each a closure
over the other dispatchers, and numba keys cached closures by their pickled cells, which differ per
process, so every process recompiled the drivers (~5 s). The serial and parallel builds of a driver
are given distinct names for the same reason (the cache is keyed by qualified name).
"""

from __future__ import annotations

import math
import types

import numpy as np
from numba import njit, prange

THR = 1.0 / 255.0  # smallest alpha composited (3DGS)


def renamed(fn, suffix: str):
    """A copy of `fn` whose qualified name ends in `_suffix` (its own numba cache entry)."""
    out = types.FunctionType(fn.__code__, fn.__globals__, f"{fn.__name__}_{suffix}", fn.__defaults__, fn.__closure__)
    out.__qualname__ = f"{fn.__qualname__}_{suffix}"
    out.__doc__ = fn.__doc__
    return out


@njit(cache=True)
def depth_order(radii, depths):
    """Visible Gaussian ids sorted front to back: stable LSD radix sort on float32 bit patterns.

    Visible Gaussians lie beyond the near plane, so depths are positive and their IEEE bit
    patterns order like their values.
    """
    n_vis = 0
    for g in range(radii.shape[0]):
        if radii[g, 0] > 0 and radii[g, 1] > 0:
            n_vis += 1
    cur = np.empty(n_vis, np.int64)
    cur_keys = np.empty(n_vis, np.uint32)
    j = 0
    for g in range(radii.shape[0]):
        if radii[g, 0] > 0 and radii[g, 1] > 0:
            cur[j] = g
            cur_keys[j] = np.float32(depths[g]).view(np.uint32)
            j += 1
    nxt = np.empty_like(cur)
    nxt_keys = np.empty_like(cur_keys)
    for shift in (0, 11, 22):
        counts = np.zeros(2049, np.int64)
        for j in range(n_vis):
            counts[((cur_keys[j] >> shift) & 0x7FF) + 1] += 1
        for b in range(2048):
            counts[b + 1] += counts[b]
        for j in range(n_vis):
            b = (cur_keys[j] >> shift) & 0x7FF
            nxt[counts[b]] = cur[j]
            nxt_keys[counts[b]] = cur_keys[j]
            counts[b] += 1
        cur, nxt = nxt, cur
        cur_keys, nxt_keys = nxt_keys, cur_keys
    return cur


@njit(inline="always")
def footprint(means2d, radii, g, width, y_lo, y_hi):
    x0 = max(int(math.floor(means2d[g, 0] - radii[g, 0])), 0)
    x1 = min(int(math.ceil(means2d[g, 0] + radii[g, 0])), width)
    y0 = max(int(math.floor(means2d[g, 1] - radii[g, 1])), y_lo)
    y1 = min(int(math.ceil(means2d[g, 1] + radii[g, 1])), y_hi)
    return x0, x1, y0, y1


# Band kernels are plain (non-parfor) functions: LLVM optimises their inner loops far better than a
# prange body. fastmath only relaxes NaN/inf and reassociation; thresholds keep their margins.
@njit(cache=True, fastmath=True)
def forward_band(order, means2d, conics, opacities, features, radii, depths, limit, width, y_lo, y_hi, out, out_T, out_last, done):
    C = features.shape[1]
    for r in range(order.shape[0]):
        g = order[r]
        x0, x1, y0, y1 = footprint(means2d, radii, g, width, y_lo, y_hi)
        if x0 >= x1 or y0 >= y1:
            continue
        mx, my = means2d[g, 0], means2d[g, 1]
        ca, cb, cc, o = conics[g, 0], conics[g, 1], conics[g, 2], opacities[g]
        d = depths[g]
        for py in range(y0, y1):
            dy = my - (py + 0.5)
            for px in range(x0, x1):
                if done[py, px]:
                    continue
                if d > limit[py, px]:  # behind an opaque pre-rendered layer; so is every later one
                    done[py, px] = True
                    continue
                dx = mx - (px + 0.5)
                sigma = 0.5 * (ca * dx * dx + cc * dy * dy) + cb * dx * dy
                # o·e^{-σ} < 1/255 whenever σ > ln 255 ≈ 5.541: skip the exp (the margin keeps it exact)
                if sigma < 0.0 or sigma > 5.55:
                    continue
                alpha = min(0.999, o * math.exp(-sigma))
                if alpha < THR:
                    continue
                T = out_T[py, px]
                next_T = T * (1.0 - alpha)
                if next_T <= 1e-4:
                    done[py, px] = True
                    continue
                w = alpha * T
                for c in range(C):
                    out[py, px, c] += features[g, c] * w
                out_T[py, px] = next_T
                out_last[py, px] = r


def forward(order, means2d, conics, opacities, features, radii, depths, limit, width, height, n_bands, out, out_T, out_last):
    """out (H,W,C) += Σ w·f; out_T final transmittance; out_last rank (in `order`) of the last
    composited Gaussian per pixel, -1 if none. out_T must start at 1 and out_last at -1. Pixel
    (y, x) only receives Gaussians with depth ≤ limit[y, x] (+inf: all)."""
    band = (height + n_bands - 1) // n_bands
    done = np.zeros((height, width), np.bool_)
    for b in prange(n_bands):
        forward_band(order, means2d, conics, opacities, features, radii, depths, limit, width, b * band,
                     min(height, (b + 1) * band), out, out_T, out_last, done)


@njit(cache=True, fastmath=True)
def backward_band(order, means2d, conics, opacities, features, radii, width, y_lo, y_hi,
                  out_T, out_last, g_out, g_alpha, grads):
    C = features.shape[1]
    height = out_T.shape[0]
    T = out_T.copy()  # walking back: transmittance in front of the current Gaussian
    S = np.zeros((height, width, C), features.dtype)  # colour accumulated behind it
    for r in range(order.shape[0] - 1, -1, -1):
        g = order[r]
        x0, x1, y0, y1 = footprint(means2d, radii, g, width, y_lo, y_hi)
        if x0 >= x1 or y0 >= y1:
            continue
        mx, my = means2d[g, 0], means2d[g, 1]
        ca, cb, cc, o = conics[g, 0], conics[g, 1], conics[g, 2], opacities[g]
        for py in range(y0, y1):
            dy = my - (py + 0.5)
            for px in range(x0, x1):
                if r > out_last[py, px]:
                    continue
                dx = mx - (px + 0.5)
                sigma = 0.5 * (ca * dx * dx + cc * dy * dy) + cb * dx * dy
                if sigma < 0.0 or sigma > 5.55:
                    continue
                vis = math.exp(-sigma)
                raw = o * vis
                alpha = min(0.999, raw)
                if alpha < THR:
                    continue
                inv = 1.0 / (1.0 - alpha)
                t_front = T[py, px] * inv
                T[py, px] = t_front
                w = alpha * t_front
                dL_dalpha = g_alpha[py, px] * out_T[py, px] * inv
                for c in range(C):
                    go_c = g_out[py, px, c]
                    grads[g, 6 + c] += w * go_c
                    dL_dalpha += go_c * (features[g, c] * t_front - S[py, px, c] * inv)
                    S[py, px, c] += features[g, c] * w
                if raw < 0.999:
                    dL_dsigma = -alpha * dL_dalpha
                    grads[g, 0] += (ca * dx + cb * dy) * dL_dsigma
                    grads[g, 1] += (cc * dy + cb * dx) * dL_dsigma
                    grads[g, 2] += 0.5 * dx * dx * dL_dsigma
                    grads[g, 3] += dx * dy * dL_dsigma
                    grads[g, 4] += 0.5 * dy * dy * dL_dsigma
                    grads[g, 5] += vis * dL_dalpha


def backward(order, means2d, conics, opacities, features, radii, width, height, n_bands,
             out_T, out_last, g_out, g_alpha, grads):
    """grads (n_bands, N, 6 + C): per band, d/d(x, y, a, b, c, opacity, features…)."""
    band = (height + n_bands - 1) // n_bands
    for b in prange(n_bands):
        backward_band(order, means2d, conics, opacities, features, radii, width, b * band,
                      min(height, (b + 1) * band), out_T, out_last, g_out, g_alpha, grads[b])


# each driver compiled twice: threads only pay off for large images (start-up costs ~ms)
forward_serial = njit(cache=True)(renamed(forward, "serial"))
backward_serial = njit(cache=True)(renamed(backward, "serial"))
forward_parallel = njit(parallel=True, cache=True)(renamed(forward, "parallel"))
backward_parallel = njit(parallel=True, cache=True)(renamed(backward, "parallel"))
