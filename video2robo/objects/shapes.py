"""Primitive triangle meshes with texture coordinates (UVs), the building blocks of the task objects.

Every vertex carries exactly one UV (seams duplicate vertices), so a mesh is fully described by
`vertices (V,3)`, `faces (F,3)` and `uv (V,2)` and can be written as an OBJ whose `v` and `vt` indices
coincide — the form MuJoCo and most viewers load without surprises. Faces are counter-clockwise seen
from outside. Units are metres.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class MeshPart:
    """A mesh with per-vertex UVs in [0, 1]²."""

    vertices: np.ndarray  # (V, 3) float64, metres
    faces: np.ndarray  # (F, 3) int64
    uv: np.ndarray  # (V, 2) float64

    def transformed(self, T: np.ndarray) -> "MeshPart":
        """The part moved by a 4x4 rigid transform."""
        v = self.vertices @ T[:3, :3].T + T[:3, 3]
        return MeshPart(v, self.faces.copy(), self.uv.copy())


def _grid_faces(rows: int, cols: int) -> np.ndarray:
    """Two triangles per cell of a rows×cols vertex grid (row-major), wound for a right-handed (u, v)."""
    r, c = np.meshgrid(np.arange(rows - 1), np.arange(cols - 1), indexing="ij")
    a = (r * cols + c).ravel()
    b, d = a + 1, a + cols
    e = d + 1
    return np.concatenate([np.stack([a, d, b], 1), np.stack([b, d, e], 1)]).astype(np.int64)


def revolve(profile_rz: np.ndarray, sections: int = 48) -> MeshPart:
    """Surface of revolution about +z of a polyline of (radius, z) points.

    The profile should run so that the outside of the surface is on its right when walking along it
    with z up (e.g. outer wall bottom→rim, then inner wall rim→bottom). u goes around, v along the
    profile's arc length, so a texture wraps once around the object.
    """
    profile = np.asarray(profile_rz, dtype=np.float64)
    seg = np.linalg.norm(np.diff(profile, axis=0), axis=1)
    v_coord = np.concatenate([[0.0], np.cumsum(seg)]) / max(seg.sum(), 1e-12)
    theta = np.linspace(0.0, 2 * np.pi, sections + 1)
    r, z = profile[:, 0][:, None], profile[:, 1][:, None]
    verts = np.stack([r * np.cos(theta), r * np.sin(theta), np.broadcast_to(z, (len(profile), sections + 1))], -1)
    uv = np.stack(np.meshgrid(theta / (2 * np.pi), v_coord, indexing="xy"), -1)
    faces = _grid_faces(len(profile), sections + 1)
    # Orientation: the grid is (profile index, angle); flip so normals point to the profile's right.
    return MeshPart(verts.reshape(-1, 3), faces[:, ::-1].copy(), uv.reshape(-1, 2))


def box(size_xyz, center=(0.0, 0.0, 0.0)) -> MeshPart:
    """Axis-aligned box, 4 vertices per face so each face maps the whole texture (cube-map style)."""
    hx, hy, hz = (0.5 * float(s) for s in size_xyz)
    verts, faces, uv = [], [], []
    # (normal axis, sign): u and v axes chosen so (u × v) = outward normal.
    for axis in range(3):
        for sign in (1.0, -1.0):
            n = np.zeros(3)
            n[axis] = sign
            ua = np.zeros(3)
            ua[(axis + 1) % 3] = 1.0
            va = np.cross(n, ua)
            half = np.array([hx, hy, hz])
            c = n * half
            hu, hv = float(np.abs(ua) @ half), float(np.abs(va) @ half)
            base = len(verts)
            for du, dv in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
                verts.append(c + du * hu * ua + dv * hv * va)
                uv.append(((du + 1) / 2, (dv + 1) / 2))
            faces += [(base, base + 1, base + 2), (base, base + 2, base + 3)]
    v = np.asarray(verts) + np.asarray(center, dtype=np.float64)
    return MeshPart(v, np.asarray(faces, dtype=np.int64), np.asarray(uv, dtype=np.float64))


def tube_arc(radius: float, tube_radius: float, angle: float, sections: int = 24, rings: int = 12) -> MeshPart:
    """Part of a torus in the x-z plane (centre at the origin), from angle -angle/2 to +angle/2 about +y.

    Used for cup handles: the arc bulges towards +x.
    """
    a = np.linspace(-angle / 2, angle / 2, sections + 1)
    phi = np.linspace(0.0, 2 * np.pi, rings + 1)
    A_, P = np.meshgrid(a, phi, indexing="ij")
    centre = np.stack([radius * np.cos(A_), np.zeros_like(A_), radius * np.sin(A_)], -1)
    radial = np.stack([np.cos(A_), np.zeros_like(A_), np.sin(A_)], -1)
    y = np.array([0.0, 1.0, 0.0])
    verts = centre + tube_radius * (np.cos(P)[..., None] * radial + np.sin(P)[..., None] * y)
    uv = np.stack([(A_ - a[0]) / (a[-1] - a[0]), P / (2 * np.pi)], -1)
    faces = _grid_faces(sections + 1, rings + 1)
    return MeshPart(verts.reshape(-1, 3), faces, uv.reshape(-1, 2))


def concat(parts: list[MeshPart], bands: list[int] | None = None, n_bands: int | None = None) -> MeshPart:
    """One mesh from several parts; part i's UVs are squeezed into horizontal band `bands[i]` of the
    texture (of `n_bands` equal bands), so one texture atlas gives each part its own look."""
    n_bands = n_bands or (max(bands) + 1 if bands else 1)
    bands = bands if bands is not None else [0] * len(parts)
    verts, faces, uvs, offset = [], [], [], 0
    for part, band in zip(parts, bands):
        uv = part.uv.copy()
        # keep a small margin inside the band so texture filtering does not bleed between bands
        uv[:, 1] = (band + 0.02 + 0.96 * np.clip(uv[:, 1], 0, 1)) / n_bands
        verts.append(part.vertices)
        faces.append(part.faces + offset)
        uvs.append(uv)
        offset += len(part.vertices)
    return MeshPart(np.concatenate(verts), np.concatenate(faces), np.concatenate(uvs))
