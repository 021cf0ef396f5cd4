"""Procedural task objects made with numpy meshes: cup (mug), bowl, plate, cubes, drumstick, drum,
brush, lid/box and a sweeping board — the things robosuite lacks. Sizes are everyday sizes in metres.

Each maker takes a numpy Generator (colours and patterns vary with the seed, shapes do not) and returns
an `ObjectAsset` in the object frame described in `video2robo.objects.asset`.
"""

from __future__ import annotations

import itertools

import numpy as np

from video2robo.objects.asset import ObjectAsset
from video2robo.objects.shapes import box, concat, revolve, tube_arc
from video2robo.objects.textures import atlas


def sym_about(R: np.ndarray, centre) -> np.ndarray:
    """4x4 rotation R about the point `centre`: x ↦ R (x − c) + c."""
    S = np.eye(4)
    S[:3, :3] = R
    S[:3, 3] = np.asarray(centre, dtype=np.float64) - R @ np.asarray(centre, dtype=np.float64)
    return S


def rot_z(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])


def rot_x(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[1.0, 0, 0], [0, c, -s], [0, s, c]])


def cube_rotations() -> list[np.ndarray]:
    """The 24 proper rotations of a cube (signed permutation matrices with det +1)."""
    out = []
    for perm in itertools.permutations(range(3)):
        for signs in itertools.product((1.0, -1.0), repeat=3):
            R = np.zeros((3, 3))
            R[range(3), perm] = signs
            if np.linalg.det(R) > 0:
                out.append(R)
    return out


def _pose(R=None, t=(0.0, 0.0, 0.0)) -> np.ndarray:
    T = np.eye(4)
    if R is not None:
        T[:3, :3] = R
    T[:3, 3] = t
    return T


def _wall_profile(outer: list[tuple[float, float]], wall: float, bottom: float) -> np.ndarray:
    """Closed thin-walled vessel profile: outer wall bottom→rim, lip, inner wall back down to the axis."""
    outer = np.asarray(outer, dtype=np.float64)
    rim_r, rim_z = outer[-1]
    inner = [(max(r - wall, 1e-4), max(z, bottom)) for r, z in outer[::-1]]
    inner = [(r, z) for r, z in inner if z >= bottom]
    prof = [(0.0, 0.0)] + [tuple(p) for p in outer] + [(rim_r - wall / 2, rim_z + wall / 4)] + inner + [(0.0, bottom)]
    return np.asarray(prof)


def cup(rng: np.random.Generator) -> ObjectAsset:
    """A mug: straight-walled cylinder with a handle towards +x. No shape symmetry because of the handle
    (without it the body would be symmetric about z)."""
    r, h = 0.04, 0.095
    body = revolve(_wall_profile([(0.036, 0.0), (r, 0.01), (r, h)], wall=0.004, bottom=0.008), 64)
    handle = tube_arc(0.032, 0.007, 1.1 * np.pi, 24, 12).transformed(_pose(t=(r - 0.004, 0.0, 0.05)))
    mesh = concat([body, handle], bands=[0, 1])
    tex = atlas(rng, 2, 256, patterns=["stripes", "marble"])
    grasp = _pose(rot_z(0.0), (r + 0.06, 0.0, 0.05))  # hand around the handle
    return ObjectAsset("cup", mesh, tex, grasp_offset=grasp, description="mug with a handle (+x)")


def bowl(rng: np.random.Generator) -> ObjectAsset:
    """A round bowl with a foot; symmetric about z."""
    a = np.linspace(0.0, np.pi / 2, 10)
    outer = [(0.035, 0.0)] + [(0.04 + 0.048 * np.sin(t), 0.006 + 0.064 * (1 - np.cos(t))) for t in a[1:]]
    mesh = revolve(_wall_profile(outer, wall=0.005, bottom=0.01), 64)
    tex = atlas(rng, 1, 256, patterns=["dots"])
    return ObjectAsset("bowl", mesh, tex, symmetries_continuous=[{"axis": (0, 0, 1), "offset": (0, 0, 0)}],
                       grasp_offset=_pose(t=(0.1, 0, 0.06)), description="bowl, rim radius 9 cm")


def plate(rng: np.random.Generator) -> ObjectAsset:
    """A shallow plate with a raised rim; symmetric about z."""
    outer = [(0.07, 0.0), (0.1, 0.012), (0.115, 0.02)]
    mesh = revolve(_wall_profile(outer, wall=0.004, bottom=0.006), 64)
    tex = atlas(rng, 1, 256, patterns=["checker"])
    return ObjectAsset("plate", mesh, tex, symmetries_continuous=[{"axis": (0, 0, 1), "offset": (0, 0, 0)}],
                       grasp_offset=_pose(t=(0.13, 0, 0.02)), description="plate, radius 11.5 cm")


def _cube(name: str, size: float, rng: np.random.Generator) -> ObjectAsset:
    mesh = box((size, size, size), (0, 0, size / 2))
    syms = [sym_about(R, (0, 0, size / 2)) for R in cube_rotations()]
    return ObjectAsset(name, mesh, atlas(rng, 1, 128), symmetries_discrete=syms,
                       grasp_offset=_pose(t=(0, 0, size + 0.045)), description=f"cube, {size * 100:.1f} cm")


