"""Pose tracking of all task objects through the video, frame by frame and jointly.

The fitted model is the source of truth and the propagated 2D masks are a noisy cue. The camera's own
motion is tracked from the table around the resting `table_object` (perception.camera_motion), so
motion models and the "did not move" test work in the first camera's frame, where a resting object
stays put however the phone moves. Per frame:
0. track the camera (`T_cam_cam0`);
1. predict each object's pose: PnP-RANSAC on its model-anchored point tracks (perception.model_tracks)
   moved by Lucas–Kanade, else a constant-velocity guess;
2. render every object at its prediction; where another object is in front, pixels are `ignore`d by
   the losses and removed from the mask (occlusion by the other object is not evidence of absence: `parse.occlusion`);
3. mark what is in front of the object and is none of the objects: pixels that differ from the first
   frame's table warped by the camera's motion (perception.occluders) in colours the object never
   showed (the hand, its shadow) are ignored too; how much of the object's surroundings the hand
   covers (`hand`, for the release) also counts those in front of the resting target, its first view
   re-projected through its rendered depth;
   choose the mask: of the propagated mask and the object's colour-model detection near the
   prediction, the one agreeing best with the predicted silhouette (the propagated mask's agreement
   discounted by how little of it is in the object's colours: a leak onto the shadow that the
   prediction has followed); the colour detection alone when
   only it overlaps the prediction somewhat (re-detection); for an object lost in the last frame, a
   nearby colour blob of about its size, the fit starting there; otherwise the predicted silhouette
   (a fit to it is not a valid pose: no evidence, and the motion model ignores it). The gaps in a colour
   detection's convex hull (fingers across a held can: its right fits read as lost) are not held against
   a fit when it is judged (`FrameInput.unjudged`), though the fit reads them (ignored, they let a
   tilting cup's fit drift 9 cm toward the camera). When
   the colour model is distinctive and the predicted silhouette is mostly not the object's colour
   (the object moved further than the tracks and the local search follow), the object's colour blob
   is looked for in the whole frame and the fit starts there (a stick's taken whole along its colours:
   its prediction tilted toward the camera is a short blob, which finds only its end); when nothing
   near the prediction will do, it is looked for among the pixels that changed since the first frame
   (on the table, or on the resting target), in colours that are its own rather than those of what
   else moved (the hand and arm, learnt from frames whose fits are trusted): a can lifted 60 px in one
   frame in front of a shirt of its colours (`parse.mask_choice`);
4. hold the pose (in the first camera's frame) while the object rests (`_rests`: the tracks, the
   camera's motion taken off, or when they cannot tell, its silhouette or colours at the rest pose), so
   a resting object stays put instead of jittering with its mask and drifting in depth; otherwise fit
   it (Adam from the prediction, with the track loss on the model-anchored tracks), and keep the rest
   pose anyway when the fit explains the mask hardly better than it does;
5. after a good fit, prune and re-seed the tracks from the render of the fitted pose;
6. when an object that moved rests again and the hand has let go of it, search its pose afresh, standing
   on the table or on another object as it stood at first (pose.rest), and take that for the whole rest
   (`parse.settle.resettle`; the camera tracked from the table, whose plane is then known): drift while
   carried is otherwise never corrected. Nothing goes through the table: a fit under it is slid back
   along its viewing ray (`parse.settle.above_table`), nothing sits behind an object the frame shows it
   over: a fit rendered behind it there is slid toward the camera (`parse.occlusion.in_front_where_seen`,
   on the backward track too), and each first-frame pose stands on its support (`parse.settle.stand`).
   An object that moved and still has no rest searched afresh at the end of the video (its drifted pose
   never held it) is searched there, and the pose goes back over the frames it explains
   (`parse.settle.settle_at_end`);
7. each carry that ended in such a rest is tracked backwards from it and joined with the forward track
   where the two explain the masks best (`parse.retrack`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import cv2
import numpy as np
from tqdm import tqdm

from video2robo.geometry.so3 import rotation_angle
from video2robo.parse.mask_choice import MASK_SOURCES, choose_mask, hand_and_unexplained, learn_movers
from video2robo.parse.occlusion import bounds_depth, hidden_by_others, in_front_where_seen, too_low_to_hide
from video2robo.parse.retrack import retrack_all
from video2robo.parse.settle import above_table, needs_end_search, resettle, settle_at_end, stand
from video2robo.perception.camera_motion import CameraMotionOptions, CameraTracker, table_plane
from video2robo.perception.colour_model import ColourModel
from video2robo.perception.masks import bbox, disk, hull_gaps, iou
from video2robo.perception.model_tracks import ModelTrackOptions, ModelTracks
from video2robo.perception.occluders import OccluderOptions, TableChanges
from video2robo.pose.motion import constant_velocity

@dataclass
class TrackingOptions:
    mask_agree_iou: float = 0.6  # an observed mask is used when it overlaps the predicted silhouette this well
    redetect_iou: float = 0.3  # ...the colour mask even when it overlaps less (the prediction is off)
    band_frac: float = 0.15  # observed masks count within this × the prediction's diameter of it...
    lost_band_frac: float = 0.3  # ...further when the prediction is only a constant-velocity guess
    still_px: float = 1.0  # a track that moved less than this since the last fit (camera motion taken off)...
    still_frac: float = 0.6  # ...is still; when this share of the tracks is, the pose is held;
    moved_frac: float = 0.2  # when less than this share is, the object moved (in between: see _rests)
    rest_iou: float = 0.75  # tracks undecided: held when the silhouette at rest still fits this well,
    move_gain: float = 0.1  # ...and moved only when the fit explains the mask this much better (IoU)
    settle_step: float = 0.02  # a moving object whose last fit moved less than this × its size...
    settle_angle: float = 0.0175  # ...and this (rad) has settled: its silhouette may hold it (see _rests)
    rest_support: float = 0.5  # no observed mask: held when this share of the rest silhouette has its colours
    max_depth_step: float = 0.3  # depth change per fitted frame at most this × the object's size
    hidden_frac: float = 0.2  # a prediction this little visible past the other objects counts as hidden
    learn_residual: float = 0.2  # fits at least this good (1 - IoU) teach the colour model the background
    lost_support: float = 0.25  # a distinctive colour model seeing less than this share of the predicted
    # silhouette in the object's colours means the object is not there: look for it in the whole frame
    stick_width: float = 0.2  # an object whose middle extent is under this × its size is a stick: one re-found
    # by its colours is taken whole along them (mask_choice.stick_px)
    regain_area: tuple[float, float] = (0.33, 3.0)  # a lost object is re-found in a colour blob near its
    # prediction whose area is within this × the predicted silhouette's, however little they overlap (wide:
    # lost, its depth is off, and with it its silhouette's size: a drumstick 40 cm too far showed half its area)
    hand_band_frac: float = 0.1  # `hand`: share of the object's silhouette, widened by this × its size, that
    # the occluder (the hand) covers
    settle_hand: float = 0.05  # an object put down (resting again after a move) and let go (`hand` below
    # this, or not measured) is searched afresh (parse.settle.resettle): first standing on the table or an object as it stood
    # on its first frame (pose.rest), taken when its silhouette IoU is at least `settle_rest_iou` and at
    # most `settle_rest_slack` worse than the tracked pose's (which is free to float or sink: a better
    # silhouette is not a better pose)...
    settle_wait: int = 3  # ...or resting this many frames with its `hand` share steady (within
    settle_hand_still: float = 0.02  # this; see _hand_still)...
    settle_searches: int = 2
    settle_rest_iou: float = 0.8
    settle_rest_slack: float = 0.02
    settle_good_iou: float = 0.9  # ...else freely: polished, and searched when that leaves its IoU below this
    # (at most `settle_searches` times per object: each costs about a first frame's search),
    settle_gain: float = 0.02  # ...the new pose taken when its silhouette IoU is better by this
    settle_mask_iou: float = 0.5  # its fresh segmentation is used when it agrees with its mask this well
    settle_support: float = 0.015  # ...and only a pose resting on something: its lowest point within this (m)
    # of the table or of another object's top (a flat lid re-searched on the box rose 4 cm off it, a better
    # silhouette fit floating in the air)
    retrack: bool = True  # track each carry backwards from the rest it ended in, and join the two tracks
    retrack_jump: float = 1.0  # (parse.retrack.join): the cost of a jump of one object size (or a half turn)
    # between them, in silhouette residuals (1 - IoU) summed over frames
    retrack_same: float = 0.05  # the two tracks agree within this jump...
    retrack_agree: int = 3  # ...for this many frames: the backward track stops
    untouched_hand: float = 0.02  # a rest pose searched afresh goes back over the frames before its held run
    # that the hand covered less than this share of (`hand`) and whose masks it explains (settle._rest_began)
    settle_end_residual: float = 0.15  # a rest searched afresh that fits the last frame worse than this (1 - IoU)
    # is searched there again (the hand was still beside a stacked cube when its rest was searched: 7.5 cm off)
    settle_end_iou: float = 0.6  # a pose searched at the end of the video is taken back over the frames whose
    # masks it explains at least this well and at most `settle_rest_slack` worse than the tracked poses did
    settle_end_beaten_iou: float = 0.6  # at the end, a standing pose beating the tracked one needs this IoU only
    below_table: float = 0.01  # a fitted pose reaching further than this (m) under the table is slid back
    # along its viewing ray onto it (parse.settle.above_table)
    front_min_px: int = 16  # a fit rendered behind another object where the frame shows it over that object
    front_tolerance: float = 0.01  # (at least this many pixels) by more than this (m) is slid in front of it
    # (occlusion.in_front_where_seen)
    hide_height: float = 0.03  # another object's surface lower than this (m) over the table hides nothing
    # behind it (occlusion.too_low_to_hide)
    first_support: float = 0.03  # a first-frame pose whose lowest point is within this (m) of the table
    # or of an object's top under it is slid onto it (parse.settle.stand); one further off is searched
    first_rest_iou: float = 0.6  # afresh standing on it, and taken when its silhouette IoU is at least this
    first_rest_slack: float = 0.2  # and at most this below the first fit's (parse.settle._rest_first)
    tracks: ModelTrackOptions = field(default_factory=ModelTrackOptions)
    camera: CameraMotionOptions = field(default_factory=CameraMotionOptions)
    occluders: OccluderOptions | None = field(default_factory=OccluderOptions)  # None: no occluder masks


class _Object:
    """Per-object state and per-frame results."""

    def __init__(self, name, model, K, fit_cfg, n, first, scale_free, opt: TrackingOptions):
        from video2robo.pose.fit import ObjectFitter

        self.name, self.first = name, first
        self.fitter = ObjectFitter(model, K, fit_cfg, scale_free=scale_free)
        self.tracks = ModelTracks(K, self.fitter.size, opt.tracks)
        self.T = np.repeat(np.eye(4)[None], n, axis=0)
        self.residual, self.valid = np.ones(n), np.zeros(n, bool)
        self.reinit, self.reacquired, self.held, self.pnp, self.resettled = (np.zeros(n, bool) for _ in range(5))
        self.hand = np.full(n, np.nan)  # share of the widened silhouette the occluder covers (NaN: not measured)
        self.mask_source = np.full(n, MASK_SOURCES.index("none"), np.int8)
        self.used = np.zeros((n,) + (0, 0), bool)  # the mask each frame's fit used...
        self.ignored = np.zeros((n,) + (0, 0), bool)  # ...and the pixels it ignored
        self.ref_T: np.ndarray | None = None  # pose of the last good fit (the tracks' motion reference)...
        self.ref_C = np.eye(4)  # ...and the camera's T_cam_cam0 then
        self.T0: list[np.ndarray] = []  # well-fitted poses in the first camera's frame (the motion model)
        self.t_init = self.t_track = 0.0
        # per-frame scratch
        self.T_init = None
        self.alpha = self.depth = None
        self.pnp_ok = False
        self.colour = None  # ColourModel, learnt at the first frame
        self.unsettled = False  # moved since its last rest pose was searched afresh (see parse.settle.resettle)
        self.searches = 0  # how many times that ran ObjectFitter.relocalise's searches
        self.rests: list[tuple[int, int]] = []  # (first, last) frames of each rest searched afresh
        self.retracked = np.zeros(n, bool)  # the pose was tracked backwards from the rest after it (parse.retrack)
        self.given_shape = True  # its model is a given shape, whose surface bounds the others' depths (fit_video)


def _depth_limited(T: np.ndarray, z_ref: float, max_step: float) -> np.ndarray:
    """T slid along its viewing ray so its depth stays within max_step of z_ref: depth is what a
    silhouette fit observes worst, and an object partly hidden by the (unmodelled) hand is pushed
    away from the camera to look smaller."""
    z = T[2, 3]
    z_new = float(np.clip(z, z_ref - max_step, z_ref + max_step))
    if z_new == z or z <= 0:
        return T
    out = T.copy()
    out[:3, 3] *= z_new / z
    return out


def _moved_to(T: np.ndarray, silhouette: np.ndarray, found: np.ndarray, K: np.ndarray) -> np.ndarray:
    """T translated at its depth so the silhouette's centroid moves onto the found mask's centroid."""
    ys, xs = np.nonzero(silhouette)
    yf, xf = np.nonzero(found)
    K_inv = np.linalg.inv(K)
    z = T[2, 3]
    a = K_inv @ np.array([xs.mean(), ys.mean(), 1.0])
    b = K_inv @ np.array([xf.mean(), yf.mean(), 1.0])
    out = T.copy()
    out[:3, 3] += z * (b - a)
    return out


def _rests(o: _Object, T_rest: np.ndarray, mask: np.ndarray, occ: np.ndarray, observed: bool, image: np.ndarray,
           resting: bool, opt: TrackingOptions) -> tuple[bool, float]:
    """Did the object stay where it last rested (T_rest: that pose seen from the camera now)? Returns
    (rests, the rest pose's silhouette IoU when the move must be confirmed by the fit, else NaN).
    Most tracks still: it rests; almost none: it moved. In between, or too few tracks left to tell (the
    object is covered, or has no texture), the silhouette at rest decides, outside the ignored pixels:
    it rests when that still fits the `observed` mask well, and otherwise only a fit that explains the
    mask clearly better moves it (see `move_gain`). When no observed mask agrees with the prediction
    (the mask is our own prior), only the object's colours inside the rest silhouette can say it is
    still there: a lifted object leaves the table's colours behind. Only an object already `resting`
    (see _settled) stays at rest on its silhouette: a moving one (a cup tilting as it pours) comes to rest
    when its tracks say so, or once its own fits stop moving."""
    still = o.tracks.still_fraction(T_rest, o.ref_T, opt.still_px)
    if np.isfinite(still) and still >= opt.still_frac:
        return True, float("nan")
    if (np.isfinite(still) and still < opt.moved_frac) or not resting:
        return False, float("nan")
    h, w = mask.shape
    keep = ~occ
    at_rest = (o.fitter.render_full(T_rest, w, h, fine=True)[0] > 0.5) & keep
    if not observed:
        usable = o.colour is not None and o.colour.usable and at_rest.sum() >= 16
        return bool(usable and o.colour.support(image, at_rest) >= opt.rest_support), float("nan")
    fit = iou(at_rest, mask & keep)
    return fit >= opt.rest_iou, fit


def _hand_share(o: _Object, T: np.ndarray, hand: np.ndarray, opt: TrackingOptions) -> float:
    """Share of the object's silhouette at T, widened by `hand_band_frac` × its size, that `hand` covers:
    high while a hand holds the object, low once it has let go (the object's own motion cannot tell when
    a placed object is let go)."""
    h, w = hand.shape
    sil = o.fitter.render_full(T, w, h, fine=False)[0] > 0.5
    if sil.sum() < 16:
        return float("nan")
    c0, r0, c1, r1 = bbox(sil)
    size_px = math.hypot(r1 - 1 - r0, c1 - 1 - c0)
    region = cv2.dilate(sil.astype(np.uint8), disk(max(2, round(opt.hand_band_frac * size_px)))) > 0
    return float(hand[region].mean())


def _hand_still(o: _Object, i: int, opt: TrackingOptions) -> bool:
    """Has the object rested for the last `settle_wait` frames with its `hand` share unchanged (within
    `settle_hand_still`)? A hand that put an object down moves away; changed pixels that stay put beside a
    resting object are not a hand (its shadow, a part of it in colours unseen at first, or the object
    itself beside a pose that drifted while it was carried: a put-down drumstick tracked 12 cm off read
    0.10 for its last 30 frames)."""
    recent = slice(i + 1 - opt.settle_wait, i + 1)
    if recent.start <= o.first or not o.held[recent].all():
        return False
    share = o.hand[recent]
    return bool(np.isfinite(share).all() and np.ptp(share) <= opt.settle_hand_still)


def _settled(o: _Object, i: int, opt: TrackingOptions) -> bool:
    """Was the object at rest going into frame i: held in frame i - 1, at its first frame then, or its
    last two fitted poses (first camera's frame) within `settle_step` × its size and `settle_angle`?"""
    if o.held[i - 1] or i - 1 == o.first:
        return True
    if len(o.T0) < 2 or not o.valid[i - 1]:
        return False
    a, b = o.T0[-2], o.T0[-1]
    return bool(np.linalg.norm(b[:3, 3] - a[:3, 3]) <= opt.settle_step * o.fitter.size
                and rotation_angle(a[:3, :3], b[:3, :3]) <= opt.settle_angle)


def _objects_seen(objs: list[_Object], masks: dict, i: int) -> np.ndarray:
    """Pixels of frame i that any object may cover: its propagated mask and its last render."""
    out = np.zeros(masks[objs[0].name][i].shape, bool)
    for o in objs:
        out |= masks[o.name][i]
        if o.alpha is not None:
            out |= o.alpha > 0.05
    return out


def _predict(o: _Object, C: np.ndarray) -> np.ndarray:
    """Constant-velocity prediction in the first camera's frame, seen from the camera now (C = T_cam_cam0);
    the last pose when the step would be implausibly large."""
    h = o.T0
    return C @ constant_velocity(h[-2] if len(h) >= 2 else None, h[-1], 0.5 * o.fitter.size)


def fit_video(names, models, frames, masks, depths, K, fit_cfg, progress: bool = True,
              options: TrackingOptions | None = None, table_object: str | None = None,
              first_poses: dict[str, np.ndarray] | None = None,
              given_shapes: set[str] | None = None) -> tuple[dict[str, dict], dict]:
    """Fit every object in every frame. Returns (name → arrays for work/fit_<name>.npz: T_cam, residual,
    valid, reinit, reacquired, held, pnp, resettled, hand, mask_source, used/ignored_masks, init_s, track_s_per_frame, scale;
    camera arrays for work/camera.npz: T_cam_cam0, inliers). Without `table_object` (an object resting
    on the table from the first frame) the camera is taken as fixed. `first_poses`: known frame-0 poses
    (a single-view model's, lifted from that very view), taken instead of the first frame's search.
    `given_shapes`: the objects whose model is a given shape (a mesh or 3DGS file), not one guessed from
    the video; only their surfaces bound the others' depths (occlusion.in_front_where_seen). None: all."""
    from video2robo.pose.fit import FrameInput

    opt = options or TrackingOptions()
    n, h, w = frames.shape[:3]
    objs = []
    for nm in names:
        visible = masks[nm].reshape(n, -1).sum(1) >= 16
        o = _Object(nm, models[nm], K, fit_cfg, n, int(np.argmax(visible)), depths is not None, opt)
        o.used, o.ignored = np.zeros((n, h, w), bool), np.zeros((n, h, w), bool)
        o.given_shape = given_shapes is None or nm in given_shapes
        objs.append(o)
    C = np.repeat(np.eye(4)[None], n, axis=0)  # T_cam_cam0
    inliers = np.zeros(n, np.int32)
    camera: CameraTracker | None = None
    changes: TableChanges | None = None
    plane = None  # the table under `table_object`, (n, foot) in the first camera's frame
    table = next((o for o in objs if o.name == table_object and o.first == 0), None)
    bar = tqdm(range(n), desc="fit poses", unit="frame", disable=not progress)
    for i in bar:
        rgb = frames[i].astype(np.float32) / 255
        gray = cv2.cvtColor(frames[i], cv2.COLOR_RGB2GRAY)
        depth_i = None if depths is None else depths[i]
        active = [o for o in objs if i >= o.first]
        if camera is not None:  # 0. the camera
            C[i] = camera.advance(gray, _objects_seen(objs, masks, i))
            inliers[i] = camera.inliers
        # what changed on the table, and where an object may have moved to: onto the resting target too
        changed, moved_into = changes.changed_both(frames[i], C[i]) if changes is not None and i > 0 else (None, None)
        for o in active:  # 1. predictions
            t0 = time.perf_counter()
            if i == o.first:
                o.T_init, o.pnp_ok = None, False
            else:
                o.tracks.advance(gray)
                T_pred = _predict(o, C[i])
                T_pnp, _ = o.tracks.pnp(T_pred)
                o.pnp_ok = T_pnp is not None
                o.T_init = T_pnp if o.pnp_ok else T_pred
                o.alpha, o.depth = o.fitter.render_full(o.T_init, w, h, fine=True)
            o.t_track += time.perf_counter() - t0
        on_target = None  # what changed in front of the resting target, at its prediction: for the hand's share
        if changed is not None and table.alpha is not None:
            on_target = changes.changed_on_resting(frames[i], C[i], table.depth, table.alpha)
        for o in active:  # 2.-5.
            t0 = time.perf_counter()
            others = [p for p in active if p is not o]
            if i == o.first:
                mask = masks[o.name][i].copy()
                for p in others:
                    mask &= ~masks[p.name][i]
                known = (first_poses or {}).get(o.name) if i == 0 else None
                frame0 = FrameInput(rgb, mask, depth_i)
                r = o.fitter.first(frame0) if known is None else o.fitter.hold(frame0, np.asarray(known, np.float64), valid=True)
                o.colour = ColourModel(frames[i], mask)
                o.mask_source[i] = MASK_SOURCES.index("perception")
                occ, source, hand = np.zeros_like(mask), "perception", None
            else:
                occ = hidden_by_others(o, others, masks, i, frames[i])
                hand, unexplained = None, np.zeros((h, w), bool)
                if changed is not None and o.colour is not None and o.colour.usable:
                    hand, unexplained = hand_and_unexplained(changed if on_target is None else changed | on_target,
                                                             o.colour, frames[i])
                    unexplained &= changed  # the fit's evidence over the target is left as it was: ignoring
                    # its changed pixels there too changed the drumstick's fits from its first strike on (AR 0.45 -> 0.32)
                    hand &= ~occ
                    occ |= unexplained
                mask, source, occ = choose_mask(o, frames[i], masks[o.name][i], occ, not o.valid[i - 1], moved_into, opt)
                if source == "redetect":  # start the fit where the object was found, at the predicted depth
                    o.T_init = _moved_to(o.T_init, o.alpha > 0.5, mask, K)
                    o.tracks.clear()
                    # what hides it from the other objects, seen from there (put down on the resting
                    # target, all of it was the target's beside a prediction left behind on the table)
                    o.alpha, o.depth = o.fitter.render_full(o.T_init, w, h, fine=True)
                    occ = hidden_by_others(o, others, masks, i, frames[i]) | unexplained
                # fingers across a colour detection: not held against a fit, though not ignored by it either
                gaps = hull_gaps(mask) if source in ("colour", "redetect") else None
                o.mask_source[i] = MASK_SOURCES.index(source)
                o.reacquired[i] = source != "perception"
                o.pnp[i] = o.pnp_ok
                ignore = occ
                if plane is not None:  # what no object can hide behind is evidence, not ignored
                    ignore = occ & ~(too_low_to_hide(o, others, np.linalg.inv(C[i]), plane, K, frames[i], opt.hide_height)
                                     & ~unexplained)
                frame = FrameInput(rgb, mask, depth_i, o.tracks.xy, np.ones(len(o.tracks), bool), None,
                                   mask_from_prior=source == "prior", track_points=o.tracks.points, ignore=ignore,
                                   R_prior=_predict(o, C[i])[:3, :3], unjudged=gaps)  # the motion model's R, not PnP's
                T_rest = None if o.ref_T is None else C[i] @ np.linalg.inv(o.ref_C) @ o.ref_T  # had it not moved
                rests, rest_iou = (False, float("nan")) if source == "redetect" or T_rest is None else \
                    _rests(o, T_rest, mask, occ if gaps is None else occ | gaps, source != "prior", frames[i],
                           _settled(o, i, opt), opt)
                if rests:
                    r = o.fitter.hold(frame, T_rest, valid=True)
                    o.held[i] = True
                else:
                    r = o.fitter.next(frame, T_init=o.T_init)
                    if np.isfinite(rest_iou) and 1.0 - r.residual < rest_iou + opt.move_gain:
                        # a fit that explains the mask hardly better than the rest pose does not move
                        # the object (a covered resting object slid under the hand, or drifted in depth)
                        r.T_cam_obj, r.residual, r.reinitialised, r.valid = T_rest, 1.0 - rest_iou, False, True
                        o.fitter.amend_last(T_rest)
                        o.held[i] = True
                    if not o.held[i] and T_rest is not None and not r.reinitialised:
                        r.T_cam_obj = _depth_limited(r.T_cam_obj, T_rest[2, 3], opt.max_depth_step * o.fitter.size)
                        o.fitter.amend_last(r.T_cam_obj)
                    if not o.held[i] and source != "prior" and opt.front_tolerance > 0:
                        surfaces = [(p.alpha, p.depth) for p in others if p.alpha is not None and bounds_depth(p, i - 1)]
                        r.T_cam_obj = in_front_where_seen(o, r.T_cam_obj, surfaces, mask & ~occ, opt.front_min_px,
                                                          opt.front_tolerance)
                        o.fitter.amend_last(r.T_cam_obj)
                    if not o.held[i] and plane is not None and o is not table:
                        r.T_cam_obj = above_table(o, r.T_cam_obj, C[i], plane, opt)
                        o.fitter.amend_last(r.T_cam_obj)
            if source == "prior" and not o.held[i]:
                # fitted to our own prediction: no evidence of where the object is, so not a valid pose,
                # and the motion model keeps the last observed ones (a constant velocity fitted to itself
                # ran a lifted stick 40 cm away in depth)
                r.valid = False
            o.T[i], o.residual[i], o.valid[i], o.reinit[i] = r.T_cam_obj, r.residual, r.valid, r.reinitialised
            o.used[i], o.ignored[i] = mask, occ if i == o.first else frame.ignore
            if hand is not None:
                o.hand[i] = _hand_share(o, r.T_cam_obj, hand, opt)
            if r.valid or not o.T0:  # the motion model, in the first camera's frame
                o.T0.append(np.linalg.inv(C[i]) @ r.T_cam_obj)
            if i > o.first and r.valid and not o.held[i]:
                o.unsettled = True
            elif (o.held[i] and o.unsettled and source != "prior" and plane is not None
                  and (not o.hand[i] > opt.settle_hand or _hand_still(o, i, opt))):  # NaN passes
                o.unsettled = False
                o.resettled[i] = resettle(o, i, frame, frames[i], C, gray, plane, others, opt)
            if r.valid and not o.held[i]:
                alpha, depth = o.fitter.render_full(r.T_cam_obj, w, h, fine=True)
                o.tracks.update(gray, r.T_cam_obj, alpha, depth, mask & ~occ)
                o.ref_T, o.ref_C = r.T_cam_obj, C[i]
                if i > o.first and r.residual <= opt.learn_residual:
                    o.colour.learn_background(frames[i], cv2.dilate((alpha > 0.05).astype(np.uint8), disk(3)) == 0)
            if i == o.first:
                o.tracks.prev_gray = gray
                o.alpha, o.depth = o.fitter.render_full(r.T_cam_obj, w, h, fine=True)
                o.t_init = time.perf_counter() - t0
            else:
                o.t_track += time.perf_counter() - t0
        if changed is not None:
            learn_movers(active, changed, frames[i], i, opt)
        if i == 0 and table is not None:  # the table under the resting object, from its first fit
            points = table.fitter.model.means.numpy() * table.fitter.scale
            plane = table_plane(table.T[0], points)
            for o in objs:
                if o is not table and o.first == 0 and o.valid[0]:
                    o.resettled[0] = stand(o, plane, [p for p in objs if p is not o and p.first == 0], gray, opt,
                                           FrameInput(rgb, o.used[0], depth_i)) == "searched"
            camera = CameraTracker(K, *plane, opt.camera)
            exclude = _objects_seen(objs, masks, 0)
            camera.start(gray, exclude)
            if opt.occluders is not None:
                changes = TableChanges(frames[0], exclude, K, *plane, opt.occluders, resting0=masks[table.name][0])
                changes.set_resting_depth(table.depth, table.alpha)
        bar.set_postfix({o.name: f"{1 - o.residual[i]:.2f}" for o in active})
    for o in objs if plane is not None else []:  # 6. put down for good, and its rest missed or lost
        if needs_end_search(o, opt):
            settle_at_end(o, frames[-1], None if depths is None else depths[-1], C, gray, plane,
                          [p for p in objs if p is not o], opt)
    if opt.retrack:
        retrack_all(objs, frames, depths, C, plane, opt, progress)
    out = {}
    for o in objs:
        o.T[: o.first] = o.T[o.first]
        out[o.name] = dict(T_cam=o.T, residual=o.residual, valid=o.valid, reinit=o.reinit, reacquired=o.reacquired, held=o.held,
                           pnp=o.pnp, resettled=o.resettled, retracked=o.retracked, hand=o.hand, mask_source=o.mask_source,
                           used_masks=np.packbits(o.used, axis=-1), ignored_masks=np.packbits(o.ignored, axis=-1),  # bit-packed
                           init_s=np.array(o.t_init), track_s_per_frame=np.array(o.t_track / max(n - o.first - 1, 1)),
                           scale=np.array(o.fitter.scale))
    return out, {"T_cam_cam0": C, "inliers": inliers}
