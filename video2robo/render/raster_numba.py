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
    from video2robo.render import raster_kernels as k

    return k.depth_order, (k.forward_serial, k.backward_serial), (k.forward_parallel, k.backward_parallel)


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
