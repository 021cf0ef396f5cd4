"""MuJoCo renders of the robosuite Panda seen through a `PinholeCamera`: RGB, depth and robot mask.

The reference the Gaussian robot is checked against, and the right-hand image of `render-robot`.
MuJoCo cameras look along −z with y up, so R_world_mjcam = R_world_cvcam · diag(1, −1, −1); MuJoCo's
vertical field of view comes from fy. Only the robot's visual geoms (group 1) are drawn: collision
geoms and sites are hidden. Depth is distance along the optical axis (m), 0 where there is no robot.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from video2robo.geometry.camera import PinholeCamera
from video2robo.geometry.so3 import rotmat_to_quat
from video2robo.robot.model import BASE_BODY, MAX_GRIPPER_WIDTH, VISUAL_GROUP, model_info, panda_spec

_CAMERA = "video2robo_view"
_CV_TO_MJ = np.diag([1.0, -1.0, -1.0])


@dataclass
class MujocoView:
    rgb: np.ndarray  # (H, W, 3) uint8
    depth: np.ndarray  # (H, W) metres along the optical axis, 0 off the robot
    mask: np.ndarray  # (H, W) bool, robot visual geoms


class MujocoRobotRenderer:
    """Offscreen MuJoCo renderer of the Panda (EGL), one per image size."""

    def __init__(self, width: int, height: int, T_world_base=None):
        os.environ.setdefault("MUJOCO_GL", "egl")
        import mujoco

        self._mj = mujoco
        spec = panda_spec()
        if T_world_base is not None:
            T = np.asarray(T_world_base, dtype=np.float64)
            base = spec.body(BASE_BODY)
            base.pos, base.quat = T[:3, 3], rotmat_to_quat(T[:3, :3])
        spec.worldbody.add_camera(name=_CAMERA)
        spec.worldbody.add_light(pos=[0.0, 0.0, 3.0], dir=[0.0, 0.0, -1.0], type=mujoco.mjtLightType.mjLIGHT_DIRECTIONAL)
        self.model = spec.compile()
        self.model.vis.global_.offwidth = max(self.model.vis.global_.offwidth, width)
        self.model.vis.global_.offheight = max(self.model.vis.global_.offheight, height)
        self.data = mujoco.MjData(self.model)
        self.info = model_info(self.model)
        self.cam_id = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_CAMERA, _CAMERA)
        self.width, self.height = width, height
        self.renderer = mujoco.Renderer(self.model, height=height, width=width)
        self.option = mujoco.MjvOption()
        self.option.geomgroup[:] = 0
        self.option.geomgroup[VISUAL_GROUP] = 1
        self.option.sitegroup[:] = 0
        self.visual_geoms = np.flatnonzero(self.model.geom_group == VISUAL_GROUP)

    def close(self) -> None:
        self.renderer.close()

    def _set_camera(self, camera: PinholeCamera) -> None:
        if (camera.width, camera.height) != (self.width, self.height):
            raise ValueError(f"camera is {camera.width}x{camera.height}, renderer {self.width}x{self.height}")
        K = np.asarray(camera.K, dtype=np.float64)
        if abs(K[0, 2] - camera.width / 2) > 1e-6 or abs(K[1, 2] - camera.height / 2) > 1e-6 or abs(K[0, 0] - K[1, 1]) > 1e-6 * K[0, 0]:
            raise ValueError("MuJoCo comparison renders need a centred principal point and square pixels")
        T_world_cam = camera.T_world_cam
        self.model.cam_pos[self.cam_id] = T_world_cam[:3, 3]
        self.model.cam_quat[self.cam_id] = rotmat_to_quat(T_world_cam[:3, :3] @ _CV_TO_MJ)
        self.model.cam_fovy[self.cam_id] = math.degrees(2.0 * math.atan(0.5 * camera.height / K[1, 1]))

    def render(self, camera: PinholeCamera, q, gripper_width: float = MAX_GRIPPER_WIDTH) -> MujocoView:
        """RGB, depth and robot mask at arm joints q and gripper opening `gripper_width`."""
        from video2robo.robot.kinematics import width_to_fingers

        mj, r = self._mj, self.renderer
        self.data.qpos[self.info.arm_qpos] = np.asarray(q, dtype=np.float64)
        self.data.qpos[self.info.finger_qpos] = width_to_fingers(gripper_width)
        self._set_camera(camera)  # before mj_forward, which computes the camera's world pose
        mj.mj_forward(self.model, self.data)
        r.update_scene(self.data, camera=self.cam_id, scene_option=self.option)
        rgb = r.render().copy()
        r.enable_segmentation_rendering()
        seg = r.render().copy()
        r.disable_segmentation_rendering()
        r.enable_depth_rendering()
        depth = r.render().astype(np.float64)
        r.disable_depth_rendering()
        mask = (seg[..., 1] == int(mj.mjtObj.mjOBJ_GEOM)) & np.isin(seg[..., 0], self.visual_geoms)
        return MujocoView(rgb, np.where(mask, depth, 0.0), mask)
