"""robomimic / Diffusion Policy HDF5 layout.

    data/                      attrs: total (steps), env_args (JSON), plus our metadata (JSON)
      demo_0 … demo_{N-1}      contiguous from 0; attrs num_samples
        actions                (T, 8) absolute joint positions + gripper (the paper's choice)
        actions_eef_abs        (T, 7), actions_eef_delta (T, 7)   (extra dataset keys)
        rewards (T,), dones (T,)
        obs/<key>              images uint8 (T, H, W, 3); depth float32; masks uint8; robot state
        next_obs/<key>         obs shifted by one step (last repeated), so load_next_obs=True works
    mask/train, mask/valid     demo names (bytes), the last ~10 % of demos are validation

Quaternions are xyzw here (robomimic's and robosuite's order); internally video2robo uses wxyz.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from video2robo.generate.writers.common import ACTION_KEYS, load_episode, observations
from video2robo.io_utils import atomic_path


def env_args(meta: dict) -> dict:
    """robomimic's env_args: robosuite env name, type 1 (robosuite), and the kwargs our data assumes."""
    return {
        "env_name": f"video2robo_{meta.get('task', 'task')}",
        "type": 1,
        "env_kwargs": {
            "robots": ["Panda"], "controller": "JOINT_POSITION (absolute) + gripper",
            "control_freq": meta.get("control_hz"), "camera_names": meta.get("cameras", []),
            "camera_heights": meta.get("height"), "camera_widths": meta.get("width"),
            "has_renderer": False, "has_offscreen_renderer": True, "use_camera_obs": True,
        },
    }


def write_robomimic(episode_files: list[Path], out: Path, meta: dict) -> Path:
    import h5py

    out = Path(out)
    n = len(episode_files)
    n_valid = max(1, n // 10) if n > 1 else 0
    names = [f"demo_{i}" for i in range(n)]
    total = 0
    with atomic_path(out) as tmp:
        with h5py.File(tmp, "w") as f:
            data = f.create_group("data")
            for i, path in enumerate(episode_files):
                arrays, ep_meta = load_episode(path)
                T = len(arrays["actions"])
                g = data.create_group(names[i])
                g.attrs["num_samples"] = T
                g.attrs["source_episode"] = path.name
                g.attrs["meta"] = json.dumps(ep_meta)
                for k in ACTION_KEYS:
                    g.create_dataset(k, data=arrays[k])
                rewards = np.zeros(T, np.float32)
                rewards[-1] = 1.0
                g.create_dataset("rewards", data=rewards)
                g.create_dataset("dones", data=(np.arange(T) == T - 1).astype(np.int64))
                obs = observations(arrays)
                nxt = np.r_[np.arange(1, T), T - 1]
                for k, v in obs.items():
                    # LZF (h5py's built-in filter): ~3x faster to write than gzip-1 for these images
                    opts = {"compression": "lzf", "chunks": (1,) + v.shape[1:]} if v.ndim >= 3 else {}
                    g.create_dataset(f"obs/{k}", data=v, **opts)
                    g.create_dataset(f"next_obs/{k}", data=v[nxt], **opts)
                total += T
            data.attrs["total"] = total
            data.attrs["env_args"] = json.dumps(env_args(meta))
            data.attrs["video2robo"] = json.dumps(meta)
            f.create_dataset("mask/train", data=np.array(names[: n - n_valid], dtype="S"))
            f.create_dataset("mask/valid", data=np.array(names[n - n_valid :], dtype="S"))
    return out
