"""Coupled motion: the grasp-site trajectory of one episode, with the source rigidly attached when held.

Phases (every step is one control step at `timing.control_hz`):

    transit   home configuration → pre-grasp (grasp pose backed off along the approach axis); planned
              in joint space by `trajectory.py` (min-jerk between IK solutions of the endpoints), so
              `plan_episode` only emits its last step, the pre-grasp pose itself
    approach  pre-grasp → grasp, gripper open
    close     gripper closes to the grasp width; the source is attached from the last close step
    lift      source lifted straight up
    transfer  → above the first task pose (workspace.pretask_height), then down to T_target·T_rel[0]
    task      follows T_target·T_rel[k] (resampled from the demo's frame rate, `task_speed` faster)
    place     → the release pose: where the demo released it, relative to the target (stack, place,
              attach) or relative to the source's own start (pour, drum, sweep: put back), via a point
              above it
    release   gripper opens; the source is detached at the first release step
    retreat   back along the approach axis and up

While attached, T_world_grip = T_world_source · T_obj_grip, so the source follows the gripper with its
full relative pose. Interpolation is min-jerk in position and slerp in rotation.

Every phase duration can be stretched (`stretch[phase]` multiplies it): joint velocities are a property
of the timing, not of the path, so a phase that is too fast for the Panda is re-timed rather than
rejected (see `trajectory.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from video2robo.geometry import interpolate_pose, min_jerk, quat_slerp, quat_to_rotmat, rotmat_to_quat
from video2robo.generate.grasp import Grasp
from video2robo.task_spec import TaskSpec

PHASES = ("transit", "approach", "close", "lift", "transfer", "task", "place", "release", "retreat")


@dataclass
class Plan:
    """Per-step targets of one episode (T steps)."""

    T_world_grip: np.ndarray  # (T, 4, 4) grasp-site targets
    width: np.ndarray  # (T,) gripper opening, m
    T_world_source: np.ndarray  # (T, 4, 4)
    attached: np.ndarray  # (T,) bool, source held by the gripper
    phase: np.ndarray  # (T,) int index into PHASES

    def __len__(self) -> int:
        return len(self.width)

    @staticmethod
    def concat(plans: list["Plan"]) -> "Plan":
        return Plan(*(np.concatenate([getattr(p, k) for p in plans]) for k in ("T_world_grip", "width", "T_world_source", "attached", "phase")))


def steps_at(seconds: float, hz: float) -> int:
    """Control steps for a duration (at least 2)."""
    return max(2, int(round(seconds * hz)))


def _move(T0: np.ndarray, T1: np.ndarray, n: int) -> np.ndarray:
    """n poses after T0 up to T1 (T0 excluded, T1 included), min-jerk profile."""
    s = min_jerk(np.arange(1, n + 1) / n)
    return interpolate_pose(T0, T1, s)


def _raised(T: np.ndarray, dz: float) -> np.ndarray:
    out = T.copy()
    out[2, 3] += dz
    return out


def _offset_along_z(T: np.ndarray, d: float) -> np.ndarray:
    """T moved by d along its own z axis."""
    out = T.copy()
    out[:3, 3] += d * T[:3, 2]
    return out


def resample_poses(T: np.ndarray, n: int) -> np.ndarray:
    """n poses evenly spaced in time along the sequence T (K, 4, 4) (slerp + linear between frames)."""
    K = len(T)
    if K == 1:
        return np.repeat(T, n, axis=0)
    t = np.linspace(0.0, K - 1, n)
    i = np.minimum(t.astype(int), K - 2)
    f = t - i
    q = rotmat_to_quat(T[:, :3, :3])
    out = np.repeat(np.eye(4)[None], n, axis=0)
    out[:, :3, :3] = quat_to_rotmat(quat_slerp(q[i], q[i + 1], f))
    out[:, :3, 3] = (1.0 - f)[:, None] * T[i, :3, 3] + f[:, None] * T[i + 1, :3, 3]
    return out


class PlanBuilder:
    """Accumulates phases into a Plan."""

    def __init__(self):
        self.grip, self.width, self.src, self.att, self.phase = [], [], [], [], []

    def add(self, phase: str, T_grip, width, T_src, attached) -> None:
        n = len(T_grip)
        self.grip.extend(T_grip)
        self.width.extend(np.broadcast_to(np.asarray(width, float), (n,)))
        self.src.extend(T_src if np.ndim(T_src) == 3 else [T_src] * n)
        self.att.extend([attached] * n)
        self.phase.extend([PHASES.index(phase)] * n)

    def build(self) -> Plan:
        if not self.width:
            raise ValueError("an empty plan")
        return Plan(np.array(self.grip), np.array(self.width), np.array(self.src), np.array(self.att, bool), np.array(self.phase, np.int8))


def plan_episode(
    spec: TaskSpec,
    grasp: Grasp,
    T_world_source0: np.ndarray,
    T_world_target: np.ndarray,
    T_rel: np.ndarray,
    T_target_release: np.ndarray | None,
    T_start_release: np.ndarray | None,
    demo_fps: float,
    stretch: dict[str, float] | None = None,
    hover_z: float = 0.0,
) -> Plan:
    """The coupled trajectory from the end of the joint-space transit to the retreat.

    Step 0 is where the joint-space transit ends: the pre-grasp pose, or, for an approach from above
    whose pre-grasp lies below `hover_z` (m, world), the pre-grasp raised to `hover_z`, from which the
    hand descends straight to the pre-grasp (so the transit's joint interpolation stays clear of the objects). Exactly one of
    `T_target_release` / `T_start_release` gives the release pose. `stretch` multiplies phase durations.
    """
    tm, g = spec.timing, spec.grasp
    hz = tm.control_hz
    k = stretch or {}

    def steps(phase: str, seconds: float) -> int:
        return steps_at(seconds * k.get(phase, 1.0), hz)

    G = grasp.T_obj_grip
    b = PlanBuilder()
    T_grasp = T_world_source0 @ G
    T_pre = _offset_along_z(T_grasp, -g.pregrasp_distance)
    if T_pre[2, 3] < hover_z and T_pre[2, 2] < -0.5:  # top-ish approaches only: a side approach stays level
        T_hover = _raised(T_pre, hover_z - T_pre[2, 3])
        b.add("transit", [T_hover], grasp.open_width, T_world_source0, False)
        b.add("transit", _move(T_hover, T_pre, steps("transit", tm.approach_s)), grasp.open_width, T_world_source0, False)
    else:
        b.add("transit", [T_pre], grasp.open_width, T_world_source0, False)
    b.add("approach", _move(T_pre, T_grasp, steps("approach", tm.approach_s)), grasp.open_width, T_world_source0, False)
    n = steps_at(tm.close_s, hz)
    widths = grasp.open_width + (grasp.width - grasp.open_width) * min_jerk(np.arange(1, n + 1) / n)
    b.add("close", [T_grasp] * (n - 1), widths[:-1], T_world_source0, False)
    b.add("close", [T_grasp], widths[-1:], T_world_source0, True)
    # held: move the source; the grasp site follows as T_world_source · G
    T_lift = _raised(T_world_source0, g.lift_height)
    src = _move(T_world_source0, T_lift, steps("lift", tm.lift_s))
    b.add("lift", src @ G, grasp.width, src, True)
    T_task0 = T_world_target @ T_rel[0]
    above = _raised(T_task0, spec.workspace.pretask_height)
    above[2, 3] = max(above[2, 3], T_lift[2, 3])
    n = steps("transfer", tm.transfer_s)
    src = np.concatenate([_move(T_lift, above, max(2, 2 * n // 3)), _move(above, T_task0, max(2, n // 3))])
    b.add("transfer", src @ G, grasp.width, src, True)
    task_s = (len(T_rel) - 1) / demo_fps / tm.task_speed
    src = T_world_target @ resample_poses(T_rel, steps("task", task_s) + 1)[1:]
    b.add("task", src @ G, grasp.width, src, True)
    T_end = src[-1]
    if T_target_release is not None:
        T_rel_pose = T_world_target @ T_target_release
        src = _move(T_end, T_rel_pose, steps("place", tm.place_s * 0.5))
    else:
        T_rel_pose = T_world_source0 @ T_start_release
        high = _raised(T_rel_pose, max(0.05, T_end[2, 3] - T_rel_pose[2, 3]))
        n = steps("place", tm.place_s)
        src = np.concatenate([_move(T_end, high, max(2, 2 * n // 3)), _move(high, T_rel_pose, max(2, n // 3))])
    b.add("place", src @ G, grasp.width, src, True)
    T_rel_pose = src[-1]
    T_g = T_rel_pose @ G
    n = steps_at(tm.release_s, hz)
    widths = grasp.width + (grasp.open_width - grasp.width) * min_jerk(np.arange(1, n + 1) / n)
    b.add("release", [T_g] * n, widths, T_rel_pose, False)
    T_back = _raised(_offset_along_z(T_g, -g.pregrasp_distance), 0.03)
    b.add("retreat", _move(T_g, T_back, steps("retreat", tm.retreat_s)), grasp.open_width, T_rel_pose, False)
    return b.build()
