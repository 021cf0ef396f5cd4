"""robosuite's textured objects (can, milk, bread, cereal, lemon, bottle) as `ObjectAsset`s.

The OBJ files and textures ship inside the robosuite package (models/assets/objects). We load the OBJ
(with its UVs), apply the scale that robosuite's MJCF applies, and move the origin to the centre of the
resting face (object-frame convention of `video2robo.objects.asset`). Read once per process.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from video2robo.objects.asset import ObjectAsset
from video2robo.objects.procedural import _pose, rot_z, sym_about
from video2robo.objects.shapes import MeshPart
from video2robo.objects.textures import atlas

# name: (texture file or None, scale from robosuite's MJCF, continuous symmetry axis or None, 180° about z?)
# None: robosuite's milk texture is plain ceramic; a procedural one gives trackers detail.
_SPECS = {
    "can": ("soda.png", (1.0, 1.0, 1.0), (0, 0, 1), False),
    "milk": (None, (0.9, 0.9, 0.9), None, False),
    "bread": ("bread.png", (0.8, 0.8, 0.8), None, False),
    "cereal": ("cereal.png", (1.0, 1.0, 1.0), None, False),  # box-like, but the mesh is not exactly symmetric
    "lemon": ("lemon.png", (1.0, 1.0, 1.0), None, False),
    "bottle": ("glass.png", (1.0, 1.0, 1.0), (0, 0, 1), False),
}
NAMES = tuple(_SPECS)


@functools.lru_cache(maxsize=1)
def robosuite_assets_dir() -> Path:
    """robosuite's `models/assets` folder (robosuite is imported only to find it)."""
    import importlib.util

    spec = importlib.util.find_spec("robosuite")
    if spec is None or spec.origin is None:
        raise RuntimeError("robosuite is not installed; it is a declared dependency (pip install robosuite==1.5.2)")
    return Path(spec.origin).parent / "models" / "assets"


@functools.lru_cache(maxsize=None)
def _load_mesh(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    import trimesh
    from PIL import Image

    tex_file, scale, _, _ = _SPECS[name]
    root = robosuite_assets_dir()
    tm = trimesh.load(root / "objects" / "meshes" / f"{name}.obj", force="mesh", process=False)
    uv = getattr(tm.visual, "uv", None)
    if uv is None or len(uv) != len(tm.vertices):
        raise RuntimeError(f"robosuite mesh {name}.obj has no per-vertex UVs; cannot texture it")
    v = np.asarray(tm.vertices, dtype=np.float64) * np.asarray(scale)
    lo, hi = v.min(0), v.max(0)
    v -= np.array([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, lo[2]])
    tex = np.asarray(Image.open(root / "textures" / tex_file).convert("RGB")) if tex_file else None
    return v, np.asarray(tm.faces, dtype=np.int64), np.asarray(uv, dtype=np.float64), tex


def robosuite_object(name: str, rng: np.random.Generator | None = None) -> ObjectAsset:
    """One of robosuite's textured objects (robosuite's texture; rng only colours the milk carton).

    Their UVs may leave [0, 1]: the textures tile (MuJoCo wraps them)."""
    v, f, uv, tex = _load_mesh(name)
    if tex is None:
        tex = atlas(rng if rng is not None else np.random.default_rng(0), 1, 256)
    _, _, axis, half_turn = _SPECS[name]
    cont = [{"axis": axis, "offset": (0, 0, 0)}] if axis else []
    disc = [sym_about(rot_z(a), (0, 0, 0)) for a in (0.0, np.pi)] if half_turn else []
    h = float(v[:, 2].max())
    return ObjectAsset(name, MeshPart(v.copy(), f.copy(), uv.copy()), tex.copy(), symmetries_discrete=disc,
                       symmetries_continuous=cont, grasp_offset=_pose(t=(0, 0, h + 0.05)),
                       description=f"robosuite {name}")
