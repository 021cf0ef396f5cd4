"""Mesh → Gaussians: flat, overlapping discs spread evenly over a (textured) triangle mesh.

Used for object models given as scans/meshes and for synthetic assets. Each Gaussian sits on the
surface, its thin axis along the face normal, its two tangent scales sized from the local sample
spacing so neighbouring discs overlap and the surface renders without holes. Colours come from the
texture (UV + barycentric interpolation, bilinear lookup), else vertex/face colours, else the material
colour, in that order.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import trimesh
from PIL import Image
from scipy.spatial import cKDTree

from video2robo.errors import UserError
from video2robo.gaussians.gaussian_set import GaussianSet
from video2robo.geometry.so3 import rotmat_to_quat

DEFAULT_NUM = 20_000
_GREY = np.array([0.5, 0.5, 0.5])
_HEX_CELL = math.sqrt(3.0) / 2.0  # area of a hexagonal-lattice cell per spacing²


# --- loading ---------------------------------------------------------------------------------------
def _missing_mtl_texture(path: Path) -> Path | None:
    """GSO layout: model.obj names a material file that is absent and texture.png lies beside it."""
    if path.suffix.lower() != ".obj":
        return None
    candidate = path.parent / "texture.png"
    if not candidate.is_file():
        return None
    with open(path, "r", errors="replace") as f:
        libs = [m.group(1).strip() for line in f if (m := re.match(r"^\s*mtllib\s+(.+)$", line))]
    return candidate if any(not (path.parent / lib).is_file() for lib in libs) else None


def apply_texture(mesh: trimesh.Trimesh, texture) -> trimesh.Trimesh:
    """`mesh` with its UVs kept and its texture image replaced by `texture` (path or PIL image)."""
    uv = getattr(mesh.visual, "uv", None)
    if uv is None or len(uv) != len(mesh.vertices):
        raise UserError("cannot apply a texture: the mesh has no per-vertex UV coordinates")
    if not isinstance(texture, Image.Image):
        tex_path = Path(texture)
        if not tex_path.is_file():
            raise UserError(f"texture image not found: {tex_path}")
        try:
            texture = Image.open(tex_path)
            texture.load()
        except OSError as e:
            raise UserError(f"cannot read texture image {tex_path}: {e}") from e
    mesh = mesh.copy()
    mesh.visual = trimesh.visual.TextureVisuals(uv=uv, image=texture)
    return mesh


def load_mesh(path, scale: float = 1.0, texture=None) -> trimesh.Trimesh:
    """One Trimesh from a mesh file (scenes concatenated with their transforms), scaled to metres.

    `scale` multiplies coordinates (0.01 for meshes in cm, e.g. YCB). `texture` replaces the texture
    image; without it, an OBJ whose .mtl is missing but has a `texture.png` beside it (the GSO layout)
    gets that image.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"mesh file not found: {path}")
    try:
        loaded = trimesh.load(str(path))
    except Exception as e:  # trimesh raises many types for bad files; report them all as one line
        raise UserError(f"cannot read mesh {path}: {type(e).__name__}: {e}".replace("\n", " ")) from e
    if isinstance(loaded, trimesh.Scene):
        if not loaded.geometry:
            raise UserError(f"mesh file {path} contains no geometry")
        loaded = loaded.to_mesh()
    if not isinstance(loaded, trimesh.Trimesh) or len(loaded.faces) == 0:
        raise UserError(f"mesh file {path} holds no triangles (got {type(loaded).__name__})")
    if texture is None:
        texture = _missing_mtl_texture(path)
    if texture is not None:
        loaded = apply_texture(loaded, texture)
    if scale != 1.0:
        loaded.apply_scale(scale)
    return loaded


# --- sampling ---------------------------------------------------------------------------------------
def sample_surface_area(mesh: trimesh.Trimesh, count: int, rng: np.random.Generator):
    """`count` area-weighted uniform samples: (points (M,3), face index (M,), barycentric (M,3))."""
    cum = np.cumsum(mesh.area_faces)
    face = np.searchsorted(cum, rng.random(count) * cum[-1], side="right").clip(0, len(cum) - 1)
    r1, r2 = rng.random(count), rng.random(count)
    s = np.sqrt(r1)
    bary = np.stack([1.0 - s, s * (1.0 - r2), s * r2], axis=1)
    points = np.einsum("mk,mkd->md", bary, mesh.triangles[face])
    return points, face, bary


_RADII = (0.8, 0.75, 0.7, 0.65, 0.6, 0.55, 0.5, 0.45, 0.4)  # disc radii tried, × sqrt(area / count)


