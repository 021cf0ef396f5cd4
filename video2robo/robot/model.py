"""The one MuJoCo model of the Franka Panda used everywhere: robosuite's Panda arm + Panda gripper.

Built with robosuite's own model-composition classes (no environment), so body/joint/site names and
geometry are exactly those of the robosuite benchmark (`robot0_*`, `gripper0_*`). The XML is built
once per process and cached; callers that need extra things in the world (cameras, a table, obstacle
boxes) get an `mujoco.MjSpec` of it via `panda_spec()` and add to that.

Frames: the arm's base body `robot0_base` sits at the MuJoCo world origin, so every pose read from this
model is in the robot base frame (`T_base_*`). Placing the robot in a scene is a separate `T_world_base`.
"""

from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass

import numpy as np

ARM_JOINTS: tuple[str, ...] = tuple(f"robot0_joint{i}" for i in range(1, 8))
FINGER_JOINTS: tuple[str, str] = ("gripper0_finger_joint1", "gripper0_finger_joint2")
GRASP_SITE = "gripper0_grip_site"
BASE_BODY = "robot0_base"

# Rigid parts with visual geometry, in kinematic order: asset link name -> MuJoCo body name.
LINK_BODIES: dict[str, str] = {
    **{f"link{i}": f"robot0_link{i}" for i in range(8)},
    "hand": "gripper0_right_gripper",
    "left_finger": "gripper0_leftfinger",
    "right_finger": "gripper0_rightfinger",
}

# Visual geoms are in MuJoCo geom group 1, collision geoms in group 0 (robosuite's convention).
VISUAL_GROUP = 1
COLLISION_GROUP = 0

MAX_GRIPPER_WIDTH = 0.08  # metres between the fingers' inner faces when fully open (2 × 0.04 slide)


@dataclass(frozen=True)
class PandaModelInfo:
    """Indices into the compiled model that every robot module needs."""

    arm_qpos: np.ndarray  # (7,) qpos addresses of the arm joints
    arm_dof: np.ndarray  # (7,) dof addresses of the arm joints
    finger_qpos: np.ndarray  # (2,) qpos addresses of the finger slides
    lower: np.ndarray  # (7,) arm joint lower limits, rad
    upper: np.ndarray  # (7,) arm joint upper limits, rad
    grasp_site: int
    link_body_ids: dict[str, int]


def _quiet_robosuite_import():
    """Import robosuite's model classes; its import-time warnings (macros, optional robots) are noise here."""
    os.environ.setdefault("MUJOCO_GL", "egl")
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        from robosuite.models.grippers import PandaGripper
        from robosuite.models.robots import Panda
    finally:
        logging.disable(previous)
    return Panda, PandaGripper


@functools.lru_cache(maxsize=1)
def panda_xml() -> str:
    """MJCF text of robosuite's Panda with the Panda gripper at its `right_hand` body (mesh paths absolute)."""
    Panda, PandaGripper = _quiet_robosuite_import()
    robot = Panda(idn=0)
    robot.add_gripper(PandaGripper(idn=0))
    return robot.get_xml()


def panda_spec():
    """A fresh, editable `mujoco.MjSpec` of the Panda (add cameras, tables, objects, then `compile()`)."""
    import mujoco

    return mujoco.MjSpec.from_string(panda_xml())


@functools.lru_cache(maxsize=1)
def panda_model():
    """The compiled Panda `mujoco.MjModel` (cached; treat as read-only)."""
    import mujoco

    return mujoco.MjModel.from_xml_string(panda_xml())


def model_info(model) -> PandaModelInfo:
    """Joint/site/body indices of the Panda inside `model` (the plain model or one with extra things)."""
    import mujoco

    def jid(name):
        i = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, name)
        if i < 0:
            raise ValueError(f"joint {name!r} not in the model")
        return i

    arm = [jid(n) for n in ARM_JOINTS]
    fingers = [jid(n) for n in FINGER_JOINTS]
    site = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SITE, GRASP_SITE)
    if site < 0:
        raise ValueError(f"site {GRASP_SITE!r} not in the model")
    bodies = {}
    for link, body in LINK_BODIES.items():
        b = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, body)
        if b < 0:
            raise ValueError(f"body {body!r} not in the model")
        bodies[link] = b
    rng = model.jnt_range[arm]
    return PandaModelInfo(
        arm_qpos=model.jnt_qposadr[arm].copy(),
        arm_dof=model.jnt_dofadr[arm].copy(),
        finger_qpos=model.jnt_qposadr[fingers].copy(),
        lower=rng[:, 0].copy(),
        upper=rng[:, 1].copy(),
        grasp_site=site,
        link_body_ids=bodies,
    )


def home_configuration() -> np.ndarray:
    """robosuite's default Panda joint configuration (rad): arm bent over the table, gripper pointing down."""
    return np.array([0.0, np.pi / 16.0, 0.0, -np.pi / 2.0 - np.pi / 3.0, 0.0, np.pi - 0.2, np.pi / 4], dtype=np.float64)
