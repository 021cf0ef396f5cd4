"""Gaussian robot vs MuJoCo: silhouette IoU and depth agreement for one camera and configuration.

Used by the tests (the asset's acceptance check) and by `video2robo render-robot`, which prints these
figures beside the side-by-side image. The Gaussian silhouette is alpha > 0.5; MuJoCo's is its
segmentation render of the robot's visual geoms; depth is compared on the pixels both cover.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from video2robo.geometry.camera import PinholeCamera


@dataclass
class RenderComparison:
    iou: float  # silhouette intersection over union
    depth_median_abs: float  # metres, median |depth_gs − depth_mj| on the overlap
    depth_median_signed: float  # metres, median (depth_gs − depth_mj): > 0 means the Gaussians look farther
    gaussian_rgb: np.ndarray  # (H, W, 3) uint8
    mujoco_rgb: np.ndarray  # (H, W, 3) uint8
    gaussian_mask: np.ndarray  # (H, W) bool
    mujoco_mask: np.ndarray  # (H, W) bool


def framing_camera(points: np.ndarray, view_dir, width: int, height: int, fov_x_deg: float = 45.0, fill: float = 0.95) -> PinholeCamera:
    """A camera looking at the bounding sphere of `points` from direction `view_dir` (camera → scene
    is −view_dir), z up, close enough that the sphere spans about `fill` of the narrower image side."""
    lo, hi = points.min(0), points.max(0)
    centre, radius = (lo + hi) / 2.0, float(np.linalg.norm(hi - lo) / 2.0)
    d = np.asarray(view_dir, dtype=np.float64)
    d = d / np.linalg.norm(d)
    half_fov = np.radians(fov_x_deg / 2.0) if width <= height else np.arctan(np.tan(np.radians(fov_x_deg / 2.0)) * height / width)
    dist = radius / (np.sin(half_fov) * fill)
    return PinholeCamera.looking_at(centre + d * dist, centre, fov_x_deg, width, height)


def compare_with_mujoco(gaussian_robot, mujoco_renderer, camera: PinholeCamera, q, gripper_width: float, background=(0.0, 0.0, 0.0)) -> RenderComparison:
    """Render the posed Gaussian robot and MuJoCo's robot from `camera` and compare them."""
    from video2robo.render import render

    out = render(gaussian_robot.pose(q, gripper_width), camera, background=background)
    view = mujoco_renderer.render(camera, q, gripper_width)
    a = out.alpha[0].detach().numpy() > 0.5
    m = view.mask
    union = int((a | m).sum())
    both = a & m
    iou = float(both.sum() / union) if union else 1.0
    diff = out.depth[0].detach().numpy()[both] - view.depth[both]
    med_abs = float(np.median(np.abs(diff))) if diff.size else float("nan")
    med = float(np.median(diff)) if diff.size else float("nan")
    return RenderComparison(iou, med_abs, med, out.numpy_rgb(0), view.rgb, a, m)
