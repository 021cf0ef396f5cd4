"""The posed Gaussian Franka: per-link Gaussians (asset in link frames) moved by forward kinematics.

`GaussianRobot.pose(q, gripper_width, T_world_base)` returns one GaussianSet in the world frame, ready
to be concatenated with objects and a table and rendered. Means and rotations are transformed per link
(SH rotated too, via `GaussianSet.transform`). The asset is `assets/franka_gs/` (built by
`scripts/build_franka_assets.py`); `VIDEO2ROBO_FRANKA_ASSETS` points elsewhere.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import numpy as np
import torch

from video2robo.errors import UserError
from video2robo.gaussians.gaussian_set import GaussianSet
from video2robo.robot.model import MAX_GRIPPER_WIDTH


DETAIL_LEVELS = ("full", "coarse")


def default_asset_dir(detail: str = "full") -> Path:
    """The asset folder of a level of detail: "full" (3.5 mm spacing, ~87k Gaussians; overridden by
    `VIDEO2ROBO_FRANKA_ASSETS`) or "coarse" (10 mm, ~11k, for small renders)."""
    from video2robo.robot.asset_builder import COARSE_OUT, DEFAULT_OUT

    if detail not in DETAIL_LEVELS:
        raise UserError(f"unknown robot detail level {detail!r}; choose one of {', '.join(DETAIL_LEVELS)}")
    if detail == "coarse":
        return COARSE_OUT
    env = os.environ.get("VIDEO2ROBO_FRANKA_ASSETS")
    return Path(env) if env else DEFAULT_OUT


def detail_for_pixel_size(pixel_m: float) -> str:
    """The coarsest level whose Gaussian spacing is at most two pixels (pixel footprint `pixel_m`
    metres at the robot's distance): finer detail than that is averaged away by the rasteriser's blur."""
    from video2robo.robot.asset_builder import COARSE_SPACING

    return "coarse" if COARSE_SPACING <= 2.0 * pixel_m else "full"


def load_link_gaussians(asset_dir=None) -> tuple[dict[str, GaussianSet], dict]:
    """({link: GaussianSet in its body frame}, manifest) from an asset folder."""
    from video2robo.gaussians.ply import load_ply
    from video2robo.robot.asset_builder import MANIFEST

    asset_dir = Path(asset_dir) if asset_dir is not None else default_asset_dir()
    manifest_path = asset_dir / MANIFEST
    if not manifest_path.is_file():
        raise UserError(f"Gaussian Franka asset not found at {asset_dir}; build it with: python scripts/build_franka_assets.py")
    manifest = json.loads(manifest_path.read_text())
    links = {name: load_ply(asset_dir / entry["ply"]) for name, entry in manifest["links"].items()}
    for name, entry in manifest["links"].items():
        if len(links[name]) != entry["num_gaussians"]:
            raise UserError(f"{asset_dir / entry['ply']} holds {len(links[name])} Gaussians, manifest says {entry['num_gaussians']}; rebuild the asset")
    return links, manifest


class GaussianRobot:
    """A Franka Panda made of Gaussians, posed by MuJoCo forward kinematics."""

    def __init__(self, asset_dir=None, kinematics=None):
        from video2robo.robot.kinematics import PandaKinematics

        self.links, self.manifest = load_link_gaussians(asset_dir)
        self.kin = kinematics or PandaKinematics()
        missing = set(self.links) - set(self.kin.info.link_body_ids)
        if missing:
            raise UserError(f"asset links {sorted(missing)} are not bodies of the Panda model")
        self.link_names = list(self.links)
        self._canonical = GaussianSet.concat([self.links[n] for n in self.link_names])
        self._link_index = torch.cat([torch.full((len(self.links[n]),), i) for i, n in enumerate(self.link_names)])

    def __len__(self) -> int:
        return len(self._canonical)

    @property
    def link_index(self) -> torch.Tensor:
        """(N,) index into `link_names` of each Gaussian of a posed set (e.g. for per-link masks)."""
        return self._link_index

    def pose(self, q, gripper_width: float = MAX_GRIPPER_WIDTH, T_world_base=None) -> GaussianSet:
        """All robot Gaussians in the world frame at arm joints q (rad) and gripper opening (m)."""
        T_world_base = np.eye(4) if T_world_base is None else np.asarray(T_world_base, dtype=np.float64)
        poses = self.kin.link_poses(q, gripper_width)
        return GaussianSet.concat([self.links[n].transform(T_world_base @ poses[n]) for n in self.link_names])


@functools.lru_cache(maxsize=2)
def _default_robot(asset_dir: str | None) -> GaussianRobot:
    return GaussianRobot(asset_dir)


def robot_gaussians(q, gripper_width: float = MAX_GRIPPER_WIDTH, T_world_base=None, asset_dir=None) -> GaussianSet:
    """The Gaussian Panda posed at (q, gripper_width), in the world frame (asset loaded once, cached)."""
    return _default_robot(None if asset_dir is None else str(asset_dir)).pose(q, gripper_width, T_world_base)
