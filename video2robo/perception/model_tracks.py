"""Point tracks seeded on an object's fitted model, for pose tracking (tracks from the model, not a mask).

After each well-fitted frame, corners are picked inside the model's rendered silhouette (eroded, and
inside the observed mask, so occluders are avoided) and lifted to 3D with the rendered depth: each
track carries an exact object-frame point. Lucas–Kanade (forward–backward checked) moves them to the
next frame, where PnP-RANSAC on the 2D–3D pairs gives a pose prediction that follows fast motion and
rotation better than a constant-velocity guess, and the pairs feed the fitter's track loss. After the
fit, tracks that disagree with the fitted pose (slid onto an occluder or the background) or that turned
away from the camera are dropped, and new ones are seeded when too few remain. Because seeds come from
the render of the fitted pose, a drifting or lost 2D mask cannot take the tracks off the object.

The tracks also tell when the object did not move: most of them stayed where a resting object would
be (see `still_fraction`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from video2robo.perception.lucas_kanade import LKOptions, LucasKanadeTracker, corners_to_track
from video2robo.perception.masks import disk
from video2robo.perception.pixels import from_cv, to_cv


@dataclass
class ModelTrackOptions:
    max_points: int = 80
    min_points: int = 40  # fewer alive tracks than this after a fit: seed new ones
    min_distance_px: int = 3  # between seeded corners
    quality: float = 0.005  # goodFeaturesToTrack quality level (relative to the strongest corner)
    erode_px: int = 1  # keep seeds this far inside the rendered silhouette (edge depth is unreliable)
    min_alpha: float = 0.5  # antialiased renders of small objects rarely reach alpha 1
    pnp_px: float = 2.0  # RANSAC reprojection threshold
    min_pnp: int = 8  # PnP needs at least this many inliers...
    min_pnp_ratio: float = 0.5  # ...and this fraction of the tracks
    prune_px: float = 2.5  # after the fit: tracks off their point's projection by more are dropped
    occlusion_tol: float = 0.1  # fraction of the object size a point may lie behind the rendered surface
    lk: LKOptions = field(default_factory=lambda: LKOptions(show_progress=False))


class ModelTracks:
    """Model-anchored point tracks of one object (see module docstring)."""

    def __init__(self, K: np.ndarray, size: float, options: ModelTrackOptions | None = None):
        self.K = np.asarray(K, np.float64)
        self.size = size
        self.opt = options or ModelTrackOptions()
        self._lk = LucasKanadeTracker(self.opt.lk)
        self.xy = np.zeros((0, 2))  # project pixel coordinates in the current frame
        self.points = np.zeros((0, 3))  # object-frame model points
        self.ref_xy = np.zeros((0, 2))  # positions at the last fitted frame (NaN for newer tracks)
        self.prev_gray: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.xy)

    def advance(self, gray: np.ndarray) -> None:
        """Move the tracks from the previous frame into `gray` (dropping the ones LK loses)."""
        if self.prev_gray is not None and len(self.xy):
            p1, ok = self._lk.step(self.prev_gray, gray, to_cv(self.xy))
            self.xy, self.points, self.ref_xy = from_cv(p1[ok]), self.points[ok], self.ref_xy[ok]
        self.prev_gray = gray

    def clear(self) -> None:
        """Drop every track (they followed something else: the object was re-found elsewhere)."""
        self.xy, self.points, self.ref_xy = np.zeros((0, 2)), np.zeros((0, 3)), np.zeros((0, 2))

    def still_fraction(self, T_now: np.ndarray, T_ref: np.ndarray, px: float) -> float:
        """Share of the tracks that moved less than `px` pixels since the last fitted frame beyond what
        the camera's motion explains: T_ref is the fitted pose then, T_now where the object would be now
        had it rested. 0 with too few tracks. A share, not a mean, because the tracks an occluder drags
        along (a hand, another object passing in front) must not make a resting object move. NaN when
        too few tracks are left to tell (the object is covered, or has no texture)."""
        if len(self.xy) < self.opt.min_pnp:
            return float("nan")
        motion = (self.xy - self.ref_xy) - (self.project(T_now)[0] - self.project(T_ref)[0])
        d = np.linalg.norm(motion, axis=1)
        d = d[np.isfinite(d)]
        return float(np.mean(d < px)) if len(d) >= self.opt.min_pnp else float("nan")

    def pnp(self, T_guess: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        """Pose from the 2D–3D pairs by RANSAC PnP started at T_guess: (T_cam_obj or None, inliers)."""
        opt = self.opt
        inl = np.zeros(len(self.xy), bool)
        if len(self.xy) < opt.min_pnp:
            return None, inl
        rvec, _ = cv2.Rodrigues(T_guess[:3, :3])
        tvec = T_guess[:3, 3].reshape(3, 1).copy()
        ok, rvec, tvec, idx = cv2.solvePnPRansac(self.points.astype(np.float64), self.xy.astype(np.float64), self.K, None,
                                                 rvec, tvec, useExtrinsicGuess=True, iterationsCount=100,
                                                 reprojectionError=opt.pnp_px, confidence=0.99, flags=cv2.SOLVEPNP_ITERATIVE)
        if not ok or idx is None or len(idx) < max(opt.min_pnp, opt.min_pnp_ratio * len(self.xy)):
            return None, inl
        inl[idx.ravel()] = True
        rvec, tvec = cv2.solvePnPRefineLM(self.points[inl], self.xy[inl], self.K, None, rvec, tvec)
        T = np.eye(4)
        T[:3, :3], T[:3, 3] = cv2.Rodrigues(rvec)[0], tvec.ravel()
        if T[2, 3] <= 0 or np.linalg.norm(T[:3, 3] - T_guess[:3, 3]) > 2 * self.size:
            return None, np.zeros(len(self.xy), bool)
        return T, inl

    def project(self, T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(uv (P, 2), camera z (P,)) of the model points at pose T."""
        p = self.points @ T[:3, :3].T + T[:3, 3]
        z = np.maximum(p[:, 2], 1e-6)
        return (p[:, :2] / z[:, None]) * [self.K[0, 0], self.K[1, 1]] + self.K[:2, 2], p[:, 2]

    def update(self, gray: np.ndarray, T: np.ndarray, alpha: np.ndarray, depth: np.ndarray, mask: np.ndarray) -> None:
        """After a good fit at pose T (full-image render alpha/depth, observed mask): drop tracks that
        disagree with T or are hidden, seed new ones, and make this frame the motion reference."""
        opt = self.opt
        h, w = gray.shape
        if len(self.xy):
            uv, z = self.project(T)
            keep = np.linalg.norm(uv - self.xy, axis=1) <= opt.prune_px
            c = np.clip(np.floor(uv).astype(int), 0, [w - 1, h - 1])
            d = depth[c[:, 1], c[:, 0]]
            keep &= (alpha[c[:, 1], c[:, 0]] > 0.5) & (z <= d + opt.occlusion_tol * self.size)
            self.xy, self.points = self.xy[keep], self.points[keep]
        if len(self.xy) < opt.min_points:
            self._seed(gray, T, alpha, depth, mask)
        self.ref_xy = self.xy.copy()

    def _seed(self, gray: np.ndarray, T: np.ndarray, alpha: np.ndarray, depth: np.ndarray, mask: np.ndarray) -> None:
        opt = self.opt
        region = cv2.erode((alpha >= opt.min_alpha).astype(np.uint8), disk(opt.erode_px))
        region &= cv2.erode(mask.astype(np.uint8), disk(1))
        xy = corners_to_track(gray, region, self.xy, opt.max_points - len(self.xy), opt.quality, opt.min_distance_px,
                              block_size=5, min_region=4)
        if not len(xy):
            return
        px = np.floor(xy).astype(int)
        z = depth[px[:, 1], px[:, 0]]
        ok = z > 0
        xy, z = xy[ok], z[ok]
        rays = np.c_[xy, np.ones(len(xy))] @ np.linalg.inv(self.K).T
        p_cam = rays * z[:, None]
        Ti = np.linalg.inv(T)
        pts = p_cam @ Ti[:3, :3].T + Ti[:3, 3]
        self.xy = np.concatenate([self.xy, xy])
        self.points = np.concatenate([self.points, pts])
