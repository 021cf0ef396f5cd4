"""Augmentations, each switchable in the task spec and drawn from the episode's seeded generator.

- rearrangement: target and source placed at (x, y) in the workspace ranges with a yaw offset from their
  resting orientation in the demo (roll/pitch/height kept, so they still rest on the table), footprints
  at least `min_gap` apart;
- table appearance: procedural textures (`TEXTURES` registry) or images from a user folder;
- background: a textured wall plane behind the robot, Gaussian backdrops (PLY files), or none;
- lighting: colour scale, shift and per-channel tint applied to every Gaussian;
- camera: eye/target/field-of-view jitter, optionally moving linearly over the episode;
- distractors: small coloured boxes/cylinders on free table space.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from video2robo.errors import UserError
from video2robo.geometry import PinholeCamera, look_at
from video2robo.task_spec import AugmentSpec, CameraSpec, Range, WorkspaceSpec


def _u(rng: np.random.Generator, r: Range) -> float:
    return float(rng.uniform(r.low, r.high))


def _rot_z(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def footprint_radius(points: np.ndarray) -> float:
    """Radius (m) of an object's footprint around its frame origin."""
    return float(np.linalg.norm(points[:, :2], axis=1).max())


def place(T_rest: np.ndarray, x: float, y: float, yaw: float) -> np.ndarray:
    """The resting pose T_rest moved to (x, y) and turned by `yaw` about the world z axis."""
    T = T_rest.copy()
    T[:3, :3] = _rot_z(yaw) @ T_rest[:3, :3]
    T[0, 3], T[1, 3] = x, y
    return T


def footprint(points: np.ndarray, T_rest: np.ndarray) -> np.ndarray:
    """(K, 2) counter-clockwise convex hull of the object's points seen from above in its resting
    orientation, relative to its frame origin (the shape that rearrangement keeps apart)."""
    from scipy.spatial import ConvexHull

    xy = (np.asarray(points, float) @ T_rest[:3, :3].T)[:, :2]
    return xy[ConvexHull(xy).vertices]


