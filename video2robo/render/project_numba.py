"""Fused forward-only projection (numba), for rendering without gradients (data generation).

Computes exactly what `projection.project` computes — same clamps, blur, culling and SH colours — in one
parallel pass over Gaussians, avoiding dozens of PyTorch kernel launches per render. Tests check it
against the PyTorch projection.
"""

from __future__ import annotations

import math

import numpy as np

from video2robo.gaussians.sh import C0, C1, C2, C3

_KERNEL = None


def _build():
    from numba import njit, prange

    from video2robo.render.raster_kernels import renamed

    thr = 1.0 / 255.0

    def project_all(means, quats, log_scales, logits, sh, R, t, campos, fx, fy, cx, cy, width, height,
                    near, far, eps2d, antialiased, means2d, conics, depths, radii, opac, colors):
        n = means.shape[0]
        K = sh.shape[1]
        lim_xn = cx / fx + 0.3 * 0.5 * width / fx
        lim_xp = (width - cx) / fx + 0.3 * 0.5 * width / fx
        lim_yn = cy / fy + 0.3 * 0.5 * height / fy
        lim_yp = (height - cy) / fy + 0.3 * 0.5 * height / fy
        for i in prange(n):
            radii[i, 0] = 0
            radii[i, 1] = 0
            mx, my, mz = means[i, 0], means[i, 1], means[i, 2]
            x = R[0, 0] * mx + R[0, 1] * my + R[0, 2] * mz + t[0]
            y = R[1, 0] * mx + R[1, 1] * my + R[1, 2] * mz + t[1]
            z = R[2, 0] * mx + R[2, 1] * my + R[2, 2] * mz + t[2]
            depths[i] = z
            o = 1.0 / (1.0 + math.exp(-logits[i]))
            opac[i] = o
            if not (z > near and z < far) or o < thr:
                continue
            # world covariance from quaternion and scales
            qw, qx, qy, qz = quats[i, 0], quats[i, 1], quats[i, 2], quats[i, 3]
            qn = math.sqrt(qw * qw + qx * qx + qy * qy + qz * qz)
            qn = max(qn, 1e-12)
            qw, qx, qy, qz = qw / qn, qx / qn, qy / qn, qz / qn
            r00 = 1 - 2 * (qy * qy + qz * qz)
            r01 = 2 * (qx * qy - qw * qz)
            r02 = 2 * (qx * qz + qw * qy)
            r10 = 2 * (qx * qy + qw * qz)
            r11 = 1 - 2 * (qx * qx + qz * qz)
            r12 = 2 * (qy * qz - qw * qx)
            r20 = 2 * (qx * qz - qw * qy)
            r21 = 2 * (qy * qz + qw * qx)
            r22 = 1 - 2 * (qx * qx + qy * qy)
            s0, s1, s2 = math.exp(log_scales[i, 0]), math.exp(log_scales[i, 1]), math.exp(log_scales[i, 2])
            # M = R_cam · Rq · S (columns scaled); Σ_cam = M Mᵀ — scalars only, no allocation per Gaussian
            m00 = (R[0, 0] * r00 + R[0, 1] * r10 + R[0, 2] * r20) * s0
            m01 = (R[0, 0] * r01 + R[0, 1] * r11 + R[0, 2] * r21) * s1
            m02 = (R[0, 0] * r02 + R[0, 1] * r12 + R[0, 2] * r22) * s2
            m10 = (R[1, 0] * r00 + R[1, 1] * r10 + R[1, 2] * r20) * s0
            m11 = (R[1, 0] * r01 + R[1, 1] * r11 + R[1, 2] * r21) * s1
            m12 = (R[1, 0] * r02 + R[1, 1] * r12 + R[1, 2] * r22) * s2
            m20 = (R[2, 0] * r00 + R[2, 1] * r10 + R[2, 2] * r20) * s0
            m21 = (R[2, 0] * r01 + R[2, 1] * r11 + R[2, 2] * r21) * s1
            m22 = (R[2, 0] * r02 + R[2, 1] * r12 + R[2, 2] * r22) * s2
            S00 = m00 * m00 + m01 * m01 + m02 * m02
            S01 = m00 * m10 + m01 * m11 + m02 * m12
            S02 = m00 * m20 + m01 * m21 + m02 * m22
            S11 = m10 * m10 + m11 * m11 + m12 * m12
            S12 = m10 * m20 + m11 * m21 + m12 * m22
            S22 = m20 * m20 + m21 * m21 + m22 * m22
            tx = z * min(lim_xp, max(-lim_xn, x / z))
            ty = z * min(lim_yp, max(-lim_yn, y / z))
            j00, j02 = fx / z, -fx * tx / (z * z)
            j11, j12 = fy / z, -fy * ty / (z * z)
            # cov2d = J Σ Jᵀ with J = [[j00, 0, j02], [0, j11, j12]]
            a = j00 * (j00 * S00 + j02 * S02) + j02 * (j00 * S02 + j02 * S22)
            b = j00 * (j11 * S01 + j12 * S02) + j02 * (j11 * S12 + j12 * S22)
            c = j11 * (j11 * S11 + j12 * S12) + j12 * (j11 * S12 + j12 * S22)
            det_orig = a * c - b * b
            a += eps2d
            c += eps2d
            det = a * c - b * b
            if det <= 0:
                continue
            if antialiased:
                o = o * math.sqrt(max(det_orig / det, 0.0))
                opac[i] = o
                if o < thr:
                    continue
            u = fx * x / z + cx
            v = fy * y / z + cy
            extend = min(3.33, math.sqrt(2.0 * math.log(max(o / thr, 1.0))))
            rx = math.ceil(extend * math.sqrt(a))
            ry = math.ceil(extend * math.sqrt(c))
            if u + rx <= 0 or u - rx >= width or v + ry <= 0 or v - ry >= height:
                continue
            radii[i, 0] = rx
            radii[i, 1] = ry
            means2d[i, 0] = u
            means2d[i, 1] = v
            conics[i, 0] = c / det
            conics[i, 1] = -b / det
            conics[i, 2] = a / det
            # colours: SH in the world frame, view direction from the camera centre
            dx, dy, dz = mx - campos[0], my - campos[1], mz - campos[2]
            dn = max(math.sqrt(dx * dx + dy * dy + dz * dz), 1e-12)
            dx, dy, dz = dx / dn, dy / dn, dz / dn
            for ch in range(3):
                val = C0 * sh[i, 0, ch]
                if K > 1:
                    val += -C1 * dy * sh[i, 1, ch] + C1 * dz * sh[i, 2, ch] - C1 * dx * sh[i, 3, ch]
                if K > 4:
                    xx, yy, zz = dx * dx, dy * dy, dz * dz
                    val += (C2[0] * dx * dy * sh[i, 4, ch] + C2[1] * dy * dz * sh[i, 5, ch]
                            + C2[2] * (2.0 * zz - xx - yy) * sh[i, 6, ch] + C2[3] * dx * dz * sh[i, 7, ch]
                            + C2[4] * (xx - yy) * sh[i, 8, ch])
                if K > 9:
                    xx, yy, zz = dx * dx, dy * dy, dz * dz
                    val += (C3[0] * dy * (3 * xx - yy) * sh[i, 9, ch] + C3[1] * dx * dy * dz * sh[i, 10, ch]
                            + C3[2] * dy * (4 * zz - xx - yy) * sh[i, 11, ch]
                            + C3[3] * dz * (2 * zz - 3 * xx - 3 * yy) * sh[i, 12, ch]
                            + C3[4] * dx * (4 * zz - xx - yy) * sh[i, 13, ch] + C3[5] * dz * (xx - yy) * sh[i, 14, ch]
                            + C3[6] * dx * (xx - 3 * yy) * sh[i, 15, ch])
                colors[i, ch] = max(val + 0.5, 0.0)

    # the same code compiled twice: threads pay off only for large sets (start-up costs ~ms); each
    # build gets its own name, hence its own entry in numba's on-disk cache
    return (njit(cache=True, fastmath=True)(renamed(project_all, "serial")),
            njit(parallel=True, cache=True, fastmath=True)(renamed(project_all, "parallel")))


