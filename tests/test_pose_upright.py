"""The upright family of first-frame rotations (pose.upright): its members, how far others are, and which
axis of a resting object stands up."""

import math

import numpy as np
import pytest

from video2robo.geometry.so3 import frame_around
from video2robo.pose.upright import AXES, PITCH_RANGE, ROLL_RANGE, rotation_taking, up_axis, upright_gap, upright_rotation


def _is_rotation(R):
    return np.allclose(R @ R.T, np.eye(3), atol=1e-9) and math.isclose(np.linalg.det(R), 1.0, abs_tol=1e-9)


@pytest.mark.parametrize("seed", range(5))
def test_members_are_rotations_inside_the_family(seed):
    rng = np.random.default_rng(seed)
    R = upright_rotation(rng.uniform(-np.pi, np.pi), rng.uniform(*PITCH_RANGE), rng.uniform(*ROLL_RANGE))
    assert _is_rotation(R)
    assert upright_gap(R) < math.radians(2.0)


def test_the_yaw_turns_about_the_up_axis_only():
    a, b = upright_rotation(0.0, 0.7, 0.2), upright_rotation(1.3, 0.7, 0.2)
    assert np.allclose(a[:, 2], b[:, 2])
    assert upright_gap(a) == pytest.approx(upright_gap(b), abs=1e-12)


def test_a_level_camera_sees_the_up_axis_as_image_up():
    assert np.allclose(upright_rotation(0.0, 0.0, 0.0)[:, 2], [0.0, -1.0, 0.0])


@pytest.mark.parametrize("z, least_deg", [
    ([0.23, -0.73, 0.65], 20.0),  # seed-1 cube_small tipped: its up points away from the camera
    ([0.56, 0.65, -0.51], 40.0),  # seed-2 target cube on its side: its up points down the image
    ([0.0, 1.0, 0.0], 75.0),  # upside down for a level camera
])
def test_ups_outside_the_family_are_far_from_it(z, least_deg):
    R = frame_around(np.asarray(z) / np.linalg.norm(z))
    assert _is_rotation(R)
    assert math.degrees(upright_gap(R)) > least_deg


@pytest.mark.parametrize("a", list(AXES))
@pytest.mark.parametrize("b", list(AXES) + [np.array([0.36, 0.48, 0.8])])
def test_rotation_taking_one_direction_onto_another(a, b):
    R = rotation_taking(a, b)
    assert _is_rotation(R) and np.allclose(R @ a, b)


def test_up_axis_is_z_for_an_upright_object_and_the_face_up_for_a_cube_on_its_side():
    R = upright_rotation(0.7, 0.9, -0.2)
    assert np.array_equal(up_axis(R), [0.0, 0.0, 1.0])
    for a in AXES:  # the object turned so that its axis a stands where its z stood
        tipped = R @ rotation_taking(a, np.array([0.0, 0.0, 1.0]))
        assert np.allclose(tipped @ a, R[:, 2])
        assert np.array_equal(up_axis(tipped), a)


def test_a_target_cube_on_its_side_gives_the_table_plane_and_world_frame_its_up_face():
    """Read as the model z, the plane under a target cube lying on its side stood on its side too: the
    cube resting beside it read as 8 cm under the table (seed-2 stack), and the world's z lay along the table."""
    from video2robo.parse.world import T_world_target_rest
    from video2robo.perception.camera_motion import table_plane

    cube = np.array([[x, y, z] for x in (-0.03, 0.03) for y in (-0.03, 0.03) for z in (0.0, 0.06)])  # origin at the bottom
    T_cam_table = np.eye(4)  # the table frame as the camera sees it: its z the table's up
    T_cam_table[:3, :3] = upright_rotation(0.0, 0.8, 0.05)
    T_cam_table[:3, 3] = [0.02, 0.05, 0.6]
    T_table_cube = np.eye(4)  # lying on its -x face: its +x axis up, its bottom face's centre 3 cm over the table
    T_table_cube[:3, :3] = rotation_taking(np.array([1.0, 0.0, 0.0]), np.array([0.0, 0.0, 1.0]))
    T_table_cube[:3, 3] = [0.1, 0.0, 0.03]
    T_cam_cube = T_cam_table @ T_table_cube
    n, foot = table_plane(T_cam_cube, cube)
    assert np.allclose(n, T_cam_table[:3, 2])
    assert abs((foot - T_cam_table[:3, 3]) @ n) < 1e-9  # the foot is on the table
    T_world_cube = T_world_target_rest(cube, up_axis(T_cam_cube[:3, :3]))
    corners = cube @ T_world_cube[:3, :3].T + T_world_cube[:3, 3]
    assert np.isclose(corners[:, 2].min(), 0.0) and np.isclose(corners[:, 2].max(), 0.06)
    assert np.allclose(T_world_cube[:3, :3] @ [1.0, 0.0, 0.0], [0.0, 0.0, 1.0])
