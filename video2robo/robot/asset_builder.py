"""Builds the Gaussian Franka asset (`assets/franka_gs/`) from robosuite's Panda visual meshes.

For every rigid link (arm links 0–7, hand, two fingers) all visual geoms (MuJoCo geom group 1; the
collision geoms are left out) are taken from the *compiled* MuJoCo model — so vertices are exactly
where MuJoCo draws them, in the link's body frame — and covered with flat surface Gaussians
(`gaussians.from_mesh.mesh_to_gaussians`). Each geom's colour is its MJCF material/rgba colour.
Each link is saved as a standard 3DGS PLY in its body frame, plus `manifest.json`:
link ↔ MuJoCo body names, Gaussian counts, source mesh file hashes, output hashes, builder version.

Deterministic: the same robosuite meshes, spacing and seed give byte-identical PLYs, which the tests
check against the committed manifest's hashes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np

BUILDER_VERSION = 2
DEFAULT_SPACING = 0.0035  # metres between neighbouring Gaussians: ~87k for the whole robot
DEFAULT_SEED = 0
DEFAULT_OPACITY = 0.95
DEFAULT_OVERLAP = 0.5
# Gaussians sit this far inside the surface (m). The renderer blurs every splat by 0.3 px² without
# opacity compensation (as 3DGS/gsplat do), which grows silhouettes by about a pixel, and front-to-back
# compositing of overlapping discs biases depth toward the camera; a 2.5 mm inset cancels most of both
# for 128–512 px views (silhouette IoU vs MuJoCo, robot framed, 256 px: median ~0.89 → ~0.92;
# 512 px: ~0.95 → ~0.99).
DEFAULT_INSET = 0.0025
MANIFEST = "manifest.json"
DEFAULT_OUT = Path(__file__).resolve().parents[2] / "assets" / "franka_gs"
# A second, coarser level of detail for small renders (generation at 128 px): ~8x fewer Gaussians, built
# by the same code from the same meshes (`--spacing 0.01 --out assets/franka_gs_coarse`).
COARSE_SPACING = 0.01
COARSE_OUT = DEFAULT_OUT.with_name("franka_gs_coarse")


def sha256_file(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _mesh_files() -> dict[str, str]:
    """MuJoCo mesh name -> absolute source file path, from the composed MJCF."""
    import xml.etree.ElementTree as ET

    from video2robo.robot.model import panda_xml

    return {m.get("name"): m.get("file") for m in ET.fromstring(panda_xml()).iter("mesh") if m.get("file")}


def _package_relative(path: str) -> str:
    """A robosuite mesh path relative to robosuite's package folder (stable across installs)."""
    parts = Path(path).parts
    return "/".join(parts[parts.index("robosuite") + 1 :]) if "robosuite" in parts else Path(path).name


def link_visual_meshes(link: str):
    """[(geom name, mesh name, trimesh in the link body frame, rgba (4,))] for the link's visual geoms."""
    import mujoco
    import trimesh

    from video2robo.geometry.so3 import quat_to_rotmat
    from video2robo.robot.model import LINK_BODIES, VISUAL_GROUP, panda_model

    m = panda_model()
    body = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, LINK_BODIES[link])
    out = []
    for g in range(m.ngeom):
        if m.geom_bodyid[g] != body or m.geom_group[g] != VISUAL_GROUP:
            continue
        if m.geom_type[g] != mujoco.mjtGeom.mjGEOM_MESH:
            raise ValueError(f"visual geom {g} of {link} is not a mesh; the builder handles meshes only")
        mid = m.geom_dataid[g]
        v = m.mesh_vert[m.mesh_vertadr[mid] : m.mesh_vertadr[mid] + m.mesh_vertnum[mid]].astype(np.float64)
        f = m.mesh_face[m.mesh_faceadr[mid] : m.mesh_faceadr[mid] + m.mesh_facenum[mid]].astype(np.int64)
        R = quat_to_rotmat(m.geom_quat[g].astype(np.float64))
        v_body = v @ R.T + m.geom_pos[g]
        rgba = m.mat_rgba[m.geom_matid[g]] if m.geom_matid[g] >= 0 else m.geom_rgba[g]
        gname = mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_GEOM, g) or f"geom{g}"
        mname = mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_MESH, mid)
        out.append((gname, mname, trimesh.Trimesh(v_body, f, process=False), np.asarray(rgba, dtype=np.float64)))
    if not out:
        raise ValueError(f"link {link} has no visual geoms")
    return out


