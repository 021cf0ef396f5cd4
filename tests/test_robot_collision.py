"""Robot vs table/obstacle contacts through MuJoCo collision detection."""

import numpy as np
import pytest
import trimesh

from video2robo.robot.collision import BoxObstacle, CollisionChecker, MeshObstacle
from video2robo.robot.kinematics import PandaKinematics
from video2robo.robot.model import home_configuration


@pytest.fixture(scope="module")
def grasp():
    q = home_configuration()
    return q, PandaKinematics().grasp_pose(q)


def _at(p):
    T = np.eye(4)
    T[:3, 3] = p
    return T


def test_table_plane(grasp):
    q, Tg = grasp
    below = CollisionChecker(table_height=Tg[2, 3] + 0.02).contacts(q, 0.08)
    assert below and {c.other for c in below} == {"table"}
    assert {c.link for c in below} >= {"left_finger", "right_finger"}
    assert all(c.distance < 0 for c in below)
    assert not CollisionChecker(table_height=Tg[2, 3] - 0.05).contacts(q, 0.08)


def test_margin_reports_near_misses(grasp):
    q, Tg = grasp
    z_tip = Tg[2, 3] - 0.012  # just below the finger pads
    assert not CollisionChecker(table_height=z_tip - 0.01).in_collision(q, 0.08)
    assert CollisionChecker(table_height=z_tip - 0.01, margin=0.03).in_collision(q, 0.08)


@pytest.mark.parametrize("kind", ["box", "mesh"])
def test_obstacle_and_grasped_exclusion(grasp, kind):
    q, Tg = grasp
    half = (0.045, 0.045, 0.02)  # wider than the open gripper
    ob = BoxObstacle("cube", half) if kind == "box" else MeshObstacle.from_trimesh("cube", trimesh.creation.box(extents=2 * np.array(half)))
    cc = CollisionChecker([ob], table_height=None)
    hits = cc.contacts(q, 0.08, {"cube": _at(Tg[:3, 3])})
    assert {c.link for c in hits} == {"left_finger", "right_finger"} and {c.other for c in hits} == {"cube"}
    assert not cc.contacts(q, 0.08, {"cube": _at(Tg[:3, 3])}, grasped="cube")
    # Pushed up into the hand: the hand's contacts are still reported while grasped.
    up = cc.contacts(q, 0.08, {"cube": _at(Tg[:3, 3] + [0, 0, 0.09])}, grasped="cube")
    assert "hand" in {c.link for c in up}
    assert not cc.contacts(q, 0.08, {"cube": _at([0.5, 0.5, 0.5])})


def test_small_cube_between_open_fingers_is_free(grasp):
    q, Tg = grasp
    cc = CollisionChecker([BoxObstacle("cube", (0.02, 0.02, 0.02))], table_height=None)
    assert not cc.in_collision(q, 0.08, {"cube": _at(Tg[:3, 3])})
    assert cc.in_collision(q, 0.0, {"cube": _at(Tg[:3, 3])})  # closing on it touches


def test_base_pose_moves_the_robot(grasp):
    q, Tg = grasp
    T_world_base = _at([0.0, 0.0, 0.5])
    cc = CollisionChecker(table_height=0.5 + Tg[2, 3] + 0.02, T_world_base=T_world_base)
    assert cc.in_collision(q, 0.08)
    assert not CollisionChecker(table_height=0.5 + Tg[2, 3] - 0.05, T_world_base=T_world_base).in_collision(q, 0.08)


def test_bad_queries_raise(grasp):
    q, _ = grasp
    cc = CollisionChecker([BoxObstacle("cube", (0.02, 0.02, 0.02))])
    with pytest.raises(ValueError, match="no pose"):
        cc.contacts(q, 0.08)
    with pytest.raises(ValueError, match="unknown"):
        cc.contacts(q, 0.08, {"cube": np.eye(4), "mug": np.eye(4)})
    with pytest.raises(ValueError, match="twice"):
        CollisionChecker([BoxObstacle("a", (1, 1, 1)), BoxObstacle("a", (1, 1, 1))])
