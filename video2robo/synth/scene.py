"""A MuJoCo scene for synthetic capture: textured objects on mocap bodies, a textured table and room,
lights, an optional skin-coloured hand occluder and a pinhole camera with exact intrinsics.

Why MuJoCo: the ground truth must not come from our own (Gaussian) renderer. Objects are mocap bodies
whose body frame *is* the object frame (MuJoCo re-centres mesh geoms internally but keeps them fixed in
the body frame), so setting a mocap pose to T_world_obj renders the mesh exactly where
`T_cam_obj @ vertices` projects. World: z up, table top at z = 0.

Camera: OpenCV poses (x right, y down, z forward) are converted to MuJoCo's (y up, looking along −z);
MuJoCo puts the principal point at the image centre and uses square pixels, so K = [[f,0,W/2],[0,f,H/2],
[0,0,1]] with f from the horizontal field of view.
"""

from __future__ import annotations

import io
import math
import os

os.environ.setdefault("MUJOCO_GL", "egl")

import numpy as np

from video2robo.geometry import rotmat_to_quat
from video2robo.objects.asset import ObjectAsset

HAND_LABEL = 255  # mask label of the hand occluder
HIDDEN_Z = -20.0  # where the hand waits when not in view (below the floor)
_CV_TO_MJ = np.diag([1.0, -1.0, -1.0])  # OpenCV camera axes -> MuJoCo camera axes
_ROOM_TEXTURES = {
    "table": ["light-wood.png", "dark-wood.png", "gray-woodgrain.png", "wood-varnished-panels.png", "red-wood.png", "blue-wood.png"],
    "floor": ["light-gray-floor-tile.png", "wood-tiles.png", "gray-felt.png"],
    "wall": ["white-plaster.png", "cream-plaster.png", "light-gray-plaster.png", "pink-plaster.png", "yellow-plaster.png", "white-bricks.png"],
}


