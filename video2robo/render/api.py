"""`render`: the one rendering entry point — Gaussians + cameras → RGB, expected depth, alpha.

All backends share gsplat's semantics (see `projection`). CPU backends project with differentiable
PyTorch and rasterise with either the pure-PyTorch tile compositor ("torch") or the compiled one
("numba"); "gsplat" uses CUDA. Gradients flow to every GaussianSet tensor and to a rigid pose applied
with `GaussianSet.transform`, which is what pose fitting optimises.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from video2robo.errors import UserError
from video2robo.gaussians.gaussian_set import GaussianSet
from video2robo.geometry.camera import PinholeCamera
from video2robo.render.projection import project

BACKENDS = ("auto", "numba", "torch", "gsplat")


@dataclass
class RenderOutput:
    rgb: torch.Tensor  # (B, H, W, 3), background composited
    depth: torch.Tensor  # (B, H, W) expected camera z where alpha > 0, else 0
    alpha: torch.Tensor  # (B, H, W) accumulated opacity

    def numpy_rgb(self, index: int = 0) -> np.ndarray:
        """uint8 HxWx3 image of camera `index`."""
        return (self.rgb[index].detach().clamp(0, 1) * 255 + 0.5).to(torch.uint8).cpu().numpy()


def resolve_backend(backend: str, device) -> str:
    if backend not in BACKENDS:
        raise UserError(f"unknown render backend '{backend}'; choose one of {', '.join(BACKENDS)}")
    if backend != "auto":
        return backend
    if torch.device(device).type == "cuda":
        from video2robo.render.gsplat_backend import available

        if available():
            return "gsplat"
        return "torch"
    try:
        import numba  # noqa: F401
    except ImportError:
        return "torch"
    return "numba"


def _camera_tensors(cameras, dtype, device):
    cams = [cameras] if isinstance(cameras, PinholeCamera) else list(cameras)
    if not cams:
        raise ValueError("render needs at least one camera")
    w, h = cams[0].width, cams[0].height
    if any((c.width, c.height) != (w, h) for c in cams):
        raise ValueError("all cameras in one render call must share an image size")

    def t(x):
        return x.to(dtype=dtype, device=device) if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x), dtype=dtype, device=device)

    return torch.stack([t(c.K) for c in cams]), torch.stack([t(c.T_cam_world) for c in cams]), int(w), int(h)


def render(
    gaussians: GaussianSet,
    cameras: PinholeCamera | Sequence[PinholeCamera],
    *,
    backend: str = "auto",
    background=None,
    near: float = 0.01,
    far: float = 1e10,
    eps2d: float = 0.3,
    tile_size: int | None = None,
    antialiased: bool = False,
) -> RenderOutput:
    """Render a GaussianSet from one or more cameras of the same image size.

    background: RGB in [0, 1] (3,) or per camera (B, 3); black when None. tile_size only changes the
    speed of the tiled backends (torch, gsplat), never the image; the numba backend has no tiles.
    antialiased scales each Gaussian's opacity by its blur compensation (gsplat's "antialiased" mode):
    silhouettes of objects made of pixel-sized Gaussians then keep their true extent.
    """
    backend = resolve_backend(backend, gaussians.device)
    Ks, viewmats, width, height = _camera_tensors(cameras, gaussians.dtype, gaussians.device)
    needs_grad = torch.is_grad_enabled() and (
        any(x.requires_grad for x in (gaussians.means, gaussians.quats, gaussians.log_scales, gaussians.opacity_logits, gaussians.sh))
        or viewmats.requires_grad
        or Ks.requires_grad
    )
    if backend == "numba" and not needs_grad:
        rgb, depth, alpha = _render_numba_forward(gaussians, Ks, viewmats, width, height, near, far, eps2d, antialiased)
    elif backend == "gsplat":
        from video2robo.render.gsplat_backend import render_gsplat

        rgb, depth, alpha = render_gsplat(gaussians, Ks, viewmats, width, height, near, far, eps2d, tile_size or 16, antialiased)
        rgb, depth, alpha = (x.to(gaussians.device, gaussians.dtype) for x in (rgb, depth, alpha))
    else:
        if backend == "numba":
            from video2robo.render.raster_numba import rasterize
        else:
            from video2robo.render.raster_torch import DEFAULT_TILE, rasterize

            tile_size = tile_size or DEFAULT_TILE
        scales, opacities = gaussians.scales, gaussians.opacities
        rgbs, depths, alphas = [], [], []
        for K, T in zip(Ks, viewmats):
            p = project(gaussians.means, gaussians.quats, scales, opacities, gaussians.sh, T, K, width, height, near, far, eps2d, antialiased)
            features = torch.cat([p.colors, p.depths[:, None]], dim=1)
            feat, alpha = rasterize(p.means2d, p.conics, p.opacities, features, p.radii, p.depths, width, height, tile_size)
            rgbs.append(feat[..., :3])
            depths.append(_expected_depth(feat[..., 3], alpha))
            alphas.append(alpha)
        rgb, depth, alpha = torch.stack(rgbs), torch.stack(depths), torch.stack(alphas)
    if background is not None:
        bg = torch.as_tensor(np.asarray(background), dtype=rgb.dtype, device=rgb.device).reshape(-1, 1, 1, 3)
        rgb = rgb + (1.0 - alpha[..., None]) * bg
    return RenderOutput(rgb, depth, alpha)


def _expected_depth(accumulated, alpha):
    return torch.where(alpha > 0, accumulated / alpha.clamp_min(1e-10), torch.zeros_like(alpha))


def _render_numba_forward(gaussians, Ks, viewmats, width, height, near, far, eps2d, antialiased):
    """No-gradient fast path: fused numba projection + compiled rasteriser, no autograd bookkeeping."""
    from video2robo.render.project_numba import project_numba
    from video2robo.render.raster_numba import rasterize_arrays

    outs = []
    for K, T in zip(Ks, viewmats):
        means2d, conics, depths, radii, opac, colors = project_numba(
            gaussians, T.detach().double().numpy(), K.detach().double().numpy(), width, height, near, far, eps2d, antialiased
        )
        features = np.concatenate([colors, depths[:, None]], axis=1)
        feat, alpha, _ = rasterize_arrays(means2d, conics, opac, features, radii, depths, width, height)
        outs.append((feat, alpha))
    feat = torch.from_numpy(np.stack([f for f, _ in outs]))
    alpha = torch.from_numpy(np.stack([a for _, a in outs]))
    return feat[..., :3], _expected_depth(feat[..., 3], alpha), alpha
