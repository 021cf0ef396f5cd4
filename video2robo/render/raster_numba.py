"""Compiled CPU rasteriser (numba): splat-order forward and hand-written backward.

Same semantics as `raster_torch` and gsplat's CUDA kernels, organised for a CPU: Gaussians are sorted
once by depth (O(N) radix sort), then each composites into the pixels of its own bounding box, skipping
pixels that are already saturated. Every pixel still receives its Gaussians front to back under the
same rules (skip α < 1/255, stop when transmittance would reach 1e-4), so the image equals the
per-pixel definition exactly, while the work is the sum of footprints instead of pixels × tile-list
length. Image rows are split into bands, one thread each, so writes never race. The backward replays
the order back to front with per-pixel transmittance and accumulated colour (the 3DGS recurrence),
gradients summed per band then per Gaussian. numba is imported lazily.
"""

from __future__ import annotations

import numpy as np
import torch

_KERNELS = None


def _build_kernels():
    import math

    from numba import njit, prange

    thr = 1.0 / 255.0

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
                    if alpha < thr:
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
                    if alpha < thr:
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
    serial = (njit(cache=True)(forward), njit(cache=True)(backward))
    parallel = (njit(parallel=True, cache=True)(forward), njit(parallel=True, cache=True)(backward))
    return depth_order, serial, parallel


def kernels():
    """Compile (or load from numba's on-disk cache) the kernels on first use."""
    global _KERNELS
    if _KERNELS is None:
        try:
            import numba  # noqa: F401
        except ImportError as e:  # pragma: no cover - numba is a core dependency
            from video2robo.errors import BackendUnavailable

            raise BackendUnavailable("numba", "numba", "pip install numba", str(e)) from e
        _KERNELS = _build_kernels()
    return _KERNELS


PARALLEL_MIN_PIXELS = 100 * 100


def _drivers(width: int, height: int):
    """(forward, backward, n_bands): threaded bands for large images, one serial band for small ones."""
    import numba

    _, serial, parallel = kernels()
    if width * height < PARALLEL_MIN_PIXELS or numba.get_num_threads() == 1:
        return serial[0], serial[1], 1
    return parallel[0], parallel[1], max(1, min(height, 2 * numba.get_num_threads()))


def rasterize_arrays(means2d, conics, opacities, features, radii, depths, width, height, depth_limit=None):
    """Forward only, on numpy arrays: (features (H, W, C), alpha (H, W)) and the state backward needs.

    `depth_limit` (H, W): per pixel, Gaussians deeper than this are left out, as if an opaque surface
    stood there (layered rendering: a static background drawn once, moving parts drawn per frame in
    front of it). Since Gaussians arrive front to back, the cut is exact and backward stays valid.
    """
    depth_order = kernels()[0]
    fwd, _, n_bands = _drivers(width, height)
    order = depth_order(radii, depths)
    out = np.zeros((height, width, features.shape[1]), features.dtype)
    out_T = np.ones((height, width), features.dtype)
    out_last = np.full((height, width), -1, np.int64)
    limit = np.full((height, width), np.inf, depths.dtype) if depth_limit is None else np.ascontiguousarray(depth_limit, depths.dtype)
    fwd(order, means2d, conics, opacities, features, radii, depths, limit, width, height, n_bands, out, out_T, out_last)
    return out, 1.0 - out_T, (order, out_T, out_last)


class _Rasterize(torch.autograd.Function):
    @staticmethod
    def forward(ctx, means2d, conics, opacities, features, radii, depths, width, height):
        arrays = [x.detach().contiguous().numpy() for x in (means2d, conics, opacities, features, radii, depths)]
        out, alpha, state = rasterize_arrays(*arrays, width, height)
        ctx.arrays = arrays[:5]
        ctx.state = state
        ctx.size = (width, height)
        return torch.from_numpy(out), torch.from_numpy(alpha)

    @staticmethod
    def backward(ctx, g_out, g_alpha):
        _, bwd, n_bands = _drivers(*ctx.size)
        means2d, conics, opacities, features, radii = ctx.arrays
        order, out_T, out_last = ctx.state
        width, height = ctx.size
        dtype = features.dtype
        grads = np.zeros((n_bands, means2d.shape[0], 6 + features.shape[1]), dtype)
        bwd(order, means2d, conics, opacities, features, radii, width, height, n_bands, out_T, out_last,
            g_out.contiguous().numpy().astype(dtype, copy=False), g_alpha.contiguous().numpy().astype(dtype, copy=False), grads)
        total = torch.from_numpy(grads.sum(0))
        return total[:, 0:2], total[:, 2:5], total[:, 5], total[:, 6:], None, None, None, None


def rasterize(means2d, conics, opacities, features, radii, depths, width: int, height: int, tile_size=None):
    """(features (H, W, C), alpha (H, W)); differentiable w.r.t. means2d, conics, opacities, features.

    tile_size is accepted for API symmetry with the tiled backends and ignored: this one has no tiles.
    """
    return _Rasterize.apply(means2d, conics, opacities, features, radii, depths, width, height)
