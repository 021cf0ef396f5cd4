"""`video2robo render`: render a Gaussian scene (3DGS PLY or the built-in sample) to PNG images."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Optional, Tuple


@dataclass
class Config:
    """Render a 3DGS PLY file (or the built-in sample scene) to RGB, depth and alpha PNGs."""

    ply: Optional[Path] = None
    """3DGS PLY to render; the built-in sample scene when omitted."""
    out: Path = Path("render.png")
    """Output RGB image; depth and alpha go next to it (<name>_depth.png, <name>_alpha.png)."""
    width: int = 256
    height: int = 256
    fov: float = 60.0
    """Horizontal field of view, degrees."""
    eye: Optional[Tuple[float, float, float]] = None
    """Camera position (world, metres); default: framed from the scene's bounds."""
    target: Optional[Tuple[float, float, float]] = None
    """Point the camera looks at; default: the scene's centre."""
    up: Tuple[float, float, float] = (0.0, 0.0, 1.0)
    background: Tuple[float, float, float] = (1.0, 1.0, 1.0)
    backend: Literal["auto", "numba", "torch", "gsplat"] = "auto"


def sample_scene():
    """A small tabletop: a textured table top, a red mug-like cylinder and a blue box, as Gaussians."""
    import numpy as np
    import trimesh

    from video2robo.gaussians import GaussianSet, mesh_to_gaussians

    table = trimesh.creation.box(extents=(0.6, 0.4, 0.02))
    table.apply_translation((0, 0, -0.01))
    table = table.subdivide_to_size(0.01)
    checker = ((np.floor(table.vertices[:, 0] / 0.1 + 1e-6) + np.floor(table.vertices[:, 1] / 0.1 + 1e-6)) % 2)[:, None]
    table.visual.vertex_colors = (np.where(checker, [200, 170, 120, 255], [150, 110, 70, 255])).astype(np.uint8)
    cup = trimesh.creation.cylinder(radius=0.04, height=0.1, sections=48)
    cup.apply_translation((-0.1, 0.02, 0.05))
    cup.visual.vertex_colors = [200, 40, 40, 255]
    box = trimesh.creation.box(extents=(0.06, 0.06, 0.06))
    box.apply_translation((0.12, -0.05, 0.03))
    box.visual.vertex_colors = [40, 80, 200, 255]
    return GaussianSet.concat([mesh_to_gaussians(m, num=n, seed=i) for i, (m, n) in enumerate([(table, 30000), (cup, 8000), (box, 4000)])])


def render_to_files(gaussians, camera, out: Path, backend: str = "auto", background=(1.0, 1.0, 1.0)) -> Path:
    """Write <out> (RGB), <out>_depth.png (16-bit millimetres) and <out>_alpha.png; returns the RGB path."""
    import numpy as np
    from PIL import Image

    from video2robo.io_utils import atomic_path
    from video2robo.render import render

    result = render(gaussians, camera, backend=backend, background=background)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    depth_mm = (result.depth[0].numpy() * 1000).clip(0, 65535).astype(np.uint16)
    alpha = (result.alpha[0].numpy() * 255 + 0.5).astype(np.uint8)
    for path, image in ((out, result.numpy_rgb(0)), (out.with_name(out.stem + "_depth.png"), depth_mm),
                        (out.with_name(out.stem + "_alpha.png"), alpha)):
        with atomic_path(path) as tmp:
            Image.fromarray(image).save(tmp, format="PNG")
    return out


def default_camera(gaussians, width, height, fov, eye=None, target=None, up=(0.0, 0.0, 1.0)):
    """Camera looking at the scene centre from above and in front, far enough to frame the bounds."""
    import math

    import numpy as np

    from video2robo.geometry import PinholeCamera

    lo, hi = gaussians.bounds()
    centre = (lo + hi) / 2 if target is None else np.asarray(target, dtype=float)
    if eye is None:
        radius = max(float(np.linalg.norm(hi - lo)) / 2, 1e-3)
        dist = radius / math.tan(math.radians(fov) / 2) * 1.1
        direction = np.array([0.0, -0.8, 0.6])
        eye = centre + dist * direction / np.linalg.norm(direction)
    return PinholeCamera.looking_at(eye, centre, fov, width, height, up)


def render_sample_scene(out_dir: Path, width: int = 256, height: int = 256) -> Path:
    scene = sample_scene()
    cam = default_camera(scene, width, height, 60.0)
    return render_to_files(scene, cam, Path(out_dir) / "sample_scene.png")


def run(cfg: Config) -> int:
    from video2robo.errors import UserError

    if cfg.width <= 0 or cfg.height <= 0 or cfg.width > 8192 or cfg.height > 8192:
        raise UserError(f"image size {cfg.width}x{cfg.height} is out of range; use --width/--height between 1 and 8192")
    if not 1.0 <= cfg.fov <= 170.0:
        raise UserError(f"--fov {cfg.fov} is out of range; use a horizontal field of view in degrees between 1 and 170")
    if cfg.ply is None:
        gaussians = sample_scene()
    else:
        from video2robo.gaussians import load_ply

        gaussians = load_ply(cfg.ply)
    if len(gaussians) == 0:
        raise UserError(f"{cfg.ply} holds no Gaussians; render a PLY with at least one vertex")
    cam = default_camera(gaussians, cfg.width, cfg.height, cfg.fov, cfg.eye, cfg.target, cfg.up)
    path = render_to_files(gaussians, cam, cfg.out, cfg.backend, cfg.background)
    print(f"rendered {len(gaussians)} Gaussians at {cfg.width}x{cfg.height} -> {path}")
    return 0
