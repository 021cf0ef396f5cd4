"""Colour-model re-detection (perception.colour_model) and the depth guard of video tracking."""

import numpy as np

from video2robo.perception.colour_model import ColourModel
from video2robo.perception.masks import iou


def _scene(obj_at, hand_at=None, size=(120, 200)):
    img = np.full(size + (3,), 235, np.uint8)  # white table
    img[::7] = 215  # some texture
    mask = np.zeros(size, bool)
    y, x = obj_at
    img[y : y + 20, x : x + 14] = (200, 30, 30)  # red can with a thin brown label stripe
    img[y : y + 20, x + 11 : x + 14] = (125, 45, 35)
    mask[y : y + 20, x : x + 14] = True
    if hand_at is not None:
        hy, hx = hand_at
        img[hy : hy + 60, hx : hx + 70] = (125, 45, 35)  # a big brown hand shares the stripe's colour
    return img, mask


def test_detect_anywhere_finds_an_object_far_from_its_prediction():
    img0, mask0 = _scene((20, 20))
    cm = ColourModel(img0, mask0)
    assert cm.distinctive
    img1, mask1 = _scene((80, 150))  # moved ~140 px: no local search reaches it
    assert cm.support(img1, mask0) < 0.1  # the predicted (old) silhouette is table now
    found = cm.detect_anywhere(img1, mask0, band_px=3)
    assert (found & mask1).sum() >= 0.8 * mask1.sum() and (found & ~mask1).sum() <= 0.1 * mask1.sum()


def test_learnt_background_keeps_a_hand_from_passing_for_the_object():
    img0, mask0 = _scene((20, 20))
    cm = ColourModel(img0, mask0)
    img1, mask1 = _scene((25, 60), hand_at=(5, 120))  # hand appears, object still tracked: learn
    assert cm.probability(img1)[10, 130] > cm.opt.threshold  # unseen at first: the hand passes for the can
    cm.learn_background(img1, ~mask1)
    assert cm.probability(img1)[10, 130] < cm.opt.threshold
    img2, mask2 = _scene((80, 20), hand_at=(70, 150))  # object moved far; the hand is in view too
    found = cm.detect_anywhere(img2, mask1, band_px=3)
    assert (found & mask2).sum() >= 0.8 * mask2.sum()
    assert not found[70:, 150:].any()


def test_strict_colours_exclude_what_the_object_never_showed():
    img0, mask0 = _scene((20, 20))  # ~300 object pixels against ~24000 of table
    cm = ColourModel(img0, mask0)
    img1 = img0.copy()
    img1[60:100, 100:160] = (40, 90, 200)  # a blue thing enters: a colour seen nowhere at first
    strict = cm.strict[cm._bin_index(img1)]
    assert strict[80, 130] < 0.5 and strict[25, 25] > cm.opt.threshold
    np.testing.assert_array_equal(strict, cm.strict_probability(img1))
    for both, one in zip(cm.probabilities(img1), (cm.probability(img1), strict)):
        np.testing.assert_array_equal(both, one)
    img1[20:40, 20:34] = img1[60:80, 100:114]
    assert not (cm.detect_anywhere(img1, mask0, band_px=3) & (img1[..., 2] == 200)).any()


def test_detect_takes_the_whole_object_beyond_a_prediction_that_covers_part_of_it():
    size = (120, 240)
    img = np.full(size + (3,), 235, np.uint8)
    img[::7] = 215
    brush = np.zeros(size, bool)
    img[40:60, 20:50] = (200, 160, 110)  # a tan head...
    img[46:54, 50:200] = (40, 140, 140)  # ...and a long teal handle
    brush[40:60, 20:50] = brush[46:54, 50:200] = True
    img[60:100, 20:60] = (90, 160, 60)  # a green board under the head, in none of the brush's colours
    cm = ColourModel(img, brush)
    prior = np.zeros(size, bool)  # a fit turned 30 degrees about the head: its handle over the table
    prior[40:60, 20:50] = True
    for k in range(150):
        prior[50 + round(0.5 * k) - 4 : 50 + round(0.5 * k) + 4, 50 + round(0.87 * k)] = True
    assert (prior & brush).sum() < 0.5 * brush.sum()
    found = cm.detect(img, prior, search_px=5)
    assert (found & brush).sum() >= 0.95 * brush.sum()  # the handle's far end, 70 px beyond the search band
    assert not found[62:100].any()  # not the board beside it
    hand = np.zeros(size, bool)
    hand[40:60, 150:240] = True  # what is excluded stays excluded, also beyond the band
    assert not (cm.detect(img, prior, search_px=5, exclude=hand) & hand).any()


