"""World frame (z up, table top at z = 0) from the resting target, and pose-trajectory clean-up."""

from __future__ import annotations

import numpy as np

from video2robo.geometry.so3 import quat_slerp, quat_to_rotmat, rotation_angle, rotmat_to_quat


def fill_invalid(T: np.ndarray, valid: np.ndarray, T_cam_cam0: np.ndarray | None = None) -> np.ndarray:
    """Poses at invalid frames replaced by interpolation between the nearest valid ones (held at ends).
    With the camera's motion (`T_cam_cam0`, per frame), the camera-frame poses T are interpolated in the
    first camera's frame, where a resting object stays put, and seen again from each frame's camera:
    interpolated as seen, a drumstick resting between two valid frames moved 4 mm with the camera, which
    the release's stillness test reads as motion."""
    if T_cam_cam0 is not None:
        return T_cam_cam0 @ fill_invalid(np.linalg.inv(T_cam_cam0) @ T, valid)
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


def robust_mean_pose(T: np.ndarray, inlier_angle: float = 0.15) -> np.ndarray:
    """Pose with the median translation and the chordal mean of the rotations within `inlier_angle`
    (radians) of their medoid: a cluster of wrong fits (a symmetric object's fit flipped by 90° while
    covered) must not drag the mean between the two."""
    out = np.eye(4)
    out[:3, 3] = np.median(T[:, :3, 3], axis=0)
    R = T[:, :3, :3]
    step = max(1, len(R) // 200)  # the medoid from at most ~200 samples
    sample = R[::step]
    cos = (np.einsum("aij,bij->ab", sample, sample) - 1.0) / 2.0
    medoid = sample[int(np.argmin(np.arccos(np.clip(cos, -1.0, 1.0)).sum(axis=1)))]
    near = rotation_angle(R, np.broadcast_to(medoid, R.shape)) <= inlier_angle
    U, _, Vt = np.linalg.svd(R[near].sum(0))
    if np.linalg.det(U @ Vt) < 0:
        U[:, -1] *= -1
    out[:3, :3] = U @ Vt
    return out


def target_rests(T_cam_target: np.ndarray, valid: np.ndarray, T_cam_cam0: np.ndarray, points: np.ndarray) -> bool:
    """True when the target's fits, the camera's motion taken off, mostly stay at one pose: it rested
    throughout, and one pose (their robust mean) describes it better than any single noisy fit. Its
    turn is measured on its surface (`points`, object frame): the mean distance of each fit's points to
    the nearest point of the rest pose's surface (ADD-S), so a bowl's fits drifting about its axis of
    symmetry (median 0.86 rad from their mean, 5.6 mm on its surface) do not read as a moved bowl."""
    from scipy.spatial import cKDTree

    T = target_in_first_camera(T_cam_target, valid, T_cam_cam0)  # fewer than 3 (none fitted well): rests
    if len(T) < 3:
        return True
    size = float(np.ptp(points, axis=0).max())
    ref = robust_mean_pose(T)
    dt = np.linalg.norm(T[:, :3, 3] - ref[:3, 3], axis=1)
    p = np.asarray(points, np.float64)[:: max(1, len(points) // 500)]
    tree = cKDTree(p @ ref[:3, :3].T + ref[:3, 3])
    surface = np.array([tree.query(p @ Ti[:3, :3].T + Ti[:3, 3])[0].mean() for Ti in T])
    # medians: the target's fit may drift while the source occludes it; a moved target moves for good
    return bool(np.median(dt) < 0.1 * size and np.median(surface) < 0.05 * size)


def T_world_target_rest(model_points: np.ndarray, up: np.ndarray | None = None) -> np.ndarray:
    """World placement of the target's frame: its `up` axis (object frame; default its model z, see
    pose.upright.up_axis) points up and its lowest point is on the table."""
    from video2robo.pose.upright import rotation_taking

    a = np.array([0.0, 0.0, 1.0]) if up is None else np.asarray(up, np.float64)
    T = np.eye(4)
    T[:3, :3] = rotation_taking(a, np.array([0.0, 0.0, 1.0]))
    T[2, 3] = -float((model_points @ a).min())
    return T


def target_up(T_cam_target: np.ndarray, valid: np.ndarray, T_cam_cam0: np.ndarray) -> np.ndarray:
    """The resting target's axis (object frame) that points up, from its rest pose in the first camera's
    frame (pose.upright.up_axis)."""
    from video2robo.pose.upright import up_axis

    return up_axis(robust_mean_pose(target_in_first_camera(T_cam_target, valid, T_cam_cam0))[:3, :3])


def target_in_first_camera(T_cam_target: np.ndarray, valid: np.ndarray, T_cam_cam0: np.ndarray) -> np.ndarray:
    """(k, 4, 4) the resting target's well-fitted poses with the camera's motion taken off (in the first
    camera's frame), or its first pose alone when no frame fitted well: what its one rest pose is the
    robust mean of."""
    return np.linalg.inv(T_cam_cam0[valid]) @ T_cam_target[valid] if valid.any() else T_cam_target[:1]


def world_from_camera_motion(T_cam_target: np.ndarray, valid: np.ndarray, target_points: np.ndarray,
                             T_cam_cam0: np.ndarray) -> np.ndarray:
    """T_world_cam per frame from the camera's motion relative to the first frame (identity for a fixed
    camera), with the world anchored on the target, which rests on the table throughout the video: its
    pose in the first camera's frame is the robust mean over its well-fitted frames."""
    from video2robo.pose.upright import up_axis

    T_cam0_target = robust_mean_pose(target_in_first_camera(T_cam_target, valid, T_cam_cam0))
    T_world_cam0 = T_world_target_rest(target_points, up_axis(T_cam0_target[:3, :3])) @ np.linalg.inv(T_cam0_target)
    return T_world_cam0 @ np.linalg.inv(T_cam_cam0)


def scale_to_stand(T_cam_ref: np.ndarray, ref_points: np.ndarray, T_cam_obj: np.ndarray, obj_points: np.ndarray) -> float:
    """The factor by which an object of uncertain size (a single-view model lifted at a guessed size)
    must be scaled about the camera, its image unchanged, for its lowest point to lie on the table under
    a reference object resting beside it (model z up, lowest point on the table; poses seen by the same
    camera). One view fixes an object's size only up to such a factor; a metric object on the same table
    fixes it. NaN when the object's lowest point is not below the camera."""
    from video2robo.perception.camera_motion import table_plane

    return scale_to_plane(table_plane(T_cam_ref, ref_points), T_cam_obj, obj_points)


def scale_to_plane(plane: tuple[np.ndarray, np.ndarray], T_cam_obj: np.ndarray, obj_points: np.ndarray) -> float:
    """`scale_to_stand` on a known table plane (n up, a point on it; camera frame), e.g. an ArUco
    marker's (perception.marker)."""
    from video2robo.pose.rest import heights

    table = float(plane[0] @ plane[1])  # the table along its normal n, from the camera: n·X = table
    lowest = table + float(heights(T_cam_obj, obj_points, plane).min())  # n·X of the object's lowest point
    return table / lowest if lowest < 0 and table < 0 else float("nan")


def world_from_marker(T_cam0_marker: np.ndarray, T_cam_cam0: np.ndarray) -> np.ndarray:
    """T_world_cam per frame with the world on an ArUco marker lying on the table (origin at its centre,
    z up: the marker's frame), seen in the first frame; the camera's motion relative to the first frame."""
    return np.linalg.inv(T_cam0_marker) @ np.linalg.inv(T_cam_cam0)
