"""Model-anchored point tracks: seeded from a render (alpha, depth) of a known pose, moved by LK, PnP
recovers the object's pose frame after frame; a still object reads as still."""

import cv2
import numpy as np

from video2robo.geometry.so3 import axis_angle_to_rotmat, rotation_angle
from video2robo.perception.model_tracks import ModelTracks

W, H, N_TEX, SIDE = 240, 180, 256, 0.12
K = np.array([[300.0, 0, W / 2], [0, 300.0, H / 2], [0, 0, 1]])


def _texture():
    rng = np.random.default_rng(0)
    tex = cv2.GaussianBlur(rng.uniform(0, 255, (N_TEX, N_TEX)).astype(np.float32), (0, 0), 2.5)
    return cv2.normalize(tex, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)


def _view(tex, T):
    """Gray image, alpha and depth of a textured square (object z = 0 plane) at pose T_cam_obj."""
    A = np.array([[SIDE / N_TEX, 0, (0.5 / N_TEX - 0.5) * SIDE], [0, SIDE / N_TEX, (0.5 / N_TEX - 0.5) * SIDE], [0, 0, 1]])
    to_cv = np.array([[1, 0, -0.5], [0, 1, -0.5], [0, 0, 1.0]])
    Hm = to_cv @ K @ np.c_[T[:3, 0], T[:3, 1], T[:3, 3]] @ A
    gray = cv2.warpPerspective(tex, Hm, (W, H), flags=cv2.INTER_LINEAR, borderValue=90)
    alpha = cv2.warpPerspective(np.ones_like(tex, np.float32), Hm, (W, H), flags=cv2.INTER_LINEAR)
    ys, xs = np.mgrid[0:H, 0:W] + 0.5
    rays = np.stack([xs, ys, np.ones_like(xs)], -1) @ np.linalg.inv(K).T
    n = T[:3, 2]
    depth = (n @ T[:3, 3]) / (rays @ n)
    return gray, alpha, np.where(alpha > 0, depth, 0.0)


def _pose(t):
    T = np.eye(4)
    T[:3, :3] = axis_angle_to_rotmat(np.array([0.3 + 0.02 * t, 0.03 * t, 0.0]))
    T[:3, 3] = [0.003 * t, -0.002 * t, 0.45]
    return T


def test_pnp_follows_a_turning_object():
    tex = _texture()
    tracks = ModelTracks(K, SIDE * 1.4)
    gray, alpha, depth = _view(tex, _pose(0))
    tracks.update(gray, _pose(0), alpha, depth, alpha > 0.5)
    tracks.prev_gray = gray
    assert len(tracks) >= 40
    T_prev = _pose(0)
    for t in range(1, 16):
        gray, alpha, depth = _view(tex, _pose(t))
        tracks.advance(gray)
        T, inl = tracks.pnp(T_prev)  # guess: the previous pose (the true motion is ~1.5 cm, 2°)
        assert T is not None and inl.mean() > 0.8
        assert np.linalg.norm(T[:3, 3] - _pose(t)[:3, 3]) < 0.003
        assert rotation_angle(T[:3, :3], _pose(t)[:3, :3]) < np.radians(1.0)
        assert tracks.still_fraction(_pose(t - 1), _pose(t - 1), 1.0) < 0.2  # it moved (a fixed camera)
        # ...as far as a resting object would have appeared to move had the camera moved it to _pose(t)
        assert tracks.still_fraction(_pose(t), _pose(t - 1), 1.0) > 0.9
        tracks.update(gray, _pose(t), alpha, depth, alpha > 0.5)
        T_prev = T
    gray, _, _ = _view(tex, T_prev)
    tracks.advance(gray)
    tracks.advance(gray)
    assert tracks.still_fraction(_pose(15), _pose(15), 1.0) > 0.9  # then it rests


def test_wrong_pose_prunes_tracks_and_nothing_to_seed_without_texture():
    tex = _texture()
    tracks = ModelTracks(K, SIDE * 1.4)
    gray, alpha, depth = _view(tex, _pose(0))
    tracks.update(gray, _pose(0), alpha, depth, alpha > 0.5)
    n0 = len(tracks)
    off = _pose(0)
    off[:3, 3] += [0.02, 0, 0]  # ~13 px off: every track disagrees and is dropped, new ones are seeded at off
    tracks.update(gray, off, alpha, depth, alpha > 0.5)
    assert n0 >= 40 and len(tracks) <= tracks.opt.max_points
    uv, _ = tracks.project(off)
    assert np.median(np.linalg.norm(uv - tracks.xy, axis=1)) < 0.5  # new seeds agree with the pose given
    flat = ModelTracks(K, SIDE * 1.4)
    flat.update(np.full_like(gray, 128), _pose(0), alpha, depth, alpha > 0.5)
    assert len(flat) == 0 and np.isnan(flat.still_fraction(_pose(0), _pose(0), 1.0))  # no evidence either way
