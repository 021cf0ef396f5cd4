"""Real spherical harmonics (degree 0–3) in the convention of 3DGS / gsplat, and their rotation.

colour(d) = max(Σ_k c_k Y_k(d) + 0.5, 0) for a unit view direction d (from camera to Gaussian),
so a DC-only Gaussian with coefficient c0 has colour C0·c0 + 0.5.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch

C0 = 0.28209479177387814
C1 = 0.4886025119029199
C2 = (1.0925484305920792, -1.0925484305920792, 0.31539156525252005, -1.0925484305920792, 0.5462742152960396)
C3 = (
    -0.5900435899266435,
    2.890611442640554,
    -0.4570457994644658,
    0.3731763325901154,
    -0.4570457994644658,
    1.445305721320277,
    -0.5900435899266435,
)


def num_coeffs(degree: int) -> int:
    return (degree + 1) ** 2


def degree_of(num: int) -> int:
    d = int(round(math.sqrt(num))) - 1
    if (d + 1) ** 2 != num or not 0 <= d <= 3:
        raise ValueError(f"{num} SH coefficients is not (degree+1)^2 for a degree in 0..3")
    return d


def sh_basis(dirs: torch.Tensor, degree: int) -> torch.Tensor:
    """Basis values Y_k(d) (..., (degree+1)²) for unit directions (..., 3)."""
    x, y, z = dirs[..., 0], dirs[..., 1], dirs[..., 2]
    out = [torch.full_like(x, C0)]
    if degree >= 1:
        out += [-C1 * y, C1 * z, -C1 * x]
    if degree >= 2:
        xx, yy, zz, xy, yz, xz = x * x, y * y, z * z, x * y, y * z, x * z
        out += [
            C2[0] * xy,
            C2[1] * yz,
            C2[2] * (2.0 * zz - xx - yy),
            C2[3] * xz,
            C2[4] * (xx - yy),
        ]
    if degree >= 3:
        out += [
            C3[0] * y * (3 * xx - yy),
            C3[1] * xy * z,
            C3[2] * y * (4 * zz - xx - yy),
            C3[3] * z * (2 * zz - 3 * xx - 3 * yy),
            C3[4] * x * (4 * zz - xx - yy),
            C3[5] * z * (xx - yy),
            C3[6] * x * (xx - 3 * yy),
        ]
    return torch.stack(out, dim=-1)


def eval_sh(coeffs: torch.Tensor, dirs: torch.Tensor) -> torch.Tensor:
    """RGB (..., 3) from coefficients (..., K, 3) and view directions (..., 3) (normalised here)."""
    degree = degree_of(coeffs.shape[-2])
    d = dirs / dirs.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    basis = sh_basis(d, degree)
    return torch.clamp_min((basis[..., None] * coeffs).sum(-2) + 0.5, 0.0)


def rgb_to_sh0(rgb):
    """DC coefficient giving colour rgb (inverse of the degree-0 case of eval_sh)."""
    return (rgb - 0.5) / C0


def sh0_to_rgb(c0):
    return c0 * C0 + 0.5


@functools.lru_cache(maxsize=None)
def _sample_dirs(n: int = 64) -> np.ndarray:
    """Fibonacci-sphere directions: enough to pin down every band up to degree 3 exactly."""
    i = np.arange(n) + 0.5
    phi = np.arccos(1 - 2 * i / n)
    theta = math.pi * (1 + 5**0.5) * i
    return np.stack([np.cos(theta) * np.sin(phi), np.sin(theta) * np.sin(phi), np.cos(phi)], axis=-1)


def sh_rotation_matrix(R: torch.Tensor, degree: int) -> torch.Tensor:
    """Matrix M (K, K), K=(degree+1)², with coeffs' = M @ coeffs rotating an SH function by R.

    The rotated function satisfies f'(d) = f(Rᵀ d). Each band is closed under rotation, so M is the
    exact least-squares solution over sample directions. Differentiable in R. Solved in float64 (a
    float32 pseudo-inverse leaves ~1e-6 errors) and returned in R's dtype; band 0 is exactly 1.
    """
    R64 = R.to(torch.float64)
    dirs = torch.as_tensor(_sample_dirs(), dtype=torch.float64, device=R.device)
    Y = sh_basis(dirs, degree)  # (n, K)
    Y_rot = sh_basis(dirs @ R64, degree)  # rows Rᵀ d_i
    # f'(d_i) = Σ_k c_k Y_k(Rᵀ d_i) = Σ_j c'_j Y_j(d_i)  →  c' = pinv(Y) Y_rot c
    M = torch.linalg.pinv(Y) @ Y_rot
    K = num_coeffs(degree)
    # zero out the numerically-zero cross-band leakage so M is exactly block diagonal
    band = torch.tensor([int(math.isqrt(k)) for k in range(K)], device=R.device)
    M = M * (band[:, None] == band[None, :]).to(M.dtype)
    dc = torch.zeros(K, K, dtype=torch.bool, device=R.device)
    dc[0, 0] = True  # the constant band is rotation invariant
    return torch.where(dc, torch.ones_like(M), M).to(R.dtype)


def rotate_sh(coeffs: torch.Tensor, R: torch.Tensor) -> torch.Tensor:
    """Coefficients (N, K, 3) of colours rotated rigidly by R (3, 3); band 0 is unchanged."""
    degree = degree_of(coeffs.shape[-2])
    if degree == 0:
        return coeffs
    M = sh_rotation_matrix(R.to(coeffs.dtype), degree)
    return torch.einsum("jk,nkc->njc", M, coeffs)
