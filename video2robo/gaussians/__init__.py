"""Gaussian sets: storage, spherical harmonics, PLY I/O and mesh conversion."""

from video2robo.gaussians.from_mesh import load_mesh, mesh_to_gaussians
from video2robo.gaussians.gaussian_set import GaussianSet
from video2robo.gaussians.ply import load_ply, save_ply
from video2robo.gaussians.sh import eval_sh, rgb_to_sh0, rotate_sh, sh0_to_rgb

__all__ = [
    "GaussianSet",
    "eval_sh",
    "load_mesh",
    "load_ply",
    "mesh_to_gaussians",
    "rgb_to_sh0",
    "rotate_sh",
    "save_ply",
    "sh0_to_rgb",
]
