"""A carried object tracked backwards from where it was put down, joined with its forward track.

The forward track starts from a well-observed rest (the first frame) and drifts while the hand carries
the object: a depth its silhouette leaves open, a turn hidden in the hand. The rest it is put down in
is searched afresh (parse.settle), so the same frames can be approached from the other, equally well
anchored end. Each frame of the carry then keeps its forward or its backward pose, split at the frame
that explains the observed masks best overall with the least jump between the two tracks there (a pour's
cup, tracked forwards, came out of the tilt turned 60 degrees; a put-down drumstick was tracked 30 cm
too deep all the way down).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np
from tqdm import tqdm

from video2robo.geometry.so3 import rotation_angle
from video2robo.parse.mask_choice import MASK_SOURCES
from video2robo.parse.occlusion import bounds_depth, in_front_where_seen
from video2robo.parse.settle import above_table, stored_frame, stored_iou
from video2robo.pose.motion import constant_velocity

if TYPE_CHECKING:
    from video2robo.parse.fit_video import TrackingOptions, _Object

NO_EVIDENCE = 0.5  # the residual both tracks get on a frame whose mask was the forward prediction itself


def jump(o: _Object, T0_a: np.ndarray, T0_b: np.ndarray) -> float:
    """How far apart two poses are: translation in object sizes plus rotation in half turns."""
    return float(np.linalg.norm(T0_a[:3, 3] - T0_b[:3, 3]) / o.fitter.size + rotation_angle(T0_a[:3, :3], T0_b[:3, :3]) / np.pi)


def _residual(o: _Object, T: np.ndarray, k: int, prior: bool) -> float:
    """1 - silhouette IoU of the model at T with frame k's mask, its ignored pixels left out."""
    if prior or o.used[k].sum() < 16:
        return NO_EVIDENCE
    return 1.0 - stored_iou(o, T, k)


def track_backward(o: _Object, start: int, stop: int, frames: np.ndarray, depths, C: np.ndarray, plane,
                   prior: np.ndarray, opt: TrackingOptions,
                   others: Sequence[_Object] = ()) -> tuple[dict[int, np.ndarray], dict[int, float]]:
    """Poses (first camera's frame) and residuals of frames start-1 down to stop+1, tracked from the rest
    pose of frame `start` with a constant-velocity prediction run backwards, kept in front of the `others`
    where seen over them as the forward track is (occlusion.in_front_where_seen). Stops early once it has
    agreed with the forward track for `retrack_agree` frames: the forward track is as good from there on."""
    cfg = o.fitter.cfg
    T0 = {start: np.linalg.inv(C[start]) @ o.T[start]}
    res: dict[int, float] = {}
    agree = 0
    for k in range(start - 1, stop, -1):
        T_init = C[k] @ constant_velocity(T0.get(k + 2), T0[k + 1], 0.5 * o.fitter.size)
        if prior[k] or o.used[k].sum() < 16:
            T = T_init  # no evidence here: carried on by the motion model
        else:
            frame = stored_frame(o, frames[k], None if depths is None else depths[k], k)
            T, _, _ = o.fitter._adam(frame, T_init, cfg.track_iters, cfg.track_min_iters, with_tracks=False, small_steps=True)
            if opt.front_tolerance > 0 and others:
                h, w = o.used[k].shape
                surfaces = [p.fitter.render_full(p.T[k], w, h, fine=True) for p in others if bounds_depth(p, k)]
                T = in_front_where_seen(o, T, surfaces, o.used[k] & ~o.ignored[k], opt.front_min_px, opt.front_tolerance)
            if plane is not None:
                T = above_table(o, T, C[k], plane, opt)
        T0[k] = np.linalg.inv(C[k]) @ T
        res[k] = _residual(o, T, k, prior[k])
        forward = np.linalg.inv(C[k]) @ o.T[k]
        agree = agree + 1 if jump(o, forward, T0[k]) <= opt.retrack_same else 0
        if agree >= opt.retrack_agree:
            break
    return T0, res


def join(o: _Object, start: int, T0_back: dict[int, np.ndarray], res_back: dict[int, float], C: np.ndarray,
         prior: np.ndarray, opt: TrackingOptions) -> int:
    """Keep the backward poses of frames [s, start) for the split s that minimises the forward residuals
    before s, the backward ones from s, and `retrack_jump` × the jump between the tracks at s. Returns s
    (`start` when the forward track is kept whole)."""
    frames = sorted(k for k in T0_back if k < start)
    if not frames:
        return start
    lo = frames[0]
    fwd = {k: _residual(o, o.T[k], k, prior[k]) for k in frames}
    best, best_s = np.inf, start
    for s in range(lo, start + 1):
        cost = sum(fwd[k] for k in frames if k < s) + sum(res_back[k] for k in frames if k >= s)
        before = np.linalg.inv(C[s - 1]) @ o.T[s - 1]
        cost += opt.retrack_jump * jump(o, before, T0_back[s])
        if cost < best - 1e-9:
            best, best_s = cost, s
    valid_iou = o.fitter.cfg.valid_iou
    for k in range(best_s, start):
        o.T[k] = C[k] @ T0_back[k]
        o.residual[k] = res_back[k]
        o.valid[k] = not prior[k] and 1.0 - res_back[k] >= valid_iou
        o.retracked[k] = True
    return best_s


def retrack(o: _Object, frames: np.ndarray, depths, C: np.ndarray, plane, opt: TrackingOptions,
            others: Sequence[_Object] = ()) -> int:
    """Track each carry of the object that ended in a rest searched afresh backwards from that rest, and
    join it with the forward track (`join`). Returns how many frames took backward poses."""
    prior = o.mask_source == MASK_SOURCES.index("prior")
    changed, previous_end = 0, o.first
    for start, end in sorted(o.rests):
        if start - previous_end > 1:
            T0_back, res_back = track_backward(o, start, previous_end, frames, depths, C, plane, prior, opt, others)
            changed += start - join(o, start, T0_back, res_back, C, prior, opt)
        previous_end = end
    return changed


def retrack_all(objs: list[_Object], frames: np.ndarray, depths, C: np.ndarray, plane, opt: TrackingOptions,
                progress: bool = True) -> None:
    """`retrack` every object that was put down and searched afresh."""
    todo = [o for o in objs if o.rests]
    for o in tqdm(todo, desc="track carries backwards", unit="object", disable=not progress or not todo):
        retrack(o, frames, depths, C, plane, opt, [p for p in objs if p is not o])
