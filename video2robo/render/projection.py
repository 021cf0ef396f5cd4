"""EWA projection of 3D Gaussians to 2D image Gaussians, with gsplat's exact conventions.

Pure PyTorch and differentiable; every CPU backend rasterises its output, so their images agree by
construction up to compositing. Conventions (as gsplat 1.5 `fully_fused_projection`, pinhole):
- Jacobian evaluated at the camera-space mean with x/z, y/z clamped to 1.3× the field of view;
- 2D covariance blurred by eps2d on the diagonal; with `antialiased` the opacity is scaled by
  sqrt(det Σ / det(Σ + eps2d·I)) (gsplat's rasterize_mode="antialiased"), so sub-pixel Gaussians
  do not dilate silhouettes;
- culled when z ≤ near or z ≥ far, det ≤ 0, opacity < 1/255, or its bounding box is off-screen;
- opacity-aware bounding box: radius = ceil(min(3.33, sqrt(2 ln(255·o))) · σ_axis) per axis.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from video2robo.gaussians.sh import eval_sh
from video2robo.geometry.so3 import quat_to_rotmat

ALPHA_THRESHOLD = 1.0 / 255.0


@dataclass
class Projected:
    """Image-space Gaussians for one camera. Culled Gaussians have radii == 0."""

    means2d: torch.Tensor  # (N, 2) pixels
    conics: torch.Tensor  # (N, 3) inverse 2D covariance (a, b, c): σ = ½(a dx² + c dy²) + b dx dy
    depths: torch.Tensor  # (N,) camera z, metres
    radii: torch.Tensor  # (N, 2) int32 bounding-box half extents, pixels
    opacities: torch.Tensor  # (N,)
    colors: torch.Tensor  # (N, 3) view-dependent RGB

    @property
    def visible(self) -> torch.Tensor:
        return (self.radii > 0).all(-1)


def covariances(quats: torch.Tensor, scales: torch.Tensor) -> torch.Tensor:
    """World covariances R S Sᵀ Rᵀ (N, 3, 3)."""
    M = quat_to_rotmat(quats) * scales[:, None, :]
    return M @ M.transpose(-1, -2)


def project(
    means: torch.Tensor,
    quats: torch.Tensor,
    scales: torch.Tensor,
    opacities: torch.Tensor,
    sh: torch.Tensor,
    T_cam_world: torch.Tensor,
    K: torch.Tensor,
    width: int,
    height: int,
    near: float = 0.01,
    far: float = 1e10,
    eps2d: float = 0.3,
    antialiased: bool = False,
) -> Projected:
    """Project Gaussians into one camera (T_cam_world 4x4, K 3x3, same dtype as means)."""
    R, t = T_cam_world[:3, :3], T_cam_world[:3, 3]
    p = means @ R.T + t
    x, y, z = p.unbind(-1)
    fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]

    cov_c = R @ covariances(quats, scales) @ R.T
    tan_fovx, tan_fovy = 0.5 * width / fx, 0.5 * height / fy
    z_safe = torch.where(z.abs() < 1e-12, torch.full_like(z, 1e-12), z)
    tx = z * torch.clamp(x / z_safe, min=-(cx / fx + 0.3 * tan_fovx), max=(width - cx) / fx + 0.3 * tan_fovx)
    ty = z * torch.clamp(y / z_safe, min=-(cy / fy + 0.3 * tan_fovy), max=(height - cy) / fy + 0.3 * tan_fovy)
    zero = torch.zeros_like(z)
    J = torch.stack([fx / z_safe, zero, -fx * tx / z_safe**2, zero, fy / z_safe, -fy * ty / z_safe**2], -1).reshape(-1, 2, 3)
    cov2d = J @ cov_c @ J.transpose(-1, -2)
    a = cov2d[:, 0, 0] + eps2d
    b = 0.5 * (cov2d[:, 0, 1] + cov2d[:, 1, 0])
    c = cov2d[:, 1, 1] + eps2d
    det = a * c - b * b
    if antialiased:
        det_orig = (a - eps2d) * (c - eps2d) - b * b
        opacities = opacities * torch.sqrt((det_orig / det.clamp(min=1e-10)).clamp_min(0.0))
    det_safe = det.clamp(min=1e-10)
    conics = torch.stack([c / det_safe, -b / det_safe, a / det_safe], -1)
    means2d = torch.stack([fx * x / z_safe + cx, fy * y / z_safe + cy], -1)

    with torch.no_grad():
        o = opacities.detach()
        extend = torch.sqrt(2.0 * torch.log((o / ALPHA_THRESHOLD).clamp_min(1.0))).clamp(max=3.33)
        rx = torch.ceil(extend * torch.sqrt(a.detach().clamp_min(0)))
        ry = torch.ceil(extend * torch.sqrt(c.detach().clamp_min(0)))
        m = means2d.detach()
        valid = (
            (det.detach() > 0)
            & (z.detach() > near)
            & (z.detach() < far)
            & (o >= ALPHA_THRESHOLD)
            & (m[:, 0] + rx > 0)
            & (m[:, 0] - rx < width)
            & (m[:, 1] + ry > 0)
            & (m[:, 1] - ry < height)
        )
        radii = torch.stack([rx, ry], -1).to(torch.int32) * valid[:, None]

    if sh.shape[1] == 1:
        colors = torch.clamp_min(sh[:, 0] * 0.28209479177387814 + 0.5, 0.0)
    else:
        campos = -R.T @ t
        colors = eval_sh(sh, means - campos)
    return Projected(means2d, conics, z, radii, opacities, colors)
