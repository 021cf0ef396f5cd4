"""pose.rest: placing a resting object on its support (geometry), and finding its pose by silhouette."""

import numpy as np
import pytest
import torch
import trimesh

from video2robo.geometry.so3 import axis_angle_to_rotmat, rotation_angle
from video2robo.pose.rest import (
    candidate_heights,
    heights,
    placed,
    slide_onto,
    support_heights,
    turned,
)

rng = np.random.default_rng(0)
# a tilted table through `foot`, seen by a camera at the origin looking down onto it
N = np.array([0.0, -0.8, -0.6])
FOOT = np.array([0.0, 0.1, 0.6])
PLANE = (N, FOOT)


def random_rotation():
    return axis_angle_to_rotmat(rng.normal(size=3))


def box_points(extents, n=400):
    return (rng.uniform(-0.5, 0.5, (n, 3)) * np.asarray(extents))


def test_slide_onto_puts_the_lowest_point_at_the_height_and_keeps_the_ray_and_rotation():
    points = box_points((0.06, 0.04, 0.03))
    for h in (0.0, 0.02, -0.01):
        T = np.eye(4)
        T[:3, :3] = random_rotation()
        T[:3, 3] = FOOT + rng.normal(0, 0.05, 3)
        eye = rng.normal(0, 0.01, 3)
        out = slide_onto(T, points, PLANE, h, eye)
        assert heights(out, points, PLANE).min() == pytest.approx(h, abs=1e-9)
        np.testing.assert_array_equal(out[:3, :3], T[:3, :3])
        a, b = T[:3, 3] - eye, out[:3, 3] - eye  # the same ray from the eye: the silhouette stays put
        assert np.linalg.norm(np.cross(a, b)) < 1e-9 * np.linalg.norm(a) * np.linalg.norm(b) and a @ b > 0
        np.testing.assert_allclose(slide_onto(out, points, PLANE, h, eye), out, atol=1e-12)  # idempotent


def test_slide_onto_never_moves_a_pose_through_the_camera_or_twice_as_far():
    """A ray nearly along the table meets it far away, or behind the camera: the pose stays."""
    points = box_points((0.06, 0.04, 0.03))
    plane = (np.array([0.0, -1.0, 0.0]), np.array([0.0, 0.05, 0.6]))  # seen edge-on: its up is image up
    for y in (0.006, -0.006):  # 2.4 / 3.6 cm above the table, on rays that fall / climb 1 in 100: they meet
        T = np.eye(4)  # the table 5 times as far, or behind the camera
        T[:3, 3] = [0.0, y, 0.6]
        np.testing.assert_array_equal(slide_onto(T, points, plane, 0.0, np.zeros(3)), T)
    T[:3, 3] = [0.0, 0.02, 0.6]  # 1 cm above, on a ray that falls 1 in 30: slid 51 % further, onto the table
    assert heights(slide_onto(T, points, plane, 0.0, np.zeros(3)), points, plane).min() == pytest.approx(0.0, abs=1e-9)


def test_placed_centroid_on_the_ray_lowest_point_on_the_support():
    points = box_points((0.1, 0.02, 0.02)) + [0.03, 0.0, 0.0]  # origin off the centroid
    eye = np.zeros(3)
    ray = FOOT + [0.02, 0.0, 0.0]
    R = random_rotation()
    T = placed(R, points, PLANE, 0.015, eye, ray, 0.1)
    c = points.mean(axis=0) @ R.T + T[:3, 3]
    assert np.linalg.norm(np.cross(c, ray)) < 1e-9 and c @ ray > 0
    assert heights(T, points, PLANE).min() == pytest.approx(0.015)
    assert placed(R, points, PLANE, 0.0, eye, np.cross(N, [1.0, 0.0, 0.0]), 0.1) is None  # along the table
    assert placed(R, points, PLANE, 0.0, eye, -ray, 0.1) is None  # the table is behind the camera


def test_turned_is_a_rotation_about_the_normal():
    R = random_rotation()
    n = N / np.linalg.norm(N)
    for yaw in (0.3, -2.0):
        Ry = turned(R, n, yaw)
        np.testing.assert_allclose(Ry.T @ Ry, np.eye(3), atol=1e-12)
        np.testing.assert_allclose(Ry.T @ n, R.T @ n, atol=1e-12)  # the tilt from the normal is kept
        assert rotation_angle(Ry, R) == pytest.approx(abs(yaw))
    np.testing.assert_allclose(turned(turned(R, n, 0.7), n, -0.7), R, atol=1e-12)


def plate_points():
    """A 24 cm plate on the table: a floor 6 mm up, a rim 2 cm up (the frame's plane is z = 0, n = z)."""
    r = np.sqrt(rng.uniform(0, 1, 3000)) * 0.1
    a = rng.uniform(0, 2 * np.pi, 3000)
    floor = np.c_[r * np.cos(a), r * np.sin(a), np.full(3000, 0.006)]
    a = rng.uniform(0, 2 * np.pi, 1000)
    rim = np.c_[0.12 * np.cos(a), 0.12 * np.sin(a), np.full(1000, 0.02)]
    return np.r_[floor, rim]