def _edges_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Smallest distance from the vertices of polygon a to the edges of polygon b."""
    p0, p1 = b, np.roll(b, -1, axis=0)
    d = p1 - p0
    t = np.clip(np.einsum("vek,ek->ve", a[:, None] - p0[None], d) / np.einsum("ek,ek->e", d, d)[None], 0.0, 1.0)
    closest = p0[None] + t[..., None] * d[None]
    return float(np.linalg.norm(a[:, None] - closest, axis=2).min())


def polygon_gap(a: np.ndarray, b: np.ndarray) -> float:
    """Distance between two convex polygons (K, 2) (counter-clockwise); 0 when they overlap."""
    for poly in (a, b):
        n = np.roll(poly, -1, axis=0) - poly
        normals = np.stack([n[:, 1], -n[:, 0]], axis=1)  # outward for counter-clockwise order
        if np.any(np.einsum("ek,vk->ev", normals, (b if poly is a else a)) .min(axis=1)
                  > np.einsum("ek,ek->e", normals, poly)):
            return min(_edges_distance(a, b), _edges_distance(b, a))
    return 0.0


def placed_footprint(fp: np.ndarray, x: float, y: float, yaw: float) -> np.ndarray:
    return fp @ _rot_z(yaw)[:2, :2].T + np.array([x, y])


def sample_layout(ws: WorkspaceSpec, rng, T_source_rest, T_target_rest, fp_source, fp_target, enabled=True, tries=50):
    """(T_world_source, T_world_target) or None when no placement with footprints (`footprint`) at least
    `ws.min_gap` apart was found in `tries` draws."""
    if not enabled:
        return T_source_rest.copy(), T_target_rest.copy()
    for _ in range(tries):
        tx, ty, tyaw = _u(rng, ws.target_x), _u(rng, ws.target_y), _u(rng, ws.target_yaw)
        sx, sy, syaw = _u(rng, ws.source_x), _u(rng, ws.source_y), _u(rng, ws.source_yaw)
        gap = polygon_gap(placed_footprint(fp_source, sx, sy, syaw), placed_footprint(fp_target, tx, ty, tyaw))
        if gap >= ws.min_gap:
            return place(T_source_rest, sx, sy, syaw), place(T_target_rest, tx, ty, tyaw)
    return None


# --- textures ------------------------------------------------------------------------------------------
def _colour(rng) -> np.ndarray:
    return rng.uniform(0.15, 0.9, 3)


def tex_solid(rng, n=64):
    return np.broadcast_to(_colour(rng), (n, n, 3)).copy()


def tex_checker(rng, n=64):
    a, b = _colour(rng), _colour(rng)
    k = int(rng.integers(4, 16))
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    m = ((i * k // n + j * k // n) % 2)[..., None]
    return m * a + (1 - m) * b


def tex_wood(rng, n=64):
    base = rng.uniform([0.45, 0.28, 0.12], [0.75, 0.55, 0.35])
    y = np.linspace(0, 1, n)[:, None] + 0.03 * np.sin(np.linspace(0, 6, n))[None, :]
    rings = 0.5 + 0.5 * np.sin(2 * np.pi * y * rng.uniform(6, 14) + rng.uniform(0, 6))
    return (base * (0.75 + 0.25 * rings[..., None])).clip(0, 1)


def tex_noise(rng, n=64):
    c = _colour(rng)
    coarse = rng.uniform(-1, 1, (8, 8, 1))
    up = np.kron(coarse, np.ones((n // 8, n // 8, 1)))
    return (c + 0.12 * up + 0.05 * rng.uniform(-1, 1, (n, n, 1))).clip(0, 1)


def tex_stripes(rng, n=64):
    a, b = _colour(rng), _colour(rng)
    k = int(rng.integers(3, 10))
    m = ((np.arange(n) * k // n) % 2)[None, :, None]
    return np.broadcast_to(m * a + (1 - m) * b, (n, n, 3)).copy()


TEXTURES: dict[str, Callable] = {"solid": tex_solid, "checker": tex_checker, "wood": tex_wood, "noise": tex_noise, "stripes": tex_stripes}


def load_texture_images(folder: str) -> list[np.ndarray]:
    """RGB float images (H, W, 3) in [0, 1] from a folder of PNG/JPEG files (downsampled to 128 px)."""
    from PIL import Image

    path = Path(folder)
    if not path.is_dir():
        raise UserError(f"texture folder {folder} does not exist")
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
    if not files:
        raise UserError(f"texture folder {folder} holds no .png/.jpg images")
    out = []
    for f in files:
        try:
            img = Image.open(f).convert("RGB")
        except OSError as e:
            raise UserError(f"cannot read texture image {f}: {e}") from None
        img.thumbnail((128, 128))
        out.append(np.asarray(img, dtype=np.float64) / 255.0)
    return out


def sample_texture(rng, enabled: bool, user_images: list[np.ndarray], default=(0.62, 0.5, 0.38)) -> np.ndarray:
    if not enabled:
        return np.broadcast_to(np.asarray(default, float), (8, 8, 3)).copy()
    names = list(TEXTURES) + ["user"] * (len(user_images) > 0) * 2
    name = names[int(rng.integers(len(names)))]
    if name == "user":
        return user_images[int(rng.integers(len(user_images)))]
    return TEXTURES[name](rng)


# --- lighting and cameras -------------------------------------------------------------------------------
@dataclass
class Lighting:
    """rgb' = clip(scale · tint · rgb + shift)."""

    scale: float = 1.0
    shift: float = 0.0
    tint: np.ndarray = field(default_factory=lambda: np.ones(3))

    def apply(self, rgb: np.ndarray) -> np.ndarray:
        return np.clip(self.scale * self.tint * rgb + self.shift, 0.0, 1.0)


def sample_lighting(spec: AugmentSpec, rng) -> Lighting:
    if not spec.lighting:
        return Lighting()
    return Lighting(_u(rng, spec.light_scale), _u(rng, spec.light_shift), rng.uniform(1 - spec.light_tint, 1 + spec.light_tint, 3))


def camera_pose(cam: CameraSpec, spec: AugmentSpec, rng, jitter: bool) -> tuple[np.ndarray, float]:
    """(T_cam_world, fov_deg) of a camera spec, jittered when enabled."""
    eye, target, fov = np.asarray(cam.eye, float), np.asarray(cam.target, float), cam.fov_deg
    if jitter:
        eye = eye + rng.uniform(-1, 1, 3) * spec.camera_pos_m
        target = target + rng.uniform(-1, 1, 3) * spec.camera_target_m
        fov = fov + rng.uniform(-1, 1) * spec.camera_fov_deg
    return look_at(eye, target), fov


def sample_cameras(cams: list[CameraSpec], spec: AugmentSpec, rng, width: int, height: int, steps: int) -> list[list[PinholeCamera]]:
    """Per camera spec, the camera at every step (constant unless `camera_motion`)."""
    from video2robo.geometry import interpolate_pose, pose_inverse

    out = []
    for cam in cams:
        T0, fov = camera_pose(cam, spec, rng, spec.camera_jitter)
        base = PinholeCamera.from_fov(fov, width, height, T0)
        if not spec.camera_motion:
            out.append([base] * steps)
            continue
        T1, _ = camera_pose(cam, spec, rng, True)
        W0, W1 = pose_inverse(T0), pose_inverse(T1)
        Ws = interpolate_pose(W0, W1, np.linspace(0.0, 1.0, steps))
        out.append([PinholeCamera(base.K, pose_inverse(W), width, height) for W in Ws])
    return out