def _eliminate(pairs: np.ndarray, n: int) -> np.ndarray:
    """Keep-mask (n,) with one member of every close pair removed: the one with more close neighbours."""
    keep = np.ones(n, dtype=bool)
    if len(pairs):
        degree = np.bincount(pairs.ravel(), minlength=n)
        keep[np.where(degree[pairs[:, 0]] >= degree[pairs[:, 1]], pairs[:, 0], pairs[:, 1])] = False
    return keep


def sample_surface_even(mesh: trimesh.Trimesh, count: int, seed: int = 0, oversample: int = 4):
    """`count` samples spread evenly over the surface (deterministic for a seed).

    Poisson-disc by elimination: draw `oversample`·count area-weighted candidates, drop one of every
    pair closer than the largest radius (from _RADII) that leaves at least `count`, keep the first `count`
    survivors (candidates are in random order, so this is an unbiased subset). If elimination left too
    few (e.g. a very small count), rejected candidates (random order) top it up, so the result
    always has exactly `count` points, all on the surface.
    """
    rng = np.random.default_rng(seed)
    points, face, bary = sample_surface_area(mesh, oversample * count, rng)
    nominal = math.sqrt(mesh.area / count)
    pairs = cKDTree(points).query_pairs(_RADII[0] * nominal, output_type="ndarray")
    dist = np.linalg.norm(points[pairs[:, 0]] - points[pairs[:, 1]], axis=1)
    for factor in _RADII:  # largest radius that still leaves `count` survivors
        keep = _eliminate(pairs[dist < factor * nominal], len(points))
        if keep.sum() >= count:
            break
    chosen = np.flatnonzero(keep)[:count]
    if len(chosen) < count:
        chosen = np.concatenate([chosen, np.flatnonzero(~keep)[: count - len(chosen)]])
    return points[chosen], face[chosen], bary[chosen]


# --- colour -----------------------------------------------------------------------------------------
def _image_rgb(image) -> np.ndarray:
    """A texture as float RGB in [0, 1], (H, W, 3)."""
    if isinstance(image, Image.Image):
        image = np.asarray(image.convert("RGB"))
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    arr = arr[..., :3]
    return arr.astype(np.float64) / (255.0 if arr.dtype == np.uint8 else 1.0)


def sample_texture(image, uv: np.ndarray) -> np.ndarray:
    """Bilinear texture lookup (M, 3) at UVs (M, 2): u right, v up (OBJ/glTF-on-load convention).

    UVs wrap (repeat) outside [0, 1]; texel centres are at (i + 0.5)/W like OpenGL.
    """
    img = _image_rgb(image)
    h, w = img.shape[:2]
    x = np.mod(uv[:, 0], 1.0) * w - 0.5
    y = (1.0 - np.mod(uv[:, 1], 1.0)) * h - 0.5
    x0, y0 = np.floor(x), np.floor(y)
    fx, fy = (x - x0)[:, None], (y - y0)[:, None]
    x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
    x1, y1 = np.mod(x0 + 1, w), np.mod(y0 + 1, h)
    x0, y0 = np.mod(x0, w), np.mod(y0, h)
    top = img[y0, x0] * (1 - fx) + img[y0, x1] * fx
    bottom = img[y1, x0] * (1 - fx) + img[y1, x1] * fx
    return top * (1 - fy) + bottom * fy


def _material_image_and_color(material):
    """(texture image or None, main RGB in [0, 1] or None) of a trimesh material."""
    if material is None:
        return None, None
    image = getattr(material, "image", None)
    if image is None:
        image = getattr(material, "baseColorTexture", None)
    color = getattr(material, "main_color", None)
    if color is None:
        color = getattr(material, "baseColorFactor", None)
    if color is not None:
        color = np.asarray(color, dtype=np.float64)[:3]
        color = color / 255.0 if color.max() > 1.0 else color
    return image, color


def surface_colors(mesh: trimesh.Trimesh, face: np.ndarray, bary: np.ndarray) -> tuple[np.ndarray, str]:
    """RGB (M, 3) in [0, 1] at surface samples, and where it came from.

    Order: texture (UV + barycentric) → vertex colours → face colours → material colour → grey.
    """
    visual = mesh.visual
    corners = mesh.faces[face]  # (M, 3) vertex ids
    if isinstance(visual, trimesh.visual.TextureVisuals):
        image, color = _material_image_and_color(visual.material)
        uv = visual.uv
        if image is not None and uv is not None and len(uv) == len(mesh.vertices):
            rgb = sample_texture(image, np.einsum("mk,mkd->md", bary, uv[corners]))
            if isinstance(visual.material, trimesh.visual.material.PBRMaterial) and color is not None:
                rgb = rgb * color  # glTF: base colour = texture × baseColorFactor (OBJ's Kd is not applied)
            return rgb, "texture"
        if color is not None:
            return np.tile(color, (len(face), 1)), "material"
    elif isinstance(visual, trimesh.visual.ColorVisuals) and visual.defined:
        if visual.kind == "vertex":
            vc = visual.vertex_colors[:, :3].astype(np.float64) / 255.0
            return np.einsum("mk,mkd->md", bary, vc[corners]), "vertex"
        if visual.kind == "face":
            return visual.face_colors[face, :3].astype(np.float64) / 255.0, "face"
    return np.tile(_GREY, (len(face), 1)), "default"


