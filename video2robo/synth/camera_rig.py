"""Phone-like camera: placement around the task, hand-held motion (slow drift + shake) or a tripod.

The camera pose is a continuous function of time so motion blur can sample it between frames.
Hand-held motion = a few slow sinusoids (breathing, swaying: 0.05–0.4 Hz, ~1–2 cm, ~1–2°) plus fast
small ones (tremor: 2–9 Hz, ~1–2 mm, ~0.2°), applied in the camera frame. Poses are T_world_cam in the
OpenCV convention (x right, y down, z forward).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from video2robo.geometry import axis_angle_to_rotmat, look_at, pose_inverse


@dataclass
class CameraRig:
    """A base pose plus an optional hand-held perturbation; `at(t)` gives T_world_cam."""

    T_world_cam0: np.ndarray
    fov_x_deg: float
    handheld: bool
    _freqs: np.ndarray  # (n, 6) Hz per sinusoid and dof (tx, ty, tz, rx, ry, rz)
    _amps: np.ndarray  # (n, 6) metres / radians
    _phases: np.ndarray  # (n, 6)

    def at(self, t) -> np.ndarray:
        """T_world_cam at time(s) t: (4,4) or (N,4,4)."""
        ts = np.atleast_1d(np.asarray(t, dtype=np.float64))
        out = np.repeat(self.T_world_cam0[None], len(ts), axis=0)
        if self.handheld:
            x = (self._amps[None] * np.sin(2 * np.pi * self._freqs[None] * ts[:, None, None] + self._phases[None])).sum(1)
            delta = np.repeat(np.eye(4)[None], len(ts), axis=0)
            delta[:, :3, :3] = axis_angle_to_rotmat(x[:, 3:])
            delta[:, :3, 3] = x[:, :3]
            out = out @ delta
        return out[0] if np.ndim(t) == 0 else out


def make_rig(rng: np.random.Generator, look_target: np.ndarray, side_bearing: float, fov_x_deg: float | None,
             handheld: bool, scene_radius: float) -> CameraRig:
    """A camera 30–55° above the table looking at `look_target`, roughly perpendicular to the bearing
    `side_bearing` (so source and target appear side by side), far enough to frame `scene_radius`."""
    fov = float(fov_x_deg if fov_x_deg is not None else rng.uniform(60, 70))
    azimuth = side_bearing + rng.choice([-1, 1]) * np.pi / 2 + rng.uniform(-0.5, 0.5)
    elevation = np.radians(rng.uniform(30, 55))
    # the scene's radius spans ~55 % of the half-width (objects side by side across the image)
    dist = scene_radius / (0.55 * np.tan(np.radians(fov) / 2)) * rng.uniform(0.95, 1.1)
    dist = float(np.clip(dist, 0.35, 1.2))
    eye = look_target + dist * np.array([np.cos(elevation) * np.cos(azimuth), np.cos(elevation) * np.sin(azimuth), np.sin(elevation)])
    T_world_cam0 = pose_inverse(look_at(eye, look_target + rng.normal(0, 0.01, 3)))
    roll = axis_angle_to_rotmat(np.array([0, 0, rng.normal(0, 0.03)]))  # phones are rarely level
    T_world_cam0[:3, :3] = T_world_cam0[:3, :3] @ roll
    slow_f = rng.uniform(0.05, 0.4, (3, 6))
    slow_a = np.concatenate([rng.uniform(0.004, 0.009, (3, 3)), rng.uniform(0.004, 0.01, (3, 3))], axis=1)
    fast_f = rng.uniform(2.0, 9.0, (5, 6))
    fast_a = np.concatenate([rng.uniform(0.0002, 0.0007, (5, 3)), rng.uniform(0.0003, 0.0012, (5, 3))], axis=1)
    return CameraRig(T_world_cam0, fov, handheld, np.concatenate([slow_f, fast_f]), np.concatenate([slow_a, fast_a]),
                     rng.uniform(0, 2 * np.pi, (8, 6)))