def _lift_scene():
    """A red object with a stripe in the hand's colour, not distinctive (a static red poster shares its
    colours), (image, mask) at rest, with the hand come in, and lifted far under the hand; and the
    colour model that has learnt the hand as a mover from the second frame."""
    def scene(obj_at, hand_at=None):
        img, mask = _scene(obj_at)
        img[5:25, 160:185] = (200, 30, 30)  # the static red poster
        if hand_at is not None:
            hy, hx = hand_at
            img[hy : hy + 25, hx : hx + 30] = (125, 45, 35)
            mask[hy : hy + 25, hx : hx + 30] = False
        return img, mask

    shots = [scene((80, 20)), scene((80, 20), hand_at=(20, 60)), scene((60, 110), hand_at=(45, 100))]
    img0 = shots[0][0]
    return shots, lambda img: np.abs(img.astype(int) - img0).sum(-1) > 30, ColourModel(*shots[0])


def test_detect_moved_finds_a_lifted_object_among_what_changed_not_the_hand():
    """Found among the changed pixels once the hand's colours are learnt: not the hand, not the poster."""
    ((_, mask0), (img1, mask1), (img2, mask2)), changed_of, cm = _lift_scene()
    assert not cm.distinctive and not cm.knows_movers
    assert not (cm.probabilities(img2)[2] <= cm.opt.threshold).any()  # no colour is the movers' before they are learnt
    assert not cm.detect_moved(img2, mask0, changed_of(img2), 3).any()  # the movers are not known yet
    cm.learn_movers(img1, changed_of(img1) & ~mask1)
    assert cm.knows_movers
    found = cm.detect_moved(img2, mask0, changed_of(img2), 3)
    red = mask2 & (img2[..., 1] == 30)  # its visible red (its stripe is the hand's colour: no telling them apart)
    assert (found & red).sum() >= 0.8 * red.sum()
    assert not found[45:70, 100:130][~mask2[45:70, 100:130]].any()  # not the hand
    assert not found[5:25, 160:185].any()  # not the static poster in its colours
    mover_like = cm.probabilities(img2)[2] <= cm.opt.threshold  # likelier the hand's colours than the object's
    assert mover_like[50, 110] and not mover_like[75, 112]


def testchoose_mask_regains_a_lifted_object_among_what_changed():
    """choose_mask: nothing near the prediction (the object rested where it is predicted), so the
    prediction is kept, unless the changed pixels are known: then the lifted object is found there."""
    from types import SimpleNamespace

    from video2robo.parse.fit_video import TrackingOptions
    from video2robo.parse.mask_choice import choose_mask

    ((_, mask0), (img1, mask1), (img2, mask2)), changed_of, cm = _lift_scene()
    cm.learn_movers(img1, changed_of(img1) & ~mask1)
    obj = SimpleNamespace(colour=cm, pnp_ok=False, alpha=mask0.astype(np.float32))  # predicted at rest
    none = np.zeros_like(mask0)
    assert choose_mask(obj, img2, none, none, False, None, TrackingOptions())[1] == "prior"
    mask, source, _ = choose_mask(obj, img2, none, none, False, changed_of(img2), TrackingOptions())
    assert source == "redetect" and iou(mask, mask2) > 0.6


