"""Objects coming to rest: their poses corrected by what they stand on.

A tracked pose is worst along the viewing ray, and drifts there while a hand carries the object. Once
it rests, its support (the table under the `table_object`, or another object's top) and its fresh,
uncovered view fix it again: on its first frame (`stand`), and each time it is put down and let go
(`resettle`). Parts of parse.fit_video's per-frame loop, on its per-object state.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from video2robo.perception.masks import bbox, extent_px, iou

if TYPE_CHECKING:
    from video2robo.parse.fit_video import TrackingOptions, _Object


def points(o: _Object, coarse: bool = True) -> np.ndarray:
    """The object's model points (m, its model frame, its fitted scale): the search model's unless not `coarse`."""
    return (o.fitter.model_de if coarse else o.fitter.model).means.numpy().astype(np.float64) * o.fitter.scale


def height_range(o: _Object, T0: np.ndarray, plane: tuple[np.ndarray, np.ndarray]) -> tuple[float, float]:
    """Lowest and highest height (m) of the object's model at T0 (first camera's frame) above the table."""
    from video2robo.pose.rest import heights

    h = heights(T0, points(o), plane)
    return float(h.min()), float(h.max())


def resettle(o: _Object, i: int, frame, image: np.ndarray, C: np.ndarray, gray: np.ndarray, plane,
             others: list[_Object], opt: TrackingOptions, rest_start=None, beaten_iou: float | None = None) -> bool:
    """Search the pose of an object that was put down and let go at frame i afresh and, when that explains
    its silhouette as well, take it for the whole rest so far and as the rest pose from now on. While
    carried, under the hand, a tracked pose drifts (in depth, mostly) and no later frame corrects it: the
    object is then held at the wrong rest pose to the end. Resting and uncovered, it is as well observed as
    on the first frame, and segmented the same way: GrabCut from a box around its mask and its silhouette
    (the colour-model mask of a put-down object was half of it, or took its shadow in). It stands on the
    table or on another object (`plane`: the table, (n, foot) in the first camera's frame), which fixes
    the depth a silhouette leaves open: ObjectFitter.rest_search, at every rest. When it does not stand
    as it stood at first, ObjectFitter.relocalise searches freely (at most `settle_searches` times per
    object: each costs about a first frame's search), and that pose must still rest on something
    (`settle_support`). The new pose goes back to `rest_start(o, i, T0_new, C, opt)`, by default the
    first frame of the rest (`_rest_began`). With `beaten_iou`, a standing pose that fits the mask better
    than the tracked pose (by `settle_gain`) is taken from that IoU on rather than `settle_rest_iou`.
    Returns whether the pose changed."""
    from video2robo.perception.grabcut import GrabCutSegmenter
    from video2robo.perception.prompts import ObjectPrompt

    h, w = gray.shape
    region = frame.mask | (o.fitter.render_full(o.T[i], w, h, fine=True)[0] > 0.5)
    c0, r0, c1, r1 = bbox(region)
    pad = 0.1 * extent_px(region)
    box = (max(c0 - pad, 0), max(r0 - pad, 0), min(c1 + pad, w), min(r1 + pad, h))
    segmented = GrabCutSegmenter().segment(image, ObjectPrompt(o.name, box=box)) & ~frame.ignore
    if segmented.sum() >= 16 and iou(segmented, frame.mask) >= opt.settle_mask_iou:
        frame = replace(frame, mask=segmented)
    # standing as it stood at first: a search over turn and position (seconds), tried at every rest
    stands_on = [(p.T0[-1], points(p)) for p in others if p.T0]
    T0_new, iou_new = o.fitter.rest_search(frame, C[i], plane, [o.T0[0][:3, :3]], stands_on)
    iou_old = o.fitter.polish_iou(o.T[i], frame)
    floor = opt.settle_rest_iou if beaten_iou is None or iou_new < iou_old + opt.settle_gain else beaten_iou
    if T0_new is not None and iou_new < max(iou_old - opt.settle_rest_slack, floor):
        T0_new = None
    if T0_new is None:  # not standing as it stood at first (tipped over?): the unconstrained search
        T_new, iou_new, iou_old, searched = o.fitter.relocalise(frame, o.T[i], opt.settle_good_iou,
                                                                search=o.searches < opt.settle_searches)
        o.searches += searched
        if iou_new < iou_old + opt.settle_gain:
            return False
        T0_new = np.linalg.inv(C[i]) @ T_new
        supports = [0.0] + [height_range(p, p.T0[-1], plane)[1] for p in others if p.T0]
        low = height_range(o, T0_new, plane)[0]
        if min(abs(low - s) for s in supports) > opt.settle_support:
            return False
    T_new = C[i] @ T0_new
    j = (rest_start or _rest_began)(o, i, T0_new, C, opt)
    for k in range(j, i + 1):
        o.T[k] = C[k] @ T0_new
    o.valid[j : i + 1] = True
    o.rests.append((j, i))
    o.residual[i], o.used[i] = 1.0 - iou_new, frame.mask
    o.fitter.amend_last(T_new)
    rest = min(i - j + 1, len(o.T0))  # held frames are valid: the motion model's last entries are the rest's
    o.T0[-rest:] = [T0_new] * rest  # (one changed entry alone would read as a jump: a velocity)
    o.ref_T, o.ref_C = T_new, C[i]
    alpha, depth = o.fitter.render_full(T_new, w, h, fine=True)
    o.tracks.clear()
    o.tracks.update(gray, T_new, alpha, depth, frame.mask & ~frame.ignore)
    return True


def _rest_began(o: _Object, i: int, T0_new: np.ndarray, C: np.ndarray, opt: TrackingOptions) -> int:
    """The first frame of the rest that ends at frame i: of the held run, and before it of the frames the hand did not
    touch (`hand` below `untouched_hand`) whose masks the new pose explains (`_explains`): nothing moved
    the object there, whatever its tracked pose did (a can put down was searched at rest 2 cm off, then
    again correctly four frames later; the jump between the two read as motion, its release 13 frames late)."""
    j = i
    while j - 1 > o.first and o.held[j - 1]:
        j -= 1
    while j - 1 > o.first and o.hand[j - 1] < opt.untouched_hand and _explains(o, j - 1, C[j - 1] @ T0_new, opt):
        j -= 1
    return j


def stored_frame(o: _Object, image: np.ndarray | None, depth: np.ndarray | None, k: int):
    """Frame k as its fit saw it: the image (uint8, or None), the depth map, and the mask the fit used
    with the pixels it ignored."""
    from video2robo.pose.fit import FrameInput

    rgb = None if image is None else image.astype(np.float32) / 255
    return FrameInput(rgb, o.used[k], depth, ignore=o.ignored[k])


def stored_iou(o: _Object, T: np.ndarray, k: int) -> float:
    """Silhouette IoU of the model at T with the mask frame k's fit used, its ignored pixels left out (on
    the polishing crop around that mask)."""
    return o.fitter.polish_iou(T, stored_frame(o, None, None, k))  # silhouette IoU reads only the masks


def _explained_since(o: _Object, i: int, T0_new: np.ndarray, C: np.ndarray, opt: TrackingOptions) -> int:
    """The first frame of the run ending at frame i whose masks the rest pose T0_new (first camera's frame)
    explains with an IoU of at least `settle_end_iou` and at most `settle_rest_slack` below the tracked pose's:
    the object rested there, whatever the tracker made of it. Where it was still carried, its tracked
    pose fits the mask better than the rest pose does. The residuals of the frames taken become the rest
    pose's."""
    j = i
    while j - 1 > o.first and _explains(o, j - 1, C[j - 1] @ T0_new, opt):
        j -= 1
    return j


def _explains(o: _Object, k: int, T: np.ndarray, opt: TrackingOptions) -> bool:
    """Whether pose T explains frame k's mask with an IoU of at least `settle_end_iou` and at most
    `settle_rest_slack` below the tracked pose's; if so, frame k's residual becomes T's."""
    if o.used[k].sum() < 16:
        return False
    new = stored_iou(o, T, k)
    if new < max(opt.settle_end_iou, stored_iou(o, o.T[k], k) - opt.settle_rest_slack):
        return False
    o.residual[k] = 1.0 - new
    return True


def needs_end_search(o: _Object, opt: TrackingOptions) -> bool:
    """Whether `settle_at_end` searches the object's rest at the last frame: it moved and its rest was
    never searched since, or its searched rest fits the last frame worse than `settle_end_residual`."""
    return bool(o.unsettled or (o.rests and o.residual[-1] > opt.settle_end_residual))


def settle_at_end(o: _Object, image: np.ndarray, depth: np.ndarray | None, C: np.ndarray, gray: np.ndarray,
                  plane, others: list[_Object], opt: TrackingOptions) -> bool:
    """An object that moved and whose rest was never searched afresh since (its drifted pose did not hold
    it, or what stayed beside it read as the hand: a put-down drumstick tracked 26 cm off), or whose rest
    pose no longer fits the last frame (`settle_end_residual`: searched while the hand was still beside
    it), rests at the end of the video: search it there as `resettle` does, one search beyond its
    budget, and take the new pose back over the frames it explains (`_explained_since`). The hand may
    still be beside it there, its mask worse than at a rest searched while tracking: a standing pose that
    fits it better than the tracked one is taken from `settle_end_beaten_iou` on (a put-down brush, tracked
    14.6 cm off standing on its end, IoU 0.62; standing as it stood first, 2.8 cm off, IoU 0.71). Returns
    whether the pose changed."""
    i = len(o.T) - 1
    if o.used[i].sum() < 16:
        return False
    frame = stored_frame(o, image, depth, i)
    o.searches = min(o.searches, opt.settle_searches - 1)
    changed = resettle(o, i, frame, image, C, gray, plane, others, opt, rest_start=_explained_since,
                       beaten_iou=opt.settle_end_beaten_iou)
    changed = _end_pose_back_over_hold(o, i, C, opt) or changed
    o.resettled[i] |= changed
    o.unsettled = not changed
    return changed


def _end_pose_back_over_hold(o: _Object, i: int, C: np.ndarray, opt: TrackingOptions) -> bool:
    """The last frame's pose (searched afresh or tracked), when let go of (`hand` below `settle_hand`)
    and fitting its mask at least `settle_rest_iou`, taken back over the held run before it (and before
    the frames already at that pose): held, the object did not move there (its tracks were still), so it
    stood where the uncovered last frame shows it, whatever was fitted to the part the hand left visible
    (a real can pressed onto a tray, held 3.6 cm above it under the hand for 8 frames, then let go in the
    video's last frame). Returns whether poses changed."""
    if not o.valid[i] or 1.0 - o.residual[i] < opt.settle_rest_iou or not o.hand[i] < opt.settle_hand:
        return False
    T0 = np.linalg.inv(C[i]) @ o.T[i]

    def there(k: int) -> bool:
        return np.allclose(np.linalg.inv(C[k]) @ o.T[k], T0, atol=1e-9)

    j, changed = i, False
    while j - 1 > o.first and (o.held[j - 1] or there(j - 1)):
        j -= 1
        if not there(j):
            o.T[j], changed = C[j] @ T0, True
    if changed:
        o.rests = [r for r in o.rests if r[1] != i] + [(j, i)]
    return changed


def stand(o: _Object, plane, others: list[_Object], gray: np.ndarray, opt: TrackingOptions, frame=None) -> str:
    """Put an object's first-frame pose onto what it stands on (the table, or the top of an object under
    it; pose.rest): slid along its viewing ray when its lowest point is within `first_support` of that
    (the first frame's search fixes an object's depth worst of its pose: a small cube sat 2.6 cm too
    near), else, given its first `frame`, searched afresh standing on it (`_rest_first`). An object at
    rest touches its support, and the source of a demonstration rests until it is grasped. Returns how
    it moved: "slid", "searched", or "" (it did not)."""
    from video2robo.pose.rest import heights, slide_onto, support_heights

    T0, mine = o.T0[0], points(o, coarse=False)
    low = float(heights(T0, mine, plane).min())
    below = [(p.T0[0], points(p)) for p in others if p.T0]
    h = min(support_heights(T0, mine, plane, below), key=lambda s: abs(s - low))
    if abs(h - low) < 1e-4:
        return ""
    how = "slid" if abs(h - low) <= opt.first_support else "searched"
    if how == "slid":
        T = slide_onto(T0, mine, plane, h, np.zeros(3))  # the first camera's frame is the camera's own
    elif frame is None or (T := _rest_first(o, frame, plane, below, opt)) is None:
        return ""
    i = o.first
    o.T[i] = o.T0[0] = o.ref_T = T
    o.fitter.amend_last(T)
    h_img, w_img = gray.shape
    o.alpha, o.depth = o.fitter.render_full(T, w_img, h_img, fine=True)
    o.tracks.clear()
    o.tracks.update(gray, T, o.alpha, o.depth, o.used[i])
    o.tracks.prev_gray = gray
    return how


def _rest_first(o: _Object, frame, plane, below: list, opt: TrackingOptions) -> np.ndarray | None:
    """The first-frame pose searched standing on the table or on an object (ObjectFitter.rest_search, on
    each of its sides: any model axis up), for a first fit that floats or sinks more than `first_support`
    off every support; None unless its silhouette IoU is at least `first_rest_iou` and at most
    `first_rest_slack` below the first fit's. A silhouette says least about depth, and a first mask that
    took in the object's shadow was explained best by a brush floating 18 cm above the table, 30 cm too
    near and turned 52° (IoU 0.86); standing on the table it was 1.5 cm and 4° off (IoU 0.72)."""
    from video2robo.pose.upright import AXES, rotation_taking

    iou_first = o.fitter.polish_iou(o.T0[0], frame)
    T, iou_rest = o.fitter.rest_search(frame, np.eye(4), plane, [rotation_taking(a, plane[0]) for a in AXES], below)
    if T is None or iou_rest < max(opt.first_rest_iou, iou_first - opt.first_rest_slack):
        return None
    o.residual[o.first] = 1.0 - iou_rest
    return T


def above_table(o: _Object, T: np.ndarray, C_i: np.ndarray, plane, opt: TrackingOptions) -> np.ndarray:
    """T (seen from the camera now, C_i = T_cam_cam0) slid back along its viewing ray onto the table
    when its lowest point is more than `below_table` (m) under it: nothing goes through the table, and
    further along a ray that looks down is lower, so a tracked pose drifting away from the camera (a
    carried drumstick sank 35 cm) is bounded where a silhouette cannot bound it."""
    from video2robo.pose.rest import heights, slide_onto

    C_inv = np.linalg.inv(C_i)
    T0 = C_inv @ T
    mine = points(o)
    if float(heights(T0, mine, plane).min()) >= -opt.below_table:
        return T
    return C_i @ slide_onto(T0, mine, plane, 0.0, C_inv[:3, 3])