def link_gaussians(link: str, spacing: float = DEFAULT_SPACING, seed: int = DEFAULT_SEED, opacity: float = DEFAULT_OPACITY, overlap: float = DEFAULT_OVERLAP, inset: float = DEFAULT_INSET):
    """(GaussianSet of one link in its body frame, per-geom records for the manifest)."""
    import torch

    from video2robo.gaussians.from_mesh import mesh_to_gaussians
    from video2robo.gaussians.gaussian_set import GaussianSet
    from video2robo.gaussians.sh import rgb_to_sh0
    from video2robo.geometry.so3 import quat_to_rotmat

    files = _mesh_files()
    sets, records = [], []
    for k, (gname, mname, mesh, rgba) in enumerate(link_visual_meshes(link)):
        num = max(1, math.ceil(mesh.area / (math.sqrt(3.0) / 2.0 * spacing**2)))
        gs = mesh_to_gaussians(mesh, num=num, seed=seed + k, opacity=opacity, overlap=overlap)
        rgb = torch.as_tensor(rgba[:3], dtype=gs.dtype).expand(len(gs), 3)
        # Disc normals follow the face winding; a negative signed volume means the winding points inward.
        outward = -1.0 if mesh.volume < 0 else 1.0
        normals = quat_to_rotmat(gs.quats)[:, :, 2]
        gs = replace(gs, means=gs.means - (outward * inset) * normals, sh=rgb_to_sh0(rgb)[:, None, :].contiguous())
        sets.append(gs)
        src = files.get(mname)
        records.append(
            {
                "geom": gname,
                "mesh": mname,
                "file": _package_relative(src) if src else None,
                "file_sha256": sha256_file(src) if src else None,
                "rgba": [round(float(c), 6) for c in rgba],
                "area_m2": round(float(mesh.area), 8),
                "num_gaussians": len(gs),
            }
        )
    return GaussianSet.concat(sets), records


def build_assets(out_dir=DEFAULT_OUT, spacing: float = DEFAULT_SPACING, seed: int = DEFAULT_SEED, links=None, inset: float = DEFAULT_INSET) -> dict:
    """Write one PLY per link and `manifest.json` into `out_dir`; returns the manifest dict.

    `links` restricts the build to some links (for quick checks); the manifest then lists only those.
    """
    from importlib.metadata import version

    from video2robo.gaussians.ply import save_ply
    from video2robo.robot.model import LINK_BODIES

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = {
        "format": "video2robo/franka_gs",
        "builder_version": BUILDER_VERSION,
        "source": {"robosuite": version("robosuite"), "mujoco": version("mujoco"), "robot": "Panda", "gripper": "PandaGripper"},
        "frame": "each link's Gaussians are in its MuJoCo body frame (metres); pose them with FK",
        "spacing_m": spacing,
        "seed": seed,
        "opacity": DEFAULT_OPACITY,
        "overlap": DEFAULT_OVERLAP,
        "inset_m": inset,
        "links": {},
    }
    for link in links or LINK_BODIES:
        gs, records = link_gaussians(link, spacing, seed, inset=inset)
        path = out_dir / f"{link}.ply"
        save_ply(gs, path)
        manifest["links"][link] = {
            "body": LINK_BODIES[link],
            "ply": path.name,
            "num_gaussians": len(gs),
            "sha256": sha256_file(path),
            "geoms": records,
        }
    manifest["total_gaussians"] = sum(v["num_gaussians"] for v in manifest["links"].values())
    manifest["content_sha256"] = hashlib.sha256("".join(v["sha256"] for v in manifest["links"].values()).encode()).hexdigest()
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: assets/franka_gs)")
    parser.add_argument("--spacing", type=float, default=DEFAULT_SPACING, help="distance between Gaussians, m")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--inset", type=float, default=DEFAULT_INSET, help="Gaussians inside the surface by this, m")
    args = parser.parse_args(argv)
    manifest = build_assets(args.out, args.spacing, args.seed, inset=args.inset)
    size = sum(p.stat().st_size for p in Path(args.out).iterdir())
    print(f"wrote {args.out}: {len(manifest['links'])} links, {manifest['total_gaussians']} Gaussians, {size / 1e6:.1f} MB")
    return 0
