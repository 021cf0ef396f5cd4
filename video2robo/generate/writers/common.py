"""What every writer stores per step, read from an episode file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

# Per-step observation keys (robosuite/robomimic names) -> episode-file keys. Image-like keys are added
# per camera by `obs_keys`.
STATE_KEYS = {
    "robot0_joint_pos": "joint_pos",
    "robot0_joint_vel": "joint_vel",
    "robot0_eef_pos": "eef_pos",
    "robot0_eef_quat": "eef_quat_wxyz",  # converted to xyzw by the writers (robosuite/robomimic order)
    "robot0_gripper_qpos": "gripper_qpos",
    "object": "object",  # [source pos, source quat, target pos, target quat] (quats xyzw in datasets)
}
IMAGE_SUFFIXES = ("_image", "_depth", "_mask")
EXTRA_KEYS = ("tracks_3d", "tracks_2d", "tracks_visible")
ACTION_KEYS = ("actions", "actions_eef_abs", "actions_eef_delta")


def wxyz_to_xyzw(q: np.ndarray) -> np.ndarray:
    return np.concatenate([q[..., 1:4], q[..., :1]], axis=-1)


def load_episode(path: Path) -> tuple[dict[str, np.ndarray], dict]:
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays.pop("meta_json")))
    return arrays, meta


def observations(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per-step observation arrays under dataset names (quaternions xyzw)."""
    obs = {}
    for key, src in STATE_KEYS.items():
        v = arrays[src]
        if key == "robot0_eef_quat":
            v = wxyz_to_xyzw(v)
        if key == "object":
            v = np.concatenate([v[:, :3], wxyz_to_xyzw(v[:, 3:7]), v[:, 7:10], wxyz_to_xyzw(v[:, 10:14])], axis=1)
        obs[key] = v
    for k, v in arrays.items():
        if k.endswith(IMAGE_SUFFIXES) or k in EXTRA_KEYS:
            obs[k] = v
    return obs
