"""Which of an object's pixels the other objects hide in a frame (parse.fit_video, step 2): where another
object is rendered in front of it, its losses ignore the pixels (occlusion is not evidence of absence),
unless the frame shows that pixel in the object's own colours, or the other object lies too flat on the
table for anything to be behind it; and where the frame shows the object over another one, its fit is
not behind that one (`in_front_where_seen`). Parts of parse.fit_video's per-frame loop, on its per-object state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from video2robo.parse.fit_video import _Object


def hidden_by_others(o: _Object, others: list[_Object], masks: dict, i: int, image: np.ndarray) -> np.ndarray:
    """Pixels of frame i where another object is (its propagated mask, before its first render) or is
    rendered in front of o's prediction, which o's losses ignore. In front is believed only where the
    frame shows that object's colours rather than o's: a model's depth can be wrong where its silhouette
    is right (a flat tray's single-view "pillow" bulges 14 cm toward the camera and hid the can put
    down on it, so its fit there had no pixels to explain), and a pixel in o's colours that are not the
    other object's is o's evidence."""
    h, w = image.shape[:2]
    occ = np.zeros((h, w), bool)
    mine = None
    for p in others:
        if p.alpha is None:
            occ |= masks[p.name][i]
            continue
        front = p.alpha > 0.5
        occ |= front & (o.alpha <= 0.5)
        over = front & (o.alpha > 0.5) & (p.depth < o.depth)
        if over.any() and o.colour is not None and o.colour.usable and p.colour is not None and p.colour.usable:
            if mine is None:
                mine = o.colour.strict_probability(image) > o.colour.opt.threshold
            over &= ~(mine & (p.colour.probability(image) <= p.colour.opt.threshold))
        occ |= over
    return occ


def too_low_to_hide(o: _Object, others: list[_Object], T_cam0_cam: np.ndarray, plane, K: np.ndarray,
                     image: np.ndarray, height: float) -> np.ndarray:
    """Pixels of the other objects' renders, away from o's prediction, whose surface is less than
    `height` above the table and which show that object's colours rather than o's. The camera looks down
    on the table, so behind such a pixel (a board, a plate) there is no room for o: o rendered there
    would be in front of it, where the frame shows the board. They stay out of o's mask but are evidence
    against o there, not pixels to ignore (ignored, a brush's handle turned over the board it swept,
    half a turn off, cost nothing)."""
    n, foot = plane
    K_inv = np.linalg.inv(K)
    out = np.zeros(image.shape[:2], bool)
    mine = None
    for p in others:
        if p.alpha is None:
            continue
        ys, xs = np.nonzero((p.alpha > 0.5) & (o.alpha <= 0.5))
        if not len(ys):
            continue
        X = (K_inv @ np.stack([xs + 0.5, ys + 0.5, np.ones(len(xs))])) * p.depth[ys, xs]  # camera frame
        X0 = T_cam0_cam[:3, :3] @ X + T_cam0_cam[:3, 3:4]  # first camera's frame, where the table is
        low = (n @ (X0 - foot[:, None])) < height
        if o.colour is not None and o.colour.usable and p.colour is not None and p.colour.usable:
            if mine is None:
                mine = o.colour.strict_probability(image) > o.colour.opt.threshold
            theirs = p.colour.probability(image)[ys, xs] > p.colour.opt.threshold
            low &= ~(mine[ys, xs] & ~theirs)
        out[ys[low], xs[low]] = True
    return out


def bounds_depth(p: _Object, k: int) -> bool:
    """Whether p's render in frame k bounds the other objects' depths (`in_front_where_seen`): p rests
    there and its shape is given (a mesh or 3DGS file). A moving object's fit may be what is off: a cup
    fitted 15 cm toward the camera covered the bowl's pixels with its silhouette, and the bowl, "seen over
    it", was pushed 15 cm forward. A model built from the video guesses its shape: a can set down on a
    single-view plate read up to 13 cm behind the plate's surface where seen over it."""
    return k >= p.first and bool(p.held[k]) and p.given_shape


def in_front_where_seen(o: _Object, T: np.ndarray, surfaces: list[tuple[np.ndarray, np.ndarray]], mask: np.ndarray,
                        min_px: int, tolerance: float) -> np.ndarray:
    """T slid toward the camera along its viewing ray when o, fitted at T, is rendered behind another
    object's surface (`surfaces`: the rendered alpha and depth of each trusted object) where the frame
    shows o over that object (its `mask` there): what is seen is in front. The shift is the median depth
    by which o lies behind at those pixels, taken when it exceeds `tolerance` (m) over at least `min_px`
    of them. A silhouette barely bounds depth while a hand covers most of an object: a cube set down onto
    a cube was fitted 6 cm down inside it, at a silhouette as good. The surfaces are those of the objects
    that `bounds_depth`; without any, T is kept unrendered."""
    if not surfaces:
        return T
    alpha, depth = o.fitter.render_full(T, mask.shape[1], mask.shape[0])
    seen = mask & (alpha > 0.5)
    shift = 0.0
    for other_alpha, other_depth in surfaces:
        both = seen & (other_alpha > 0.5)
        if both.sum() >= min_px:
            shift = max(shift, float(np.median(depth[both] - other_depth[both])))
    if shift <= tolerance:
        return T
    out = T.copy()
    out[:3, 3] *= max(T[2, 3] - shift, 0.5 * T[2, 3]) / T[2, 3]
    return out
