"""Inverse kinematics of the Panda grasp site: damped least squares (Levenberg–Marquardt) on MuJoCo.

Solves for the 7 arm joints that put the grasp site at a 6D target `T_base_grasp`, starting from a
given seed so consecutive solves along a trajectory stay on the same branch. Joint limits are respected
by clamping every step into the limits (the LM damping then routes around a saturated joint). Only
when the seeded solve fails are restarts tried (perturbed seeds, then random configurations); among
successful restarts the one closest to the seed wins. Failure is never hidden: the result carries
`success=False`, the best residuals and a `reason` sentence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from video2robo.robot.kinematics import PandaKinematics

# Distance from the shoulder (joint 2 axis) to the grasp site at full stretch, m; a little generous.
_MAX_REACH = 0.316 + 0.384 + 0.088 + 0.107 + 0.1034 + 0.05
_SHOULDER_BASE = np.array([0.0, 0.0, 0.333])


@dataclass
class IKResult:
    """Outcome of one IK solve. `q` is the best configuration found even when `success` is False."""

    q: np.ndarray  # (7,) rad, inside the joint limits
    success: bool
    position_error: float  # metres, |p_target − p(q)|
    rotation_error: float  # radians, angle of R_target · R(q)ᵀ
    iterations: int  # LM iterations over all attempts
    attempts: int  # 1 for the seeded solve, +1 per restart
    reason: str = ""  # empty on success; why it failed otherwise


def _pose_error(T_target: np.ndarray, T: np.ndarray) -> np.ndarray:
    """6-vector [p_target − p, axis-angle of R_target Rᵀ] (base frame, matching MuJoCo's Jacobian)."""
    import mujoco

    e = np.empty(6)
    e[:3] = T_target[:3, 3] - T[:3, 3]
    quat = np.empty(4)
    mujoco.mju_mat2Quat(quat, np.ascontiguousarray(T_target[:3, :3] @ T[:3, :3].T).ravel())
    mujoco.mju_quat2Vel(e[3:], quat, 1.0)  # axis-angle (shortest way) of the rotation difference
    return e


class PandaIK:
    """Reusable IK solver (owns a `PandaKinematics`, so one per thread)."""

    def __init__(
        self,
        kinematics: PandaKinematics | None = None,
        position_tolerance: float = 1e-3,
        rotation_tolerance: float = 1e-2,
        max_iterations: int = 150,
        restarts: int = 12,
        rotation_weight: float = 0.3,
        seed: int = 0,
    ):
        self.kin = kinematics or PandaKinematics()
        self.position_tolerance = position_tolerance
        self.rotation_tolerance = rotation_tolerance
        self.max_iterations = max_iterations
        self.restarts = restarts
        # Metres per radian when mixing position and rotation residuals in one least-squares problem.
        self.rotation_weight = rotation_weight
        self.seed = seed

    # --- one local solve ----------------------------------------------------------------------
    def _residual(self, q, T_target):
        e = _pose_error(T_target, self.kin.grasp_pose(q))
        return e, np.linalg.norm(e[:3]), np.linalg.norm(e[3:])

    def _converged(self, pos_err, rot_err) -> bool:
        # Solve well below the reporting tolerances so success is robust to round-off.
        return pos_err <= 0.1 * self.position_tolerance and rot_err <= 0.1 * self.rotation_tolerance

    def _local_solve(self, q0: np.ndarray, T_target: np.ndarray):
        """Levenberg–Marquardt from q0 with clamping to the limits. Returns (q, pos_err, rot_err, iters)."""
        kin = self.kin
        w = np.array([1.0, 1.0, 1.0, self.rotation_weight, self.rotation_weight, self.rotation_weight])
        q = kin.clip_to_limits(q0)
        e, pe, re = self._residual(q, T_target)
        cost = float(np.sum((w * e) ** 2))
        lam = 1e-3
        it = 0
        for it in range(1, self.max_iterations + 1):
            if self._converged(pe, re):
                break
            kin.grasp_pose(q)  # FK state for the Jacobian at q
            J = kin.grasp_jacobian() * w[:, None]
            g = J.T @ (w * e)
            H = J.T @ J
            improved = False
            while lam < 1e8:
                dq = np.linalg.solve(H + lam * np.eye(7), g)
                step = np.linalg.norm(dq)
                if step > 0.5:  # trust region: at most 0.5 rad per iteration
                    dq *= 0.5 / step
                q_new = kin.clip_to_limits(q + dq)
                e_new, pe_new, re_new = self._residual(q_new, T_target)
                cost_new = float(np.sum((w * e_new) ** 2))
                if cost_new < cost:
                    q, e, pe, re, cost = q_new, e_new, pe_new, re_new, cost_new
                    lam = max(lam * 0.3, 1e-7)
                    improved = True
                    break
                lam *= 5.0
            if not improved:  # stuck in a local minimum (often against a joint limit)
                break
        return q, pe, re, it

    # --- public -------------------------------------------------------------------------------
    def solve(self, T_base_target, q_seed) -> IKResult:
        """Joint angles putting the grasp site at `T_base_target` (4x4, robot base frame), near `q_seed`."""
        T_target = np.asarray(T_base_target, dtype=np.float64)
        q_seed = np.asarray(q_seed, dtype=np.float64)
        if T_target.shape != (4, 4) or q_seed.shape != (7,):
            raise ValueError(f"expected a 4x4 target and a (7,) seed, got {T_target.shape} and {q_seed.shape}")
        q, pe, re, iters = self._local_solve(q_seed, T_target)
        attempts = 1
        ok = pe <= self.position_tolerance and re <= self.rotation_tolerance
        if ok:
            return IKResult(q, True, float(pe), float(re), iters, attempts)

        rng = np.random.default_rng(self.seed)
        best = (pe + self.rotation_weight * re, q, pe, re)
        successes = []
        for k in range(self.restarts):
            if k < self.restarts // 2:  # nearby first: keep the solution close to the seed's branch
                start = q_seed + rng.normal(0.0, 0.3 * (k + 1) / (self.restarts // 2 or 1), 7)
            else:
                start = self.kin.random_configuration(rng)
            qk, pk, rk, ik = self._local_solve(start, T_target)
            iters += ik
            attempts += 1
            if pk <= self.position_tolerance and rk <= self.rotation_tolerance:
                successes.append(qk)
                if k < self.restarts // 2:
                    break  # a nearby branch is what we want; stop searching
            score = pk + self.rotation_weight * rk
            if score < best[0]:
                best = (score, qk, pk, rk)
        if successes:
            q = min(successes, key=lambda s: float(np.linalg.norm(s - q_seed)))
            _, pe, re = self._residual(q, T_target)
            return IKResult(q, True, float(pe), float(re), iters, attempts)

        _, q, pe, re = best
        return IKResult(q, False, float(pe), float(re), iters, attempts, self._failure_reason(T_target, pe, re, attempts))

    def _failure_reason(self, T_target, pe, re, attempts) -> str:
        d = float(np.linalg.norm(T_target[:3, 3] - _SHOULDER_BASE))
        where = (
            f"target is {d:.3f} m from the shoulder, beyond the arm's reach (~{_MAX_REACH:.2f} m)"
            if d > _MAX_REACH
            else "no joint configuration within the limits reaches the target pose"
        )
        return (
            f"IK failed: {where}; best residual {pe * 1000:.1f} mm / {re:.3f} rad "
            f"(tolerance {self.position_tolerance * 1000:.1f} mm / {self.rotation_tolerance:.3f} rad) after {attempts} attempts"
        )


def solve_ik(T_base_target, q_seed, **options) -> IKResult:
    """One-off convenience wrapper around `PandaIK(**options).solve` (build a `PandaIK` to reuse it)."""
    return PandaIK(**options).solve(T_base_target, q_seed)