def test_a_propagated_mask_leaked_onto_the_table_loses_to_the_colour_detection():
    """choose_mask: the prediction followed a propagated mask that leaked onto the table (a tilted cup's
    shadow); agreement with the prediction alone would keep the leak, but most of it is not in the
    object's colours, so the colour detection is chosen. A clean propagated mask is still taken."""
    from types import SimpleNamespace

    from video2robo.parse.fit_video import TrackingOptions
    from video2robo.parse.mask_choice import choose_mask

    img0, mask0 = _scene((40, 60))
    cm = ColourModel(img0, mask0)
    assert cm.own_support > 0.9
    leak = mask0.copy()
    leak[40:60, 74:86] = True  # 12 px of table beside the 14 px wide object
    none = np.zeros_like(mask0)
    obj = SimpleNamespace(colour=cm, pnp_ok=True, alpha=leak.astype(np.float32))  # predicted on the leak
    mask, source, _ = choose_mask(obj, img0, leak, none, False, None, TrackingOptions())
    assert source == "colour" and iou(mask, mask0) > 0.9
    obj.alpha = mask0.astype(np.float32)
    assert choose_mask(obj, img0, mask0, none, False, None, TrackingOptions())[1] == "perception"


def test_indistinct_colours_never_redetect():
    img = np.full((60, 80, 3), 200, np.uint8)
    mask = np.zeros((60, 80), bool)
    mask[10:30, 10:30] = True  # same colour as everything else
    cm = ColourModel(img, mask)
    assert not cm.distinctive and not cm.detect_anywhere(img, mask, 3).any()


def test_depth_limited_slides_along_the_ray():
    from video2robo.parse.fit_video import _depth_limited

    T = np.eye(4)
    T[:3, 3] = [0.1, -0.05, 1.0]
    out = _depth_limited(T, z_ref=0.6, max_step=0.05)
    assert np.isclose(out[2, 3], 0.65)
    assert np.allclose(out[:3, 3] / out[2, 3], T[:3, 3] / T[2, 3])  # same pixel
    assert np.allclose(out[:3, :3], T[:3, :3])
    assert _depth_limited(T, z_ref=0.98, max_step=0.05) is T


def test_a_resting_object_moves_only_on_evidence():
    """_rests: most tracks still → rests; almost none → moved; undecided or no tracks → the rest pose's
    silhouette decides outside the ignored pixels (a hand covering the object is not a move) for an
    object already resting; a moving one needs its tracks."""
    from types import SimpleNamespace

    from video2robo.parse.fit_video import TrackingOptions, _rests

    opt = TrackingOptions()
    silhouette = np.zeros((40, 40), bool)
    silhouette[10:30, 10:30] = True

    image = np.zeros((40, 40, 3), np.uint8)
    image[silhouette] = (200, 30, 30)  # the object is red; the table is black

    def obj(still, at=silhouette):
        return SimpleNamespace(tracks=SimpleNamespace(still_fraction=lambda *a: still), ref_T=np.eye(4),
                               colour=ColourModel(image, silhouette),
                               fitter=SimpleNamespace(render_full=lambda T, w, h, fine: (at.astype(float), None)))

    none = np.zeros_like(silhouette)
    rests, fit = _rests(obj(0.9), np.eye(4), none, none, True, image, True, opt)
    assert rests and np.isnan(fit)  # no fit needed to confirm anything
    assert _rests(obj(0.1), np.eye(4), silhouette, none, True, image, True, opt)[0] is False  # the tracks saw it move
    hand = np.zeros_like(silhouette)
    hand[10:30, 10:22] = True  # covers 60 % of the object: its visible rest fits what is left of the mask
    rests, fit = _rests(obj(float("nan")), np.eye(4), silhouette & ~hand, hand, True, image, True, opt)
    assert rests and fit == 1.0
    moved = np.roll(silhouette, 12, axis=1)  # the mask is elsewhere: the rest pose fits it badly
    rests, fit = _rests(obj(0.4), np.eye(4), moved, none, True, image, True, opt)
    assert not rests and fit < 0.5
    # no observed mask (our own prior): the object's colours at the rest pose decide
    assert _rests(obj(float("nan")), np.eye(4), silhouette, none, False, image, True, opt)[0]
    lifted = np.zeros_like(image)  # the object left: only the table's colours remain where it rested
    assert not _rests(obj(float("nan")), np.eye(4), silhouette, none, False, lifted, True, opt)[0]
    # a moving object (not resting in the previous frame) comes to rest only on its tracks' word
    assert not _rests(obj(float("nan")), np.eye(4), silhouette & ~hand, hand, True, image, False, opt)[0]
    assert not _rests(obj(0.4), np.eye(4), silhouette, none, True, image, False, opt)[0]
    assert _rests(obj(0.9), np.eye(4), none, none, True, image, False, opt)[0]


