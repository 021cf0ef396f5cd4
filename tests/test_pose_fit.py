"""Pose fitting: at the true pose on a perfect observation, tracking must not drift; a resting object's
pose is found again from a drifted one."""

import numpy as np
import pytest
import torch
import trimesh

from video2robo.gaussians.from_mesh import mesh_to_gaussians
from video2robo.geometry.camera import PinholeCamera
from video2robo.pose.fit import FitConfig, FrameInput, ObjectFitter
from video2robo.render import render


@pytest.fixture(scope="module")
def stick_scene():
    """A thin teal stick (8 mm thick, 25 cm long) seen lengthwise, 60 cm in front of the camera, on a
    light table: every pixel of its silhouette is an edge pixel."""
    mesh = trimesh.creation.cylinder(radius=0.004, height=0.25, sections=16)
    mesh.visual.vertex_colors = np.tile([40, 170, 170, 255], (len(mesh.vertices), 1))
    model = mesh_to_gaussians(mesh, num=3000, seed=0)
    K = np.array([[300.0, 0, 160], [0, 300.0, 100], [0, 0, 1]])
    T = np.eye(4)
    T[:3, :3] = trimesh.transformations.rotation_matrix(np.pi / 2, [0, 1, 0])[:3, :3]  # length along image x
    T[:3, :3] = trimesh.transformations.rotation_matrix(0.3, [1, 0, 0])[:3, :3] @ T[:3, :3]
    T[:3, 3] = [0.0, 0.02, 0.6]
    with torch.no_grad():
        out = render(model.transform(torch.as_tensor(T, dtype=torch.float32)),
                     PinholeCamera(K, np.eye(4), 320, 200), background=[0.85, 0.83, 0.8], antialiased=True)
    rgb = out.rgb[0].numpy().astype(np.float32)
    return model, K, T, FrameInput(rgb, out.alpha[0].numpy() > 0.5)


def test_tracking_from_the_truth_stays_at_the_true_depth(stick_scene):
    """The RGB loss must not reward rendering less: composited over the observed image (which already
    holds the object), a model moved away cost less colour error on every partly covered pixel, and a
    thin stick drifted away by centimetres per frame."""
    model, K, T_true, frame = stick_scene
    fitter = ObjectFitter(model, K, FitConfig())
    rng = np.random.default_rng(0)
    for _ in range(3):
        T0 = T_true.copy()
        T0[:3, 3] += rng.normal(0, 0.005, 3)
        T, _, _ = fitter._adam(frame, T0, 40, 20, with_tracks=False)
        assert abs(T[2, 3] - T_true[2, 3]) < 0.015, T[2, 3] - T_true[2, 3]


