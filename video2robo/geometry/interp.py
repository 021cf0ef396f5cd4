"""Time profiles and pose interpolation for smooth trajectories."""

from __future__ import annotations

import numpy as np

from video2robo.geometry import _array as A
from video2robo.geometry.se3 import make_pose
from video2robo.geometry.so3 import quat_slerp, quat_to_rotmat, rotmat_to_quat


def min_jerk(s):
    """Minimum-jerk progress 10s³ − 15s⁴ + 6s⁵ for s in [0, 1]: zero velocity and acceleration at ends."""
    s = A.clip(s, 0.0, 1.0)
    return s**3 * (10 - 15 * s + 6 * s * s)


def interpolate_pose(T0, T1, t):
    """Pose at fraction t between T0 and T1: slerp on rotation, linear on translation.

    t may be a scalar or an array of fractions (output gets a leading axis then).
    """
    q0, q1 = rotmat_to_quat(T0[..., :3, :3]), rotmat_to_quat(T1[..., :3, :3])
    t_arr = A.asarray_like(t, T0)
    scalar = t_arr.ndim == 0
    t_b = t_arr.reshape(-1, *([1] * (T0.ndim - 2)))
    q = quat_slerp(q0[None], q1[None], t_b)
    p = T0[None, ..., :3, 3] * (1 - t_b[..., None]) + T1[None, ..., :3, 3] * t_b[..., None]
    out = make_pose(quat_to_rotmat(q), p)
    return out[0] if scalar else out


def interpolate_pose_min_jerk(T0, T1, n: int):
    """n poses from T0 to T1 (both included) with a minimum-jerk time profile."""
    s = min_jerk(np.linspace(0.0, 1.0, n))
    return interpolate_pose(T0, T1, A.asarray_like(s, T0))