def test_another_object_hides_only_pixels_in_its_colours_not_the_objects():
    """hidden_by_others: a black tray rendered in front of a red can (its model's depth wrong, the can
    put down on it) hides only the pixels that show the tray's colours, not the can's; beside the can's
    prediction the tray's pixels are all ignored; without colour models every pixel in front is hidden."""
    from types import SimpleNamespace

    from video2robo.parse.occlusion import hidden_by_others

    h, w = 60, 80
    image = np.full((h, w, 3), 235, np.uint8)  # white table
    tray = np.zeros((h, w), bool)
    tray[20:55, 10:70] = True
    image[tray] = (20, 20, 20)
    can = np.zeros((h, w), bool)
    can[25:45, 30:44] = True
    image[can] = (200, 30, 30)
    first = np.full((h, w, 3), 235, np.uint8)  # first frame: the can on the table, the tray empty
    first[tray] = (20, 20, 20)
    first[2:22, 2:16] = (200, 30, 30)
    can0 = np.zeros((h, w), bool)
    can0[2:22, 2:16] = True
    predicted = np.zeros((h, w), bool)
    predicted[22:45, 30:44] = True  # the can's prediction, 3 rows too high: 3 rows of tray inside it
    o = SimpleNamespace(alpha=predicted.astype(np.float32), depth=np.full((h, w), 0.7, np.float32),
                        colour=ColourModel(first, can0))
    p = SimpleNamespace(name="tray", alpha=tray.astype(np.float32), depth=np.full((h, w), 0.6, np.float32),
                        colour=ColourModel(first, tray))
    occ = hidden_by_others(o, [p], {}, 0, image)
    assert not (occ & can).any()  # the can's own pixels stay evidence
    assert occ[22:25, 30:44].all()  # the tray's inside the prediction is hidden
    assert (occ == (tray & ~can)).all()  # and all of the tray beside it
    o.colour = None  # no colour model: whatever is rendered in front is hidden
    assert (hidden_by_others(o, [p], {}, 0, image) == tray).all()
    p.alpha = None  # not rendered yet: its propagated mask
    seen = tray & ~can
    assert (hidden_by_others(o, [p], {"tray": [seen]}, 0, image) == seen).all()


