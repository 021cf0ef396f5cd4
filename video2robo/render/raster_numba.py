"""Compiled CPU rasteriser (numba): forward and hand-written backward, parallel over tiles.

Same semantics as `raster_torch` and gsplat's CUDA kernels. Binning is a counting sort: one sort by
depth, then Gaussians are appended to their tiles' lists in depth order, so every list is sorted; each
intersection gets a packed copy (x, y, a, b, c, opacity, features…) so a tile scans contiguous memory.
The backward walks each pixel's list back to front (the 3DGS recurrence, recovering transmittance by
division) and writes gradients per intersection, so tiles never race; they are summed per Gaussian
afterwards. numba is imported lazily: the package imports without it.
"""

from __future__ import annotations

import numpy as np
import torch

DEFAULT_TILE = 8  # CPU: short per-tile lists matter more than binning cost

_KERNELS = None


def _build_kernels():
    import math

    from numba import njit, prange

    thr = 1.0 / 255.0

    @njit(cache=True)
    def bin_tiles(means2d, radii, depths, conics, opacities, features, width, height, ts):
        """Tile offsets, flat Gaussian ids and packed per-intersection data, sorted by tile then depth."""
        n = means2d.shape[0]
        tiles_x = (width + ts - 1) // ts
        tiles_y = (height + ts - 1) // ts
        n_tiles = tiles_x * tiles_y
        x0 = np.zeros(n, np.int64)
        x1 = np.zeros(n, np.int64)
        y0 = np.zeros(n, np.int64)
        y1 = np.zeros(n, np.int64)
        n_vis = 0
        for g in range(n):
            if radii[g, 0] > 0 and radii[g, 1] > 0:
                n_vis += 1
        vis = np.empty(n_vis, np.int64)
        vdepth = np.empty(n_vis, depths.dtype)
        j = 0
        for g in range(n):
            if radii[g, 0] > 0 and radii[g, 1] > 0:
                vis[j] = g
                vdepth[j] = depths[g]
                j += 1
                x0[g] = min(max(int(math.floor((means2d[g, 0] - radii[g, 0]) / ts)), 0), tiles_x)
                x1[g] = min(max(int(math.ceil((means2d[g, 0] + radii[g, 0]) / ts)), 0), tiles_x)
                y0[g] = min(max(int(math.floor((means2d[g, 1] - radii[g, 1]) / ts)), 0), tiles_y)
                y1[g] = min(max(int(math.ceil((means2d[g, 1] + radii[g, 1]) / ts)), 0), tiles_y)
        order = vis[np.argsort(vdepth, kind="mergesort")]
        counts = np.zeros(n_tiles + 1, np.int64)
        for g in order:
            for ty in range(y0[g], y1[g]):
                for tx in range(x0[g], x1[g]):
                    counts[ty * tiles_x + tx + 1] += 1
        offsets = np.cumsum(counts)
        fill = offsets[:-1].copy()
        M = offsets[-1]
        C = features.shape[1]
        flat = np.empty(M, np.int64)
        packed = np.empty((M, 6), means2d.dtype)
        featp = np.empty((M, C), features.dtype)
        for g in order:
            for ty in range(y0[g], y1[g]):
                for tx in range(x0[g], x1[g]):
                    t = ty * tiles_x + tx
                    k = fill[t]
                    fill[t] += 1
                    flat[k] = g
                    packed[k, 0] = means2d[g, 0]
                    packed[k, 1] = means2d[g, 1]
                    packed[k, 2] = conics[g, 0]
                    packed[k, 3] = conics[g, 1]
                    packed[k, 4] = conics[g, 2]
                    packed[k, 5] = opacities[g]
                    for c in range(C):
                        featp[k, c] = features[g, c]
        return offsets, flat, packed, featp, tiles_x

    @njit(parallel=True, cache=True)
    def forward(packed, featp, offsets, width, height, ts, tiles_x, out, out_T, out_last):
        n_tiles = offsets.shape[0] - 1
        C = featp.shape[1]
        for t in prange(n_tiles):
            tx0 = (t % tiles_x) * ts
            ty0 = (t // tiles_x) * ts
            start, end = offsets[t], offsets[t + 1]
            for py in range(ty0, min(ty0 + ts, height)):
                for px in range(tx0, min(tx0 + ts, width)):
                    fx = px + 0.5
                    fy = py + 0.5
                    T = 1.0
                    last = -1
                    for k in range(start, end):
                        dx = packed[k, 0] - fx
                        dy = packed[k, 1] - fy
                        sigma = 0.5 * (packed[k, 2] * dx * dx + packed[k, 4] * dy * dy) + packed[k, 3] * dx * dy
                        # o·e^{-σ} < 1/255 for σ > ln(255): skip the exp for far pixels (margin keeps it exact)
                        if sigma < 0.0 or sigma > 5.55:
                            continue
                        alpha = min(0.999, packed[k, 5] * math.exp(-sigma))
                        if alpha < thr:
                            continue
                        next_T = T * (1.0 - alpha)
                        if next_T <= 1e-4:
                            break
                        w = alpha * T
                        for c in range(C):
                            out[py, px, c] += featp[k, c] * w
                        T = next_T
                        last = k
                    out_T[py, px] = T
                    out_last[py, px] = last

    @njit(parallel=True, cache=True)
    def backward(packed, featp, offsets, width, height, ts, tiles_x, out_T, out_last, g_out, g_alpha, gpk, gf):
        """Per-intersection gradients: gpk (M, 6) for (x, y, a, b, c, opacity), gf (M, C) for features."""
        n_tiles = offsets.shape[0] - 1
        C = featp.shape[1]
        for t in prange(n_tiles):
            tx0 = (t % tiles_x) * ts
            ty0 = (t // tiles_x) * ts
            start = offsets[t]
            S = np.zeros(C, featp.dtype)
            for py in range(ty0, min(ty0 + ts, height)):
                for px in range(tx0, min(tx0 + ts, width)):
                    last = out_last[py, px]
                    if last < 0:
                        continue
                    fx = px + 0.5
                    fy = py + 0.5
                    T_final = out_T[py, px]
                    T = T_final
                    ga = g_alpha[py, px]
                    for c in range(C):
                        S[c] = 0.0
                    for k in range(last, start - 1, -1):
                        dx = packed[k, 0] - fx
                        dy = packed[k, 1] - fy
                        a, b, cc = packed[k, 2], packed[k, 3], packed[k, 4]
                        sigma = 0.5 * (a * dx * dx + cc * dy * dy) + b * dx * dy
                        if sigma < 0.0 or sigma > 5.55:
                            continue
                        vis = math.exp(-sigma)
                        raw = packed[k, 5] * vis
                        alpha = min(0.999, raw)
                        if alpha < thr:
                            continue
                        inv = 1.0 / (1.0 - alpha)
                        T = T * inv  # transmittance in front of this Gaussian
                        w = alpha * T
                        dL_dalpha = ga * T_final * inv
                        for c in range(C):
                            go_c = g_out[py, px, c]
                            gf[k, c] += w * go_c
                            dL_dalpha += go_c * (featp[k, c] * T - S[c] * inv)
                            S[c] += featp[k, c] * w
                        if raw < 0.999:
                            dL_dsigma = -alpha * dL_dalpha
                            gpk[k, 0] += (a * dx + b * dy) * dL_dsigma
                            gpk[k, 1] += (cc * dy + b * dx) * dL_dsigma
                            gpk[k, 2] += 0.5 * dx * dx * dL_dsigma
                            gpk[k, 3] += dx * dy * dL_dsigma
                            gpk[k, 4] += 0.5 * dy * dy * dL_dsigma
                            gpk[k, 5] += vis * dL_dalpha

    @njit(cache=True)
    def scatter_add(flat, per_isect, out):
        for k in range(flat.shape[0]):
            g = flat[k]
            for j in range(per_isect.shape[1]):
                out[g, j] += per_isect[k, j]

    return bin_tiles, forward, backward, scatter_add


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


def rasterize_arrays(means2d, conics, opacities, features, radii, depths, width, height, tile_size=DEFAULT_TILE):
    """Forward only, on numpy arrays: (features (H, W, C), alpha (H, W)) plus the state backward needs."""
    bin_tiles, fwd, _, _ = kernels()
    offsets, flat, packed, featp, tiles_x = bin_tiles(means2d, radii, depths, conics, opacities, features, width, height, tile_size)
    out = np.zeros((height, width, features.shape[1]), features.dtype)
    out_T = np.ones((height, width), features.dtype)
    out_last = np.full((height, width), -1, np.int64)
    fwd(packed, featp, offsets, width, height, tile_size, tiles_x, out, out_T, out_last)
    state = (offsets, flat, packed, featp, tiles_x, out_T, out_last)
    return out, 1.0 - out_T, state


class _Rasterize(torch.autograd.Function):
    @staticmethod
    def forward(ctx, means2d, conics, opacities, features, radii, depths, width, height, tile_size):
        arrays = [x.detach().contiguous().numpy() for x in (means2d, conics, opacities, features, radii, depths)]
        out, alpha, state = rasterize_arrays(*arrays, width, height, tile_size)
        ctx.state = state
        ctx.shapes = (means2d.shape[0], features.shape[1], width, height, tile_size)
        return torch.from_numpy(out), torch.from_numpy(alpha)

    @staticmethod
    def backward(ctx, g_out, g_alpha):
        _, _, bwd, scatter_add = kernels()
        offsets, flat, packed, featp, tiles_x, out_T, out_last = ctx.state
        n, C, width, height, tile_size = ctx.shapes
        dtype = packed.dtype
        M = flat.shape[0]
        gpk, gf = np.zeros((M, 6), dtype), np.zeros((M, C), dtype)
        bwd(packed, featp, offsets, width, height, tile_size, tiles_x, out_T, out_last,
            g_out.contiguous().numpy().astype(dtype, copy=False), g_alpha.contiguous().numpy().astype(dtype, copy=False), gpk, gf)
        g_packed, g_feat = np.zeros((n, 6), dtype), np.zeros((n, C), dtype)
        scatter_add(flat, gpk, g_packed)
        scatter_add(flat, gf, g_feat)
        g_packed = torch.from_numpy(g_packed)
        return g_packed[:, 0:2], g_packed[:, 2:5], g_packed[:, 5], torch.from_numpy(g_feat), None, None, None, None, None


def rasterize(means2d, conics, opacities, features, radii, depths, width: int, height: int, tile_size: int = DEFAULT_TILE):
    """(features (H, W, C), alpha (H, W)); differentiable w.r.t. means2d, conics, opacities, features."""
    return _Rasterize.apply(means2d, conics, opacities, features, radii, depths, width, height, tile_size)
