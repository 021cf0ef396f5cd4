"""`video2robo generate`: many kinematically valid, augmented robot demos from one demo folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import tyro


@dataclass
class Config:
    """Generate robot demonstrations (robomimic HDF5 + Diffusion Policy zarr) from a demo folder."""

    demo_dir: tyro.conf.Positional[Path]
    """Demo folder written by `video2robo parse` (or built from synth ground truth)."""
    out: Path
    """Dataset folder: episodes/, dataset.hdf5, replay.zarr, stats.json, preview.mp4/png."""
    num: int = 100
    task: Optional[str] = None
    """Task spec name (tasks/<name>.yaml) or YAML path; default: the demo's task."""
    seed: int = 0
    width: int = 128
    height: int = 128
    workers: int = 1
    depth: bool = True
    masks: bool = True
    wrist: bool = False
    """Also render a wrist camera (robot0_eye_in_hand_image)."""
    camera_motion: bool = False
    max_attempts: int = 20
    """Rejected samples allowed per demo before the run stops."""


def run(cfg: Config) -> int:
    from video2robo.generate.run import generate_dataset

    stats = generate_dataset(cfg.demo_dir, cfg.out, cfg.num, task=cfg.task, seed=cfg.seed, width=cfg.width,
                             height=cfg.height, workers=cfg.workers, depth=cfg.depth, masks=cfg.masks, wrist=cfg.wrist,
                             max_attempts=cfg.max_attempts, augment={"camera_motion": True} if cfg.camera_motion else None)
    print(f"wrote {stats['num_success']} demos to {cfg.out}: success rate {stats['success_rate']:.1%} of "
          f"{stats['num_attempts']} attempts, {stats['seconds_per_demo'] or 0:.2f} s/demo; rejections {stats['rejections']}")
    return 0
