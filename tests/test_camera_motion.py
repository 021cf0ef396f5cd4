"""Camera motion from the table: a textured plane seen by a moving camera (exact homographies)."""

import cv2
import numpy as np

from video2robo.geometry import axis_angle_to_rotmat, make_pose
from video2robo.perception.camera_motion import CameraTracker, table_plane

W, H = 320, 240
K = np.array([[260.0, 0, W / 2], [0, 260.0, H / 2], [0, 0, 1]])


def _texture(rng) -> np.ndarray:
    noise = rng.uniform(0, 255, (H // 4, W // 4)).astype(np.float32)
    return cv2.resize(cv2.GaussianBlur(noise, (0, 0), 0.8), (W, H), interpolation=cv2.INTER_CUBIC).clip(0, 255).astype(np.uint8)


def _plane_view(image0: np.ndarray, T_cam_cam0: np.ndarray, n: np.ndarray, d: float) -> np.ndarray:
    """The first camera's view of the plane n·X = d, seen from a camera at T_cam_cam0."""
    R, t = T_cam_cam0[:3, :3], T_cam_cam0[:3, 3]
    Hm = K @ (R + np.outer(t, n) / d) @ np.linalg.inv(K)
    # project pixel centres are OpenCV's integer pixels + 0.5: conjugate by the half-pixel shift
    S = np.array([[1, 0, 0.5], [0, 1, 0.5], [0, 0, 1.0]])
    return cv2.warpPerspective(image0, np.linalg.inv(S) @ Hm @ S, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def test_camera_motion_is_recovered_from_a_textured_table():
    rng = np.random.default_rng(0)
    # a resting 6 cm object whose model z is the table's up direction, 60 cm from a camera looking down
    T_cam_obj = make_pose(axis_angle_to_rotmat(np.array([2.2, 0.0, 0.0])), np.array([0.0, 0.05, 0.6]))
    points = np.array([[0, 0, -0.03], [0, 0, 0.03]])
    n, foot = table_plane(T_cam_obj, points)
    assert np.isclose(n @ (T_cam_obj[:3, :3] @ points[0] + T_cam_obj[:3, 3]), n @ foot)
    image0 = _texture(rng)
    obj = np.zeros((H, W), bool)
    obj[100:140, 140:180] = True  # objects are excluded from the corners
    tracker = CameraTracker(K, n, foot)
    tracker.start(image0, obj)
    assert len(tracker.xy) > 100 and not obj[tracker.xy[:, 1].astype(int), tracker.xy[:, 0].astype(int)].any()
    errors = []
    for k in range(1, 16):  # hand-held drift: a few cm and degrees
        T = make_pose(axis_angle_to_rotmat(0.002 * k * np.array([1.0, -2.0, 0.5])), 0.002 * k * np.array([1.0, 0.5, -0.8]))
        C = tracker.advance(_plane_view(image0, T, n, n @ foot), obj)
        assert tracker.inliers >= 15
        errors.append(np.linalg.norm(C[:3, 3] - T[:3, 3]))
        R_err = C[:3, :3] @ T[:3, :3].T
        assert np.degrees(np.arccos(np.clip((np.trace(R_err) - 1) / 2, -1, 1))) < 0.3
    assert max(errors) < 0.003  # metres, over ≥ 3 cm of motion


def test_points_off_the_table_are_not_lifted():
    """Only rays that meet the table near the resting object give 3D points (not the floor past its edge,
    nor the sky above the horizon)."""
    T_cam_obj = make_pose(axis_angle_to_rotmat(np.array([2.0, 0.0, 0.0])), np.array([0.0, 0.0, 0.6]))
    n, foot = table_plane(T_cam_obj, np.array([[0, 0, 0.0]]))
    assert n[1] < 0 and n[2] < 0  # up: towards the image top and the camera
    tracker = CameraTracker(K, n, foot)
    xy = np.array([[W / 2, H / 2], [W / 2, H - 1.0], [W / 2, 30.0], [W / 2, 1.0]])
    pts, ok = tracker._lift(xy)
    assert ok[0] and ok[1] and np.allclose(pts[:2] @ n, n @ foot)
    assert not ok[2]  # 2 m out on the plane: the floor past the table's edge, or a wall
    assert not ok[3]  # above the horizon


def test_table_changes_mark_a_new_occluder_not_the_table():
    """The first frame's table warped by the camera's motion matches the table now; a hand that entered
    the view differs; the first frame's object pixels have no reference and are never marked."""
    from video2robo.perception.occluders import TableChanges

    rng = np.random.default_rng(1)
    T_cam_obj = make_pose(axis_angle_to_rotmat(np.array([2.2, 0.0, 0.0])), np.array([0.0, 0.05, 0.6]))
    n, foot = table_plane(T_cam_obj, np.array([[0, 0, -0.03], [0, 0, 0.03]]))
    image0 = np.repeat(_texture(rng)[..., None], 3, axis=2)
    obj = np.zeros((H, W), bool)
    obj[100:140, 140:180] = True
    changes = TableChanges(image0, obj, K, n, foot)
    T = make_pose(axis_angle_to_rotmat(np.array([0.01, -0.02, 0.005])), np.array([0.01, 0.005, -0.008]))
    now = _plane_view(image0, T, n, n @ foot)
    hand = np.zeros((H, W), bool)
    hand[20:80, 30:90] = True
    now[hand] = (230, 180, 150)
    out = changes.changed(now, T)
    assert out[hand].mean() > 0.9
    assert out[~hand].mean() < 0.01
    assert not changes.changed(_plane_view(image0, T, n, n @ foot), T)[5:-5, 5:-5].any()  # nothing new: no change


def test_table_changes_over_a_resting_object_only_when_asked():
    """An object set down on the resting target changes the target's pixels: marked by `over_resting`
    (where a lifted object may have gone), never by the default (the target is off the table's plane)."""
    from video2robo.perception.occluders import TableChanges

    rng = np.random.default_rng(2)
    image0 = np.repeat(_texture(rng)[..., None], 3, axis=2)
    tray = np.zeros((H, W), bool)
    tray[100:160, 100:220] = True
    image0[tray] = 20  # a black tray
    n, foot = np.array([0.0, 0.0, -1.0]), np.array([0.0, 0.0, 0.6])  # a plane facing the camera
    changes = TableChanges(image0, tray, K, n, foot, resting0=tray)
    now = image0.copy()
    can = np.zeros((H, W), bool)
    can[115:145, 140:170] = True
    now[can] = (40, 60, 200)
    assert not changes.changed(now, np.eye(4)).any()
    over = changes.changed(now, np.eye(4), over_resting=True)
    assert over[can].mean() > 0.9 and not over[~can].any()
    for both, one in zip(changes.changed_both(now, np.eye(4)), (changes.changed(now, np.eye(4)), over)):
        np.testing.assert_array_equal(both, one)  # one comparison, the same two answers
    assert not TableChanges(image0, tray, K, n, foot).changed(now, np.eye(4), over_resting=True).any()


def _raycast_box_top(T_cam_cam0: np.ndarray, top_height: float):
    """(image, top depth, top alpha): a table (textured plane z = 0 in a table frame) with a box whose
    square top (20 cm, a checker) is `top_height` above it, seen from a camera moved by
    T_cam_cam0 from one 60 cm from the box looking down 35°. Ray-cast, so exact off the table's plane."""
    T_cam0_table = make_pose(axis_angle_to_rotmat(np.array([np.radians(-125.0), 0.0, 0.0])), np.array([0.0, 0.0, 0.6]))
    T_table_cam = np.linalg.inv(T_cam_cam0 @ T_cam0_table)
    ys, xs = np.mgrid[0:H, 0:W]
    rays = np.linalg.inv(K) @ np.stack([xs.ravel() + 0.5, ys.ravel() + 0.5, np.ones(H * W)])
    o, d = T_table_cam[:3, 3:], T_table_cam[:3, :3] @ rays  # in the table's frame

    def hit(z):
        s = (z - o[2]) / d[2]
        return s, o[:2] + s * d[:2]

    def texture(xy, f):  # smooth, aperiodic: sums of sines (cycles per metre)
        return 128 + 40 * (np.sin(f * xy[0]) + np.sin(1.3 * f * xy[1] + 1.0) + np.sin(0.7 * f * (xy[0] + xy[1])))

    s_top, xy_top = hit(top_height)
    on_top = (np.abs(xy_top) <= 0.1).all(axis=0) & (s_top > 0)
    _, xy_table = hit(0.0)
    checker = 60.0 + 140.0 * (np.floor(xy_top / 0.015).sum(axis=0) % 2)  # 1.5 cm squares
    grey = np.where(on_top, checker, texture(xy_table, 170.0))
    image = np.repeat(grey.reshape(H, W, 1), 3, axis=2).clip(0, 255).astype(np.uint8)
    depth = np.where(on_top, s_top * rays[2], 0.0).reshape(H, W)
    return image, depth, on_top.reshape(H, W).astype(np.float32)


def test_changes_over_a_resting_box_follow_its_depth_not_the_tables_plane():
    """The box top 12 cm above the table, seen from a camera that moved 8 cm: re-projected through its
    depth, its first view matches it (the table's homography does not); a hand over it is marked."""
    from video2robo.perception.occluders import TableChanges

    table = make_pose(axis_angle_to_rotmat(np.array([np.radians(-125.0), 0.0, 0.0])), np.array([0.0, 0.0, 0.6]))
    n, foot = table[:3, 2], table[:3, 3]  # the table frame's z (seen upside down: not the upright family's up)
    image0, depth0, alpha0 = _raycast_box_top(np.eye(4), 0.12)
    T = make_pose(axis_angle_to_rotmat(np.array([0.02, -0.05, 0.01])), np.array([0.08, 0.02, -0.02]))
    now, depth, alpha = _raycast_box_top(T, 0.12)
    box = alpha > 0.5
    changes = TableChanges(image0, alpha0 > 0.5, K, n, foot, resting0=alpha0 > 0.5)
    assert not changes.changed_on_resting(now, T, depth, alpha).any()  # no first-frame depth yet: nothing known
    changes.set_resting_depth(depth0, alpha0)
    assert changes.changed_on_resting(now, T, depth, alpha).mean() < 0.002 * box.mean()
    assert changes.changed(now, T, over_resting=True)[box].mean() > 0.1  # the table's plane is not the box's
    hand = np.zeros((H, W), bool)
    ys, xs = np.nonzero(box)
    hand[ys.min() + 10 : ys.min() + 40, xs.min() + 10 : xs.min() + 50] = True
    now[hand] = (230, 180, 150)
    out = changes.changed_on_resting(now, T, depth, alpha)
    inner = hand & (cv2.erode(box.astype(np.uint8), np.ones((15, 15), np.uint8)) > 0)
    assert out[inner].mean() > 0.9 and not out[~cv2.dilate(hand.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)].any()


def test_resting_pixels_are_sampled_however_many_there_are():
    """A target filling a 1080p frame has more pixels than one OpenCV remap row may hold (32767)."""
    from video2robo.perception.occluders import _sample

    rng = np.random.default_rng(3)
    image = rng.uniform(0, 255, (1080, 1920, 3)).astype(np.float32)
    x, y = rng.integers(0, 1919, 100_000), rng.integers(0, 1079, 100_000)
    np.testing.assert_allclose(_sample(image, x.astype(float), y.astype(float)), image[y, x], atol=1e-3)
    mid = _sample(image, x + 0.5, y.astype(float))  # bilinear between two columns
    np.testing.assert_allclose(mid, 0.5 * (image[y, x] + image[y, x + 1]), atol=1e-2)


def test_table_up_is_recovered_from_a_moving_camera_and_not_from_a_turning_one():
    """table_up_from_motion: a camera 35° down over a textured table, translating a few cm (hand-held),
    gives the table's up within 2°; a camera that only turns (no parallax) gives None."""
    from video2robo.perception.table_normal import table_up_from_motion

    rng = np.random.default_rng(1)
    pitch = np.radians(35)
    up = np.array([0.0, -np.cos(pitch), -np.sin(pitch)])  # image up and towards the camera
    d = -0.5  # the table 50 cm below the camera along up: up·X = d
    image0 = _texture(rng)
    table = np.ones((H, W), bool)
    table[100:140, 140:180] = False  # an object
    moving = [image0]
    for k in range(1, 12):
        T = make_pose(axis_angle_to_rotmat(0.003 * k * np.array([1.0, -2.0, 0.5])), 0.004 * k * np.array([1.0, 0.6, -0.5]))
        moving.append(_plane_view(image0, T, up, d))
    found = table_up_from_motion(moving, table, K)
    assert found is not None and np.degrees(np.arccos(np.clip(found @ up, -1, 1))) < 2.0
    turning = [image0] + [_plane_view(image0, make_pose(axis_angle_to_rotmat(0.004 * k * np.array([1.0, -1.0, 0.0])),
                                                        np.zeros(3)), up, d) for k in range(1, 12)]
    assert table_up_from_motion(turning, table, K) is None
