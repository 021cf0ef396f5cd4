"""ArUco marker on the table: its pose from one image, and the scale that stands an object on its plane."""

import numpy as np
import pytest

from video2robo.errors import UserError
from video2robo.geometry import axis_angle_to_rotmat, make_pose
from video2robo.perception.marker import detect_marker, paste_marker

K = np.array([[500.0, 0, 320], [0, 500, 240], [0, 0, 1]])


def _looking_down(rng) -> np.ndarray:
    """T_cam_marker of a marker on a table seen from above at 30-75° and 0.35-0.8 m, turned anyhow."""
    R = axis_angle_to_rotmat(np.array([np.pi - rng.uniform(0.3, 1.0), 0, 0])) @ axis_angle_to_rotmat(np.array([0, 0, rng.uniform(-3, 3)]))
    return make_pose(R, np.array([rng.uniform(-0.08, 0.08), rng.uniform(-0.05, 0.05), rng.uniform(0.35, 0.8)]))


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.degrees(np.arccos(np.clip(a @ b, -1, 1))))


def test_marker_pose_up_and_plane_from_one_image():
    rng = np.random.default_rng(0)
    for _ in range(8):
        T = _looking_down(rng)
        image = paste_marker(rng.uniform(120, 200, (480, 640, 3)).astype(np.uint8), K, T, 0.08, marker_id=5)
        m = detect_marker(image, K, 0.08)
        assert m is not None and m.marker_id == 5
        assert m.reprojection_px < 1.0
        dist = np.linalg.norm(T[:3, 3])
        assert np.linalg.norm(m.T_cam_marker[:3, 3] - T[:3, 3]) < 0.025 * dist  # a 50-100 px marker: ~1 px of size
        assert _angle_deg(m.up, T[:3, 2]) < 2.0
        assert m.up[2] < 0  # up, out of the table, points back toward the camera
        n, foot = m.plane
        assert abs((T[:3, 3] - foot) @ n) < 0.025 * dist  # the true centre lies on the found plane


def test_marker_absent_other_id_and_bad_settings():
    rng = np.random.default_rng(1)
    T = _looking_down(rng)
    blank = rng.uniform(120, 200, (480, 640, 3)).astype(np.uint8)
    assert detect_marker(blank, K, 0.08) is None
    image = paste_marker(blank, K, T, 0.08, marker_id=5)
    assert detect_marker(image, K, 0.08, marker_id=6) is None
    assert detect_marker(image, K, 0.08, marker_id=5) is not None
    # a marker twice as large in the world, same image: twice as far
    far = detect_marker(image, K, 0.16)
    assert far.T_cam_marker[:3, 3] == pytest.approx(2 * detect_marker(image, K, 0.08).T_cam_marker[:3, 3], rel=1e-6)
    with pytest.raises(UserError, match="DICT_4X4_50"):
        detect_marker(image, K, 0.08, dictionary="DICT_NOPE")
    with pytest.raises(UserError, match="positive"):
        detect_marker(image, K, 0.0)


def test_covered_pixels_keep_the_image():
    rng = np.random.default_rng(2)
    T = _looking_down(rng)
    blank = np.full((480, 640, 3), 150, np.uint8)
    keep = np.zeros((480, 640), bool)
    keep[:, :320] = True
    out = paste_marker(blank, K, T, 0.08, keep=keep)
    assert (out[keep] == 150).all()
    assert (paste_marker(blank, K, T, 0.08) != 150).any()


def test_scale_to_plane_stands_the_object_on_the_table():
    """An object lifted twice too large (twice as far, the same image) is scaled by 1/2 to stand on the
    table; one standing on it by 1; one whose lowest point is not below the camera by NaN."""
    from video2robo.parse.world import scale_to_plane

    rng = np.random.default_rng(3)
    T_cam_table = _looking_down(rng)
    plane = (T_cam_table[:3, 2], T_cam_table[:3, 3])
    points = rng.uniform(-1, 1, (300, 3)) * [0.03, 0.03, 0.05]
    on_table = T_cam_table @ make_pose(np.eye(3), np.array([0.05, 0.02, -points[:, 2].min()]))
    assert scale_to_plane(plane, on_table, points) == pytest.approx(1.0, abs=1e-9)
    far = on_table.copy()
    far[:3, 3] *= 2.0
    assert scale_to_plane(plane, far, points * 2.0) == pytest.approx(0.5, abs=1e-9)
    above = np.eye(4)
    above[:3, 3] = plane[0]  # a metre above the camera, along up
    assert np.isnan(scale_to_plane(plane, above, points))
