"""Forward kinematics of the Panda through MuJoCo: link poses, the grasp-site pose, finger slides.

All poses are in the robot base frame (`T_base_<x>`), 4x4 float64; joint angles in radians and the
gripper width in metres (distance between the fingers: each finger slides width/2). The model is the
robosuite Panda + Panda gripper of `video2robo.robot.model`, so the numbers are the simulator's own.

A `PandaKinematics` owns one `mujoco.MjData`: it is cheap (FK takes microseconds) but not thread-safe;
make one per thread or process.
"""

from __future__ import annotations

import numpy as np

from video2robo.robot.model import LINK_BODIES, MAX_GRIPPER_WIDTH, model_info, panda_model


def width_to_fingers(width: float) -> np.ndarray:
    """Finger slide positions (finger_joint1, finger_joint2) in metres for a gripper opening `width`."""
    w = float(np.clip(width, 0.0, MAX_GRIPPER_WIDTH))
    return np.array([w / 2.0, -w / 2.0])


def fingers_to_width(fingers) -> float:
    """Gripper opening (m) from the two finger slide positions."""
    f = np.asarray(fingers, dtype=np.float64)
    return float(f[0] - f[1])


def _pose(xpos, xmat) -> np.ndarray:
    T = np.eye(4)
    T[:3, :3] = np.asarray(xmat).reshape(3, 3)
    T[:3, 3] = xpos
    return T


class PandaKinematics:
    """FK, limits and Jacobians of the Panda arm (7 joints) with its parallel gripper."""

    def __init__(self, model=None):
        import mujoco

        self._mj = mujoco
        self.model = panda_model() if model is None else model
        self.data = mujoco.MjData(self.model)
        self.info = model_info(self.model)

    # --- limits -------------------------------------------------------------------------------
    @property
    def lower(self) -> np.ndarray:
        """Arm joint lower limits (rad), shape (7,)."""
        return self.info.lower

    @property
    def upper(self) -> np.ndarray:
        """Arm joint upper limits (rad), shape (7,)."""
        return self.info.upper

    def within_limits(self, q, tol: float = 1e-9) -> bool:
        q = np.asarray(q, dtype=np.float64)
        return bool(np.all(q >= self.lower - tol) and np.all(q <= self.upper + tol))

    def clip_to_limits(self, q) -> np.ndarray:
        return np.clip(np.asarray(q, dtype=np.float64), self.lower, self.upper)

    def random_configuration(self, rng: np.random.Generator, margin: float = 0.0) -> np.ndarray:
        """Uniform joint configuration inside the limits shrunk by `margin` rad on each side."""
        return rng.uniform(self.lower + margin, self.upper - margin)

    # --- forward kinematics -------------------------------------------------------------------
    def set_configuration(self, q, gripper_width: float = MAX_GRIPPER_WIDTH) -> None:
        """Write q and the finger slides into the MjData and run MuJoCo's kinematics."""
        q = np.asarray(q, dtype=np.float64)
        if q.shape != (7,):
            raise ValueError(f"arm configuration must have shape (7,), got {q.shape}")
        self.data.qpos[self.info.arm_qpos] = q
        self.data.qpos[self.info.finger_qpos] = width_to_fingers(gripper_width)
        self._mj.mj_kinematics(self.model, self.data)
        self._mj.mj_comPos(self.model, self.data)  # Jacobians need the com-based dof axes

    def link_poses(self, q, gripper_width: float = MAX_GRIPPER_WIDTH) -> dict[str, np.ndarray]:
        """T_base_<link> of every visual link (names as in `LINK_BODIES`)."""
        self.set_configuration(q, gripper_width)
        d = self.data
        return {link: _pose(d.xpos[b], d.xmat[b]) for link, b in self.info.link_body_ids.items()}

    def body_pose(self, body_name: str) -> np.ndarray:
        """T_base_<body> of any MuJoCo body, for the configuration last set."""
        b = self._mj.mj_name2id(self.model, self._mj.mjtObj.mjOBJ_BODY, body_name)
        if b < 0:
            raise ValueError(f"body {body_name!r} not in the model")
        return _pose(self.data.xpos[b], self.data.xmat[b])

    def grasp_pose(self, q, gripper_width: float = MAX_GRIPPER_WIDTH) -> np.ndarray:
        """T_base_grasp: the gripper's grasp site (between the fingertips; z along the approach)."""
        self.set_configuration(q, gripper_width)
        s = self.info.grasp_site
        return _pose(self.data.site_xpos[s], self.data.site_xmat[s])

    def grasp_jacobian(self) -> np.ndarray:
        """(6, 7) Jacobian [linear; angular] of the grasp site w.r.t. the arm joints, base frame.

        For the configuration last set with `set_configuration` / `grasp_pose`.
        """
        jp = np.zeros((3, self.model.nv))
        jr = np.zeros((3, self.model.nv))
        self._mj.mj_jacSite(self.model, self.data, jp, jr, self.info.grasp_site)
        return np.vstack([jp[:, self.info.arm_dof], jr[:, self.info.arm_dof]])


def link_names() -> tuple[str, ...]:
    """Visual link names in kinematic order."""
    return tuple(LINK_BODIES)