PARALLEL_MIN_GAUSSIANS = 30_000


def project_numba(gaussians, T_cam_world: np.ndarray, K: np.ndarray, width: int, height: int,
                  near: float = 0.01, far: float = 1e10, eps2d: float = 0.3, antialiased: bool = False):
    """(means2d, conics, depths, radii, opacities, colors) as numpy arrays, like `projection.project`."""
    g = gaussians.detach()
    return project_arrays(g.means.contiguous().numpy(), g.quats.contiguous().numpy(), g.log_scales.contiguous().numpy(),
                          g.opacity_logits.contiguous().numpy(), g.sh.contiguous().numpy(), T_cam_world, K, width, height,
                          near, far, eps2d, antialiased)


def _kernels():
    """(serial, parallel) compiled projections, built (or loaded from numba's cache) on first use."""
    global _KERNEL
    if _KERNEL is None:
        _KERNEL = _build()
    return _KERNEL


def serial_kernel():
    """The compiled single-threaded projection, for callers that run many projections side by side
    (pose.population); its arguments are project_arrays' kernel call's."""
    return _kernels()[0]


def project_arrays(means, quats, log_scales, opacity_logits, sh, T_cam_world: np.ndarray, K: np.ndarray, width: int,
                   height: int, near: float = 0.01, far: float = 1e10, eps2d: float = 0.3, antialiased: bool = False):
    """`project_numba` on contiguous numpy arrays (no torch on the way: per-frame rendering loops)."""
    serial, parallel = _kernels()
    dtype = means.dtype
    n = means.shape[0]
    T = np.asarray(T_cam_world, dtype=np.float64)
    R, t = T[:3, :3].copy(), T[:3, 3].copy()
    campos = -R.T @ t
    means2d, conics = np.zeros((n, 2), dtype), np.zeros((n, 3), dtype)
    depths, opac, colors = np.zeros(n, dtype), np.zeros(n, dtype), np.zeros((n, 3), dtype)
    radii = np.zeros((n, 2), np.int32)
    kernel = parallel if n >= PARALLEL_MIN_GAUSSIANS else serial
    kernel(means, quats, log_scales, opacity_logits, sh, R, t, campos, float(K[0, 0]), float(K[1, 1]), float(K[0, 2]), float(K[1, 2]),
            width, height, near, far, eps2d, antialiased, means2d, conics, depths, radii, opac, colors)
    return means2d, conics, depths, radii, opac, colors
