"""The Franka Panda: MuJoCo model (from robosuite), kinematics, IK, collision queries, Gaussian asset.

Submodules import mujoco/robosuite lazily where they can; import what you need from them directly:
`robot.kinematics.PandaKinematics`, `robot.ik.PandaIK`, `robot.collision.CollisionChecker`,
`robot.gaussian_robot.robot_gaussians`, `robot.asset_builder.build_assets`.
"""

import os as _os

# MuJoCo picks its OpenGL backend when first imported; headless EGL must be chosen before that.
_os.environ.setdefault("MUJOCO_GL", "egl")
