"""World frame (z up, table top at z = 0) from the resting target, and pose-trajectory clean-up."""

from __future__ import annotations

import numpy as np

from video2robo.geometry.so3 import quat_slerp, quat_to_rotmat, rotmat_to_quat, rotation_angle


def fill_invalid(T: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Poses at invalid frames replaced by interpolation between the nearest valid ones (held at ends)."""
    T = T.copy()
    idx = np.nonzero(valid)[0]
    if len(idx) == 0:
        return T
    for i in np.nonzero(~valid)[0]:
        after = idx[idx > i]
        before = idx[idx < i]
        if len(before) == 0:
            T[i] = T[after[0]]
        elif len(after) == 0:
            T[i] = T[before[-1]]
        else:
            a, b = before[-1], after[0]
            s = (i - a) / (b - a)
            q = quat_slerp(rotmat_to_quat(T[a, :3, :3]), rotmat_to_quat(T[b, :3, :3]), s)
            T[i, :3, :3] = quat_to_rotmat(q)
            T[i, :3, 3] = (1 - s) * T[a, :3, 3] + s * T[b, :3, 3]
    return T


def robust_mean_pose(T: np.ndarray) -> np.ndarray:
    """Pose with the median translation and the rotation closest to the chordal mean."""
    out = np.eye(4)
    out[:3, 3] = np.median(T[:, :3, 3], axis=0)
    U, _, Vt = np.linalg.svd(T[:, :3, :3].sum(0))
    R = U @ Vt
    if np.linalg.det(R) < 0:
        U[:, -1] *= -1
        R = U @ Vt
    out[:3, :3] = R
    return out


def camera_is_static(T_cam_target: np.ndarray, valid: np.ndarray, size: float) -> bool:
    """True when the (static) target barely moves in the camera frame: the camera did not move."""
    T = T_cam_target[valid]
    if len(T) < 3:
        return True
    ref = robust_mean_pose(T)
    dt = np.linalg.norm(T[:, :3, 3] - ref[:3, 3], axis=1)
    da = rotation_angle(T[:, :3, :3], ref[:3, :3])
    # medians: the target's fit may drift while the source occludes it; a moving camera moves it always
    return bool(np.median(dt) < 0.1 * size and np.median(da) < 0.08)


def T_world_target_rest(model_points: np.ndarray) -> np.ndarray:
    """World placement of the target's frame: its model z is up and its lowest point is on the table."""
    T = np.eye(4)
    T[2, 3] = -float(model_points[:, 2].min())
    return T


def world_from_target(T_cam_target: np.ndarray, valid: np.ndarray, target_points: np.ndarray, static: bool) -> np.ndarray:
    """T_world_cam per frame, assuming the target rests on the table throughout the video."""
    T_wt = T_world_target_rest(target_points)
    if static:
        T_ct = np.repeat(robust_mean_pose(T_cam_target[valid])[None], len(T_cam_target), axis=0)
    else:
        T_ct = fill_invalid(T_cam_target, valid)
    return T_wt @ np.linalg.inv(T_ct)
