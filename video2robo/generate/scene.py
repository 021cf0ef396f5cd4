"""The Gaussian scene of one episode: table, background, target, source, Gaussian Franka; rendering.

Per-step rendering is the time budget of generation, so the scene is kept as flat numpy arrays
(means, unit wxyz quats, log scales, opacity logits, RGB) and posed without autograd:

- the robot's per-link Gaussians are moved by FK link poses in one vectorised pass (SH degree 0, so
  colour does not depend on orientation);
- static parts (table, wall, target, distractors) are assembled once per episode, with the episode's
  lighting applied to every colour;
- one numba projection + one rasterisation per camera and step gives RGB, depth and per-instance
  coverage at once (instance one-hot channels ride along as extra features), hence instance masks.

Instance labels: 0 background/table, 1 robot, 2 source, 3 target, 4 distractors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from video2robo.gaussians.gaussian_set import GaussianSet
from video2robo.gaussians.sh import C0
from video2robo.geometry import quat_multiply

LABELS = {"background": 0, "robot": 1, "source": 2, "target": 3, "distractor": 4}
N_LABELS = 5


@dataclass
class Parts:
    """Flat Gaussian arrays (float32) of one or more scene parts, with per-Gaussian instance labels."""

    means: np.ndarray
    quats: np.ndarray
    log_scales: np.ndarray
    logits: np.ndarray
    rgb: np.ndarray
    label: np.ndarray  # uint8

    @classmethod
    def from_set(cls, g: GaussianSet, label: int) -> "Parts":
        q = g.quats.detach().numpy().astype(np.float32)
        q = q / np.linalg.norm(q, axis=1, keepdims=True).clip(1e-12)
        return cls(g.means.detach().numpy().astype(np.float32), q, g.log_scales.detach().numpy().astype(np.float32),
                   g.opacity_logits.detach().numpy().astype(np.float32), g.rgb.detach().numpy().astype(np.float32),
                   np.full(len(g), label, np.uint8))

    @staticmethod
    def concat(parts: list["Parts"]) -> "Parts":
        return Parts(*(np.concatenate([getattr(p, k) for p in parts]) for k in ("means", "quats", "log_scales", "logits", "rgb", "label")))

    def transformed(self, T: np.ndarray) -> "Parts":
        """Rigidly moved copy (means and rotations; colours are view-independent)."""
        R, t = T[:3, :3].astype(np.float32), T[:3, 3].astype(np.float32)
        qR = rotmat_to_quat_np(T[:3, :3]).astype(np.float32)
        return Parts(self.means @ R.T + t, quat_multiply(qR[None], self.quats), self.log_scales, self.logits, self.rgb, self.label)

    def lit(self, lighting) -> "Parts":
        return Parts(self.means, self.quats, self.log_scales, self.logits, lighting.apply(self.rgb).astype(np.float32), self.label)

    def __len__(self) -> int:
        return len(self.means)

    def thinned(self, voxel: float) -> "Parts":
        """At most one Gaussian per `voxel`-sized cell (m), in-plane scales grown by √(N/M) so the
        surface stays covered: a level of detail for views whose pixels are much larger than the
        spacing of the Gaussians (the rasteriser's cost grows with their number)."""
        _, keep = np.unique(np.floor(self.means / voxel).astype(np.int64), axis=0, return_index=True)
        if len(keep) >= len(self):
            return self
        keep = np.sort(keep)
        log_scales = self.log_scales[keep].copy()
        log_scales[:, :2] += np.float32(0.5 * np.log(len(self) / len(keep)))
        return Parts(self.means[keep], self.quats[keep], log_scales, self.logits[keep], self.rgb[keep], self.label[keep])


def rotmat_to_quat_np(R: np.ndarray) -> np.ndarray:
    from video2robo.geometry import rotmat_to_quat

    return np.asarray(rotmat_to_quat(np.asarray(R, np.float64)))


def textured_plane(texture: np.ndarray, origin, u_axis, v_axis, size_u: float, size_v: float, spacing: float, label: int = 0) -> Parts:
    """Flat Gaussians on the rectangle origin + [0, size_u]·u + [0, size_v]·v, coloured by `texture` (H, W, 3)."""
    u_axis, v_axis = np.asarray(u_axis, float), np.asarray(v_axis, float)
    nu, nv = max(2, int(size_u / spacing)), max(2, int(size_v / spacing))
    uu, vv = np.meshgrid((np.arange(nu) + 0.5) / nu, (np.arange(nv) + 0.5) / nv, indexing="ij")
    uu, vv = uu.ravel(), vv.ravel()
    means = np.asarray(origin, float) + uu[:, None] * size_u * u_axis + vv[:, None] * size_v * v_axis
    H, W = texture.shape[:2]
    rgb = texture[np.minimum((vv * H).astype(int), H - 1), np.minimum((uu * W).astype(int), W - 1)]
    normal = np.cross(u_axis, v_axis)
    q = rotmat_to_quat_np(np.stack([u_axis, v_axis, normal], axis=1))
    n = len(means)
    s = 0.6 * spacing
    return Parts(means.astype(np.float32), np.tile(q, (n, 1)).astype(np.float32),
                 np.log(np.tile([s, s, 0.05 * s], (n, 1))).astype(np.float32), np.full(n, 5.0, np.float32),
                 rgb.astype(np.float32), np.full(n, label, np.uint8))


def table_parts(texture: np.ndarray, spacing: float = 0.012) -> Parts:
    """A 1.4 m × 1.4 m table top at z = -1 mm (so resting objects are not hidden), robot side included."""
    return textured_plane(texture, (-0.8, -0.7, -0.001), (1, 0, 0), (0, 1, 0), 1.4, 1.4, spacing)


def wall_parts(texture: np.ndarray, spacing: float = 0.03) -> Parts:
    """A vertical wall behind the robot (x = -1.1 m), 3 m wide, 1.6 m high."""
    return textured_plane(texture, (-1.1, 1.5, -0.3), (0, -1, 0), (0, 0, 1), 3.0, 1.6, spacing)


class FastRobot:
    """The Gaussian Franka posed by FK with numpy (no autograd, no SH rotation: SH degree 0 assets)."""

    def __init__(self, robot, T_world_base: np.ndarray):
        self.kin = robot.kin
        self.names = list(robot.link_names)
        sets = [robot.links[n] for n in self.names]
        if max(s.sh_degree for s in sets) > 0:
            raise ValueError("FastRobot needs SH degree 0 robot assets (view-independent colour)")
        self.parts = Parts.concat([Parts.from_set(s, LABELS["robot"]) for s in sets])
        self.link_index = np.concatenate([np.full(len(s), i, np.int32) for i, s in enumerate(sets)])
        self.T_world_base = np.asarray(T_world_base, float)

    def pose(self, q, width: float, rgb: np.ndarray | None = None) -> Parts:
        from video2robo.generate.scene_kernels import kernels

        poses = self.kin.link_poses(q, width)
        Ts = np.stack([self.T_world_base @ poses[n] for n in self.names])
        p = self.parts
        means, quats = np.empty_like(p.means), np.empty_like(p.quats)
        kernels()[0](Ts[:, :3, :3].astype(np.float32), Ts[:, :3, 3].astype(np.float32),
                     rotmat_to_quat_np(Ts[:, :3, :3]).astype(np.float32), self.link_index, p.means, p.quats, means, quats)
        return Parts(means, quats, p.log_scales, p.logits, p.rgb if rgb is None else rgb, p.label)


@dataclass
class StaticLayer:
    """Parts that do not move during an episode, rendered once for a fixed camera.

    Moving parts are then rasterised per frame only up to the layer's depth (`depth_limit`, +inf where
    the layer is see-through) and composited in front of it, so the per-frame cost is the robot and
    the grasped object alone. Exact where the layer is opaque; only semi-transparent fringes (< 1 px
    at object outlines) differ from rendering everything together.
    """

    features: np.ndarray  # (H, W, 4 + L) premultiplied colour, depth, coverage of each of `labels`
    alpha: np.ndarray  # (H, W)
    labels: np.ndarray  # (L,) int32 instance labels present
    depth_limit: np.ndarray | None  # (H, W) float32, +inf where alpha < 0.5; None: nothing behind


def _rasterize(parts: Parts, cam, masks: bool, depth_limit=None):
    """(features (H, W, 4 + L): colour, depth, coverage per label; alpha; labels (L,))."""
    from video2robo.render.project_numba import project_arrays
    from video2robo.render.raster_numba import rasterize_arrays

    sh = np.ascontiguousarray(((parts.rgb - 0.5) / C0)[:, None, :], np.float32)
    means2d, conics, depths, radii, opac, colors = project_arrays(parts.means, parts.quats, parts.log_scales, parts.logits,
                                                                  sh, cam.T_cam_world, cam.K, cam.width, cam.height)
    labels = np.unique(parts.label).astype(np.int32) if masks else np.zeros(0, np.int32)
    feats = np.empty((len(parts), 4 + len(labels)), colors.dtype)
    feats[:, :3], feats[:, 3] = colors, depths
    feats[:, 4:] = parts.label[:, None] == labels[None]
    feat, alpha, _ = rasterize_arrays(means2d, conics, opac, feats, radii, depths, cam.width, cam.height, depth_limit)
    return feat, alpha, labels


def render_static(parts: Parts, cam, masks: bool = True) -> StaticLayer:
    feat, alpha, labels = _rasterize(parts, cam, masks)
    limit = np.where(alpha >= 0.5, feat[..., 3] / np.maximum(alpha, 1e-6), np.inf).astype(np.float32)
    return StaticLayer(feat, alpha, labels, limit)


def render_parts(parts: Parts, cam, background=(0.0, 0.0, 0.0), masks: bool = True, static: StaticLayer | None = None):
    """(rgb uint8 (H, W, 3), depth float32 (H, W) metres (0 = none), mask uint8 (H, W) or None), of
    `parts` in front of the pre-rendered `static` layer when given (same camera)."""
    from video2robo.generate.scene_kernels import kernels

    feat, alpha, labels = _rasterize(parts, cam, masks, None if static is None else static.depth_limit)
    H, W = alpha.shape
    if static is None:
        static = StaticLayer(np.zeros((H, W, 4), feat.dtype), np.zeros((H, W), feat.dtype), np.zeros(0, np.int32), None)
    elif not masks:
        static = StaticLayer(static.features, static.alpha, np.zeros(0, np.int32), static.depth_limit)
    rgb, depth, mask = np.empty((H, W, 3), np.uint8), np.empty((H, W), np.float32), np.empty((H, W), np.uint8)
    kernels()[1](feat, alpha, labels, static.features, static.alpha, static.labels,
                 np.asarray(background, feat.dtype), rgb, depth, mask)
    return rgb, depth, (mask if masks else None)
