"""FK of the Panda against MuJoCo's own body poses, grasp site, gripper width, joint limits."""

import mujoco
import numpy as np
import pytest

from video2robo.robot.kinematics import PandaKinematics, fingers_to_width, width_to_fingers
from video2robo.robot.model import ARM_JOINTS, FINGER_JOINTS, GRASP_SITE, LINK_BODIES, home_configuration, panda_xml


@pytest.fixture(scope="module")
def kin():
    return PandaKinematics()


def _reference(q, width):
    """Body/site poses from an independently loaded model, written by joint name, full mj_forward."""
    m = mujoco.MjModel.from_xml_string(panda_xml())
    d = mujoco.MjData(m)
    for name, v in zip(ARM_JOINTS, q):
        d.joint(name).qpos[:] = v
    d.joint(FINGER_JOINTS[0]).qpos[:] = width / 2
    d.joint(FINGER_JOINTS[1]).qpos[:] = -width / 2
    mujoco.mj_forward(m, d)
    return m, d


def test_fk_matches_mujoco_body_poses(kin):
    rng = np.random.default_rng(0)
    for _ in range(10):
        q = kin.random_configuration(rng)
        w = rng.uniform(0, 0.08)
        poses = kin.link_poses(q, w)
        m, d = _reference(q, w)
        for link, body in LINK_BODIES.items():
            T = poses[link]
            np.testing.assert_array_equal(T[:3, 3], d.body(body).xpos)
            np.testing.assert_array_equal(T[:3, :3], d.body(body).xmat.reshape(3, 3))
        Tg = kin.grasp_pose(q, w)
        np.testing.assert_array_equal(Tg[:3, 3], d.site(GRASP_SITE).xpos)
        np.testing.assert_array_equal(Tg[:3, :3], d.site(GRASP_SITE).xmat.reshape(3, 3))


def test_gripper_width_moves_fingers_apart(kin):
    q = home_configuration()
    for w in (0.0, 0.03, 0.08):
        np.testing.assert_allclose(fingers_to_width(width_to_fingers(w)), w)
        p = kin.link_poses(q, w)
        gap = np.linalg.norm(p["left_finger"][:3, 3] - p["right_finger"][:3, 3])
        closed = kin.link_poses(q, 0.0)
        gap0 = np.linalg.norm(closed["left_finger"][:3, 3] - closed["right_finger"][:3, 3])
        assert gap - gap0 == pytest.approx(w, abs=1e-9)
    np.testing.assert_allclose(width_to_fingers(0.5), [0.04, -0.04])  # clamped to the slide range


def test_grasp_site_sits_between_the_fingertips(kin):
    q = home_configuration()
    p = kin.link_poses(q, 0.04)
    Tg = kin.grasp_pose(q, 0.04)
    mid = (p["left_finger"][:3, 3] + p["right_finger"][:3, 3]) / 2
    offset = np.linalg.inv(Tg)[:3, :3] @ (mid - Tg[:3, 3])
    assert np.linalg.norm(offset[:2]) < 1e-6  # on the approach axis
    assert -0.06 < offset[2] < 0  # finger bases behind the grasp point


def test_joint_limits_and_home(kin):
    assert kin.lower.shape == (7,) and np.all(kin.lower < kin.upper)
    assert kin.upper[3] < 0  # the elbow joint never straightens on a Panda
    assert kin.within_limits(home_configuration())
    assert not kin.within_limits(np.zeros(7))
    with pytest.raises(ValueError):
        kin.link_poses(np.zeros(6))


def test_jacobian_matches_finite_differences(kin):
    q = home_configuration() + 0.1
    kin.grasp_pose(q)
    J = kin.grasp_jacobian()
    h = 1e-6
    for i in range(7):
        dq = np.zeros(7)
        dq[i] = h
        dp = (kin.grasp_pose(q + dq)[:3, 3] - kin.grasp_pose(q - dq)[:3, 3]) / (2 * h)
        np.testing.assert_allclose(J[:3, i], dp, atol=1e-6)
