"""The pose search's objective for many poses at once, compiled: render-and-compare without autograd.

Differential evolution scores thousands of candidate poses per search, each a forward render of a small
crop and a few sums. Through PyTorch each costs a dozen tensor operations (moving the Gaussians, the
losses) around the compiled projection and rasteriser, and the bookkeeping outweighs the arithmetic.
Here one numba kernel scores any number of poses, one per thread: the Gaussians stay in the object
frame and the pose goes into the projection (the same transform, `GaussianSet.transform`'s covariance
and view direction included), the rasteriser is the numba backend's own band kernel, and the losses
are `losses.total_loss`'s mask, colour and depth terms (no tracks, no rotation prior). Tests compare
it with `total_loss` on the rendered crop. The search calls it per candidate (ObjectFitter._de: 2.4x
faster than through PyTorch); whole generations at once are 5x faster but search worse. numba is imported lazily.
"""

from __future__ import annotations

import math

import numpy as np

from video2robo.pose.config import LossWeights

_KERNEL = None
# the compiled kernels population_losses calls, module globals set by _build: numba resolves globals at
# compile time, while closure cells enter its on-disk cache key pickled, and a pickled dispatcher differs
# from process to process (the kernel was compiled afresh, 9-14 s, by every process that searched a pose)
_project = _forward_band = _depth_order = _crop_loss = _prange = None


def _build():
    import hashlib
    import sys
    from pathlib import Path

    from numba import njit, prange

    from video2robo.render import project_numba, raster_kernels
    from video2robo.render.raster_kernels import renamed

    global _project, _forward_band, _depth_order, _crop_loss, _prange
    _prange = prange
    _project = project_numba.serial_kernel()
    _forward_band, _depth_order = raster_kernels.forward_band, raster_kernels.depth_order
    _crop_loss = njit(cache=True, fastmath=True)(crop_loss)
    # numba's cache checks only this file's time stamp, not the kernels compiled into this one: a cache
    # entry of its own per version of their sources, so an edited rasteriser is not served stale
    sources = b"".join(Path(m.__file__).read_bytes() for m in (project_numba, raster_kernels, sys.modules[__name__]))
    digest = hashlib.sha256(sources).hexdigest()[:12]
    return njit(parallel=True, cache=True)(renamed(population_losses_kernel, digest))


def crop_loss(rgb, alpha, depth, obs_rgb, obs_mask, keep, obs_depth, has_depth, w_mask, w_rgb, w_depth, object_size):
    """total_loss's mask, colour and depth terms of one rendered crop (compiled by _build)."""
    S = alpha.shape[0]
    both = np.zeros((S, S), np.bool_)  # model and observation show the object, not ignored (losses._overlap)
    inter, union, n_both = 0.0, 0.0, 0
    for y in range(S):
        for x in range(S):
            a, m = alpha[y, x] * keep[y, x], obs_mask[y, x] * keep[y, x]
            inter += a * m
            union += a + m - a * m
            if alpha[y, x] > 0.5 and obs_mask[y, x] > 0.5 and keep[y, x] > 0.5:
                both[y, x] = True
                n_both += 1
    total = w_mask * (1.0 - inter / max(union, 1e-6))
    if n_both >= 4:  # colour where both show the object, lighting matched per channel (losses.match_lighting)
        gain, bias = np.ones(3), np.zeros(3)
        if n_both >= 20:
            for c in range(3):
                xm, ym = 0.0, 0.0
                for y in range(S):
                    for x in range(S):
                        if both[y, x]:
                            xm += rgb[y, x, c] / max(alpha[y, x], 1e-3)
                            ym += obs_rgb[y, x, c]
                xm, ym = xm / n_both, ym / n_both
                cov, var = 0.0, 0.0
                for y in range(S):
                    for x in range(S):
                        if both[y, x]:
                            dx = rgb[y, x, c] / max(alpha[y, x], 1e-3) - xm
                            cov += dx * (obs_rgb[y, x, c] - ym)
                            var += dx * dx
                gain[c] = min(5.0, max(0.2, (cov / n_both) / max(var / n_both, 1e-6)))
                bias[c] = ym - gain[c] * xm
        err = 0.0
        for y in range(S):
            for x in range(S):
                if both[y, x]:
                    a = max(alpha[y, x], 1e-3)
                    for c in range(3):
                        err += abs((rgb[y, x, c] * gain[c] + alpha[y, x] * bias[c]) / a - obs_rgb[y, x, c])
        total += w_rgb * err / n_both
    if has_depth:  # |rendered − observed depth| / size, clipped at 1, where both exist (losses.depth_loss)
        err, n_valid = 0.0, 0
        for y in range(S):
            for x in range(S):
                if obs_depth[y, x] > 0 and alpha[y, x] > 0.5 and obs_mask[y, x] > 0.5:
                    err += min(abs(depth[y, x] - obs_depth[y, x]) / object_size, 1.0)
                    n_valid += 1
        if n_valid >= 8:
            total += w_depth * err / n_valid
    return total


