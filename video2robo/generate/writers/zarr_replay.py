"""Diffusion Policy replay-buffer layout (zarr format 2, as Diffusion Policy's zarr 2.x reads it).

    <out>.zarr/
      data/<key>          all episodes concatenated along time: action (T, 8), img / <camera>_image
                          uint8 (T, H, W, 3), state keys …, quaternions xyzw
      meta/episode_ends   int64 (N,): cumulative episode ends (exclusive), last == len(data/*)
      .zattrs             our metadata (JSON-compatible)

Diffusion Policy's `ReplayBuffer.copy_from_path` opens exactly this (zarr.open → `data`, `meta`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from video2robo.generate.writers.common import load_episode, observations
from video2robo.io_utils import atomic_dir


def write_zarr(episode_files: list[Path], out: Path, meta: dict) -> Path:
    import zarr

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_dir(out) as tmp:
        root = zarr.open_group(str(tmp), mode="w", zarr_format=2)
        data, meta_g = root.create_group("data"), root.create_group("meta")
        ends, arrays_out = [], {}
        for path in episode_files:
            arrays, _ = load_episode(path)
            steps = {"action": arrays["actions"], "action_eef_abs": arrays["actions_eef_abs"],
                     "action_eef_delta": arrays["actions_eef_delta"], **observations(arrays)}
            for k, v in steps.items():
                if k not in arrays_out:
                    # 16 frames per image chunk: per-frame chunks meant thousands of tiny files per dataset
                    chunks = (16,) + v.shape[1:] if v.ndim >= 3 else (max(1, min(1024, len(v))),) + v.shape[1:]
                    arrays_out[k] = data.create_array(k, shape=(0,) + v.shape[1:], dtype=v.dtype, chunks=chunks)
                a = arrays_out[k]
                a.append(v, axis=0)
            ends.append((ends[-1] if ends else 0) + len(arrays["actions"]))
        meta_g.create_array("episode_ends", data=np.asarray(ends, np.int64), chunks=(max(1, len(ends)),))
        root.attrs.update({"video2robo": meta})
    return out
