"""Trajectory-tracking IK: one short local solve per step, seeded with the previous step's joints.

Along a densely sampled path consecutive targets are millimetres apart, so a few damped Gauss–Newton
iterations from the previous solution converge; global restarts (what `robot.ik.PandaIK` adds for
isolated targets) are useless here, since a restart lands on another branch and the joint jump is
rejected anyway. Two things make following a long path more robust than plain damped least squares:

- a null-space term pulls the redundant degree of freedom towards the middle of the joint ranges, so
  the arm does not drift into a limit half way through a pour;
- joints are clamped to their limits every iteration, and success is judged with the same tolerances
  the checks use (`POSITION_TOLERANCE`, `ROTATION_TOLERANCE` in `checks.py`), never loosened.
"""

from __future__ import annotations

import numpy as np

from video2robo.generate.checks import POSITION_TOLERANCE, ROTATION_TOLERANCE


def _rotation_error(R_target: np.ndarray, R: np.ndarray) -> np.ndarray:
    """Axis-angle vector of R_target · Rᵀ (base frame). Called thousands of times per episode, so the
    usual case (angle below ~170°) is a closed form on the skew part; larger angles take the general
    quaternion route."""
    M = R_target @ R.T
    v = np.array([M[2, 1] - M[1, 2], M[0, 2] - M[2, 0], M[1, 0] - M[0, 1]])  # 2 sin θ · axis
    c = 0.5 * (M[0, 0] + M[1, 1] + M[2, 2] - 1.0)
    if c > -0.985:
        s = 0.5 * float(np.sqrt(v @ v))
        if s < 1e-12:
            return 0.5 * v
        return v * (0.5 * np.arctan2(s, c) / s)
    from video2robo.geometry import rotmat_to_axis_angle

    return np.asarray(rotmat_to_axis_angle(M), float)


class TrackIK:
    """Local IK for path following on a `PandaKinematics` (not thread-safe: owns its MuJoCo data)."""

    def __init__(self, kin, iterations: int = 20, damping: float = 1e-4, null_gain: float = 0.1,
                 rotation_weight: float = 0.3):
        self.kin = kin
        self.iterations = iterations
        self.damping = damping
        self.null_gain = null_gain
        self.w = np.array([1.0, 1.0, 1.0, rotation_weight, rotation_weight, rotation_weight])
        self.mid = 0.5 * (kin.lower + kin.upper)
        self.half_range = 0.5 * (kin.upper - kin.lower)
        self._damping_6 = damping * np.eye(6)

    def error(self, q: np.ndarray, T_target: np.ndarray) -> tuple[np.ndarray, float, float]:
        """(6-vector [Δp, Δrot], |Δp|, |Δrot|) of FK(q) against the target (base frame)."""
        T = self.kin.grasp_pose(q)
        e = np.concatenate([T_target[:3, 3] - T[:3, 3], _rotation_error(T_target[:3, :3], T[:3, :3])])
        return e, float(np.linalg.norm(e[:3])), float(np.linalg.norm(e[3:]))

    def solve(self, T_base_target: np.ndarray, q_seed: np.ndarray) -> tuple[np.ndarray, bool]:
        """(q, success): joints within the limits reaching the target within the check tolerances."""
        kin, w = self.kin, self.w
        q = kin.clip_to_limits(q_seed)
        for _ in range(self.iterations):
            e, pe, re = self.error(q, T_base_target)
            if pe <= 0.5 * POSITION_TOLERANCE and re <= 0.5 * ROTATION_TOLERANCE:
                return q, True
            J = kin.grasp_jacobian() * w[:, None]  # FK state of q is current after error()
            J_pinv = np.linalg.solve(J @ J.T + self._damping_6, J).T  # Jᵀ(JJᵀ + λI)⁻¹ (symmetric)
            dq = J_pinv @ (w * e)
            # Secondary objective: towards mid-range, stronger near the limits, in the null space.
            centred = (q - self.mid) / self.half_range
            z = -self.null_gain * centred ** 3 * self.half_range
            dq += z - J_pinv @ (J @ z)
            step = float(np.max(np.abs(dq)))
            if step > 0.3:
                dq *= 0.3 / step
            q = kin.clip_to_limits(q + dq)
        _, pe, re = self.error(q, T_base_target)
        return q, bool(pe <= POSITION_TOLERANCE and re <= ROTATION_TOLERANCE)