@pytest.fixture(scope="module")
def box_scene():
    """A 6 x 4 x 3 cm box with differently coloured faces resting 50 cm in front of a camera looking down."""
    mesh = trimesh.creation.box(extents=(0.06, 0.04, 0.03))
    palette = np.array([[200, 40, 40], [40, 160, 60], [40, 60, 200], [220, 200, 40], [160, 40, 160], [40, 180, 180]])
    mesh.visual.face_colors = np.c_[palette[np.arange(len(mesh.faces)) // 2], np.full(len(mesh.faces), 255)]
    model = mesh_to_gaussians(mesh, num=3000, seed=0)
    K = np.array([[300.0, 0, 100], [0, 300.0, 80], [0, 0, 1]])
    T = np.eye(4)
    T[:3, :3] = trimesh.transformations.euler_matrix(-2.2, 0.0, 0.5)[:3, :3]
    T[:3, 3] = [0.01, 0.0, 0.5]
    with torch.no_grad():
        out = render(model.transform(torch.as_tensor(T, dtype=torch.float32)),
                     PinholeCamera(K, np.eye(4), 200, 160), background=[0.85, 0.83, 0.8], antialiased=True)
    return model, K, T, FrameInput(out.rgb[0].numpy().astype(np.float32), out.alpha[0].numpy() > 0.5)


def test_relocalise_recovers_a_resting_pose_that_drifted(box_scene):
    from video2robo.geometry.so3 import rotation_angle

    model, K, T_true, frame = box_scene
    fitter = ObjectFitter(model, K, FitConfig(de_popsize=8, de_maxiter=15, upright_prior=False))
    drifted = T_true.copy()
    drifted[:3, 3] *= 1.08  # 4 cm further along the ray: polishing alone recovers it
    T, iou, iou_before, searched = fitter.relocalise(frame, drifted, good_iou=0.9)
    assert iou_before < 0.9 <= iou and abs(T[2, 3] - T_true[2, 3]) < 0.01 and not searched
    flipped = drifted.copy()
    flipped[:3, :3] = trimesh.transformations.rotation_matrix(np.pi / 2, [0, 0, 1])[:3, :3] @ T_true[:3, :3]
    T, iou, iou_before, searched = fitter.relocalise(frame, flipped, good_iou=0.97)
    assert searched and iou > iou_before + 0.2 and iou >= 0.9
    assert not fitter.relocalise(frame, flipped, good_iou=0.97, search=False)[3]
    assert np.linalg.norm(T[:3, 3] - T_true[:3, 3]) < 0.01 and rotation_angle(T[:3, :3], T_true[:3, :3]) < 0.2


def _resting_box(box_scene):
    """The box scene as a rest to be searched: (model, K, T_true, frame with nothing ignored, image, gray,
    the table under the box (n, foot): it rests on its model -z face)."""
    model, K, T_true, frame = box_scene
    image = (frame.rgb * 255).astype(np.uint8)
    gray = image.mean(-1).astype(np.uint8)
    frame = FrameInput(frame.rgb, frame.mask, ignore=np.zeros_like(frame.mask))
    n = T_true[:3, 2]
    foot = T_true[:3, :3] @ np.array([0.0, 0.0, -0.015]) + T_true[:3, 3]
    return model, K, T_true, frame, image, gray, (n, foot)


def _put_down(model, K, T_true, T_tracked, mask_shape, opt):
    """A 4-frame object at T_true on frame 0, moved in frame 1 and resting since frame 2, tracked at
    T_tracked from frame 1 on."""
    from video2robo.parse.fit_video import _Object

    o = _Object("box", model, K, FitConfig(), 4, 0, False, opt)
    o.T[:] = T_tracked
    o.held[:] = [False, False, True, True]
    o.T0 = [T_true, T_tracked, T_tracked, T_tracked]
    o.used = np.zeros((4,) + mask_shape, bool)
    o.fitter.history = [T_true, T_tracked, T_tracked, T_tracked]
    return o


def test_resettle_replaces_the_whole_rest_and_rejects_a_floating_pose(box_scene):
    from video2robo.geometry.so3 import rotation_angle
    from video2robo.parse.fit_video import TrackingOptions
    from video2robo.parse.settle import resettle

    model, K, T_true, frame, image, gray, (n, foot) = _resting_box(box_scene)
    drifted = T_true.copy()
    drifted[:3, 3] *= 1.08  # 4 cm further along the ray: carried under the hand, then put down
    opt = TrackingOptions()
    C = np.repeat(np.eye(4)[None], 4, axis=0)
    o = _put_down(model, K, T_true, drifted, frame.mask.shape, opt)
    assert resettle(o, 3, frame, image, C, gray, (n, foot), [], opt)
    # standing on the table as at first fixes the depth GrabCut's fresh mask gets wrong (it takes the
    # half-covered edge ring in: 18 % larger than the silhouette on this small render, which put the
    # freely searched pose 3.4 cm toward the camera); that mask still turns it by 10 degrees (on the exact
    # mask: within 3, tests/test_pose_rest.py)
    assert np.linalg.norm(o.T[3][:3, 3] - T_true[:3, 3]) < 0.005
    assert rotation_angle(o.T[3][:3, :3], T_true[:3, :3]) < np.deg2rad(15)
    for k in (2, 3):  # the whole rest, and the motion model's entries for it
        np.testing.assert_allclose(o.T[k], o.T[3])
        np.testing.assert_allclose(o.T0[k], o.T[3])
    np.testing.assert_allclose(o.ref_T, o.T[3])  # the rest pose from now on
    np.testing.assert_array_equal(o.T[1], drifted)  # before the rest: untouched
    floating = _put_down(model, K, T_true, drifted, frame.mask.shape, opt)  # 3 cm above the table now: not a rest
    assert not resettle(floating, 3, frame, image, C, gray, (n, foot - 0.03 * n), [], opt)
    np.testing.assert_array_equal(floating.T[3], drifted)


def test_a_rest_is_searched_standing_even_after_the_free_searches_are_spent(box_scene):
    """The standing search (seconds) runs at every rest; only the free search (a first frame's cost) has
    a budget. A cup paused in the air twice spent that budget, and its put-down, turned 65 degrees while
    carried, was then only polished and held so to the end."""
    from video2robo.geometry.so3 import rotation_angle
    from video2robo.parse.fit_video import TrackingOptions
    from video2robo.parse.settle import resettle

    model, K, T_true, frame, image, gray, (n, foot) = _resting_box(box_scene)
    turned = T_true.copy()
    turned[:3, :3] = trimesh.transformations.rotation_matrix(np.pi / 2, n)[:3, :3] @ T_true[:3, :3]
    opt = TrackingOptions()
    o = _put_down(model, K, T_true, turned, frame.mask.shape, opt)
    o.searches = opt.settle_searches
    C = np.repeat(np.eye(4)[None], 4, axis=0)
    assert resettle(o, 3, frame, image, C, gray, (n, foot), [], opt)
    assert np.linalg.norm(o.T[3][:3, 3] - T_true[:3, 3]) < 0.005
    assert rotation_angle(o.T[3][:3, :3], T_true[:3, :3]) < np.deg2rad(15)
    assert o.searches == opt.settle_searches


@pytest.mark.parametrize("table_below, stands", [(0.0, True), (0.3, False)])
def test_a_first_pose_floating_off_the_table_is_searched_standing_on_it(box_scene, table_below, stands):
    """A first fit 12 cm nearer along its ray than the resting box (a silhouette fixes depth worst, and a
    shadow in the mask made a brush float so) is searched again standing on the table. With the table
    30 cm below the box (held up in the air), standing on it explains the silhouette too badly to be taken."""
    from video2robo.geometry.so3 import rotation_angle
    from video2robo.parse.fit_video import TrackingOptions
    from video2robo.parse.settle import stand

    model, K, T_true, frame, image, gray, (n, foot) = _resting_box(box_scene)
    floating = T_true.copy()
    floating[:3, 3] *= 0.75
    opt = TrackingOptions()
    o = _put_down(model, K, T_true, floating, frame.mask.shape, opt)
    o.T0, o.used[0], o.valid[0] = [floating], frame.mask, True
    assert stand(o, (n, foot - table_below * n), [], gray, opt, frame) == ("searched" if stands else "")
    if stands:
        assert np.linalg.norm(o.T[0][:3, 3] - T_true[:3, 3]) < 0.005
        assert rotation_angle(o.T[0][:3, :3], T_true[:3, :3]) < np.deg2rad(10)
        np.testing.assert_allclose(o.T0[0], o.T[0])
    else:
        np.testing.assert_array_equal(o.T0[0], floating)


@pytest.mark.parametrize("beaten_iou", [None, 0.6])
def test_a_standing_pose_that_beats_the_tracked_one_is_taken_on_a_poor_mask_at_the_end(box_scene, beaten_iou):
    """At the video's end the hand may still be beside the put-down object, and its mask holds a part of
    it: the standing pose explains it worse than `settle_rest_iou` (0.9 here; IoU 0.73). Taken when it
    explains it better than the tracked pose (turned a quarter and 3 cm off: 0.34) does; otherwise not."""
    from video2robo.geometry.so3 import rotation_angle
    from video2robo.parse.fit_video import TrackingOptions
    from video2robo.parse.settle import resettle

    model, K, T_true, frame, image, gray, (n, foot) = _resting_box(box_scene)
    ys, xs = np.nonzero(frame.mask)
    blob = np.zeros_like(frame.mask)
    width = round(0.2 * frame.mask.sum() / (ys.max() + 1 - ys.min()))  # a hand's part, a fifth of its area
    blob[ys.min(): ys.max() + 1, xs.max() + 1: xs.max() + 1 + width] = True
    image = image.copy()
    image[blob] = image[frame.mask].mean(0).astype(np.uint8)  # in the object's colours: segmentation keeps it
    mask = frame.mask | blob
    frame = FrameInput(image.astype(np.float32) / 255, mask, ignore=np.zeros_like(mask))
    tracked = T_true.copy()
    tracked[:3, :3] = trimesh.transformations.rotation_matrix(np.pi / 2, n)[:3, :3] @ T_true[:3, :3]
    tracked[:3, 3] += 0.03 * np.cross(n, [0.0, 0.0, 1.0]) / np.linalg.norm(np.cross(n, [0.0, 0.0, 1.0]))
    opt = TrackingOptions(settle_rest_iou=0.9)
    o = _put_down(model, K, T_true, tracked, mask.shape, opt)
    o.searches = opt.settle_searches  # no free search: the standing one alone
    C = np.repeat(np.eye(4)[None], 4, axis=0)
    changed = resettle(o, 3, frame, image, C, gray, (n, foot), [], opt, beaten_iou=beaten_iou)
    assert changed is (beaten_iou is not None)
    if changed:
        assert np.linalg.norm(o.T[3][:3, 3] - T_true[:3, 3]) < 0.02
        assert rotation_angle(o.T[3][:3, :3], T_true[:3, :3]) < np.deg2rad(15)


@pytest.mark.parametrize("unsettled, rests, last_residual, expected", [
    (True, [], 0.05, True),  # moved, its rest never searched
    (False, [], 0.40, False),  # never put down (a resting target covered at the end)
    (False, [(30, 40)], 0.05, False),  # its searched rest still fits
    (False, [(30, 40)], 0.26, True),  # searched with the hand still beside it: it no longer fits
])
def test_the_rest_is_searched_at_the_end_when_missed_or_no_longer_fitting(unsettled, rests, last_residual, expected):
    from types import SimpleNamespace

    from video2robo.parse.fit_video import TrackingOptions
    from video2robo.parse.settle import needs_end_search

    o = SimpleNamespace(unsettled=unsettled, rests=rests, residual=np.array([0.02, last_residual]))
    assert needs_end_search(o, TrackingOptions()) is expected


def test_a_rest_missed_while_tracking_is_searched_at_the_end_and_taken_back_over_the_frames_it_explains(box_scene):
    """An object put down whose drifted pose never held it, with its search budget spent: at the end of
    the video its pose is searched once more and replaces the tracked poses of the frames whose masks it
    explains, not those of the frames before, where it was still carried elsewhere."""
    from video2robo.parse.fit_video import TrackingOptions, _Object
    from video2robo.parse.settle import settle_at_end

    model, K, T_true, frame = box_scene
    image = (frame.rgb * 255).astype(np.uint8)
    gray = image.mean(-1).astype(np.uint8)
    n_frames, opt = 6, TrackingOptions()
    drifted = T_true.copy()
    drifted[:3, 3] *= 1.08  # resting since frame 3, tracked 4 cm too far
    carried = T_true.copy()
    carried[:3, 3] += [0.04, 0.0, -0.02]  # frames 1-2: in the hand, elsewhere
    fitter = ObjectFitter(model, K, FitConfig())
    h, w = frame.mask.shape
    carried_mask = fitter.render_full(carried, w, h, fine=True)[0] > 0.5
    o = _Object("box", model, K, FitConfig(), n_frames, 0, False, opt)
    o.T[:] = [T_true, carried, carried, drifted, drifted, drifted]
    o.T0 = list(o.T)
    o.valid[:] = [True, True, True, False, False, False]
    o.used = np.stack([frame.mask, carried_mask, carried_mask, frame.mask, frame.mask, frame.mask])
    o.ignored = np.zeros_like(o.used)
    o.fitter.history = list(o.T)
    o.unsettled, o.searches = True, opt.settle_searches
    n = T_true[:3, 2]
    foot = T_true[:3, :3] @ np.array([0.0, 0.0, -0.015]) + T_true[:3, 3]
    C = np.repeat(np.eye(4)[None], n_frames, axis=0)
    assert settle_at_end(o, image, None, C, gray, (n, foot), [], opt)
    for k in (3, 4, 5):
        assert np.linalg.norm(o.T[k][:3, 3] - T_true[:3, 3]) < 0.005 and o.valid[k]
    for k in (1, 2):
        np.testing.assert_array_equal(o.T[k], carried)
    assert o.resettled[5] and not o.unsettled


@pytest.mark.parametrize("hand_at_end", [0.0, 0.3])
def test_the_let_go_last_pose_goes_back_over_the_hold_under_the_hand(box_scene, hand_at_end):
    """Put down at frame 3 and pressed there by the hand until the last frame: held (its tracks still)
    but fitted 3 cm above its true place to the part the hand left visible. Let go in the last frame,
    where its fit is right, that pose goes back over the hold; while the hand is still on it, nothing
    changes (the carried frames before never do)."""
    from video2robo.parse.fit_video import TrackingOptions, _Object
    from video2robo.parse.settle import settle_at_end

    model, K, T_true, frame = box_scene
    image = (frame.rgb * 255).astype(np.uint8)
    gray = image.mean(-1).astype(np.uint8)
    n_frames, opt = 6, TrackingOptions()
    up = T_true[:3, 2]
    pressed, carried = T_true.copy(), T_true.copy()
    pressed[:3, 3] += 0.03 * up
    carried[:3, 3] += [0.04, 0.0, -0.02]
    o = _Object("box", model, K, FitConfig(), n_frames, 0, False, opt)
    o.T[:] = [T_true, carried, carried, pressed, pressed, T_true]
    o.T0 = list(o.T)
    o.valid[:] = True
    o.held[:] = [False, False, False, True, True, False]
    o.hand[:] = [np.nan, 0.3, 0.3, 0.3, 0.3, hand_at_end]
    o.residual[:] = 0.05
    top = frame.mask & (np.cumsum(frame.mask, axis=0) <= 5)  # what the hand leaves visible
    o.used = np.stack([frame.mask, frame.mask, frame.mask, top, top, frame.mask])
    o.ignored = np.zeros_like(o.used)
    o.fitter.history = list(o.T)
    o.unsettled, o.searches = True, opt.settle_searches
    foot = T_true[:3, :3] @ np.array([0.0, 0.0, -0.015]) + T_true[:3, 3]
    C = np.repeat(np.eye(4)[None], n_frames, axis=0)
    settle_at_end(o, image, None, C, gray, (up, foot), [], opt)
    for k in (1, 2):
        np.testing.assert_array_equal(o.T[k], carried)
    for k in (3, 4):
        if hand_at_end:
            np.testing.assert_array_equal(o.T[k], pressed)
        else:
            np.testing.assert_allclose(o.T[k], o.T[5], atol=1e-9)
            assert np.linalg.norm(o.T[k][:3, 3] - T_true[:3, 3]) < 0.005
    assert (o.rests[-1] == (3, 5)) == (not hand_at_end)


def test_a_rest_searched_afresh_goes_back_over_the_untouched_frames_before_its_held_run(box_scene):
    """Put down at frame 3 and tracked 4 cm off from there (held at 3 and 5, a re-fit at 4 between); its
    rest searched afresh at frame 5 replaces frames 3-5, which the hand did not touch, and not the
    carried frames 1-2; were the hand still on it at 3-4, only the held run (frame 5) would change."""
    from video2robo.parse.fit_video import TrackingOptions, _Object
    from video2robo.parse.settle import resettle
    from video2robo.pose.fit import FrameInput

    model, K, T_true, frame = box_scene
    image = (frame.rgb * 255).astype(np.uint8)
    gray = image.mean(-1).astype(np.uint8)
    n_frames, opt = 6, TrackingOptions()
    drifted = T_true.copy()
    drifted[:3, 3] *= 1.08
    carried = T_true.copy()
    carried[:3, 3] += [0.04, 0.0, -0.02]
    h, w = frame.mask.shape
    carried_mask = ObjectFitter(model, K, FitConfig()).render_full(carried, w, h, fine=True)[0] > 0.5
    n = T_true[:3, 2]
    foot = T_true[:3, :3] @ np.array([0.0, 0.0, -0.015]) + T_true[:3, 3]
    C = np.repeat(np.eye(4)[None], n_frames, axis=0)
    for hand_after, changed in ((0.0, (3, 4, 5)), (0.3, (5,))):
        o = _Object("box", model, K, FitConfig(), n_frames, 0, False, opt)
        o.T[:] = [T_true, carried, carried, drifted, drifted, drifted]
        o.T0 = list(o.T)
        o.held[:] = [False, False, False, True, False, True]
        o.hand[:] = [np.nan, 0.3, 0.3, hand_after, hand_after, 0.0]
        o.used = np.stack([frame.mask, carried_mask, carried_mask, frame.mask, frame.mask, frame.mask])
        o.ignored = np.zeros_like(o.used)
        o.fitter.history = list(o.T)
        o.ref_T, o.ref_C = drifted, C[5]
        still = FrameInput(frame.rgb, frame.mask, ignore=np.zeros_like(frame.mask))
        assert resettle(o, 5, still, image, C, gray, (n, foot), [], opt)
        for k in range(1, 6):
            if k in changed:
                assert np.linalg.norm(o.T[k][:3, 3] - T_true[:3, 3]) < 0.005, (hand_after, k)
            else:
                np.testing.assert_array_equal(o.T[k], carried if k < 3 else drifted)
        assert o.rests == [(changed[0], 5)]


def test_a_carry_tracked_off_is_replaced_by_tracking_it_backwards_from_the_rest_it_ended_in(box_scene):
    """Frames 1-3 of a carry were tracked 25 degrees turned and 3 cm too deep; frames 4-5 are the rest it
    ended in, searched afresh. Tracked backwards from that rest, the carry's frames (here: the box never
    really left it) come out at the true pose and replace the forward track from frame 1 on; the first
    frame's rest is left alone."""
    from video2robo.geometry.so3 import rotation_angle
    from video2robo.parse.fit_video import TrackingOptions, _Object
    from video2robo.parse.retrack import retrack

    model, K, T_true, frame = box_scene
    image = (frame.rgb * 255).astype(np.uint8)
    n_frames, opt = 6, TrackingOptions()
    off = T_true.copy()
    off[:3, :3] = trimesh.transformations.rotation_matrix(np.deg2rad(25), [0, 0, 1])[:3, :3] @ T_true[:3, :3]
    off[:3, 3] *= 1.06
    o = _Object("box", model, K, FitConfig(), n_frames, 0, False, opt)
    o.T[:] = [T_true, off, off, off, T_true, T_true]
    o.used = np.repeat(frame.mask[None], n_frames, axis=0)
    o.ignored = np.zeros_like(o.used)
    o.rests = [(4, 5)]
    o.mask_source[:] = 0
    frames = np.repeat(image[None], n_frames, axis=0)
    C = np.repeat(np.eye(4)[None], n_frames, axis=0)
    assert retrack(o, frames, None, C, None, opt) == 3
    for k in (1, 2, 3):
        assert np.linalg.norm(o.T[k][:3, 3] - T_true[:3, 3]) < 0.01, k
        assert rotation_angle(o.T[k][:3, :3], T_true[:3, :3]) < np.deg2rad(5), k
        assert o.retracked[k] and o.valid[k]
    np.testing.assert_array_equal(o.T[0], T_true)
    assert not o.retracked[0] and not o.retracked[4:].any()


def test_a_pose_under_the_table_is_slid_back_onto_it_along_its_ray(box_scene):
    from video2robo.parse.fit_video import TrackingOptions, _Object
    from video2robo.parse.settle import above_table
    from video2robo.pose.rest import heights

    model, K, T_true, _ = box_scene
    n = T_true[:3, 2]  # the box rests on its model -z face
    foot = T_true[:3, :3] @ np.array([0.0, 0.0, -0.015]) + T_true[:3, 3]
    opt = TrackingOptions()
    o = _Object("box", model, K, FitConfig(), 1, 0, False, opt)
    pts = o.fitter.model_de.means.numpy().astype(np.float64)
    C = np.eye(4)
    C[:3, 3] = [0.02, -0.01, 0.03]  # the camera has moved since the first frame
    T_cam0 = T_true.copy()
    sunk = T_cam0.copy()
    sunk[:3, 3] *= 1.3  # 15 cm further along the first camera's ray: well under the table
    T = above_table(o, C @ sunk, C, (n, foot), opt)
    assert heights(np.linalg.inv(C) @ T, pts, (n, foot)).min() == pytest.approx(0.0, abs=1e-6)
    ray_now = (C @ sunk)[:3, 3]
    assert np.linalg.norm(np.cross(T[:3, 3], ray_now)) < 1e-9  # along the current camera's ray
    lifted = T_cam0.copy()
    lifted[:3, 3] *= 0.9  # nearer, above the table: carried, left alone
    np.testing.assert_array_equal(above_table(o, C @ lifted, C, (n, foot), opt), C @ lifted)


def test_a_steady_hand_share_at_rest_counts_as_let_go(box_scene):
    """A put-down object is searched afresh when a hand's share leaves it, or when the share stays put
    for `settle_wait` resting frames (changed pixels that do not move are not a hand)."""
    from video2robo.parse.fit_video import TrackingOptions, _hand_still, _Object

    model, K, _, _ = box_scene
    opt = TrackingOptions(settle_wait=3, settle_hand_still=0.02)
    o = _Object("box", model, K, FitConfig(), 8, 0, False, opt)
    o.held[:] = [True, False, False, False, True, True, True, True]
    o.hand[:] = [0.0, 0.4, 0.3, 0.2, 0.11, 0.10, 0.10, 0.10]
    assert not _hand_still(o, 5, opt)  # resting only two frames
    assert _hand_still(o, 6, opt) and _hand_still(o, 7, opt)
    o.hand[4:] = [0.30, 0.20, 0.12, 0.10]  # the hand is pulling away: wait for it
    assert not _hand_still(o, 6, opt)
    o.hand[5] = np.nan  # not measured
    assert not _hand_still(o, 6, opt)
    o.held[5] = False  # moved in between
    o.hand[4:] = 0.1
    assert not _hand_still(o, 7, opt)


def test_rotation_prior_loss_is_one_minus_the_cosine_of_the_angle():
    from video2robo.geometry.so3 import axis_angle_to_rotmat
    from video2robo.pose.losses import rotation_prior_loss

    rng = np.random.default_rng(1)
    for _ in range(5):
        R = axis_angle_to_rotmat(rng.normal(size=3))
        axis = rng.normal(size=3)
        axis /= np.linalg.norm(axis)
        angle = rng.uniform(0, np.pi)
        R_prior = axis_angle_to_rotmat(axis * angle) @ R
        loss = rotation_prior_loss(torch.as_tensor(R), torch.as_tensor(R_prior))
        assert float(loss) == pytest.approx(1 - np.cos(angle), abs=1e-9)
        assert float(rotation_prior_loss(torch.as_tensor(R), torch.as_tensor(R))) == pytest.approx(0.0, abs=1e-12)


def test_tracking_without_evidence_turns_toward_the_predicted_rotation(box_scene):
    """Where the image says nothing (every pixel hidden), the tracked rotation follows the motion model's
    prediction (LossWeights.rotation), and stays put without it."""
    from dataclasses import replace

    from video2robo.geometry.so3 import axis_angle_to_rotmat, rotation_angle

    model, K, T_true, frame = box_scene
    R_prior = axis_angle_to_rotmat(np.array([0.0, 0.0, 0.3])) @ T_true[:3, :3]
    hidden = replace(frame, ignore=np.ones_like(frame.mask), R_prior=R_prior)
    turned = {}
    for weight in (0.0, 1.0):
        cfg = FitConfig()
        cfg.weights.rotation = weight
        T, parts, _ = ObjectFitter(model, K, cfg)._adam(hidden, T_true, 40, 40, with_tracks=True)
        assert ("rotation" in parts) == (weight > 0)
        turned[weight] = rotation_angle(T[:3, :3], R_prior)
    assert turned[0.0] == pytest.approx(0.3, abs=1e-3)
    assert turned[1.0] < 0.15, turned


@pytest.mark.parametrize("near", [0.7, 0.75])
def test_tracking_moves_a_thin_stick_fitted_too_near_back_along_its_ray(stick_scene, near):
    """Steps across the ray and turns bounded by the stick's width (FitConfig.lr_width): with sideways
    steps of 2 % of its length, each step left the stick's own silhouette and the fit stayed too near."""
    model, K, T_true, frame = stick_scene
    fitter = ObjectFitter(model, K, FitConfig())
    T = T_true.copy()
    T[:3, 3] *= near
    for _ in range(4):
        T, _, _ = fitter._adam(frame, T, 20, 6, with_tracks=False, small_steps=True)
    assert abs(T[2, 3] - T_true[2, 3]) < 0.2 * (1 - near) * T_true[2, 3], T[2, 3]


def test_first_frame_keeps_the_hypothesis_lower_on_the_full_objective(box_scene, monkeypatch):
    """The colour-weighted search can end in a worse minimum of its own objective than the
    silhouette-weighted one (a box 5.6 cm off at 0.670, IoU 0.95, against 0.5 cm off at 0.646, IoU 0.98):
    the first frame then keeps the latter, though its IoU is not better by `hypothesis_margin`; and the
    former when it is the lower."""
    model, K, T_true, frame = box_scene
    off = T_true.copy()
    off[:3, 3] *= 0.9
    for sil_value, expected in ((0.646, T_true), (0.675, off)):
        fitter = ObjectFitter(model, K, FitConfig(polish_iters=0))
        outcomes = iter([off, T_true])
        monkeypatch.setattr(fitter, "_de", lambda *a, **k: np.eye(4))
        monkeypatch.setattr(fitter, "_adam", lambda *a, **k: (next(outcomes), {}, None))
        monkeypatch.setattr(fitter, "silhouette_iou", lambda T, *a: 0.98 if T is T_true else 0.95)
        monkeypatch.setattr(fitter, "objective", lambda frame, T, v=sil_value: v if T is T_true else 0.670)
        monkeypatch.setattr(fitter, "_finish", lambda frame, T, *a, **k: T)
        assert fitter.first(frame) is expected


@pytest.mark.parametrize("poor_iou", [True, False])
def test_first_frame_searches_again_from_another_seed_when_the_fit_is_poor(box_scene, monkeypatch, poor_iou):
    """FitConfig.restart_iou: a first search that fits its mask poorly (a local minimum) is run again from
    the next DE seed and the lower objective kept; a good first fit is not searched again."""
    model, K, T_true, frame = box_scene
    off = T_true.copy()
    off[:3, 3] *= 0.9
    fitter = ObjectFitter(model, K, FitConfig(polish_iters=0, silhouette_hypothesis=0.0, seed=5))
    seeds = []
    monkeypatch.setattr(fitter, "_de", lambda *a, seed=None, **k: seeds.append(seed) or (off if len(seeds) == 1 else T_true))
    monkeypatch.setattr(fitter, "_adam", lambda frame, T, *a, **k: (T, {}, None))
    monkeypatch.setattr(fitter, "silhouette_iou", lambda T, *a: 0.99 if T is T_true else (0.90 if poor_iou else 0.96))
    monkeypatch.setattr(fitter, "objective", lambda frame, T: 0.9 if T is T_true else 1.1)
    monkeypatch.setattr(fitter, "_finish", lambda frame, T, *a, **k: T)
    result = fitter.first(frame)
    assert seeds == ([5, 6] if poor_iou else [5])
    assert result is (T_true if poor_iou else off)


def test_objective_is_lowest_near_the_true_pose(box_scene):
    model, K, T_true, frame = box_scene
    fitter = ObjectFitter(model, K, FitConfig())
    off = T_true.copy()
    off[:3, 3] *= 0.93
    assert fitter.objective(frame, T_true) < fitter.objective(frame, off)


def test_a_lost_frame_is_searched_over_all_turns_not_only_near_the_prediction(stick_scene):
    """Tracking from a prediction a quarter turn off (a stick turned under the hand) loses the mask; the
    re-initialisation's search around the predicted rotation cannot reach back, the whole search does."""
    model, K, T_true, frame = stick_scene
    turned = T_true.copy()
    turned[:3, :3] = trimesh.transformations.rotation_matrix(np.pi / 2, [0, 0, 1])[:3, :3] @ T_true[:3, :3]
    fitter = ObjectFitter(model, K, FitConfig(de_popsize=8, de_maxiter=15, upright_prior=False))
    fitter.history = [turned]
    r = fitter.next(frame, T_init=turned)
    assert r.reinitialised and r.valid and r.residual < 0.3, r.residual
    axis_cos = abs(r.T_cam_obj[:3, 2] @ T_true[:3, 2])  # the stick's axis (a cylinder: its twins are as good)
    assert axis_cos > np.cos(0.25), np.degrees(np.arccos(axis_cos))  # its depth is another matter (see above)


def test_fingers_across_a_colour_detection_do_not_make_a_right_fit_read_as_lost(box_scene):
    from video2robo.perception.masks import bbox, hull_gaps

    model, K, T_true, frame = box_scene
    fitter = ObjectFitter(model, K, FitConfig())
    fitter.hold(frame, T_true, valid=True)  # the frame before: at rest, uncovered
    c0, r0, c1, r1 = bbox(frame.mask)
    held = frame.mask.copy()
    for x in np.linspace(c0 + 3, c1 - 6, 4).astype(int):  # four fingers across the box, half its width
        held[r0 : (r0 + r1) // 2 + 4, x : x + max(2, (c1 - c0) // 8)] = False
    fingered = FrameInput(frame.rgb, held)
    from video2robo.pose.crop import crop_around

    crop = crop_around(held, fitter.cfg.crop_size)
    assert fitter.silhouette_iou(T_true, fingered, crop) < 0.85
    judged = FrameInput(frame.rgb, held, unjudged=hull_gaps(held))
    assert fitter.silhouette_iou(T_true, judged, crop) > 0.95
    r = fitter.next(judged, T_init=T_true)  # the fit itself still reads the gaps: it stays put
    assert r.valid and not r.reinitialised and np.linalg.norm(r.T_cam_obj[:3, 3] - T_true[:3, 3]) < 0.01