def test_a_lost_thin_object_is_regained_from_a_nearby_blob_of_its_colours():
    """choose_mask: a stick that moved more than its width overlaps its prediction nowhere; once lost
    (the last fit was not valid) a blob of its colours of about its size near the prediction is taken;
    a blob of another size is not, and while not lost the prediction is kept."""
    from types import SimpleNamespace

    from video2robo.parse.fit_video import TrackingOptions
    from video2robo.parse.mask_choice import choose_mask

    opt = TrackingOptions()
    image = np.full((120, 200, 3), 230, np.uint8)
    image[::5] = 210
    stick0 = np.zeros((120, 200), bool)
    stick0[50:54, 30:170] = True  # 140 px long, 4 px thick
    image[stick0] = (30, 140, 150)
    image[100:, :40] = (30, 140, 150)  # its colours elsewhere too: not distinctive, no whole-frame search
    obj = SimpleNamespace(colour=ColourModel(image, stick0), pnp_ok=False)
    assert not obj.colour.distinctive
    moved = np.roll(stick0, 9, axis=0)  # 9 px down: no overlap with the prediction
    image1 = image.copy()
    image1[stick0] = image[0:4, 30:170].reshape(-1, 3)[0]
    image1[moved] = (30, 140, 150)
    obj.alpha = stick0.astype(np.float32)  # predicted where it was
    none = np.zeros_like(stick0)
    mask, source, _ = choose_mask(obj, image1, none, none, True, None, opt)
    assert source == "redetect" and iou(mask, moved) > 0.8
    assert choose_mask(obj, image1, none, none, False, None, opt)[1] == "prior"
    image2 = image1.copy()
    image2[40:80, 60:140] = (30, 140, 150)  # a big blob of its colours is not the stick
    assert choose_mask(obj, image2, none, none, True, None, opt)[1] == "prior"


def test_an_object_has_settled_when_held_or_its_fits_stop_moving():
    from types import SimpleNamespace

    from video2robo.geometry import axis_angle_to_rotmat, make_pose
    from video2robo.parse.fit_video import TrackingOptions, _settled

    opt = TrackingOptions()

    def obj(step, angle=0.0, held=False, valid=True):
        a = np.eye(4)
        b = make_pose(axis_angle_to_rotmat(np.array([0.0, 0.0, angle])), np.array([step, 0.0, 0.0]))
        return SimpleNamespace(held=np.array([False, False, held]), valid=np.array([True, True, valid]), first=0,
                               T0=[a, b], fitter=SimpleNamespace(size=0.1))

    assert _settled(obj(0.05, held=True), 3, opt)  # held: at rest whatever the fits did
    assert _settled(obj(0.001), 3, opt)  # 1 mm of a 10 cm object: still
    assert not _settled(obj(0.02), 3, opt)  # 2 cm: moving
    assert not _settled(obj(0.0, angle=0.2), 3, opt)  # turning (a pour)
    assert not _settled(obj(0.002, valid=False), 3, opt)  # the last fit failed: unknown
    assert _settled(obj(0.05), 1, opt)  # the frame after the first


def test_mask_extent_and_thickness():
    from video2robo.perception.masks import extent_px, thickness_px

    stick = np.zeros((60, 200), bool)
    stick[20:24, 10:150] = True  # 140 long, 4 thick
    assert extent_px(stick) == 140 and thickness_px(stick) == 4.0
    assert extent_px(stick.T) == 140 and thickness_px(stick.T) == 4.0
    empty = np.zeros_like(stick)
    assert extent_px(empty) == 0 and thickness_px(empty) == 0.0


def test_changed_pixels_in_colours_the_object_never_showed_are_no_evidence():
    from video2robo.parse.mask_choice import hand_and_unexplained

    img0, mask0 = _scene((20, 20))
    cm = ColourModel(img0, mask0)
    img1, mask1 = _scene((50, 100))  # the can moved; a blue hand holds it
    img1[45:75, 90:100] = (40, 90, 200)
    changed = np.zeros(mask1.shape, bool)
    changed[40:80, 85:125] = True  # what differs from the first frame's table there
    assert cm.probability(img1)[60, 95] > cm.opt.threshold  # the lenient posterior takes the hand for the can
    hand, unexplained = hand_and_unexplained(changed, cm, img1)
    assert hand[45:75, 90:100].all() and unexplained[45:75, 90:100].all()
    assert not (unexplained & mask1).any()  # the can's own colours stay evidence
    assert not unexplained[~changed].any()