def cube_small(rng: np.random.Generator) -> ObjectAsset:
    return _cube("cube_small", 0.045, rng)


def cube_large(rng: np.random.Generator) -> ObjectAsset:
    return _cube("cube_large", 0.065, rng)


def drumstick(rng: np.random.Generator) -> ObjectAsset:
    """A 30 cm stick lying along +x (tip at +x), axis at the height of its thickest radius; symmetric
    about its axis."""
    L, r0, r1 = 0.30, 0.011, 0.006
    z = np.linspace(0.0, L - 0.012, 12)
    prof = [(0.0, 0.0)] + [(r0 + (r1 - r0) * zi / L, zi) for zi in z]
    prof += [(0.009 * np.sin(t), L - 0.012 + 0.009 * (1 - np.cos(t))) for t in np.linspace(np.pi / 2, np.pi, 6)][1:]
    part = revolve(np.asarray(prof), 24)
    R = np.array([[0, 0, 1.0], [0, 1.0, 0], [-1.0, 0, 0]])  # z axis -> x axis
    part = part.transformed(_pose(R, (-L / 2, 0, r0)))
    tex = atlas(rng, 1, 128, patterns=["stripes"])
    return ObjectAsset("drumstick", part, tex, symmetries_continuous=[{"axis": (1, 0, 0), "offset": (0, 0, r0)}],
                       grasp_offset=_pose(t=(-0.1, 0, 0.05)), description="drumstick, 30 cm, along x")


def drum(rng: np.random.Generator) -> ObjectAsset:
    """A snare-like drum (radius 9 cm, height 11 cm) with a lip around the head; symmetric about z."""
    r, h = 0.09, 0.11
    prof = [(0.0, 0.0), (r, 0.0), (r, h - 0.01), (r + 0.006, h - 0.008), (r + 0.006, h + 0.004), (r - 0.004, h + 0.004), (r - 0.004, h), (0.0, h)]
    mesh = revolve(np.asarray(prof), 64)
    tex = atlas(rng, 1, 256, patterns=["checker"])
    return ObjectAsset("drum", mesh, tex, symmetries_continuous=[{"axis": (0, 0, 1), "offset": (0, 0, 0)}],
                       grasp_offset=_pose(t=(0.12, 0, 0.08)), description="drum, radius 9 cm")


def brush(rng: np.random.Generator) -> ObjectAsset:
    """A hand brush: bristles down at the origin, wooden head on top, handle towards −x."""
    bristles = box((0.05, 0.085, 0.022), (0, 0, 0.011))
    head = box((0.06, 0.095, 0.02), (0, 0, 0.032))
    handle = box((0.15, 0.025, 0.018), (-0.1, 0, 0.036))
    mesh = concat([bristles, head, handle], bands=[0, 1, 2])
    tex = atlas(rng, 3, 192, patterns=["stripes", "marble", "dots"])
    return ObjectAsset("brush", mesh, tex, grasp_offset=_pose(t=(-0.14, 0, 0.075)), description="hand brush")


def lid(rng: np.random.Generator) -> ObjectAsset:
    """A square lid (12 cm) with a knob; symmetric under quarter turns about z."""
    slab = box((0.12, 0.12, 0.012), (0, 0, 0.006))
    knob = revolve(np.array([(0.0, 0.012), (0.012, 0.012), (0.012, 0.027), (0.0, 0.027)]), 24)
    mesh = concat([slab, knob], bands=[0, 1])
    syms = [sym_about(rot_z(k * np.pi / 2), (0, 0, 0)) for k in range(4)]
    return ObjectAsset("lid", mesh, atlas(rng, 2, 256, patterns=["checker", "dots"]), symmetries_discrete=syms,
                       grasp_offset=_pose(t=(0, 0, 0.075)), description="square lid, 12 cm")


def box_container(rng: np.random.Generator) -> ObjectAsset:
    """A closed square box (11 × 11 × 7 cm) that the lid fits on."""
    size = (0.11, 0.11, 0.07)
    c = (0, 0, size[2] / 2)
    syms = [sym_about(rot_z(k * np.pi / 2) @ F, c) for k in range(4) for F in (np.eye(3), rot_x(np.pi))]
    return ObjectAsset("box", box(size, c), atlas(rng, 1, 256), symmetries_discrete=syms,
                       grasp_offset=_pose(t=(0.1, 0, 0.05)), description="box, 11 × 11 × 7 cm")


def board(rng: np.random.Generator) -> ObjectAsset:
    """A flat board (25 × 15 × 1 cm) to sweep across."""
    size = (0.25, 0.15, 0.01)
    c = (0, 0, size[2] / 2)
    syms = [sym_about(rot_z(a) @ F, c) for a in (0, np.pi) for F in (np.eye(3), rot_x(np.pi))]
    return ObjectAsset("board", box(size, c), atlas(rng, 1, 256, patterns=["marble"]), symmetries_discrete=syms,
                       grasp_offset=_pose(t=(0.15, 0, 0.05)), description="sweeping board")
