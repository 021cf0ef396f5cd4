"""The upright family: an object resting upright (model z = the table's up) seen by a camera whose pitch
and roll are unknown but plausible for a phone held over a table.

The first frame's search (ObjectFitter.first) draws its rotations from this family. Its refinement is
free to leave it, and for a shape with silhouette twins it does: a cube turned a quarter over fits as
well (objectives 1.102 and 1.109) and is as right, the cube being symmetric. What stands up is then
another of its axes, and whatever takes the table's up from the object must take that one (`up_axis`):
read as the model z, a tipped target cube set the table plane on its side, a resting cube beside it
read as 8 cm under the table and was slid 20 cm toward the camera, and the world's z lay along the table.
"""

from __future__ import annotations

import math

import numpy as np

from video2robo.geometry.so3 import skew

PITCH_RANGE = (-0.2, 1.75)  # camera pitch down from level (rad): slightly up to looking straight down and past
ROLL_RANGE = (-0.5, 0.5)  # camera roll (rad)
AXES = np.array([[0, 0, 1], [0, 0, -1], [1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0]], np.float64)  # z first


def _rx(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def _rz(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def upright_rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """R_cam_obj of an upright object (model z = world up) seen by a camera pitched down by `pitch`
    (0: level, π/2: looking straight down) and rolled by `roll`, the object turned by `yaw` about its up
    axis. At pitch 0 the object's z maps to image-up (−y) and its y away from the camera (+z)."""
    base = np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]])
    return _rz(roll) @ _rx(pitch) @ base @ _rz(yaw)


def _family_ups(steps: int = 48) -> np.ndarray:
    """(M, 3) unit model-z directions (camera frame) over a grid of the family's pitch and roll."""
    p, r = np.meshgrid(np.linspace(*PITCH_RANGE, steps), np.linspace(*ROLL_RANGE, steps // 2), indexing="ij")
    ups = np.stack([np.sin(r) * np.cos(p), -np.cos(r) * np.cos(p), -np.sin(p)], axis=-1)
    return ups.reshape(-1, 3)


_UPS = _family_ups()


def upright_gap(R_cam_obj: np.ndarray) -> float:
    """Angle (rad) from the model's z axis in the camera frame to the nearest up the family allows: 0
    inside it (to the grid's resolution, under 2°). A z pointing away from the camera (the table seen from
    below) or down the image (the camera upside down) is far from it."""
    return _gap(np.asarray(R_cam_obj, np.float64)[:3, 2])


def _gap(direction: np.ndarray) -> float:
    return float(math.acos(float(np.clip((_UPS @ direction).max(), -1.0, 1.0))))


def up_axis(R_cam_obj: np.ndarray, prefer_z: float = 0.2) -> np.ndarray:
    """The object-frame unit axis (±x, ±y or ±z) that points up for an object resting at R_cam_obj: its z
    unless another axis stands nearer the family's ups by more than `prefer_z` (rad), as for a cube lying
    on a side. (3,) float."""
    R = np.asarray(R_cam_obj, np.float64)
    gaps = np.array([_gap(R @ a) for a in AXES])
    best = int(np.argmin(gaps))
    return AXES[0].copy() if gaps[0] <= gaps[best] + prefer_z else AXES[best].copy()


def rotation_taking(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest rotation taking unit vector a onto unit vector b (a half turn about an axis normal to
    a when they are opposite)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    v, c = np.cross(a, b), float(a @ b)
    if c < -1.0 + 1e-12:
        n = np.cross(a, [1.0, 0.0, 0.0] if abs(a[0]) < 0.9 else [0.0, 1.0, 0.0])
        n /= np.linalg.norm(n)
        return 2.0 * np.outer(n, n) - np.eye(3)
    V = skew(v)
    return np.eye(3) + V + V @ V / (1.0 + c)