def test_movers_are_learnt_only_from_frames_whose_fits_are_trusted():
    """learn_movers: the changed pixels away from every object teach the colour model the hand, but
    only when every object's fit is valid, good and on an observed mask (else the object itself, off its
    fit, may be among them)."""
    from types import SimpleNamespace

    from video2robo.parse.fit_video import TrackingOptions
    from video2robo.parse.mask_choice import MASK_SOURCES, learn_movers

    ((img0, mask0), (img1, mask1), _), changed_of, _ = _lift_scene()

    def obj(source="perception", valid=True, residual=0.1):
        return SimpleNamespace(colour=ColourModel(img0, mask0), alpha=mask0.astype(np.float32),
                               used=np.array([mask0, mask1]), valid=np.array([True, valid]),
                               residual=np.array([0.0, residual]), mask_source=np.array([0, MASK_SOURCES.index(source)]))

    for o, learns in ((obj(), True), (obj("prior"), False), (obj(valid=False), False), (obj(residual=0.4), False)):
        learn_movers([o], changed_of(img1), img1, 1, TrackingOptions())
        assert o.colour.knows_movers == learns


def test_only_what_stands_high_enough_over_the_table_may_hide_an_object():
    """too_low_to_hide: of another object's render beside o's prediction, a board 1 cm over the table
    hides nothing (o rendered there would be in front of it: evidence), a box 10 cm tall may hide o;
    where o's own prediction is, its depth decides as before (not returned)."""
    from types import SimpleNamespace

    from video2robo.parse.occlusion import too_low_to_hide

    K = np.array([[100.0, 0, 50], [0, 100.0, 40], [0, 0, 1]])
    plane = (np.array([0.0, 0.0, -1.0]), np.array([0.0, 0.0, 0.5]))  # camera 50 cm over the table, looking down
    board = np.zeros((80, 100), bool)
    board[10:30, 10:40] = True
    box = np.zeros((80, 100), bool)
    box[50:70, 60:90] = True
    o_alpha = np.zeros((80, 100))
    o_alpha[20:30, 30:70] = 1.0  # o's prediction over part of the board
    depth = np.where(board, 0.49, np.where(box, 0.40, 0.0))
    others = [SimpleNamespace(alpha=board.astype(float), depth=depth, colour=None),
              SimpleNamespace(alpha=box.astype(float), depth=depth, colour=None)]
    o = SimpleNamespace(alpha=o_alpha, colour=None)
    low = too_low_to_hide(o, others, np.eye(4), plane, K, np.zeros((80, 100, 3), np.uint8), 0.03)
    assert (low == (board & (o_alpha <= 0.5))).all()
    # the camera moved: the table's pose in its frame comes from T_cam0_cam
    T_cam0_cam = np.eye(4)
    T_cam0_cam[2, 3] = -0.05  # the first camera was 5 cm nearer the table: the board is 6 cm over it
    assert not too_low_to_hide(o, others, T_cam0_cam, plane, K, np.zeros((80, 100, 3), np.uint8), 0.03).any()


