"""Rigid transforms as 4x4 homogeneous matrices, named T_<to>_<from> (e.g. T_world_obj).

numpy or torch, any leading batch axes. Twists are (v, ω): translational part first, metres and radians.
"""

from __future__ import annotations

from video2robo.geometry import _array as A
from video2robo.geometry.so3 import (
    axis_angle_to_rotmat,
    quat_to_rotmat,
    rotmat_to_axis_angle,
    rotmat_to_quat,
    skew,
)


def make_pose(R, t):
    """4x4 pose from a rotation matrix (..., 3, 3) and a translation (..., 3)."""
    top = A.cat([R, t[..., :, None]], axis=-1)
    bottom = A.asarray_like([0.0, 0.0, 0.0, 1.0], R)
    bottom = bottom.expand(*top.shape[:-2], 1, 4) if A.xp(R).__name__ == "torch" else A.xp(R).broadcast_to(bottom, (*top.shape[:-2], 1, 4))
    return A.cat([top, bottom], axis=-2)


def pose_from_quat(q, t):
    """4x4 pose from a wxyz quaternion and a translation."""
    return make_pose(quat_to_rotmat(q), t)


def pose_to_quat(T):
    """(quaternion wxyz, translation) of a pose."""
    return rotmat_to_quat(T[..., :3, :3]), T[..., :3, 3]


def identity_pose_like(x, batch_shape=()):
    return A.eye_like(x, 4, batch_shape)


def pose_inverse(T):
    """Inverse of a rigid transform: (R, t)⁻¹ = (Rᵀ, -Rᵀt)."""
    Rt = A.swap_last(T[..., :3, :3])
    return make_pose(Rt, -(Rt @ T[..., :3, 3:4])[..., 0])


def pose_compose(*Ts):
    """T_a_b · T_b_c · … (left to right)."""
    out = Ts[0]
    for T in Ts[1:]:
        out = out @ T
    return out


def transform_points(T, p):
    """Apply T (..., 4, 4) to points p (..., N, 3)."""
    return p @ A.swap_last(T[..., :3, :3]) + T[..., None, :3, 3]


def _left_jacobian_terms(theta):
    """Coefficients (1-cosθ)/θ², (θ-sinθ)/θ³ with Taylor series near zero."""
    xp = A.xp(theta)
    small = theta < 1e-4
    safe = xp.where(small, xp.ones_like(theta), theta)
    b = xp.where(small, 0.5 - theta**2 / 24.0, (1 - xp.cos(safe)) / safe**2)
    c = xp.where(small, 1.0 / 6.0 - theta**2 / 120.0, (safe - xp.sin(safe)) / safe**3)
    return b, c


def se3_exp(xi):
    """Pose of a twist xi = (v, ω) (..., 6)."""
    v, w = xi[..., :3], xi[..., 3:]
    theta = A.norm(w)[..., None, None]
    W = skew(w)
    b, c = _left_jacobian_terms(theta)
    V = A.eye_like(xi, 3, xi.shape[:-1]) + b * W + c * (W @ W)
    return make_pose(axis_angle_to_rotmat(w), (V @ v[..., None])[..., 0])


def se3_log(T):
    """Twist (v, ω) of a pose (inverse of se3_exp for rotation angles < π)."""
    xp = A.xp(T)
    w = rotmat_to_axis_angle(T[..., :3, :3])
    theta = A.norm(w)[..., None, None]
    W = skew(w)
    small = theta < 1e-4
    safe = xp.where(small, xp.ones_like(theta), theta)
    # V⁻¹ = I - W/2 + (1/θ²)(1 - θ sinθ / (2(1-cosθ))) W²
    d = xp.where(
        small,
        1.0 / 12.0 + theta**2 / 720.0,
        (1 - safe * xp.sin(safe) / (2 * (1 - xp.cos(safe)))) / safe**2,
    )
    V_inv = A.eye_like(T, 3, T.shape[:-2]) - 0.5 * W + d * (W @ W)
    v = (V_inv @ T[..., :3, 3:4])[..., 0]
    return A.cat([v, w])


def pose_distance(T_a, T_b):
    """(translation distance in metres, rotation angle in radians) between poses."""
    from video2robo.geometry.so3 import rotation_angle

    return A.norm(T_a[..., :3, 3] - T_b[..., :3, 3]), rotation_angle(T_a[..., :3, :3], T_b[..., :3, :3])


def pose_from_xyz_yaw(x, y, z, yaw):
    """Pose with a rotation about +z by yaw: how objects are placed on a table (z up)."""
    import numpy as np

    c, s = np.cos(yaw), np.sin(yaw)
    T = np.eye(4)
    T[:3, :3] = [[c, -s, 0], [s, c, 0], [0, 0, 1]]
    T[:3, 3] = [x, y, z]
    return T