# --- discs ------------------------------------------------------------------------------------------
def disc_rotations(mesh: trimesh.Trimesh, face: np.ndarray) -> np.ndarray:
    """Rotation matrices (M, 3, 3) whose columns are (tangent, bitangent, face normal)."""
    tri = mesh.triangles[face]
    n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    n /= np.linalg.norm(n, axis=1, keepdims=True).clip(1e-30)
    t = tri[:, 1] - tri[:, 0]
    t -= (t * n).sum(1, keepdims=True) * n
    length = np.linalg.norm(t, axis=1, keepdims=True)
    fallback = np.cross(n, np.where(np.abs(n[:, :1]) < 0.9, [[1.0, 0, 0]], [[0, 1.0, 0]]))
    t = np.where(length > 1e-12, t / length.clip(1e-30), fallback / np.linalg.norm(fallback, axis=1, keepdims=True))
    return np.stack([t, np.cross(n, t), n], axis=2)


def local_spacing(points: np.ndarray, nominal: float, k: int = 6) -> np.ndarray:
    """Mean distance to the k nearest samples, clipped to [0.5, 2]·nominal (M,)."""
    k = min(k, len(points) - 1)
    if k < 1:
        return np.full(len(points), nominal)
    d, _ = cKDTree(points).query(points, k=k + 1)
    return d[:, 1:].mean(axis=1).clip(0.5 * nominal, 2.0 * nominal)


def mesh_to_gaussians(
    mesh,
    num: int | None = None,
    spacing: float | None = None,
    seed: int = 0,
    opacity: float = 0.95,
    texture=None,
    overlap: float = 0.5,
    thickness: float = 0.1,
    even: bool = True,
) -> GaussianSet:
    """Gaussians (SH degree 0) covering the surface of `mesh` (a Trimesh or a file path, metres).

    Give `num` (the exact number of Gaussians) or `spacing` (target distance between neighbours, m);
    neither means DEFAULT_NUM. The tangent standard deviation is `overlap`·(local spacing), so discs
    overlap enough to close the surface; the normal standard deviation is `thickness` times that.
    `texture` replaces the texture image (path or PIL image); for a file in other units, load it with
    `load_mesh(path, scale=...)` first. `even=False` uses plain area sampling.
    The same inputs and seed give identical tensors.
    """
    if not isinstance(mesh, trimesh.Trimesh):
        mesh = load_mesh(mesh, texture=texture)
    elif texture is not None:
        mesh = apply_texture(mesh, texture)
    if len(mesh.faces) == 0 or mesh.area <= 0:
        raise UserError("cannot make Gaussians from a mesh without surface area")
    if num is not None and spacing is not None:
        raise UserError("give either num or spacing for mesh_to_gaussians, not both")
    if spacing is not None:
        if spacing <= 0:
            raise UserError(f"spacing must be positive, got {spacing}")
        num = max(1, math.ceil(mesh.area / (_HEX_CELL * spacing**2)))
    num = DEFAULT_NUM if num is None else int(num)
    if num < 1:
        raise UserError(f"num must be at least 1, got {num}")
    if even:
        points, face, bary = sample_surface_even(mesh, num, seed)
    else:
        points, face, bary = sample_surface_area(mesh, num, np.random.default_rng(seed))
    nominal = math.sqrt(mesh.area / (_HEX_CELL * num))  # hexagonal-lattice spacing at this density
    sigma = overlap * local_spacing(points, nominal)
    scales = np.stack([sigma, sigma, thickness * sigma], axis=1)
    rgb, _ = surface_colors(mesh, face, bary)
    return GaussianSet.create(
        means=points.astype(np.float32),
        quats=rotmat_to_quat(disc_rotations(mesh, face)).astype(np.float32),
        scales=scales.astype(np.float32),
        opacities=np.full(num, opacity, dtype=np.float32),
        rgb=rgb.clip(0.0, 1.0).astype(np.float32),
    )