def test_a_fit_seen_over_another_object_is_slid_in_front_of_it():
    """in_front_where_seen: a small cube fitted 5 cm behind a big cube's front face, where the frame
    shows the small cube over the big one, comes forward along its viewing ray by about that much; where
    its mask does not overlap the big cube, or it lies in front already, its pose is kept."""
    from types import SimpleNamespace

    import trimesh

    from video2robo.gaussians.from_mesh import mesh_to_gaussians
    from video2robo.parse.occlusion import in_front_where_seen
    from video2robo.pose.fit import FitConfig, ObjectFitter

    K = np.array([[200.0, 0, 80], [0, 200.0, 60], [0, 0, 1]])
    w, h = 160, 120
    mesh = trimesh.creation.box(extents=[0.05, 0.05, 0.05])
    mesh.visual.vertex_colors = np.tile([40, 160, 40, 255], (len(mesh.vertices), 1))
    o = SimpleNamespace(fitter=ObjectFitter(mesh_to_gaussians(mesh, num=1500, seed=0), K, FitConfig()))
    big = np.zeros((h, w), np.float32)
    big[20:110, 20:140] = 1.0  # the big cube's front face, 50 cm away, covers the middle of the image
    surface = (big, np.where(big > 0, 0.5, 0.0).astype(np.float32))
    T = np.eye(4)
    T[:3, 3] = [0.0, 0.0, 0.575]  # the small cube's front face 5 cm behind the big cube's
    alpha, _ = o.fitter.render_full(T, w, h)
    seen = alpha > 0.5
    out = in_front_where_seen(o, T, [surface], seen, 16, 0.01)
    assert np.allclose(out[:3, 3] / np.linalg.norm(out[:3, 3]), T[:3, 3] / np.linalg.norm(T[:3, 3]))  # along the ray
    assert 0.04 < T[2, 3] - out[2, 3] < 0.06
    _, depth = o.fitter.render_full(out, w, h)
    assert np.median(depth[seen] - 0.5) <= 0.01  # now in front where seen
    assert (in_front_where_seen(o, T, [surface], np.zeros((h, w), bool), 16, 0.01) == T).all()  # not seen over it
    T_front = T.copy()
    T_front[2, 3] = 0.45
    assert (in_front_where_seen(o, T_front, [surface], seen, 16, 0.01) == T_front).all()  # in front already
    assert (in_front_where_seen(o, T, [], seen, 16, 0.01) == T).all()  # no other object rendered


def test_a_stick_found_by_a_collapsed_prediction_is_taken_whole_along_its_colours():
    """detect_anywhere with stick_px: a stick predicted tilted toward the camera (its silhouette a short
    blob) is placed on the stick's end only; the rest of the stick's colour blob joins it, unless that
    would make it longer than the stick can look (stick_px). stick_px is 0 for an object that is no stick."""
    from types import SimpleNamespace

    from video2robo.parse.fit_video import TrackingOptions
    from video2robo.parse.mask_choice import stick_px

    image = np.full((120, 200, 3), 230, np.uint8)
    image[::5] = 210
    stick = np.zeros((120, 200), bool)
    stick[20:24, 30:170] = True  # 140 px long, 4 px thick
    image[stick] = (40, 160, 60)
    cm = ColourModel(image, stick)
    assert cm.distinctive
    moved = np.roll(stick, 60, axis=0)  # lifted far from the prediction
    image1 = np.full_like(image, 230)
    image1[::5] = 210
    image1[moved] = (40, 160, 60)
    blob = np.zeros_like(stick)
    blob[20:24, 30:50] = True  # the prediction: 20 px of it
    part = cm.detect_anywhere(image1, blob, band_px=3)
    assert 0 < part.sum() < 0.4 * moved.sum()
    whole = cm.detect_anywhere(image1, blob, band_px=3, stick_px=160)
    assert iou(whole, moved) > 0.95
    np.testing.assert_array_equal(cm.detect_anywhere(image1, blob, band_px=3, stick_px=100), part)
    hand = np.zeros_like(stick)
    hand[70:100, 170:185] = True  # in the stick's colours, touching its far end, and known as the hand
    image1[hand] = (40, 160, 60)
    assert iou(cm.detect_anywhere(image1, blob, band_px=3, stick_px=160, exclude=hand), moved) > 0.95
    assert (cm.detect_anywhere(image1, blob, band_px=3, stick_px=200) & hand).sum() > 0.9 * hand.sum()

    K = np.array([[500.0, 0, 100], [0, 500.0, 60], [0, 0, 1]])
    alpha = blob.astype(np.float32)
    depth = np.where(blob, 0.5, 0.0)
    opt = TrackingOptions()
    drumstick = SimpleNamespace(fitter=SimpleNamespace(K=K, size=0.3, width=0.02, scale=1.0), alpha=alpha, depth=depth)
    assert stick_px(drumstick, opt) == 300  # 0.3 m at 0.5 m, f = 500 px
    cup = SimpleNamespace(fitter=SimpleNamespace(K=K, size=0.17, width=0.1, scale=1.0), alpha=alpha, depth=depth)
    assert stick_px(cup, opt) == 0
