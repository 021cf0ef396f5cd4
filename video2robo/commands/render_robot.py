"""`video2robo render-robot`: the Gaussian Franka at a configuration, next to MuJoCo's render of it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Tuple


@dataclass
class Config:
    """Render the Gaussian Panda at a joint configuration beside MuJoCo's render of the same robosuite
    Panda, plus their silhouettes (red: Gaussians only, green: MuJoCo only, yellow: both), and print
    the silhouette IoU and depth agreement."""

    q: Optional[Tuple[float, float, float, float, float, float, float]] = None
    """Arm joint angles (rad, 7 values); default: robosuite's home configuration."""
    gripper_width: float = 0.04
    """Opening between the fingers, metres (0 to 0.08)."""
    out: Path = Path("robot_render.png")
    """Side-by-side PNG: Gaussian render | MuJoCo render | silhouettes."""
    width: int = 256
    height: int = 256
    fov: float = 45.0
    """Horizontal field of view, degrees."""
    view: Tuple[float, float, float] = (1.0, 0.7, 0.5)
    """Direction from the robot to the camera (base frame); the camera frames the whole robot."""
    eye: Optional[Tuple[float, float, float]] = None
    """Camera position (robot base frame, metres); overrides `view` framing when given with `target`."""
    target: Optional[Tuple[float, float, float]] = None
    """Point the camera looks at (with `eye`)."""
    assets: Optional[Path] = None
    """Gaussian robot asset folder; default: the bundled assets/franka_gs."""


def _check(cfg: Config):
    import numpy as np

    from video2robo.errors import UserError
    from video2robo.robot.model import MAX_GRIPPER_WIDTH

    if not 0.0 <= cfg.gripper_width <= MAX_GRIPPER_WIDTH:
        raise UserError(f"--gripper-width must be between 0 and {MAX_GRIPPER_WIDTH} m, got {cfg.gripper_width}")
    if cfg.width < 16 or cfg.height < 16 or cfg.width > 4096 or cfg.height > 4096:
        raise UserError(f"image size must be 16..4096 pixels per side, got {cfg.width}x{cfg.height}")
    if (cfg.eye is None) != (cfg.target is None):
        raise UserError("give both --eye and --target, or neither (then --view frames the robot)")
    if not 1.0 <= cfg.fov <= 170.0:
        raise UserError(f"--fov must be between 1 and 170 degrees, got {cfg.fov}")
    if np.linalg.norm(cfg.view) == 0:
        raise UserError("--view must be a non-zero direction")


def run(cfg: Config) -> int:
    import numpy as np
    from PIL import Image

    from video2robo.errors import UserError
    from video2robo.geometry.camera import PinholeCamera
    from video2robo.io_utils import atomic_path
    from video2robo.robot.gaussian_robot import GaussianRobot
    from video2robo.robot.model import home_configuration
    from video2robo.robot.mujoco_view import MujocoRobotRenderer
    from video2robo.robot.render_check import compare_with_mujoco, framing_camera

    _check(cfg)
    robot = GaussianRobot(cfg.assets)
    q = home_configuration() if cfg.q is None else np.asarray(cfg.q, dtype=np.float64)
    if not robot.kin.within_limits(q):
        lo, hi = robot.kin.lower, robot.kin.upper
        bad = [f"joint{i + 1}={q[i]:.3f} not in [{lo[i]:.4f}, {hi[i]:.4f}]" for i in range(7) if not lo[i] <= q[i] <= hi[i]]
        raise UserError("configuration outside the joint limits: " + ", ".join(bad))
    if cfg.eye is not None:
        if np.allclose(cfg.eye, cfg.target):
            raise UserError("--eye and --target must differ")
        camera = PinholeCamera.looking_at(cfg.eye, cfg.target, cfg.fov, cfg.width, cfg.height)
    else:
        camera = framing_camera(robot.pose(q, cfg.gripper_width).means.numpy(), cfg.view, cfg.width, cfg.height, cfg.fov)
    mj = MujocoRobotRenderer(cfg.width, cfg.height)
    try:
        cmp = compare_with_mujoco(robot, mj, camera, q, cfg.gripper_width)
    finally:
        mj.close()
    overlay = np.zeros((cfg.height, cfg.width, 3), np.uint8)
    overlay[..., 0] = cmp.gaussian_mask * 255
    overlay[..., 1] = cmp.mujoco_mask * 255
    image = np.concatenate([cmp.gaussian_rgb, cmp.mujoco_rgb, overlay], axis=1)
    with atomic_path(cfg.out) as tmp:
        Image.fromarray(image).save(tmp, format="PNG")
    print(f"wrote {cfg.out} (Gaussian | MuJoCo | silhouettes), {len(robot)} Gaussians")
    print(f"silhouette IoU {cmp.iou:.3f}; depth on overlap: median |diff| {cmp.depth_median_abs * 1000:.1f} mm, median signed {cmp.depth_median_signed * 1000:+.1f} mm")
    return 0