def _png(img: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    return buf.getvalue()


def _mesh_obj_bytes(obj: ObjectAsset) -> bytes:
    return obj.obj_text().encode()


def build_mjcf(objects: list[ObjectAsset], width: int, height: int, fov_x_deg: float, rng: np.random.Generator,
               room: bool = True, hand: bool = False) -> tuple[str, dict[str, bytes]]:
    """MJCF text and its in-memory assets (meshes, textures) for the capture scene."""
    from video2robo.objects.robosuite_objects import robosuite_assets_dir

    fx = 0.5 * width / math.tan(math.radians(fov_x_deg) / 2)
    fovy = math.degrees(2 * math.atan(0.5 * height / fx))
    assets: dict[str, bytes] = {}
    asset_xml, body_xml = [], []
    for i, obj in enumerate(objects):
        assets[f"obj{i}.obj"] = _mesh_obj_bytes(obj)
        assets[f"obj{i}.png"] = _png(obj.texture)
        asset_xml += [
            f'<mesh name="mesh{i}" file="obj{i}.obj" inertia="shell"/>',
            f'<texture name="tex{i}" type="2d" file="obj{i}.png"/>',
            f'<material name="mat{i}" texture="tex{i}" specular="0.3" shininess="0.3" reflectance="0"/>',
        ]
        body_xml.append(
            f'<body name="obj{i}" mocap="true"><geom name="obj{i}" type="mesh" mesh="mesh{i}" material="mat{i}" '
            f'contype="0" conaffinity="0" mass="0.1"/></body>'
        )
    if room:
        tex_dir = robosuite_assets_dir() / "textures"
        for kind, names in _ROOM_TEXTURES.items():
            fname = str(rng.choice(names))
            assets[f"{kind}.png"] = (tex_dir / fname).read_bytes()
            asset_xml.append(f'<texture name="{kind}" type="2d" file="{kind}.png"/>')
        asset_xml += [
            '<material name="table" texture="table" texrepeat="3 2" texuniform="false" specular="0.2"/>',
            '<material name="floor" texture="floor" texrepeat="6 6" texuniform="true"/>',
            '<material name="wall" texture="wall" texrepeat="3 3" texuniform="true"/>',
        ]
        tw, td = 0.7 + 0.2 * rng.random(), 0.45 + 0.1 * rng.random()
        body_xml += [
            f'<geom name="table" type="box" size="{tw} {td} 0.02" pos="0 0 -0.02" material="table" contype="0" conaffinity="0"/>',
            f'<geom name="table_leg" type="box" size="{tw - 0.05} {td - 0.05} 0.36" pos="0 0 -0.4" rgba="0.25 0.22 0.2 1" contype="0" conaffinity="0"/>',
            '<geom name="floor" type="plane" size="5 5 0.1" pos="0 0 -0.76" material="floor" contype="0" conaffinity="0"/>',
        ]
        for k, (x, y, yaw) in enumerate([(2.5, 0, 90), (-2.5, 0, 90), (0, 2.5, 0), (0, -2.5, 0)]):
            body_xml.append(f'<geom name="wall{k}" type="box" size="2.5 0.02 1.5" pos="{x} {y} 0.7" euler="0 0 {yaw}" material="wall" contype="0" conaffinity="0"/>')
    if hand:
        skin = np.array([0.87, 0.67, 0.55]) * (0.8 + 0.25 * rng.random())
        rgba = f"{min(skin[0], 1):.3f} {min(skin[1], 1):.3f} {min(skin[2], 1):.3f} 1"
        body_xml.append(
            f'<body name="hand" mocap="true" pos="0 0 {HIDDEN_Z}">'
            f'<geom name="palm" type="ellipsoid" size="0.025 0.045 0.05" rgba="{rgba}" contype="0" conaffinity="0"/>'
            f'<geom name="thumb" type="capsule" fromto="0 0.03 -0.01 -0.03 0.05 -0.04" size="0.011" rgba="{rgba}" contype="0" conaffinity="0"/>'
            f'<geom name="fingers" type="capsule" fromto="-0.01 -0.03 0.03 -0.04 -0.03 -0.03" size="0.012" rgba="{rgba}" contype="0" conaffinity="0"/>'
            f'<geom name="forearm" type="capsule" fromto="0.01 0 0.03 0.06 0 0.3" size="0.03" rgba="{rgba}" contype="0" conaffinity="0"/>'
            "</body>"
        )
    light_dir = rng.normal(size=3) * [0.5, 0.5, 0.2] + [0, 0, -1]
    light_pos = -light_dir / np.linalg.norm(light_dir) * 2.0
    xml = f"""<mujoco model="video2robo_synth">
  <compiler angle="degree"/>
  <statistic extent="2" center="0 0 0"/>
  <visual>
    <global offwidth="{max(width, 64)}" offheight="{max(height, 64)}"/>
    <quality shadowsize="2048" offsamples="0"/>
    <map znear="0.005" zfar="10"/>
    <headlight ambient="0.35 0.35 0.35" diffuse="0.35 0.35 0.35" specular="0.05 0.05 0.05"/>
  </visual>
  <asset>
    <texture name="sky" type="skybox" builtin="gradient" rgb1="0.8 0.85 0.9" rgb2="0.4 0.45 0.5" width="64" height="64"/>
    {chr(10).join('    ' + a for a in asset_xml)}
  </asset>
  <worldbody>
    <light name="key" pos="{light_pos[0]:.3f} {light_pos[1]:.3f} {light_pos[2]:.3f}" dir="{light_dir[0]:.3f} {light_dir[1]:.3f} {light_dir[2]:.3f}" directional="true" castshadow="true" diffuse="0.55 0.55 0.5"/>
    <light name="fill" pos="0 0 2.0" dir="0 0 -1" directional="false" castshadow="false" diffuse="0.2 0.2 0.22"/>
    <camera name="phone" pos="0 -1 1" quat="1 0 0 0" fovy="{fovy:.6f}"/>
{chr(10).join('    ' + b for b in body_xml)}
  </worldbody>
</mujoco>
"""
    return xml, assets


class SceneRenderer:
    """Renders RGB, depth (metres along the optical axis, 0 = nothing) and instance labels.

    Labels: 0 background (table, room), i + 1 for objects[i], `HAND_LABEL` for the hand occluder.
    """

    def __init__(self, objects: list[ObjectAsset], width: int, height: int, fov_x_deg: float,
                 rng: np.random.Generator, room: bool = True, hand: bool = False):
        import mujoco

        self.mujoco = mujoco
        self.width, self.height = width, height
        xml, assets = build_mjcf(objects, width, height, fov_x_deg, rng, room=room, hand=hand)
        self.model = mujoco.MjModel.from_xml_string(xml, assets)
        self.data = mujoco.MjData(self.model)
        self.n_objects = len(objects)
        self.has_hand = hand
        self._cam = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_CAMERA, "phone")
        self._mocap = [int(self.model.body_mocapid[mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_BODY, f"obj{i}")]) for i in range(len(objects))]
        self._hand_mocap = int(self.model.body_mocapid[mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_BODY, "hand")]) if hand else -1
        # geom id -> label
        self._geom_label = np.zeros(self.model.ngeom + 1, dtype=np.uint8)
        for g in range(self.model.ngeom):
            body = self.model.body(int(self.model.geom_bodyid[g])).name
            if body.startswith("obj"):
                self._geom_label[g] = int(body[3:]) + 1
            elif body == "hand":
                self._geom_label[g] = HAND_LABEL
        self._renderer = mujoco.Renderer(self.model, height, width)
        self._zfar = self.model.vis.map.zfar * self.model.stat.extent

    def close(self) -> None:
        self._renderer.close()

    def set_state(self, T_world_cam: np.ndarray, T_world_objs: list[np.ndarray], T_world_hand: np.ndarray | None = None) -> None:
        """Place the camera (OpenCV convention) and every object (and the hand, if any)."""
        mj = self.mujoco
        R_mj = T_world_cam[:3, :3] @ _CV_TO_MJ
        self.model.cam_pos[self._cam] = T_world_cam[:3, 3]
        self.model.cam_quat[self._cam] = rotmat_to_quat(R_mj)
        for m, T in zip(self._mocap, T_world_objs):
            self.data.mocap_pos[m] = T[:3, 3]
            self.data.mocap_quat[m] = rotmat_to_quat(T[:3, :3])
        if self.has_hand:
            T = T_world_hand if T_world_hand is not None else np.diag([1.0, 1, 1, 1])
            pos = T[:3, 3] if T_world_hand is not None else np.array([0.0, 0.0, HIDDEN_Z])
            self.data.mocap_pos[self._hand_mocap] = pos
            self.data.mocap_quat[self._hand_mocap] = rotmat_to_quat(T[:3, :3])
        mj.mj_forward(self.model, self.data)

    def _render(self) -> np.ndarray:
        self._renderer.update_scene(self.data, camera=self._cam)
        return self._renderer.render()

    def rgb(self) -> np.ndarray:
        """(H, W, 3) uint8."""
        return self._render().copy()

    def depth(self) -> np.ndarray:
        """(H, W) float32 metres along the optical axis; 0 where nothing was hit (sky)."""
        self._renderer.enable_depth_rendering()
        try:
            d = self._render().astype(np.float32)
        finally:
            self._renderer.disable_depth_rendering()
        d[d >= 0.99 * self._zfar] = 0.0
        return d

    def labels(self) -> np.ndarray:
        """(H, W) uint8 instance labels (see class docstring)."""
        self._renderer.enable_segmentation_rendering()
        try:
            seg = self._render()
        finally:
            self._renderer.disable_segmentation_rendering()
        geom = seg[..., 0].astype(np.int64)
        is_geom = (seg[..., 1] == int(self.mujoco.mjtObj.mjOBJ_GEOM)) & (geom >= 0)
        return np.where(is_geom, self._geom_label[np.clip(geom, 0, None)], 0).astype(np.uint8)
