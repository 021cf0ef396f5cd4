"""gsplat's CUDA `rasterization` behind our render API (imported lazily: CPU-only machines never load it)."""

from __future__ import annotations

import torch

from video2robo.errors import BackendUnavailable


def available() -> bool:
    if not torch.cuda.is_available():
        return False
    try:
        import gsplat  # noqa: F401
    except ImportError:
        return False
    return True


def render_gsplat(gaussians, Ks, viewmats, width, height, near, far, eps2d, tile_size, antialiased=False):
    """(rgb (B,H,W,3), expected depth (B,H,W), alpha (B,H,W)) from gsplat with our conventions."""
    if not torch.cuda.is_available():
        raise BackendUnavailable("gsplat", "gsplat", 'pip install -e ".[cuda]"', "no CUDA device is available")
    try:
        from gsplat import rasterization
    except ImportError as e:
        raise BackendUnavailable("gsplat", "gsplat", 'pip install -e ".[cuda]"', str(e)) from e
    dev = torch.device("cuda")
    g = gaussians.to(device=dev, dtype=torch.float32)
    colors, alphas, _ = rasterization(
        means=g.means,
        quats=g.quats,
        scales=g.scales,
        opacities=g.opacities,
        colors=g.sh,
        viewmats=viewmats.to(dev, torch.float32),
        Ks=Ks.to(dev, torch.float32),
        width=width,
        height=height,
        near_plane=near,
        far_plane=far,
        eps2d=eps2d,
        sh_degree=g.sh_degree,
        packed=False,
        tile_size=tile_size,
        render_mode="RGB+ED",
        rasterize_mode="antialiased" if antialiased else "classic",
    )
    alpha = alphas[..., 0]
    return colors[..., :3], torch.where(alpha > 0, colors[..., 3], torch.zeros_like(alpha)), alpha
