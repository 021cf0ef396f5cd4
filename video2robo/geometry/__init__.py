"""SE(3), quaternions (wxyz), interpolation and pinhole cameras, for numpy and torch alike."""

from video2robo.geometry.camera import PinholeCamera, intrinsics_from_fov, look_at, project_points
from video2robo.geometry.interp import interpolate_pose, interpolate_pose_min_jerk, min_jerk
from video2robo.geometry.se3 import (
    identity_pose_like,
    make_pose,
    pose_compose,
    pose_distance,
    pose_from_quat,
    pose_from_xyz_yaw,
    pose_inverse,
    pose_to_quat,
    se3_exp,
    se3_log,
    transform_points,
)
from video2robo.geometry.so3 import (
    axis_angle_to_quat,
    axis_angle_to_rotmat,
    quat_apply,
    quat_canonical,
    quat_conjugate,
    quat_inverse,
    quat_multiply,
    quat_normalize,
    quat_slerp,
    quat_to_axis_angle,
    quat_to_rotmat,
    rot6d_to_rotmat,
    rotation_angle,
    rotmat_to_axis_angle,
    rotmat_to_quat,
    rotmat_to_rot6d,
    skew,
)
