"""Scripted demonstrations of the six tasks: Pour, Stack, Place, Attach, Drum, Sweep.

Each script returns a `TaskScript`: which objects take part (source moved by the hand, target static),
where they stand, and the source's 6D trajectory in continuous time. Every script has the same shape:

    rest (both still) → grasp at t_grasp → lift → carry → task motion near the target (pour tilt,
    lower-and-set, press, taps, strokes) → [carry back and put down] → release at t_release → rest.

The source is exactly still before t_grasp and after t_release. Randomised by the seed: placement of
both objects, yaw, durations (speed), and small variations of every waypoint. World: z up, table top at
z = 0, target near the origin. Relative poses are T_target_source (source frame in the target frame).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from video2robo.errors import UserError
from video2robo.geometry import pose_from_xyz_yaw
from video2robo.objects import ObjectAsset, make_object
from video2robo.objects.procedural import rot_x, rot_z
from video2robo.synth.trajectory import PoseTrajectory


@dataclass
class TaskScript:
    """A scripted demonstration: objects, the target's pose, the source's trajectory and the hand events."""

    task: str
    source: ObjectAsset
    target: ObjectAsset
    T_world_target: np.ndarray
    source_traj: PoseTrajectory
    t_grasp: float
    t_release: float
    duration: float  # seconds of video

    @property
    def objects(self) -> list[ObjectAsset]:
        return [self.source, self.target]


def _T(R=None, t=(0.0, 0.0, 0.0)) -> np.ndarray:
    T = np.eye(4)
    if R is not None:
        T[:3, :3] = R
    T[:3, 3] = t
    return T


def rot_y(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0, s], [0, 1.0, 0], [-s, 0, c]])


class _Script:
    """Helper that builds a source trajectory with randomised durations and waypoint jitter."""

    def __init__(self, rng: np.random.Generator, speed: float, T_world_target: np.ndarray, T_world_start: np.ndarray):
        self.rng, self.speed, self.T_wt = rng, speed, T_world_target
        self.rest_before = self.dur(1.0)
        self.traj = PoseTrajectory().add(0.0, T_world_start)
        self.traj.hold(self.rest_before)
        self.t_grasp = self.rest_before

    def dur(self, seconds: float) -> float:
        """A duration scaled by 1/speed and a random factor of ±15 %."""
        return seconds / self.speed * self.rng.uniform(0.85, 1.15)

    def jitter(self, T: np.ndarray, pos: float = 0.004, ang: float = 0.03) -> np.ndarray:
        """T with a small random translation (m) and rotation (rad) — a human never repeats a path."""
        d = _T(rot_z(self.rng.normal(0, ang)) @ rot_x(self.rng.normal(0, ang / 2)), self.rng.normal(0, pos, 3))
        return d @ T

    def rel(self, seconds: float, T_target_source: np.ndarray) -> None:
        """Move to a pose given relative to the target."""
        self.traj.then(self.dur(seconds), self.T_wt @ T_target_source)

    def world(self, seconds: float, T_world_source: np.ndarray) -> None:
        self.traj.then(self.dur(seconds), T_world_source)

    def hold(self, seconds: float) -> None:
        self.traj.hold(self.dur(seconds))

    def lift(self, height: float, seconds: float = 0.7) -> None:
        T = self.traj.last.copy()
        T[2, 3] += height
        self.world(seconds, T)

    def finish(self, task, source, target, rest_after: float = 1.0) -> TaskScript:
        t_release = self.traj.end_time
        self.traj.hold(self.dur(rest_after))
        return TaskScript(task, source, target, self.T_wt, self.traj, self.t_grasp, t_release, self.traj.end_time)


def _footprint(obj: ObjectAsset) -> float:
    """Radius of the object's footprint around its origin (m)."""
    return float(np.linalg.norm(obj.vertices[:, :2], axis=1).max())


def _layout(rng: np.random.Generator, source: ObjectAsset, target: ObjectAsset, start_yaw_offset: float = 0.0):
    """Target near the origin; source 4–10 cm beyond touching distance at a random bearing φ (returned)."""
    T_wt = pose_from_xyz_yaw(*rng.uniform(-0.03, 0.03, 2), 0.0, rng.uniform(-np.pi, np.pi))
    phi = rng.uniform(-np.pi, np.pi)
    dist = _footprint(source) + _footprint(target) + rng.uniform(0.04, 0.10)
    x, y = T_wt[:2, 3] + dist * np.array([np.cos(phi), np.sin(phi)])
    T_ws = pose_from_xyz_yaw(x, y, 0.0, phi + start_yaw_offset + rng.normal(0, 0.15))
    return T_wt, T_ws, phi


