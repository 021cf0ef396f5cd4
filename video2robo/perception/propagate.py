"""Mask propagation through a video from point tracks (the tracked pixels carry the masks).

Per frame t and object: fit a 2D motion model robustly (RANSAC) to the object's tracks visible in
both t and a keyframe k (frame 0 at first, moved to the latest good frame every keyframe_interval
frames or when too few tracks are shared), warp mask[k] with it (warping from a keyframe rather than
chaining frame-to-frame warps keeps corners from rounding off), then refine the warped mask
with a few GrabCut iterations restricted to a band around its boundary (object interior and far
background are fixed, so GrabCut can only move the edge). Each frame gets a confidence (fraction of
the object's initial track count still visible × RANSAC inlier ratio) and a `lost` flag when fewer
than min_tracks inliers remain; a lost frame keeps the last good mask. With a tracker that supports
re-seeding (LK), new points are sampled inside the new mask when too many tracks have been dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import cv2
import numpy as np

from video2robo.errors import UserError
from video2robo.perception.grabcut import grab_cut
from video2robo.perception.masks import bbox, clean_mask, disk, iou
from video2robo.perception.pixels import affine_to_cv, homography_to_cv
from video2robo.perception.track import PointTracker, SamplingOptions, Tracks, sample_points_in_mask

MOTION_MODELS = ("similarity", "affine", "homography")


@dataclass
class PropagationOptions:
    """How masks follow the tracks, and when an object counts as lost or needs new points."""

    motion_model: str = "similarity"  # similarity | affine | homography
    ransac_threshold_px: float = 1.5
    min_tracks: int = 6  # fewer RANSAC inliers than this: the object is lost in that frame
    keyframe_interval: int = 10  # frames between keyframe updates (the object's shape changes in 3D)
    drop_outliers_px: float = 2.5  # drop tracks off the object's frame-to-frame similarity by more (0: keep)
    refine: bool = True  # GrabCut band refinement of the warped mask
    refine_iterations: int = 2
    band_frac: float = 0.06  # refinement band half-width as a fraction of the mask's equivalent diameter...
    min_band_px: int = 2  # ...but at least this many pixels
    min_refine_iou: float = 0.85  # refined vs warped IoU below this: GrabCut went astray, keep the warp
    reseed_below: float = 0.6  # re-seed when visible tracks < this fraction of the initial count
    reseed_max_residual: float = 20.0  # re-seed only where frame t matches frame t-1 moved by the
    #   object's motion within this many grey levels (keeps new points off occluders)
    sampling: SamplingOptions = field(default_factory=SamplingOptions)
    show_progress: bool = True


@dataclass
class ObjectMasks:
    """One object's per-frame masks (N, H, W) bool and evidence: visible_fraction, inlier_ratio and
    confidence (N,) in [0, 1], lost (N,) bool, refined (N,) bool (GrabCut result kept), and the
    fitted motion (N, 3, 3) from the last good frame to each frame, in project pixel coordinates."""

    name: str
    masks: np.ndarray
    visible_fraction: np.ndarray
    inlier_ratio: np.ndarray
    confidence: np.ndarray
    lost: np.ndarray
    refined: np.ndarray
    motion: np.ndarray


@dataclass
class PerceptionResult:
    """Everything perception gives the pose stage: object names, point tracks (owner = index into
    names) and per-object masks."""

    names: list[str]
    tracks: Tracks
    objects: dict[str, ObjectMasks]

    def tracks_of(self, name: str) -> Tracks:
        return self.tracks.of_object(self.names.index(name))

    def labels(self) -> np.ndarray:
        """(N, H, W) uint8 label images: 0 background, i+1 for object i (earlier objects win overlaps)."""
        first = self.objects[self.names[0]].masks
        out = np.zeros(first.shape, dtype=np.uint8)
        for i in reversed(range(len(self.names))):
            out[self.objects[self.names[i]].masks] = i + 1
        return out


def fit_motion(src: np.ndarray, dst: np.ndarray, model: str, threshold: float) -> tuple[np.ndarray | None, np.ndarray]:
    """Robust 2D motion src → dst (project coords): (3×3 matrix or None, inlier flags (K,))."""
    src32, dst32 = src.astype(np.float32), dst.astype(np.float32)
    if model == "homography":
        if len(src) < 4:
            return None, np.zeros(len(src), dtype=bool)
        H, inl = cv2.findHomography(src32, dst32, cv2.RANSAC, threshold)
        return (None, np.zeros(len(src), dtype=bool)) if H is None else (H, inl.ravel() > 0)
    fit = cv2.estimateAffinePartial2D if model == "similarity" else cv2.estimateAffine2D
    if len(src) < 3:
        return None, np.zeros(len(src), dtype=bool)
    A, inl = fit(src32, dst32, method=cv2.RANSAC, ransacReprojThreshold=threshold)
    if A is None:
        return None, np.zeros(len(src), dtype=bool)
    return np.vstack([A, [0.0, 0.0, 1.0]]), inl.ravel() > 0


def warp_mask(mask: np.ndarray, M: np.ndarray) -> np.ndarray:
    """Mask moved by the 3×3 map M (project coords): the warped coverage is thresholded at one half,
    so repeated warps neither grow nor shrink the mask. (Converted to OpenCV's integer-centre grid.)"""
    h, w = mask.shape
    src = mask.astype(np.float32)
    if np.allclose(M[2], [0, 0, 1]):
        out = cv2.warpAffine(src, affine_to_cv(M[:2]), (w, h), flags=cv2.INTER_LINEAR)
    else:
        out = cv2.warpPerspective(src, homography_to_cv(M), (w, h), flags=cv2.INTER_LINEAR)
    return out >= 0.5


def refine_band(image: np.ndarray, mask: np.ndarray, band_px: int, iterations: int) -> np.ndarray:
    """GrabCut restricted to a band of ±band_px around the mask boundary (inside: sure object,
    outside: sure background), on a crop around the mask. Returns the cleaned bool mask."""
    box = bbox(mask)
    if box is None:
        return mask
    h, w = mask.shape
    pad = 3 * band_px + 8
    c0, r0 = max(0, box[0] - pad), max(0, box[1] - pad)
    c1, r1 = min(w, box[2] + pad), min(h, box[3] + pad)
    m = mask[r0:r1, c0:c1].astype(np.uint8)
    inner = cv2.erode(m, disk(band_px))
    outer = cv2.dilate(m, disk(band_px))
    gc = np.full(m.shape, cv2.GC_BGD, dtype=np.uint8)
    gc[outer > 0] = cv2.GC_PR_BGD
    gc[m > 0] = cv2.GC_PR_FGD
    gc[inner > 0] = cv2.GC_FGD
    if not (inner > 0).any() or not (gc == cv2.GC_BGD).any():
        return mask  # object thinner than the band, or filling the crop: nothing reliable to learn from
    grab_cut(image[r0:r1, c0:c1], gc, iterations)
    out = np.zeros_like(mask)
    out[r0:r1, c0:c1] = (gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD)
    seeds = np.zeros_like(mask)
    seeds[r0:r1, c0:c1] = inner > 0
    return clean_mask(out, seeds, open_radius=1, close_radius=1, holes=True)


class _Propagator:
    """Per-frame state of the propagation (called back by the tracker after every frame)."""

    def __init__(self, first_masks: dict[str, np.ndarray], n_frames: int, n_initial: np.ndarray,
                 options: PropagationOptions, allow_reseed: bool):
        self.names = list(first_masks)
        self.opt = options
        self.allow_reseed = allow_reseed
        self.n_initial = n_initial
        m0 = np.stack([first_masks[k] for k in self.names])
        self.masks = np.zeros((len(self.names), n_frames) + m0.shape[1:], dtype=bool)
        self.masks[:, 0] = m0
        shape = (len(self.names), n_frames)
        self.visible_fraction = np.ones(shape)
        self.inlier_ratio = np.ones(shape)
        self.lost = np.zeros(shape, dtype=bool)
        self.refined = np.zeros(shape, dtype=bool)
        self.motion = np.tile(np.eye(3), shape + (1, 1))
        self.last_good = np.zeros(len(self.names), dtype=np.int64)
        self.key = np.zeros(len(self.names), dtype=np.int64)
        self.step_motion: list[np.ndarray | None] = [None] * len(self.names)  # t-1 → t similarity
        self.prev_gray: np.ndarray | None = None
        self.history: list[np.ndarray] = []  # xy (P_t, 2) per frame, to look up the last good frame
        self.owner = np.zeros(0, dtype=np.int64)
        self.vis_history: list[np.ndarray] = []

    def __call__(self, t: int, frame: np.ndarray, xy: np.ndarray, visible: np.ndarray):
        self.history.append(xy.copy())
        self.vis_history.append(visible.copy())
        new_pts, new_owner = [], []
        for i in range(len(self.names)):
            if t > 0:
                self._update(i, t, frame, xy, visible)
            pts = self._reseed(i, t, frame, xy, visible)
            if len(pts):
                new_pts.append(pts)
                new_owner.append(np.full(len(pts), i))
        self.prev_gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        if not new_pts:
            return None
        xy_new, owner_new = np.concatenate(new_pts), np.concatenate(new_owner)
        self.owner = np.concatenate([self.owner, owner_new])
        self.history[-1] = np.concatenate([self.history[-1], xy_new])
        self.vis_history[-1] = np.concatenate([self.vis_history[-1], np.ones(len(xy_new), dtype=bool)])
        return xy_new, owner_new

    def _update(self, i: int, t: int, frame: np.ndarray, xy: np.ndarray, visible: np.ndarray) -> None:
        opt = self.opt
        mine = self.owner[: len(visible)] == i
        self.step_motion[i] = None
        if opt.drop_outliers_px > 0:
            self._drop_outliers(i, mine, t, xy, visible)
        vis_t = visible & mine
        self.visible_fraction[i, t] = min(1.0, vis_t.sum() / max(1, self.n_initial[i]))
        k = self.key[i]
        pair = self._pairs(k, vis_t)
        if (t - k >= opt.keyframe_interval or pair.sum() < max(opt.min_tracks, 0.5 * vis_t.sum())) and k != self.last_good[i]:
            k = self.key[i] = self.last_good[i]
            pair = self._pairs(k, vis_t)
        M, inl = (None, np.zeros(0, dtype=bool))
        if pair.sum() >= opt.min_tracks:
            cols = np.flatnonzero(pair)  # all < number of columns at keyframe k
            M, inl = fit_motion(self.history[k][cols], xy[cols], opt.motion_model, opt.ransac_threshold_px)
        n_in = int(inl.sum())
        self.inlier_ratio[i, t] = 0.0 if M is None else n_in / max(1, int(pair.sum()))
        if M is None or n_in < opt.min_tracks:
            self.lost[i, t] = True
            self.masks[i, t] = self.masks[i, t - 1]
            return
        warped = warp_mask(self.masks[i, k], M)
        mask = warped
        if opt.refine and warped.any():
            band = max(opt.min_band_px, int(round(opt.band_frac * np.sqrt(4 * warped.sum() / np.pi))))
            refined = refine_band(frame, warped, band, opt.refine_iterations)
            if iou(refined, warped) >= opt.min_refine_iou:
                mask, self.refined[i, t] = refined, True
        self.masks[i, t] = mask
        self.motion[i, t] = M
        self.last_good[i] = t

    def _pairs(self, k: int, vis_t: np.ndarray) -> np.ndarray:
        """Columns visible both at keyframe k and now (bool over the current columns)."""
        ref_vis = self.vis_history[k]
        pair = np.zeros_like(vis_t)
        pair[: len(ref_vis)] = vis_t[: len(ref_vis)] & ref_vis
        return pair

    def _drop_outliers(self, i: int, mine: np.ndarray, t: int, xy: np.ndarray, visible: np.ndarray) -> None:
        """Clear (in place, see FrameCallback) the visibility of this object's tracks that move
        inconsistently with its frame-to-frame similarity: points that slid onto an occluder or the
        background. Needs min_tracks pairs; otherwise nothing is dropped."""
        prev_vis = self.vis_history[t - 1]
        pair = np.zeros_like(visible)
        pair[: len(prev_vis)] = visible[: len(prev_vis)] & prev_vis & mine[: len(prev_vis)]
        if pair.sum() < self.opt.min_tracks:
            return
        cols = np.flatnonzero(pair)
        M, inl = fit_motion(self.history[t - 1][cols], xy[cols], "similarity", self.opt.drop_outliers_px)
        if M is None or inl.sum() < self.opt.min_tracks:
            return
        self.step_motion[i] = M
        cols = cols[~inl]
        visible[cols] = False
        self.vis_history[t][cols] = False

    def _reseed(self, i: int, t: int, frame: np.ndarray, xy: np.ndarray, visible: np.ndarray) -> np.ndarray:
        """New points for object i at frame t when too many of its tracks were dropped: inside its
        mask, where the image is explained by the object's frame-to-frame motion (not an occluder)."""
        mine = self.owner[: len(visible)] == i
        n_vis = int((visible & mine).sum())
        M = self.step_motion[i]
        if (t == 0 or not self.allow_reseed or self.lost[i, t] or M is None
                or n_vis >= self.opt.reseed_below * self.n_initial[i]):
            return np.zeros((0, 2))
        gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        h, w = gray.shape
        predicted = cv2.warpAffine(self.prev_gray, affine_to_cv(M[:2]), (w, h), flags=cv2.INTER_LINEAR)
        residual = cv2.GaussianBlur(cv2.absdiff(gray, predicted).astype(np.float32), (0, 0), 2.0)
        region = self.masks[i, t] & (residual < self.opt.reseed_max_residual)
        alive = xy[: len(visible)][visible]
        return sample_points_in_mask(frame, region, self.opt.sampling, avoid=alive,
                                     max_points=int(self.n_initial[i]) - n_vis)


def track_objects(frames: Sequence[np.ndarray], first_masks: dict[str, np.ndarray], tracker: PointTracker,
                  options: PropagationOptions | None = None) -> PerceptionResult:
    """Sample points in every first-frame mask, track them through `frames` with `tracker`, and
    propagate the masks (see module docstring). `first_masks` maps object name → bool (H, W)."""
    opt = options or PropagationOptions()
    if opt.motion_model not in MOTION_MODELS:
        raise UserError(f"unknown motion model '{opt.motion_model}'; choose one of {', '.join(MOTION_MODELS)}")
    if not first_masks:
        raise UserError("no objects to track: no first-frame masks")
    frame0 = np.asarray(frames[0])
    pts, owner = [], []
    for i, (name, mask) in enumerate(first_masks.items()):
        if mask.shape != frame0.shape[:2]:
            raise UserError(f"mask of '{name}' is {mask.shape[::-1]} but frames are {frame0.shape[1::-1]}")
        p = sample_points_in_mask(frame0, mask, opt.sampling)
        if len(p) < opt.min_tracks:
            raise UserError(f"only {len(p)} trackable points inside the mask of '{name}' "
                            f"(need {opt.min_tracks}); is the object too small or textureless?")
        pts.append(p)
        owner.append(np.full(len(p), i))
    points, owners = np.concatenate(pts), np.concatenate(owner)
    n_initial = np.array([len(p) for p in pts])
    prop = _Propagator(first_masks, len(frames), n_initial, opt, allow_reseed=tracker.supports_reseed)
    prop.owner = owners.copy()
    tracks = tracker.track(frames, points, owners, on_frame=prop)
    objects = {}
    for i, name in enumerate(prop.names):
        conf = prop.visible_fraction[i] * prop.inlier_ratio[i] * ~prop.lost[i]
        objects[name] = ObjectMasks(name, prop.masks[i], prop.visible_fraction[i], prop.inlier_ratio[i], conf,
                                    prop.lost[i], prop.refined[i], prop.motion[i])
    return PerceptionResult(prop.names, tracks, objects)
