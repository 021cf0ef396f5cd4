"""Colour-model re-detection (perception.colour_model) and the depth guard of video tracking."""

import numpy as np

from video2robo.perception.colour_model import ColourModel


def _scene(obj_at, hand_at=None, size=(120, 200)):
    img = np.full(size + (3,), 235, np.uint8)  # white table
    img[::7] = 215  # some texture
    mask = np.zeros(size, bool)
    y, x = obj_at
    img[y : y + 20, x : x + 14] = (200, 30, 30)  # red can with a thin brown label stripe
    img[y : y + 20, x + 12 : x + 14] = (125, 45, 35)
    mask[y : y + 20, x : x + 14] = True
    if hand_at is not None:
        hy, hx = hand_at
        img[hy : hy + 30, hx : hx + 25] = (125, 45, 35)  # a brown hand shares the stripe's colour
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
    assert not found[70:100, 150:175].any()


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
    silhouette decides outside the ignored pixels (a hand covering the object is not a move)."""
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
    rests, fit = _rests(obj(0.9), np.eye(4), none, none, True, image, opt)
    assert rests and np.isnan(fit)  # no fit needed to confirm anything
    assert _rests(obj(0.1), np.eye(4), silhouette, none, True, image, opt)[0] is False  # the tracks saw it move
    hand = np.zeros_like(silhouette)
    hand[10:30, 10:22] = True  # covers 60 % of the object: its visible rest fits what is left of the mask
    rests, fit = _rests(obj(float("nan")), np.eye(4), silhouette & ~hand, hand, True, image, opt)
    assert rests and fit == 1.0
    moved = np.roll(silhouette, 12, axis=1)  # the mask is elsewhere: the rest pose fits it badly
    rests, fit = _rests(obj(0.4), np.eye(4), moved, none, True, image, opt)
    assert not rests and fit < 0.5
    # no observed mask (our own prior): the object's colours at the rest pose decide
    assert _rests(obj(float("nan")), np.eye(4), silhouette, none, False, image, opt)[0]
    lifted = np.zeros_like(image)  # the object left: only the table's colours remain where it rested
    assert not _rests(obj(float("nan")), np.eye(4), silhouette, none, False, lifted, opt)[0]
