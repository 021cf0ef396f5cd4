"""Which pixels are an object's in a frame (parse.fit_video, steps 3 and 5): of its propagated mask, its
colour model's detections near the prediction, in the whole frame or among what changed since the first
frame, and the predicted silhouette itself; which changed pixels are the hand's rather than its own;
and the hand's colours learnt from the frames whose fits are trusted. Parts of parse.fit_video's
per-frame loop, on its per-object state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np

from video2robo.perception.masks import disk, extent_px, iou

if TYPE_CHECKING:
    from video2robo.parse.fit_video import TrackingOptions, _Object
    from video2robo.perception.colour_model import ColourModel

MASK_SOURCES = ("perception", "prior", "none", "colour", "redetect")


def band_px(silhouette: np.ndarray, frac: float) -> int:
    """frac × the silhouette's extent in pixels (its length, for a thin stick: not its area's diameter)."""
    return max(3, round(frac * extent_px(silhouette)))


def stick_px(obj: _Object, opt: TrackingOptions) -> int:
    """The longest the object can look in the image at its predicted depth (pixels), when it is a stick:
    its middle principal extent under `stick_width` × its size (a drumstick's is 0.07 of it, a brush's 0.38).
    0 otherwise, or without a prediction."""
    f = obj.fitter
    if f.width >= opt.stick_width * f.size or obj.depth is None or not (obj.alpha > 0.5).any():
        return 0
    z = float(np.median(obj.depth[obj.alpha > 0.5]))
    return int(np.ceil(max(f.K[0, 0], f.K[1, 1]) * f.size * f.scale / max(z, 1e-3)))


def choose_mask(obj: _Object, frame: np.ndarray, observed: np.ndarray, occ: np.ndarray, lost: bool,
                changed: np.ndarray | None, opt: TrackingOptions):
    """(mask, source, pixels to ignore) for one object: see parse.fit_video step 3. `lost`: the last
    frame's fit was not valid; `changed`: pixels that differ from the first frame's view of the table and
    of the resting target (None: unknown)."""
    full = obj.alpha > 0.5
    prior = full & ~occ
    if obj.colour is not None and obj.colour.distinctive and full.sum() >= 16:
        if prior.sum() < opt.hidden_frac * full.sum() and obj.colour.support(frame, full) >= 2 * opt.lost_support:
            # predicted hidden behind another object, yet its colours are right there: the prediction
            # sank behind that object (a depth error), so the occlusion is not believed
            occ = np.zeros_like(occ)
            prior = full
        elif obj.colour.support(frame, prior if prior.sum() >= 16 else full) < opt.lost_support:
            # the predicted silhouette is mostly not the object's colour: the object is elsewhere
            found = obj.colour.detect_anywhere(frame, full, band_px(full, opt.band_frac), stick_px(obj, opt),
                                               exclude=occ)
            if found.sum() >= 16:
                return found, "redetect", occ
    observed = observed & ~occ
    if prior.sum() < 16:
        return (observed, "perception", occ) if observed.sum() >= 16 else (observed, "none", occ)
    search = band_px(prior, opt.band_frac if obj.pnp_ok else opt.lost_band_frac)
    near = cv2.dilate(prior.astype(np.uint8), disk(search)) > 0
    candidates = {"perception": observed & near}
    if obj.colour is not None:
        candidates["colour"] = obj.colour.detect(frame, prior, search, exclude=occ)
    scores = {k: iou(m, prior) if m.sum() >= 16 else 0.0 for k, m in candidates.items()}
    if obj.colour is not None and obj.colour.usable and scores["perception"] > 0:
        # a propagated mask that leaked onto the background (a cup's shadow, the table under its tilted
        # rim) is mostly not in the object's colours; the prediction alone cannot tell, once it follows
        scores["perception"] *= min(1.0, obj.colour.support(frame, candidates["perception"]) / max(obj.colour.own_support, 1e-6))
    best = max(scores, key=scores.get)
    if scores[best] >= opt.mask_agree_iou:
        return candidates[best], best, occ
    if scores.get("colour", 0.0) >= opt.redetect_iou:  # the prediction is off; the colours know better
        return candidates["colour"], "colour", occ
    colour = None if obj.colour is None or not lost else obj.colour.detect(frame, prior, search, exclude=occ, touching=False)
    if colour is not None and opt.regain_area[0] <= colour.sum() / prior.sum() <= opt.regain_area[1]:
        # lost since the last frame and a blob of the object's colours of about its size nearby: start there
        return colour, "redetect", occ
    if changed is not None and obj.colour is not None:
        # nothing near the prediction: the object moved further than any local search reaches; look for
        # its colours among what changed, told apart from the hand's (ColourModel.detect_moved)
        found = obj.colour.detect_moved(frame, full, changed, band_px(full, opt.band_frac))
        if found.sum() >= 16:
            return found, "redetect", occ
    return prior, "prior", occ


def hand_and_unexplained(changed: np.ndarray, colour: ColourModel, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(hand, unexplained) among the pixels that `changed` from the first frame's table or resting target
    (perception.occluders; over the target, the hand that sets an object down on it): `hand`, those in
    colours the object never (or barely) showed (its `strict` posterior) or that are likelier the other
    movers' (ColourModel.probabilities' `apart`: a hand whose skin the can's print shares); `unexplained`, those and the
    ones its lenient posterior rejects too. The hand, mostly, or a face of the object unseen at first,
    or blur: no evidence either way, so the fit ignores them. Read as the object (the lenient
    posterior's "an unseen colour is about as likely the object's"), the hand around a held object made
    up a third of its mask and pulled the fit toward the camera."""
    thr = colour.opt.threshold
    lenient, strict, apart = colour.probabilities(image)
    hand = changed & ((strict <= thr) | (apart <= thr))
    return hand, hand | (changed & (lenient <= thr))


def learn_movers(objs: list[_Object], changed: np.ndarray, image: np.ndarray, i: int, opt: TrackingOptions) -> None:
    """Teach every object's colour model the colours of what changed in frame i away from all the
    objects (the hand and arm: ColourModel.learn_movers), when every object's fit there is trusted: on
    its observed mask, valid and at most `learn_residual` off (else the object itself may be among them)."""
    trusted = {MASK_SOURCES.index("perception"), MASK_SOURCES.index("colour")}
    if not all(o.valid[i] and o.residual[i] <= opt.learn_residual and o.mask_source[i] in trusted for o in objs):
        return
    movers = changed.copy()
    for o in objs:
        seen = o.used[i] | (o.alpha > 0.05) if o.alpha is not None else o.used[i]
        if seen.any():
            movers &= cv2.dilate(seen.astype(np.uint8), disk(band_px(seen, opt.band_frac))) == 0
    for o in objs:
        if o.colour is not None:
            o.colour.learn_movers(image, movers)
