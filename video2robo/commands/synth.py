"""`video2robo synth`: a phone-like video of one of the six tasks, rendered by MuJoCo, with ground truth."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Optional


@dataclass
class Config:
    """Render a synthetic demonstration video and its ground truth (poses, masks, depth, events)."""

    out: Path
    """Output folder (video.mp4, gt.npz, gt.json, meshes/, contact_sheet.png)."""
    task: Literal["pour", "stack", "place", "attach", "drum", "sweep"] = "pour"
    seed: int = 0
    """Randomises placement, speeds, path variations, camera, colours and noise."""
    width: int = 640
    height: int = 360
    fps: float = 30.0
    fov_x_deg: Optional[float] = None
    """Horizontal field of view in degrees; default: random in 60-70 (phone main camera)."""
    handheld: bool = False
    """Hand-held camera (slow drift plus shake) instead of a tripod."""
    hand: bool = False
    """Show a skin-coloured hand occluder holding the source object."""
    blur: bool = False
    """Motion blur (average of sub-frame renders over the exposure)."""
    blur_samples: int = 3
    noise: bool = False
    """Sensor noise (read + shot noise)."""
    crf: int = 18
    """H.264 constant rate factor: 0 lossless ... 51 worst; phones look like 20-28."""
    speed: float = 1.0
    """Motion speed factor; 2 makes every motion twice as fast (shorter video)."""
    overwrite: bool = False


def run(cfg: Config) -> int:
    import time

    from video2robo.errors import UserError
    from video2robo.synth import CaptureSettings, capture, write_capture

    if not 0 <= cfg.crf <= 51:
        raise UserError(f"--crf {cfg.crf} is out of range; use 0 (lossless) to 51")
    if cfg.out.exists() and not cfg.overwrite:
        raise UserError(f"output folder {cfg.out} exists; choose another --out or pass --overwrite")
    t0 = time.perf_counter()
    settings = CaptureSettings(task=cfg.task, seed=cfg.seed, width=cfg.width, height=cfg.height, fps=cfg.fps,
                               fov_x_deg=cfg.fov_x_deg, handheld=cfg.handheld, hand=cfg.hand, blur=cfg.blur,
                               blur_samples=cfg.blur_samples, noise=cfg.noise, speed=cfg.speed)
    cap = capture(settings)
    write_capture(cap, cfg.out, crf=cfg.crf, overwrite=cfg.overwrite)
    print(f"wrote {cfg.out}: {len(cap.frames)} frames, grasp {cap.grasp_frame}, release {cap.release_frame}, "
          f"task {cap.task_frames[0]}-{cap.task_frames[1]} ({time.perf_counter() - t0:.1f} s)")
    return 0