def population_losses_kernel(means, quats, log_scales, logits, sh, Rs, ts, scales, fx, fy, cx, cy, size, eps2d,
                             obs_rgb, obs_mask, keep, obs_depth, has_depth, w_mask, w_rgb, w_depth, model_size, out):
    """out[p] = crop_loss of the model rendered at pose p (Rs[p], ts[p], scaled by scales[p]), one pose per
    thread (compiled by _build; population_losses gives its arguments)."""
    n = means.shape[0]
    for p in _prange(Rs.shape[0]):
        s = scales[p]
        m, ls = means * np.float32(s), log_scales + np.float32(math.log(s))
        R, t = Rs[p], ts[p]
        campos = -(R.T @ t)
        means2d, conics = np.zeros((n, 2), np.float32), np.zeros((n, 3), np.float32)
        depths, opac, colors = np.zeros(n, np.float32), np.zeros(n, np.float32), np.zeros((n, 3), np.float32)
        radii = np.zeros((n, 2), np.int32)
        _project(m, quats, ls, logits, sh, R, t, campos, fx, fy, cx, cy, size, size, 0.01, 1e10, eps2d, True,
                means2d, conics, depths, radii, opac, colors)
        features = np.empty((n, 4), np.float32)
        features[:, :3] = colors
        features[:, 3] = depths
        image = np.zeros((size, size, 4), np.float32)
        trans = np.ones((size, size), np.float32)
        last = np.full((size, size), -1, np.int64)
        limit = np.full((size, size), np.inf, np.float32)
        done = np.zeros((size, size), np.bool_)
        _forward_band(_depth_order(radii, depths), means2d, conics, opac, features, radii, depths, limit, size, 0, size,
                     image, trans, last, done)
        alpha = 1.0 - trans
        depth = np.zeros((size, size) if has_depth else (1, 1), np.float32)  # expected depth, where compared
        if has_depth:
            for y in range(size):
                for x in range(size):
                    if alpha[y, x] > 0:
                        depth[y, x] = image[y, x, 3] / max(alpha[y, x], 1e-10)
        out[p] = _crop_loss(image[:, :, :3], alpha, depth, obs_rgb, obs_mask, keep, obs_depth, has_depth,
                            w_mask, w_rgb, w_depth, model_size * s)


def population_losses(model, T_cam_obj: np.ndarray, scales: np.ndarray, K_crop: np.ndarray, obs, weights: LossWeights,
                      model_size: float, eps2d: float = 0.3) -> np.ndarray:
    """(P,) `total_loss` (mask, colour, depth) of `model` (float32 GaussianSet in its own frame) at each pose
    T_cam_obj (P, 4, 4), scaled about its origin by scales (P,), rendered antialiased into the square crop
    of `obs` (a losses.Observation) seen through K_crop; `model_size` × scale is the object size that
    normalises the depth error."""
    global _KERNEL
    if _KERNEL is None:
        _KERNEL = _build()
    g = model.detach()
    size = int(obs.mask.shape[0])
    keep = np.ones((size, size), np.float32) if obs.ignore is None else 1.0 - obs.ignore.numpy()
    has_depth = obs.depth is not None
    obs_depth = obs.depth.numpy() if has_depth else np.zeros((1, 1), np.float32)
    T = np.asarray(T_cam_obj, np.float64).reshape(-1, 4, 4)
    out = np.zeros(len(T), np.float64)
    _KERNEL(g.means.contiguous().numpy(), g.quats.contiguous().numpy(), g.log_scales.contiguous().numpy(),
            g.opacity_logits.contiguous().numpy(), g.sh.contiguous().numpy(), np.ascontiguousarray(T[:, :3, :3]),
            np.ascontiguousarray(T[:, :3, 3]), np.asarray(scales, np.float64).reshape(len(T)), float(K_crop[0, 0]),
            float(K_crop[1, 1]), float(K_crop[0, 2]), float(K_crop[1, 2]), size, eps2d, obs.rgb.numpy(), obs.mask.numpy(),
            np.ascontiguousarray(keep, np.float32), np.ascontiguousarray(obs_depth, np.float32), has_depth,
            float(weights.mask), float(weights.rgb), float(weights.depth), float(model_size), out)
    return out
