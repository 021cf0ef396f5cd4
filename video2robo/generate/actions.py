"""Actions and robot-state observations from a joint trajectory (what the writers store).

Conventions (documented in the dataset metadata too):
- gripper command g = 1 − 2·width/0.08: −1 fully open, +1 closed (robosuite's sign);
- `actions` (the paper's choice): absolute joint positions of the next step + g, shape (T, 8);
- `actions_eef_abs`: next grasp-site pose in the robot base frame, [x, y, z, axis-angle(3), g], (T, 7);
- `actions_eef_delta`: [Δp (base frame), axis-angle of R_{t+1}·R_tᵀ, g], (T, 7);
  the last step repeats the final state (zero delta);
- eef state `eef_pos` / `eef_quat_wxyz` in the world frame (robosuite reports world-frame eef poses);
  the robomimic writer converts the quaternion to xyzw at its boundary.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from video2robo.robot.model import MAX_GRIPPER_WIDTH


def gripper_command(width: np.ndarray) -> np.ndarray:
    return 1.0 - 2.0 * np.clip(np.asarray(width, float), 0.0, MAX_GRIPPER_WIDTH) / MAX_GRIPPER_WIDTH


def build_actions(q: np.ndarray, width: np.ndarray, T_base_grip: np.ndarray) -> dict[str, np.ndarray]:
    """Joint, absolute-eef and delta-eef actions for a trajectory (T steps)."""
    nxt = np.r_[np.arange(1, len(q)), len(q) - 1]
    g = gripper_command(width)[nxt, None]
    rot = Rotation.from_matrix(T_base_grip[:, :3, :3])
    aa = rot.as_rotvec()
    d_rot = (rot[nxt] * rot.inv()).as_rotvec()
    d_pos = T_base_grip[nxt, :3, 3] - T_base_grip[:, :3, 3]
    return {
        "actions": np.concatenate([q[nxt], g], axis=1).astype(np.float32),
        "actions_eef_abs": np.concatenate([T_base_grip[nxt, :3, 3], aa[nxt], g], axis=1).astype(np.float32),
        "actions_eef_delta": np.concatenate([d_pos, d_rot, g], axis=1).astype(np.float32),
    }


def robot_state(kin, q: np.ndarray, width: np.ndarray, T_world_base: np.ndarray, hz: float) -> dict[str, np.ndarray]:
    """Joint positions/velocities, eef pose (world), gripper finger positions; plus T_base_grip."""
    from video2robo.geometry import rotmat_to_quat
    from video2robo.robot.kinematics import width_to_fingers

    T_base = np.stack([kin.grasp_pose(qt, float(w)) for qt, w in zip(q, width)])
    T_world = T_world_base @ T_base
    vel = np.gradient(q, 1.0 / hz, axis=0) if len(q) > 1 else np.zeros_like(q)
    return {
        "joint_pos": q.astype(np.float32),
        "joint_vel": vel.astype(np.float32),
        "eef_pos": T_world[:, :3, 3].astype(np.float32),
        "eef_quat_wxyz": np.asarray(rotmat_to_quat(T_world[:, :3, :3])).astype(np.float32),
        "gripper_qpos": np.stack([width_to_fingers(w) for w in width]).astype(np.float32),
        "T_base_grip": T_base,
    }


def pose_vector(T: np.ndarray) -> np.ndarray:
    """(…, 7) [x, y, z, qw, qx, qy, qz] of poses (…, 4, 4)."""
    from video2robo.geometry import rotmat_to_quat

    return np.concatenate([T[..., :3, 3], np.asarray(rotmat_to_quat(T[..., :3, :3]))], axis=-1)
