"""Kinematic validity of an episode: IK along the plan, then honest checks of the joint trajectory.

The joints come from `trajectory.solve_episode` (continuous IK, joint-space transit, time-scaling).
`check_trajectory` re-verifies everything from the joint angles alone (the same function re-checks
demos read back from a dataset):

    ik_error          FK of q reaches the planned grasp-site pose within the IK tolerances
    joint_limit       q inside the Panda's limits
    joint_velocity    |Δq|·rate below `velocity_scale` × the Panda's joint velocity limits
    collision_table   no robot link below/touching the table plane (robot collision geoms, MuJoCo)
    collision_target  no robot link touching the target (its convex hull)
    collision_source  no robot link other than the fingers touching the source (its convex hull; the
                      fingers' clearance is part of grasp selection)
    object_below_table  no source surface point below the table top (minus a small tolerance)

A rejection is a reason string from `REASONS`; None means valid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from video2robo.robot.collision import CollisionChecker, MeshObstacle
from video2robo.task_spec import ChecksSpec

REASONS = (
    "placement", "no_grasp", "ik_failure", "ik_error", "joint_limit", "joint_velocity",
    "collision_table", "collision_target", "collision_source", "object_below_table",
)
# Panda joint velocity limits (rad/s), from Franka's datasheet.
PANDA_VELOCITY_LIMITS = np.array([2.175, 2.175, 2.175, 2.175, 2.61, 2.61, 2.61])
POSITION_TOLERANCE = 1e-3  # m
ROTATION_TOLERANCE = 1e-2  # rad


def hull_obstacle(name: str, points: np.ndarray) -> MeshObstacle:
    """Convex hull of an object's Gaussian means as a collision obstacle (object frame)."""
    import trimesh

    hull = trimesh.PointCloud(np.asarray(points, dtype=np.float64)).convex_hull
    return MeshObstacle.from_trimesh(name, hull)


@dataclass
class CheckContext:
    """Everything the checks need; build once per worker (MuJoCo data inside is not thread-safe)."""

    kin: object  # PandaKinematics
    collisions: CollisionChecker
    source_points: np.ndarray  # (M, 3) source surface samples, object frame
    T_world_base: np.ndarray
    spec: ChecksSpec
    control_hz: float

    @classmethod
    def build(cls, source_points, target_points, T_world_base, spec: ChecksSpec, control_hz: float, kin=None):
        from video2robo.robot.kinematics import PandaKinematics

        checker = CollisionChecker(
            obstacles=[hull_obstacle("source", source_points), hull_obstacle("target", target_points)],
            table_height=0.0, T_world_base=T_world_base, margin=spec.table_margin,
        )
        rng = np.random.default_rng(0)
        sub = source_points[rng.choice(len(source_points), size=min(800, len(source_points)), replace=False)]
        return cls(kin or PandaKinematics(), checker, sub, np.asarray(T_world_base, float), spec, control_hz)


def check_trajectory(
    ctx: CheckContext,
    q: np.ndarray,
    width: np.ndarray,
    T_world_source: np.ndarray,
    T_world_target: np.ndarray,
    T_world_grip_target: np.ndarray | None = None,
) -> str | None:
    """The first failed check's reason for the joint trajectory, or None when every step is valid."""
    return check_trajectory_at(ctx, q, width, T_world_source, T_world_target, T_world_grip_target)[0]


def check_trajectory_at(
    ctx: CheckContext,
    q: np.ndarray,
    width: np.ndarray,
    T_world_source: np.ndarray,
    T_world_target: np.ndarray,
    T_world_grip_target: np.ndarray | None = None,
) -> tuple[str | None, int]:
    """(reason, step) of the first failed check, or (None, -1) when every step is valid."""
    kin, spec = ctx.kin, ctx.spec
    q = np.asarray(q, float)
    if T_world_grip_target is not None:
        T_base_world = np.linalg.inv(ctx.T_world_base)
        for t in range(len(q)):
            T = kin.grasp_pose(q[t], float(width[t]))
            Tt = T_base_world @ T_world_grip_target[t]
            if np.linalg.norm(T[:3, 3] - Tt[:3, 3]) > POSITION_TOLERANCE * 1.01:
                return "ik_error", t
            cos = (np.trace(T[:3, :3].T @ Tt[:3, :3]) - 1.0) / 2.0
            if np.arccos(np.clip(cos, -1.0, 1.0)) > ROTATION_TOLERANCE * 1.01:
                return "ik_error", t
    for t in range(len(q)):
        if not kin.within_limits(q[t], tol=1e-6):
            return "joint_limit", t
    if len(q) > 1:
        vel = np.abs(np.diff(q, axis=0)) * ctx.control_hz
        bad = np.flatnonzero(np.any(vel > spec.velocity_scale * PANDA_VELOCITY_LIMITS, axis=1))
        if len(bad):
            return "joint_velocity", int(bad[0]) + 1
    for t in range(len(q)):
        contacts = ctx.collisions.contacts(
            q[t], float(width[t]), {"source": T_world_source[t], "target": T_world_target}, grasped="source"
        )
        for c in contacts:
            return {"table": "collision_table", "target": "collision_target", "source": "collision_source"}[c.other], t
        z = ctx.source_points @ T_world_source[t][:3, :3].T[:, 2] + T_world_source[t][2, 3]
        if z.min() < -spec.object_table_tolerance:
            return "object_below_table", t
    return None, -1
