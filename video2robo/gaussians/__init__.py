"""Gaussian sets: storage, spherical harmonics, PLY I/O and mesh conversion."""

from video2robo.gaussians.gaussian_set import GaussianSet
from video2robo.gaussians.sh import eval_sh, rgb_to_sh0, rotate_sh, sh0_to_rgb

__all__ = ["GaussianSet", "eval_sh", "rgb_to_sh0", "rotate_sh", "sh0_to_rgb"]
