"""Compiled per-frame helpers of generation (numba): rigid posing of link-grouped Gaussians and the
final compositing of a moving layer over a static one into RGB, depth and instance masks.

Both replace a dozen numpy passes over every Gaussian or pixel per frame (temporaries included), which
cost about as much as the rasterisation itself at 128×128. numba is imported lazily.
"""

from __future__ import annotations

import numpy as np

_KERNELS = None


def _build():
    from numba import njit

    @njit(cache=True, fastmath=True)
    def pose_groups(R, t, qR, group, means, quats, out_means, out_quats):
        """out = (R[group]·means + t[group], qR[group] ⊗ quats); R (G,3,3), t (G,3), qR (G,4) wxyz."""
        for i in range(means.shape[0]):
            k = group[i]
            x, y, z = means[i, 0], means[i, 1], means[i, 2]
            for r in range(3):
                out_means[i, r] = R[k, r, 0] * x + R[k, r, 1] * y + R[k, r, 2] * z + t[k, r]
            aw, ax, ay, az = qR[k, 0], qR[k, 1], qR[k, 2], qR[k, 3]
            bw, bx, by, bz = quats[i, 0], quats[i, 1], quats[i, 2], quats[i, 3]
            out_quats[i, 0] = aw * bw - ax * bx - ay * by - az * bz
            out_quats[i, 1] = aw * bx + ax * bw + ay * bz - az * by
            out_quats[i, 2] = aw * by - ax * bz + ay * bw + az * bx
            out_quats[i, 3] = aw * bz + ax * by - ay * bx + az * bw

    @njit(cache=True)
    def compose(feat_d, alpha_d, labels_d, feat_s, alpha_s, labels_s, bg, rgb_out, depth_out, mask_out):
        """Moving layer (features [r, g, b, depth, coverage per labels_d]) over the static one (same
        layout with labels_s; an empty labels_s and alpha_s = 0 for none) over the background colour.
        Mask: the label with the largest coverage when it covers more than half the pixel's opacity."""
        H, W = alpha_d.shape
        for y in range(H):
            for x in range(W):
                T = 1.0 - alpha_d[y, x]
                a = 1.0 - T * (1.0 - alpha_s[y, x])
                for c in range(3):
                    v = feat_d[y, x, c] + T * feat_s[y, x, c] + (1.0 - a) * bg[c]
                    v = min(max(v, 0.0), 1.0)
                    rgb_out[y, x, c] = np.uint8(v * 255.0 + 0.5)
                depth_out[y, x] = (feat_d[y, x, 3] + T * feat_s[y, x, 3]) / max(a, 1e-6) if a > 0.5 else 0.0
                best, best_c = 0, -1.0
                for k in range(labels_d.shape[0]):
                    if feat_d[y, x, 4 + k] > best_c:
                        best, best_c = labels_d[k], feat_d[y, x, 4 + k]
                for k in range(labels_s.shape[0]):
                    if T * feat_s[y, x, 4 + k] > best_c:
                        best, best_c = labels_s[k], T * feat_s[y, x, 4 + k]
                mask_out[y, x] = best if (a >= 0.5 and best_c > 0.5 * max(a, 1e-6)) else 0

    return pose_groups, compose


def kernels():
    global _KERNELS
    if _KERNELS is None:
        _KERNELS = _build()
    return _KERNELS