def test_a_can_on_a_plate_stands_on_its_floor_not_its_rim_and_beside_it_on_the_table():
    plane = (np.array([0.0, 0.0, 1.0]), np.zeros(3))
    can = box_points((0.08, 0.08, 0.1)) + [0, 0, 0.05]
    plate = (np.eye(4), plate_points())
    on = np.eye(4)
    on[:3, 3] = [0.01, 0.0, 0.006]
    assert support_heights(on, can, plane, [plate]) == pytest.approx([0.0, 0.006])
    beside = np.eye(4)
    beside[:3, 3] = [0.3, 0.0, 0.0]
    assert support_heights(beside, can, plane, [plate]) == [0.0]
    # seen from above the plate, its floor is a candidate whatever depth the tracked pose has
    eye = np.array([0.0, -0.4, 0.4])
    assert candidate_heights(np.eye(3), can, plane, eye, -eye, [plate], _options()) == pytest.approx([0.0, 0.006])


def _options():
    from video2robo.pose.rest import RestSearchOptions

    return RestSearchOptions()


def test_rest_search_finds_a_box_turned_and_moved_on_the_table():
    """Rendered ground truth: a box resting on the table, searched from nothing but its first frame's
    tilt, the table and the silhouette."""
    from video2robo.gaussians.from_mesh import mesh_to_gaussians
    from video2robo.geometry.camera import PinholeCamera
    from video2robo.pose.fit import FitConfig, FrameInput, ObjectFitter
    from video2robo.render import render

    model = mesh_to_gaussians(trimesh.creation.box(extents=(0.08, 0.04, 0.03)), num=2000, seed=0)
    K = np.array([[300.0, 0, 100], [0, 300.0, 80], [0, 0, 1]])
    n = N / np.linalg.norm(N)
    R_first = np.eye(3)
    R_first[:, 2] = n  # resting on its model -z face
    R_first[:, 0] = np.cross([0.0, 1.0, 0.0], n) / np.linalg.norm(np.cross([0.0, 1.0, 0.0], n))
    R_first[:, 1] = np.cross(n, R_first[:, 0])
    points = model.means.numpy().astype(np.float64)
    T_true = placed(turned(R_first, n, 1.1), points, PLANE, 0.0, np.zeros(3), FOOT + [0.03, 0.0, 0.0], 0.1)
    with torch.no_grad():
        alpha = render(model.transform(torch.as_tensor(T_true, dtype=torch.float32)),
                       PinholeCamera(K, np.eye(4), 200, 160), antialiased=True).alpha[0].numpy()
    frame = FrameInput(np.zeros((160, 200, 3), np.float32), alpha > 0.5)
    fitter = ObjectFitter(model, K, FitConfig())
    T, score = fitter.rest_search(frame, np.eye(4), PLANE, [R_first], [])
    assert score > 0.95
    assert np.linalg.norm(T[:3, 3] - T_true[:3, 3]) < 0.003
    # the box's 180-degree turn about the normal has the same silhouette: either is right
    flip = turned(T_true[:3, :3], n, np.pi)
    assert min(rotation_angle(T[:3, :3], T_true[:3, :3]), rotation_angle(T[:3, :3], flip)) < np.deg2rad(3)


def test_rest_search_tells_a_half_turn_apart_by_colour():
    """A box whose ends differ only in colour: its Gaussians are made symmetric under a half turn, so
    that twin has exactly the same silhouette, and only the colour cost picks the true one."""
    from video2robo.gaussians import GaussianSet
    from video2robo.gaussians.from_mesh import mesh_to_gaussians
    from video2robo.geometry.camera import PinholeCamera
    from video2robo.pose.fit import FitConfig, FrameInput, ObjectFitter
    from video2robo.render import render

    half = mesh_to_gaussians(trimesh.creation.box(extents=(0.08, 0.04, 0.03)), num=1000, seed=0)
    T_half_turn = np.diag([-1.0, -1.0, 1.0, 1.0])
    both = GaussianSet.concat([half, half.transform(torch.as_tensor(T_half_turn, dtype=torch.float32))])
    red_end = (both.means[:, 0] > 0)[:, None].numpy()
    model = GaussianSet.create(both.means, both.quats, torch.exp(both.log_scales), torch.sigmoid(both.opacity_logits),
                               rgb=np.where(red_end, [0.85, 0.15, 0.15], [0.15, 0.25, 0.85]))
    K = np.array([[300.0, 0, 100], [0, 300.0, 80], [0, 0, 1]])
    n = N / np.linalg.norm(N)
    R_first = np.eye(3)
    R_first[:, 2] = n
    R_first[:, 0] = np.cross([0.0, 1.0, 0.0], n) / np.linalg.norm(np.cross([0.0, 1.0, 0.0], n))
    R_first[:, 1] = np.cross(n, R_first[:, 0])
    points = model.means.numpy().astype(np.float64)
    fitter = ObjectFitter(model, K, FitConfig())
    for yaw in (0.4, 0.4 + np.pi):
        T_true = placed(turned(R_first, n, yaw), points, PLANE, 0.0, np.zeros(3), FOOT, 0.1)
        with torch.no_grad():
            out = render(model.transform(torch.as_tensor(T_true, dtype=torch.float32)),
                         PinholeCamera(K, np.eye(4), 200, 160), background=[0.8, 0.8, 0.8], antialiased=True)
        frame = FrameInput(out.rgb[0].numpy().astype(np.float32), out.alpha[0].numpy() > 0.5)
        T, score = fitter.rest_search(frame, np.eye(4), PLANE, [R_first], [])
        assert score > 0.95
        assert rotation_angle(T[:3, :3], T_true[:3, :3]) < np.deg2rad(3), yaw
