"""Joint trajectory of one episode: IK along the coupled plan, joint-space transit, time-scaling.

Three ideas keep valid samples from being rejected for the wrong reasons:

- **Continuous IK.** The coupled part (pre-grasp → retreat) is solved step by step, each solve seeded
  with the previous step's joints, so the arm stays on one branch. The chain starts at an anchor step
  (the pre-grasp, then the task's most turned pose) from a few IK seeds (home first) and is tracked
  backwards and forwards from there; the first anchor and seed whose whole chain solves wins.
- **Joint-space transit.** Home → pre-grasp (after lifting the hand straight up from home to the hover
  height when home is lower, so the arm does not swing through a tall target) is a minimum-jerk
  interpolation between joint configurations instead of Cartesian IK all the way (which can
  run into joint limits half way for a perfectly reachable pre-grasp). Its duration is the spec's
  transit time, or longer when the largest joint move needs it to stay under the velocity limit.
- **Time-scaling instead of rejection.** Joint velocities are a property of the timing, not of the
  path: a phase whose joints move too fast is re-planned with a proportionally longer duration
  (`stretch`), up to `MAX_STRETCH`. A velocity excess that does not shrink with time (an IK branch
  jump) exceeds that cap and is rejected as `joint_velocity`.

Every result is still re-verified by `checks.check_trajectory` from the joint angles alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from video2robo.generate.motion import PHASES, Plan

SHOULDER = np.array([0.0, 0.0, 0.333])  # joint 2 axis above the base, m
REACH = 0.316 + 0.384 + 0.088 + 0.107 + 0.1034 + 0.02  # shoulder to grasp site at full stretch (+2 cm), m
MAX_STRETCH = 4.0  # a phase may take at most this many times its nominal duration
STRETCH_MARGIN = 1.08  # re-timed phases get this much headroom below the velocity limit
RETIME_ROUNDS = 4
MIN_JERK_PEAK = 1.875  # peak of d/ds of 10s³ − 15s⁴ + 6s⁵
RISE_SPEED = 0.25  # m/s peak speed of the hand's lift from home


@dataclass
class Trajectory:
    """A solved episode: the full plan (transit included), joints per step, and the phase stretches."""

    plan: Plan
    q: np.ndarray  # (T, 7)
    stretch: dict[str, float] = field(default_factory=dict)


@dataclass
class Failure:
    """Why and where (phase name) a sample could not be solved."""

    reason: str
    phase: str


def solve_chain(plan: Plan, track, q_seed: np.ndarray, T_base_world: np.ndarray) -> tuple[np.ndarray, int | None]:
    """Joints for every plan step, each solve seeded with the previous one (`track_ik.TrackIK`);
    (q, index of the first failure or None)."""
    qs = np.empty((len(plan), 7))
    q = np.asarray(q_seed, float)
    for t in range(len(plan)):
        T = T_base_world @ plan.T_world_grip[t]
        q_new, ok = track.solve(T, q)
        if not ok and t > 0:
            q_new, ok = _substeps(track, T_base_world @ plan.T_world_grip[t - 1], T, q)
        if not ok:
            return qs[:t], t
        q = qs[t] = q_new
    return qs, None


def _substeps(track, T_prev: np.ndarray, T: np.ndarray, q: np.ndarray, splits=(4, 16)) -> tuple[np.ndarray, bool]:
    """Track a large step through intermediate poses (a big rotation per control step can be more than
    one local solve follows); the result must still reach T itself."""
    from video2robo.geometry import interpolate_pose

    for n in splits:
        qk, ok = q, True
        for T_k in interpolate_pose(T_prev, T, np.arange(1, n + 1) / n):
            qk, ok = track.solve(T_k, qk)
            if not ok:
                break
        if ok:
            return qk, True
    return q, False


def solve_from(plan: Plan, track, anchor: int, q_anchor: np.ndarray, T_base_world: np.ndarray) -> tuple[np.ndarray, int | None]:
    """Joints for every step, tracked backwards from `anchor` to step 0 and forwards to the end."""
    back = Plan(*(getattr(plan, k)[anchor::-1] for k in ("T_world_grip", "width", "T_world_source", "attached", "phase")))
    qb, fail = solve_chain(back, track, q_anchor, T_base_world)
    if fail is not None:
        return qb, anchor - fail
    fwd = Plan(*(getattr(plan, k)[anchor:] for k in ("T_world_grip", "width", "T_world_source", "attached", "phase")))
    qf, fail = solve_chain(fwd, track, q_anchor, T_base_world)
    if fail is not None:
        return qf, anchor + fail
    return np.concatenate([qb[::-1], qf[1:]]), None


def posture_seeds(q_home: np.ndarray, T_base_target: np.ndarray, kin) -> list[np.ndarray]:
    """IK seeds in the arm's comfortable posture family: home turned (joint 1) towards the target, with
    the wrist roll (joint 7) turned by 0 and ±90°, then home itself. Uniformly random seeds mostly land
    on contorted branches (joints at their limits) from which a long path cannot be followed."""
    q0 = np.asarray(q_home, float).copy()
    q0[0] = np.arctan2(T_base_target[1, 3], T_base_target[0, 3])
    out = []
    for d in (0.0, np.pi / 2, -np.pi / 2):
        q = q0.copy()
        q[6] = (q0[6] + d + np.pi) % (2 * np.pi) - np.pi
        out.append(kin.clip_to_limits(q))
    return out + [np.asarray(q_home, float)]


def anchor_steps(plan: Plan) -> list[int]:
    """Where the chain is started: the pre-grasp, then the task step where the source is turned furthest
    from its pose at the start of the task (the hardest pose to reach, e.g. a pour's full tilt), so the
    arm's branch is chosen where it matters most."""
    task = np.flatnonzero(plan.phase == PHASES.index("task"))
    if len(task) == 0:
        return [0]
    R0 = plan.T_world_source[task[0], :3, :3]
    cos = (np.einsum("tij,ij->t", plan.T_world_source[task, :3, :3], R0) - 1.0) / 2.0
    return [0, int(task[int(np.argmin(cos))])]


def velocity_ratio(q: np.ndarray, hz: float, limits: np.ndarray) -> np.ndarray:
    """(T,) largest |Δq|·rate / limit over the joints for the step ending at t (0 at t = 0)."""
    out = np.zeros(len(q))
    if len(q) > 1:
        out[1:] = (np.abs(np.diff(q, axis=0)) * hz / limits).max(axis=1)
    return out


def joint_transit(q0: np.ndarray, q1: np.ndarray, nominal_steps: int, hz: float, limits: np.ndarray) -> np.ndarray:
    """Minimum-jerk joint path from q0 (included) to q1 (excluded), slow enough for `limits`."""
    from video2robo.geometry import min_jerk

    need = MIN_JERK_PEAK * float(np.max(np.abs(q1 - q0) / limits)) * hz * STRETCH_MARGIN
    n = max(int(nominal_steps), int(np.ceil(need)), 2)
    s = min_jerk(np.arange(n) / n)
    return q0[None] + s[:, None] * (q1 - q0)[None]


def _transit_plan(kin, q: np.ndarray, T_world_base: np.ndarray, first: Plan) -> Plan:
    """Plan rows for the joint-space transit: targets are the FK poses themselves (no Cartesian goal)."""
    T = np.stack([T_world_base @ kin.grasp_pose(qt, float(first.width[0])) for qt in q])
    n = len(q)
    return Plan(T, np.full(n, first.width[0]), np.repeat(first.T_world_source[:1], n, axis=0),
                np.zeros(n, bool), np.full(n, PHASES.index("transit"), np.int8))


def solve_episode(
    build: Callable[[dict[str, float]], Plan],
    ik,
    track,
    q_home: np.ndarray,
    T_world_base: np.ndarray,
    hz: float,
    limits: np.ndarray,
    transit_steps: int,
    rng: np.random.Generator,
    random_seeds: int = 0,
    rise_z: float = 0.0,
) -> Trajectory | Failure:
    """Solve and time-scale one episode. `build(stretch)` returns the coupled plan (pre-grasp first).

    `ik` (a `PandaIK`, with restarts) finds the chain's first configuration; `track` (a `TrackIK`)
    follows the path from there.

    `limits`: allowed joint speeds (rad/s), i.e. the Panda's limits times the spec's velocity scale.
    """
    T_base_world = np.linalg.inv(T_world_base)
    stretch: dict[str, float] = {}
    plan = build(stretch)
    T_base = T_base_world @ plan.T_world_grip
    far = np.flatnonzero(np.linalg.norm(T_base[:, :3, 3] - SHOULDER, axis=1) > REACH)
    if len(far):  # out of reach whatever the joints: no IK needed to know
        return Failure("ik_failure", PHASES[plan.phase[far[0]]])
    q, fail_at, which = None, 0, 0
    for which, anchor in enumerate(anchor_steps(plan)):
        seeds = posture_seeds(q_home, T_base_world @ plan.T_world_grip[anchor], ik.kin) + [
            ik.kin.random_configuration(rng) for _ in range(random_seeds)]
        for seed in seeds:
            res = ik.solve(T_base_world @ plan.T_world_grip[anchor], seed)
            if not res.success:
                fail_at = anchor
                continue
            q, fail_at = solve_from(plan, track, anchor, res.q, T_base_world)
            if fail_at is None:
                break
        if fail_at is None:
            break
    if fail_at is not None:
        return Failure("ik_failure", PHASES[plan.phase[fail_at]])
    q_anchor = q[anchor]
    for _ in range(RETIME_ROUNDS):
        ratio = velocity_ratio(q, hz, limits)
        if ratio.max() <= 1.0:
            break
        for p in np.unique(plan.phase[ratio > 1.0]):
            name = PHASES[p]
            stretch[name] = stretch.get(name, 1.0) * float(ratio[plan.phase == p].max()) * STRETCH_MARGIN
            if stretch[name] > MAX_STRETCH:
                return Failure("joint_velocity", name)
        plan = build(stretch)
        q, fail_at = _resolve(plan, track, which, q_anchor, q[0], T_base_world)
        if fail_at is not None:
            return Failure("ik_failure", PHASES[plan.phase[fail_at]])
    else:
        if velocity_ratio(q, hz, limits).max() > 1.0:
            return Failure("joint_velocity", PHASES[plan.phase[int(np.argmax(velocity_ratio(q, hz, limits)))]])
    q_rise = rise_from_home(np.asarray(q_home, float), rise_z, track, T_world_base, hz, limits)
    if q_rise is None:
        return Failure("ik_failure", "transit")
    q_transit = joint_transit(q_rise[-1], q[0], transit_steps, hz, limits)
    q_transit = np.concatenate([q_rise[:-1], q_transit])
    full = Plan.concat([_transit_plan(ik.kin, q_transit, T_world_base, plan), plan])
    return Trajectory(full, np.concatenate([q_transit, q]), stretch)


def _resolve(plan: Plan, track, which: int, q_anchor: np.ndarray, q_first: np.ndarray,
             T_base_world: np.ndarray) -> tuple[np.ndarray, int | None]:
    """Joints for a re-timed plan, on the branch the first solve found: tracked from the same anchor
    (the `which`-th of `anchor_steps`, seeded with its previous joints), else forwards from the first
    step. Tracking forwards only can fail where the anchor's backward pass did not, e.g. across a
    jump in a parsed trajectory."""
    anchor = anchor_steps(plan)[which]
    q_a, ok = track.solve(T_base_world @ plan.T_world_grip[anchor], q_anchor)
    if ok:
        q, fail_at = solve_from(plan, track, anchor, q_a, T_base_world)
        if fail_at is None:
            return q, None
    return solve_chain(plan, track, q_first, T_base_world)


def rise_from_home(q_home: np.ndarray, rise_z: float, track, T_world_base: np.ndarray, hz: float,
                   limits: np.ndarray) -> np.ndarray | None:
    """Joints lifting the hand straight up from home to `rise_z` (world, m) before the joint-space
    transit (home can sit low beside a tall target, e.g. a drum); [q_home] when already high enough,
    None when the lift cannot be tracked."""
    from video2robo.geometry import interpolate_pose, min_jerk

    T_home = T_world_base @ track.kin.grasp_pose(q_home)
    dz = rise_z - T_home[2, 3]
    if dz <= 0.0:
        return q_home[None]
    T_top = T_home.copy()
    T_top[2, 3] = rise_z
    n = max(2, int(np.ceil(MIN_JERK_PEAK * dz * hz / RISE_SPEED)))
    T_base_world = np.linalg.inv(T_world_base)
    out, q = [q_home], q_home
    for T in interpolate_pose(T_home, T_top, min_jerk(np.arange(1, n + 1) / n)):
        q, ok = track.solve(T_base_world @ T, q)
        if not ok:
            return None
        out.append(q)
    out = np.array(out)
    return out if velocity_ratio(out, hz, limits).max() <= 1.0 else None
