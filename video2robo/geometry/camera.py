"""Pinhole cameras in the OpenCV convention: x right, y down, z forward; pixel (i, j) covers
[i, i+1) × [j, j+1), so its centre is at (i + 0.5, j + 0.5) — the convention of gsplat and MuJoCo.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from video2robo.geometry.se3 import make_pose, pose_inverse, transform_points


def intrinsics_from_fov(fov_x_deg: float, width: int, height: int, fov_is_vertical: bool = False) -> np.ndarray:
    """K for square pixels and a centred principal point, from a horizontal (or vertical) field of view."""
    extent = height if fov_is_vertical else width
    f = 0.5 * extent / math.tan(math.radians(fov_x_deg) / 2)
    return np.array([[f, 0, width / 2], [0, f, height / 2], [0, 0, 1]], dtype=np.float64)


def look_at(eye, target, up=(0.0, 0.0, 1.0)) -> np.ndarray:
    """T_cam_world of a camera at `eye` looking at `target` with `up` pointing up in the image."""
    eye, target, up = (np.asarray(v, dtype=np.float64) for v in (eye, target, up))
    z = target - eye
    z = z / np.linalg.norm(z)
    x = np.cross(z, up)
    if np.linalg.norm(x) < 1e-9:  # looking along up: pick any perpendicular
        x = np.cross(z, np.array([1.0, 0.0, 0.0]) if abs(z[0]) < 0.9 else np.array([0.0, 1.0, 0.0]))
    x = x / np.linalg.norm(x)
    y = np.cross(z, x)
    R_world_cam = np.stack([x, y, z], axis=1)
    return pose_inverse(make_pose(R_world_cam, eye))


def project_points(K, T_cam_world, points_world):
    """Pixel coordinates (..., N, 2) and depths (..., N) of world points (numpy or torch)."""
    p_cam = transform_points(T_cam_world, points_world)
    z = p_cam[..., 2]
    uv = p_cam[..., :2] / z[..., None]
    uv = uv @ K[..., :2, :2].swapaxes(-1, -2) if isinstance(uv, np.ndarray) else uv @ K[..., :2, :2].transpose(-1, -2)
    return uv + K[..., None, :2, 2], z


@dataclass
class PinholeCamera:
    """An intrinsic matrix, a world-to-camera pose and an image size (pixels)."""

    K: np.ndarray  # (3, 3)
    T_cam_world: np.ndarray  # (4, 4)
    width: int
    height: int

    @classmethod
    def from_fov(cls, fov_x_deg: float, width: int, height: int, T_cam_world=None) -> "PinholeCamera":
        T = np.eye(4) if T_cam_world is None else np.asarray(T_cam_world, dtype=np.float64)
        return cls(intrinsics_from_fov(fov_x_deg, width, height), T, width, height)

    @classmethod
    def looking_at(cls, eye, target, fov_x_deg: float, width: int, height: int, up=(0.0, 0.0, 1.0)):
        return cls.from_fov(fov_x_deg, width, height, look_at(eye, target, up))

    @property
    def T_world_cam(self) -> np.ndarray:
        return pose_inverse(np.asarray(self.T_cam_world))

    @property
    def center(self) -> np.ndarray:
        """Camera position in the world frame."""
        return self.T_world_cam[:3, 3]

    @property
    def fov_x_deg(self) -> float:
        return math.degrees(2 * math.atan(0.5 * self.width / self.K[0, 0]))

    def project(self, points_world):
        return project_points(self.K, self.T_cam_world, points_world)

    def resized(self, width: int, height: int) -> "PinholeCamera":
        """Same view at another resolution (intrinsics scaled)."""
        K = np.array(self.K, dtype=np.float64, copy=True)
        K[0] *= width / self.width
        K[1] *= height / self.height
        return PinholeCamera(K, np.array(self.T_cam_world), width, height)