def _put_back(s: _Script, T_ws0: np.ndarray, lift_h: float) -> None:
    """Carry the source back near where it started and set it down."""
    T_end = pose_from_xyz_yaw(*(T_ws0[:2, 3] + s.rng.normal(0, 0.02, 2)), 0.0, 0.0)
    T_end[:3, :3] = rot_z(s.rng.normal(0, 0.2)) @ T_ws0[:3, :3]
    above = T_end.copy()
    above[2, 3] += lift_h
    s.world(1.0, above)
    s.world(0.6, T_end)


def _bearing_in_target(T_wt: np.ndarray, phi: float) -> float:
    """Direction φ (world) expressed as an angle in the target frame."""
    yaw_t = np.arctan2(T_wt[1, 0], T_wt[0, 0])
    return phi - yaw_t


def pour(rng, speed) -> TaskScript:
    """Cup lifted, carried next to the bowl, tilted ~100° so its lip is over the bowl, held, untilted,
    carried back and put down. The handle (+x of the cup) points away from the bowl."""
    cup, bowl = make_object("cup", rng), make_object("bowl", rng)
    T_wt, T_ws0, phi = _layout(rng, cup, bowl)
    s = _Script(rng, speed, T_wt, T_ws0)
    a = _bearing_in_target(T_wt, phi)
    Rz = rot_z(a)
    d = np.array([np.cos(a), np.sin(a), 0.0])
    lip = np.array([-0.04, 0.0, 0.095])  # cup rim point facing the bowl
    rim_r, rim_h = 0.088, 0.071
    p_lip = d * (rim_r - rng.uniform(0.015, 0.03)) + [0, 0, rim_h + rng.uniform(0.01, 0.025)]

    def lip_pose(p, tilt):
        return _T(t=p) @ _T(Rz @ rot_y(-tilt)) @ _T(t=-lip)

    s.lift(rng.uniform(0.09, 0.13))
    s.rel(1.0, s.jitter(lip_pose(p_lip + d * 0.05 + [0, 0, 0.09], 0.0)))
    s.rel(0.5, lip_pose(p_lip + d * 0.012 + [0, 0, 0.03], np.radians(20)))
    tilt = np.radians(rng.uniform(95, 115))
    s.rel(0.9, lip_pose(p_lip, tilt))
    s.hold(0.3)
    s.rel(0.5, lip_pose(p_lip, tilt + np.radians(rng.uniform(5, 12))))  # shake the last drops out
    s.rel(0.4, lip_pose(p_lip, tilt))
    s.rel(0.8, lip_pose(p_lip + d * 0.05 + [0, 0, 0.09], 0.0))
    _put_back(s, T_ws0, 0.1)
    return s.finish("pour", cup, bowl)


def _set_on_top(s: _Script, T_top: np.ndarray, approach_h: float, settle: float = 0.01) -> None:
    """Carry above a resting pose, lower close to it, then set it down (slow last centimetre)."""
    above = T_top.copy()
    above[2, 3] += approach_h
    near = T_top.copy()
    near[2, 3] += settle
    s.rel(1.1, s.jitter(above, 0.008, 0.08))
    s.rel(0.7, near)
    s.rel(0.4, T_top)


def stack(rng, speed) -> TaskScript:
    """Small cube lifted and set on top of the large cube (yaw roughly aligned)."""
    src, tgt = make_object("cube_small", rng), make_object("cube_large", rng)
    T_wt, T_ws0, _ = _layout(rng, src, tgt)
    s = _Script(rng, speed, T_wt, T_ws0)
    s.lift(rng.uniform(0.1, 0.14))
    T_top = _T(rot_z(rng.normal(0, 0.15)), (*rng.normal(0, 0.006, 2), 0.065))
    _set_on_top(s, T_top, rng.uniform(0.06, 0.09))
    return s.finish("stack", src, tgt)


def place(rng, speed) -> TaskScript:
    """Can lifted and placed on the plate, off-centre by up to 3 cm."""
    src, tgt = make_object("can", rng), make_object("plate", rng)
    T_wt, T_ws0, _ = _layout(rng, src, tgt)
    s = _Script(rng, speed, T_wt, T_ws0)
    s.lift(rng.uniform(0.1, 0.14))
    T_top = _T(rot_z(rng.uniform(-np.pi, np.pi)), (*rng.uniform(-0.03, 0.03, 2), 0.006))
    _set_on_top(s, T_top, rng.uniform(0.07, 0.1))
    return s.finish("place", src, tgt)


