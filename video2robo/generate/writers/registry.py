"""Dataset writers behind a registry: name -> writer(episode_files, out_folder, meta) -> written path.

Writers read the per-episode `.npz` files one at a time (memory stays at one episode) and write their
dataset atomically (temporary file, then rename), so assembly is idempotent and can be re-run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from video2robo.errors import UserError

WRITERS: dict[str, tuple[str, str]] = {
    # name -> (module, function)
    "robomimic_hdf5": ("video2robo.generate.writers.robomimic_hdf5", "write_robomimic"),
    "zarr_replay": ("video2robo.generate.writers.zarr_replay", "write_zarr"),
}


def get_writer(name: str) -> Callable[[list[Path], Path, dict], Path]:
    import importlib

    if name not in WRITERS:
        raise UserError(f"unknown dataset writer '{name}'; choose from {', '.join(WRITERS)}")
    module, fn = WRITERS[name]
    return getattr(importlib.import_module(module), fn)
