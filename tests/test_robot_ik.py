"""IK reaches random reachable grasp targets, keeps to the seed's branch, explains failures."""

import numpy as np
import pytest

from video2robo.geometry import pose_distance
from video2robo.robot.ik import PandaIK, solve_ik
from video2robo.robot.kinematics import PandaKinematics
from video2robo.robot.model import home_configuration


@pytest.fixture(scope="module")
def ik():
    return PandaIK()


def test_reaches_random_reachable_targets(ik):
    rng = np.random.default_rng(42)
    check = PandaKinematics()
    for _ in range(20):
        q_true = ik.kin.random_configuration(rng, margin=0.05)
        target = check.grasp_pose(q_true)
        seed = ik.kin.clip_to_limits(q_true + rng.normal(0, 0.4, 7))
        r = ik.solve(target, seed)
        assert r.success, r.reason
        assert ik.kin.within_limits(r.q)
        dp, dr = pose_distance(check.grasp_pose(r.q), target)
        assert dp <= 1e-3 and dr <= 0.01
        assert dp == pytest.approx(r.position_error, abs=1e-9)
        assert dr == pytest.approx(r.rotation_error, abs=1e-6)


def test_small_target_step_stays_near_the_seed(ik):
    q0 = home_configuration()
    T = ik.kin.grasp_pose(q0)
    T[:3, 3] += [0.01, -0.01, 0.005]
    r = ik.solve(T, q0)
    assert r.success and r.attempts == 1
    assert np.linalg.norm(r.q - q0) < 0.1


def test_unreachable_target_reports_a_reason():
    T = np.eye(4)
    T[:3, 3] = [1.8, 0.0, 0.4]
    r = solve_ik(T, home_configuration(), restarts=3)
    assert not r.success
    assert r.position_error > 0.5
    assert "reach" in r.reason and "mm" in r.reason
    assert PandaKinematics().within_limits(r.q)

