"""`ObjectAsset`: one rigid task object — textured mesh in its own frame, symmetries, and file export.

Object frame convention: metres, z up, origin at the centre of the face the object rests on (so an
object standing on a table at height h with yaw ψ has T_world_obj = pose_from_xyz_yaw(x, y, h, ψ)).

Symmetries follow the BOP `models_info.json` layout: `symmetries_discrete` is a list of 4x4 transforms
S with the shape unchanged under x ↦ S x; `symmetries_continuous` is a list of {"axis", "offset"}
(rotation by any angle about the line through `offset` along `axis`). They describe the *shape*; the
procedural textures deliberately break them so trackers can still tell the poses apart.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from video2robo.objects.shapes import MeshPart


@dataclass
class ObjectAsset:
    """A textured triangle mesh with per-vertex UVs, plus metadata used by the pose metrics."""

    name: str
    mesh: MeshPart
    texture: np.ndarray  # (H, W, 3) uint8, row 0 at the top
    symmetries_discrete: list[np.ndarray] = field(default_factory=list)
    symmetries_continuous: list[dict] = field(default_factory=list)
    grasp_offset: np.ndarray = field(default_factory=lambda: np.eye(4))  # T_obj_hand while held
    description: str = ""

    @property
    def vertices(self) -> np.ndarray:
        return self.mesh.vertices

    @property
    def faces(self) -> np.ndarray:
        return self.mesh.faces

    @property
    def height(self) -> float:
        return float(self.vertices[:, 2].max() - self.vertices[:, 2].min())

    @cached_property
    def diameter(self) -> float:
        """Largest distance between two vertices (BOP's object diameter), metres."""
        from scipy.spatial import ConvexHull
        from scipy.spatial.distance import pdist

        hull = ConvexHull(self.vertices)  # objects are solid: their vertices span 3D
        return float(pdist(self.vertices[hull.vertices]).max())

    def sample_surface(self, n: int, seed: int = 0) -> np.ndarray:
        """n points sampled uniformly (by area) on the surface, metres, object frame."""
        rng = np.random.default_rng(seed)
        tri = self.vertices[self.faces]
        area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
        idx = rng.choice(len(tri), size=n, p=area / area.sum())
        a, b = rng.random((2, n, 1))
        flip = (a + b) > 1
        a, b = np.where(flip, 1 - a, a), np.where(flip, 1 - b, b)
        t = tri[idx]
        return t[:, 0] + a * (t[:, 1] - t[:, 0]) + b * (t[:, 2] - t[:, 0])

    def texture_png(self) -> bytes:
        from PIL import Image

        buf = io.BytesIO()
        Image.fromarray(self.texture).save(buf, format="PNG")
        return buf.getvalue()

    def obj_text(self, mtl_name: str | None = None) -> str:
        """Wavefront OBJ with `v`, `vt` and `f v/vt` (same indices), optionally referencing an MTL."""
        lines = [f"# video2robo object '{self.name}', metres, object frame", ""]
        if mtl_name:
            lines += [f"mtllib {mtl_name}", f"usemtl {self.name}"]
        lines += [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in self.vertices]
        lines += [f"vt {u:.6f} {v:.6f}" for u, v in self.mesh.uv]
        lines += [f"f {a}/{a} {b}/{b} {c}/{c}" for a, b, c in self.faces + 1]
        return "\n".join(lines) + "\n"

    def symmetry_info(self) -> dict:
        """BOP-style JSON-able symmetry record plus the diameter (metres)."""
        return {
            "diameter": self.diameter,
            "symmetries_discrete": [np.asarray(S).tolist() for S in self.symmetries_discrete],
            "symmetries_continuous": [
                {"axis": list(map(float, c["axis"])), "offset": list(map(float, c.get("offset", (0, 0, 0))))}
                for c in self.symmetries_continuous
            ],
        }

    def export(self, folder: Path) -> dict[str, str]:
        """Write `<name>.obj`, `<name>.mtl` and `<name>.png` (metres, object frame) into `folder`.

        Returns the written file names by kind. The OBJ loads in trimesh, MeshLab, Blender and MuJoCo.
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        names = {"obj": f"{self.name}.obj", "mtl": f"{self.name}.mtl", "texture": f"{self.name}.png"}
        (folder / names["obj"]).write_text(self.obj_text(names["mtl"]))
        (folder / names["mtl"]).write_text(f"newmtl {self.name}\nKa 1 1 1\nKd 1 1 1\nKs 0 0 0\nmap_Kd {names['texture']}\n")
        (folder / names["texture"]).write_bytes(self.texture_png())
        return names


def load_asset(obj_path: Path, name: str | None = None, info: dict | None = None) -> ObjectAsset:
    """Read an exported object (OBJ with optional UVs and `<stem>.png` texture) back as an ObjectAsset.

    `info` is the BOP-style record (`symmetry_info()`, e.g. an entry of gt.json's "objects") whose
    symmetries are attached. Vertices are kept exactly as in the file (metres, object frame).
    """
    import trimesh
    from PIL import Image

    obj_path = Path(obj_path)
    tm = trimesh.load(obj_path, force="mesh", process=False)
    v = np.asarray(tm.vertices, dtype=np.float64)
    uv = getattr(tm.visual, "uv", None)
    uv = np.zeros((len(v), 2)) if uv is None or len(uv) != len(v) else np.asarray(uv, dtype=np.float64)
    png = obj_path.with_suffix(".png")
    tex = np.asarray(Image.open(png).convert("RGB")) if png.is_file() else np.full((2, 2, 3), 160, np.uint8)
    info = info or {}
    return ObjectAsset(
        name or obj_path.stem, MeshPart(v, np.asarray(tm.faces, dtype=np.int64), uv), tex,
        symmetries_discrete=[np.asarray(S, dtype=np.float64) for S in info.get("symmetries_discrete", [])],
        symmetries_continuous=list(info.get("symmetries_continuous", [])),
        description=info.get("description", ""),
    )
