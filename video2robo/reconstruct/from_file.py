"""A user-supplied object model: a mesh (OBJ/PLY/GLB/STL, e.g. a scan) or a 3DGS PLY (e.g. a phone
scanning app's splat), as Gaussians in the file's frame and units times `scale`."""

from __future__ import annotations

from pathlib import Path

from video2robo.errors import UserError


def is_gaussian_ply(path: Path) -> bool:
    """True for PLY files with 3DGS properties (f_dc_0, opacity, scale_0, rot_0)."""
    if path.suffix.lower() != ".ply":
        return False
    with open(path, "rb") as f:
        header = f.read(4096).split(b"end_header")[0]
    return all(k in header for k in (b"f_dc_0", b"opacity", b"scale_0", b"rot_0"))


def model_from_file(path: Path | str, scale: float = 1.0, num_gaussians: int = 6000, seed: int = 0):
    """GaussianSet of a model file; meshes are sampled into surface discs."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"object model file {path} not found; give an existing mesh (OBJ/PLY/GLB) or 3DGS PLY")
    if scale <= 0:
        raise UserError(f"model scale {scale} must be positive (metres per model unit, e.g. 0.01 for centimetres)")
    if is_gaussian_ply(path):
        from video2robo.gaussians import load_ply

        g = load_ply(path)
        return g.scaled(scale) if scale != 1.0 else g
    from video2robo.gaussians import load_mesh, mesh_to_gaussians

    try:
        mesh = load_mesh(path, scale=scale)
    except UserError:
        raise
    except Exception as e:  # noqa: BLE001 - trimesh raises many kinds on unreadable files
        raise UserError(f"cannot read mesh {path} ({type(e).__name__}: {e}); export it as OBJ, PLY or GLB") from None
    if len(mesh.faces) == 0:
        raise UserError(f"mesh {path} has no faces; give a triangle mesh or a 3DGS PLY")
    # narrower discs than the rendering default: silhouettes then match the mesh's within ~1 % (at
    # overlap 0.5 they are ~3 % larger, which puts a fitted object ~3 % too far from the camera)
    return mesh_to_gaussians(mesh, num=num_gaussians, seed=seed, overlap=0.35)
