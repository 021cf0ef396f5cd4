"""Joint trajectory of one episode: IK along the coupled plan, joint-space transit, time-scaling.

Three ideas keep valid samples from being rejected for the wrong reasons:

- **Continuous IK.** The coupled part (pre-grasp → retreat) is solved step by step, each solve seeded
  with the previous step's joints, so the arm stays on one branch. The pre-grasp configuration that
  starts the chain is tried from a few seeds (home first); the first one whose whole chain solves wins.
- **Joint-space transit.** Home → pre-grasp has no Cartesian constraint, so it is a minimum-jerk
  interpolation between the two joint configurations instead of Cartesian IK all the way (which can
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

MAX_STRETCH = 4.0  # a phase may take at most this many times its nominal duration
STRETCH_MARGIN = 1.08  # re-timed phases get this much headroom below the velocity limit
RETIME_ROUNDS = 4
MIN_JERK_PEAK = 1.875  # peak of d/ds of 10s³ − 15s⁴ + 6s⁵


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


def solve_chain(plan: Plan, ik, q_seed: np.ndarray, T_base_world: np.ndarray) -> tuple[np.ndarray, int | None]:
    """Joints for every plan step, each solve seeded with the previous one; (q, index of the first failure)."""
    qs = np.empty((len(plan), 7))
    q = np.asarray(q_seed, float)
    for t in range(len(plan)):
        res = ik.solve(T_base_world @ plan.T_world_grip[t], q)
        if not res.success:
            return qs[:t], t
        q = res.q
        qs[t] = q
    return qs, None


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
    q_home: np.ndarray,
    T_world_base: np.ndarray,
    hz: float,
    limits: np.ndarray,
    transit_steps: int,
    rng: np.random.Generator,
    pregrasp_seeds: int = 3,
) -> Trajectory | Failure:
    """Solve and time-scale one episode. `build(stretch)` returns the coupled plan (pre-grasp first).

    `limits`: allowed joint speeds (rad/s), i.e. the Panda's limits times the spec's velocity scale.
    """
    T_base_world = np.linalg.inv(T_world_base)
    stretch: dict[str, float] = {}
    plan = build(stretch)
    seeds = [np.asarray(q_home, float)] + [ik.kin.random_configuration(rng) for _ in range(pregrasp_seeds - 1)]
    q = fail_at = None
    for seed in seeds:
        pre = ik.solve(T_base_world @ plan.T_world_grip[0], seed)
        if not pre.success:
            fail_at = 0
            continue
        q, fail_at = solve_chain(plan, ik, pre.q, T_base_world)
        if fail_at is None:
            break
    if fail_at is not None:
        return Failure("ik_failure", PHASES[plan.phase[fail_at]])
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
        q, fail_at = solve_chain(plan, ik, q[0], T_base_world)
        if fail_at is not None:
            return Failure("ik_failure", PHASES[plan.phase[fail_at]])
    else:
        if velocity_ratio(q, hz, limits).max() > 1.0:
            return Failure("joint_velocity", PHASES[plan.phase[int(np.argmax(velocity_ratio(q, hz, limits)))]])
    q_transit = joint_transit(np.asarray(q_home, float), q[0], transit_steps, hz, limits)
    full = Plan.concat([_transit_plan(ik.kin, q_transit, T_world_base, plan), plan])
    return Trajectory(full, np.concatenate([q_transit, q]), stretch)