def attach(rng, speed) -> TaskScript:
    """Lid lifted, carried over the box, lowered with a small misalignment, twisted into place and
    pressed down."""
    src, tgt = make_object("lid", rng), make_object("box", rng)
    T_wt, T_ws0, _ = _layout(rng, src, tgt)
    s = _Script(rng, speed, T_wt, T_ws0)
    s.lift(rng.uniform(0.12, 0.15))
    yaw = rng.integers(0, 4) * np.pi / 2
    twist = rng.choice([-1, 1]) * rng.uniform(0.12, 0.25)
    above = _T(rot_z(yaw + twist), (0, 0, 0.07 + rng.uniform(0.06, 0.09)))
    s.rel(1.1, s.jitter(above, 0.008, 0.05))
    s.rel(0.7, _T(rot_z(yaw + twist), (0, 0, 0.074)))
    s.rel(0.6, _T(rot_z(yaw), (0, 0, 0.071)))  # twist to align
    s.rel(0.3, _T(rot_z(yaw), (0, 0, 0.07)))  # press onto the rim
    s.hold(0.4)
    return s.finish("attach", src, tgt)


def drum(rng, speed) -> TaskScript:
    """Drumstick lifted, its tip brought over the drum head, 3–4 taps, carried back and put down."""
    src, tgt = make_object("drumstick", rng), make_object("drum", rng)
    T_wt, T_ws0, phi = _layout(rng, src, tgt, start_yaw_offset=np.pi)  # tip (+x) towards the drum
    s = _Script(rng, speed, T_wt, T_ws0)
    a = _bearing_in_target(T_wt, phi)
    tip = np.array([0.156, 0.0, 0.011])
    hit = np.array([*(rng.uniform(-0.03, 0.03, 2)), 0.114 + 0.009])
    pitch = np.radians(rng.uniform(15, 30))

    def tip_pose(h):
        return _T(t=hit + [0, 0, h]) @ _T(rot_z(a + np.pi) @ rot_y(pitch)) @ _T(t=-tip)

    s.lift(rng.uniform(0.1, 0.14))
    s.rel(1.1, s.jitter(tip_pose(0.1)))
    for _ in range(int(rng.integers(3, 5))):
        s.rel(0.3, tip_pose(0.0))  # strike
        s.rel(0.3, tip_pose(rng.uniform(0.05, 0.08)))
    s.rel(0.5, tip_pose(0.1))
    _put_back(s, T_ws0, 0.12)
    return s.finish("drum", src, tgt)


def sweep(rng, speed) -> TaskScript:
    """Brush lifted, set on the board, pushed across it in 2–3 strokes (lifted between strokes),
    carried back and put down."""
    src, tgt = make_object("brush", rng), make_object("board", rng)
    T_wt, T_ws0, _ = _layout(rng, src, tgt)
    s = _Script(rng, speed, T_wt, T_ws0)
    top = 0.01
    y = rng.uniform(-0.03, 0.03)
    yaw = rng.normal(0, 0.1)
    s.lift(rng.uniform(0.1, 0.14))
    s.rel(1.1, s.jitter(_T(rot_z(yaw), (-0.07, y, top + 0.08))))
    for _ in range(int(rng.integers(2, 4))):
        s.rel(0.4, _T(rot_z(yaw), (-0.07, y, top)))
        s.rel(0.6, _T(rot_z(yaw) @ rot_y(np.radians(-8)), (0.07, y + rng.normal(0, 0.01), top + 0.004)))  # stroke
        s.rel(0.4, _T(rot_z(yaw), (-0.07, y, top + 0.03)))
    s.rel(0.4, _T(rot_z(yaw), (-0.04, y, top + 0.1)))
    _put_back(s, T_ws0, 0.1)
    return s.finish("sweep", src, tgt)


TASKS: dict[str, Callable[[np.random.Generator, float], TaskScript]] = {
    "pour": pour, "stack": stack, "place": place, "attach": attach, "drum": drum, "sweep": sweep,
}


def make_task(task: str, seed: int, speed: float = 1.0) -> TaskScript:
    """The scripted demonstration of `task`, randomised by `seed`; `speed` > 1 shortens every motion."""
    if task not in TASKS:
        raise UserError(f"unknown task '{task}'; choose one of: {', '.join(TASKS)}")
    if not 0.1 <= speed <= 10:
        raise UserError(f"--speed {speed} is out of range; use a value between 0.1 and 10")
    return TASKS[task](np.random.default_rng(seed), speed)
