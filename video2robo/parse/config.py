"""Typed configuration of `video2robo parse` (also its CLI flags)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Optional, Tuple

import tyro

from video2robo.pose.config import FitConfig


@dataclass
class ParseConfig:
    """Parse a video of a tabletop task into 6D object trajectories and skills (a demo folder)."""

    video: tyro.conf.Positional[Path]
    """Input video (mp4/mov, any resolution and frame rate)."""
    out: Path = Path("demo")
    """Demo folder to write (resumed when it already holds finished stages)."""
    task: str = "pour"
    """Task name (tasks/<task>.yaml: names the source and target objects), or "none": only the prompted
    objects' trajectories, no skills (a video that shows no task, e.g. the camera moving around an object)."""
    source: Optional[str] = None
    """Prompt name of the task's source object, when it is not the task file's (e.g. --source mug for
    a place task whose file names a can)."""
    target: Optional[str] = None
    """Prompt name of the target object, when it is not the task file's. With --task none: the object
    resting on the table that anchors the world frame and the camera tracking (default: the first prompt
    that is not --source)."""
    prompt: tyro.conf.UseAppendAction[Tuple[str, ...]] = ()
    """First-frame prompts, e.g. cup:box=120,80,220,200  bowl:point=300,200  apple:mask=m0.png."""
    prompts_json: Optional[Path] = None
    """JSON file with prompts: {"cup": {"box": [x0,y0,x1,y1]}, ...}."""
    model: tyro.conf.UseAppendAction[Tuple[str, ...]] = ()
    """Object model files: NAME=PATH[@SCALE] (mesh OBJ/PLY/GLB or 3DGS PLY; SCALE metres per unit)."""
    size: tyro.conf.UseAppendAction[Tuple[str, ...]] = ()
    """Metric scale hints: NAME=METRES, the object's largest extent (for built models, see --model-backend)."""
    model_backend: str = "single-view"
    """How an object without --model gets one from its first-frame crop and mask: single-view (no weights:
    its silhouette lifted into a closed pillow) or trellis (an image-to-3D model from --model-checkpoint;
    needs a CUDA GPU and the trellis package)."""
    model_checkpoint: Optional[Path] = None
    depth_dir: Optional[Path] = None
    """Folder of per-frame depth maps (16-bit PNG in millimetres or .npy in metres), sorted by name."""
    depth_backend: Optional[str] = None
    """Estimate the per-frame depth maps instead, with this backend: depth-anything (a metric Depth Anything
    V2 checkpoint folder, --depth-checkpoint; needs the transformers package)."""
    depth_checkpoint: Optional[Path] = None
    marker: Optional[float] = None
    """Side in metres of an ArUco marker's black square lying flat on the table, seen in the first frame:
    the table's plane and up direction, the size of each single-view model without --size (it stands on
    the table at the first frame), and the world frame (origin at the marker's centre, z up)."""
    marker_dict: str = "DICT_4X4_50"
    """The marker's ArUco dictionary (OpenCV's name)."""
    marker_id: Optional[int] = None
    """The marker's id, when several are in view (default: the largest one seen)."""
    fov: Optional[float] = None
    """Horizontal field of view in degrees (default: a phone's main camera, 66°, with a warning)."""
    intrinsics: Optional[Tuple[float, float, float, float]] = None
    """fx fy cx cy in pixels of the original video (overrides --fov)."""
    stride: int = 1
    """Use every stride-th frame."""
    max_frames: Optional[int] = None
    max_side: int = 640
    """Downscale frames so the longer side is at most this (intrinsics follow)."""
    segmenter: str = "grabcut"
    segmenter_checkpoint: Optional[Path] = None
    tracker: str = "lk"
    tracker_checkpoint: Optional[Path] = None
    camera: Literal["auto", "static", "moving"] = "auto"
    """static: the camera is fixed (one world frame); auto/moving: the camera's motion is tracked from the
    table around the target (which rests on it)."""
    overlay: bool = True
    fit: FitConfig = field(default_factory=FitConfig)
