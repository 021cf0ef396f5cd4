"""Depth images of single object models at given camera-frame poses (MuJoCo), for the VSD metric.

The camera sits at the world origin (T_world_cam = I), so an object's world pose is its T_cam_obj.
Only the requested object is in view; the others wait far below. Intrinsics must be a centred pinhole
with square pixels (what `video2robo synth` writes), since MuJoCo cameras cannot express more.
"""

from __future__ import annotations

import math

import numpy as np

from video2robo.errors import UserError
from video2robo.objects.asset import ObjectAsset

_AWAY = np.eye(4)
_AWAY[2, 3] = -50.0  # behind the camera (camera looks along +z), far out of view


class ModelDepthRenderer:
    """depth(name, T_cam_obj) → (H, W) float32 metres, 0 where the model is absent."""

    def __init__(self, objects: list[ObjectAsset], K: np.ndarray, width: int, height: int):
        from video2robo.synth.scene import SceneRenderer

        K = np.asarray(K, dtype=np.float64)
        if not (abs(K[0, 0] - K[1, 1]) < 1e-6 * K[0, 0] and abs(K[0, 2] - width / 2) < 1e-6 and abs(K[1, 2] - height / 2) < 1e-6):
            raise UserError("VSD needs a centred pinhole K with square pixels (fx = fy, cx = W/2, cy = H/2); "
                            "evaluate without VSD (--no-vsd) for other cameras")
        fov_x = math.degrees(2 * math.atan(0.5 * width / K[0, 0]))
        self.names = [o.name for o in objects]
        self._r = SceneRenderer(objects, width, height, fov_x, np.random.default_rng(0), room=False, hand=False)

    def depth(self, name: str, T_cam_obj: np.ndarray) -> np.ndarray:
        poses = [T_cam_obj if n == name else _AWAY for n in self.names]
        self._r.set_state(np.eye(4), poses)
        return self._r.depth()

    def close(self) -> None:
        self._r.close()
