"""The table's up direction in the first camera's frame, from how the table moves in a hand-held video.

A single-view object model has no up of its own (a pillow lifted from one view is about as round as it
is wide), yet the camera tracker, the world frame and "nothing goes through the table" all need the
table's plane. The table is a plane, so its corners move between two views by a homography
H = K (R + t nᵀ / d) K⁻¹; decomposing H (Malis and Vargas, 2007) gives its normal n once the camera has
translated a few per cent of its distance to the table. Of the decompositions that keep the table's
corners in front of both cameras, the one nearest the image's up is taken. A camera that barely moved
(a tripod) says nothing about n: then None, and the caller keeps its assumption.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from video2robo.perception.lucas_kanade import LKOptions, LucasKanadeTracker, corners_to_track
from video2robo.perception.pixels import from_cv, to_cv


@dataclass
class TableNormalOptions:
    max_points: int = 400
    quality: float = 0.003  # goodFeaturesToTrack quality level (table textures are faint)
    min_distance_px: int = 7
    min_tracks: int = 40  # fewer live corners than this: stop following them
    min_motion_px: float = 6.0  # median corner displacement from the first frame needed to try a frame
    ransac_px: float = 1.5  # homography RANSAC reprojection threshold
    min_inlier_share: float = 0.5  # of the live corners, on the plane
    min_parallax: float = 0.03  # camera translation over its distance to the table at least this
    max_spread_deg: float = 8.0  # the frames' normals agree within this (median angle to their mean)
    lk: LKOptions = field(default_factory=lambda: LKOptions(show_progress=False))


def _plane_solution(H: np.ndarray, K: np.ndarray, rays: np.ndarray, prior_up: np.ndarray) -> tuple[np.ndarray, float] | None:
    """(up, |t| / d) of the decomposition of H whose plane is in front of the first camera at every ray
    and whose up is nearest `prior_up`; None when none is."""
    _, _, ts, ns = cv2.decomposeHomographyMat(H, K)
    best = None
    for t, n in zip(ts, ns):
        n = n.ravel()
        if (rays.T @ n <= 0).any():  # OpenCV's n points away from the camera: n·X = d > 0 on the plane
            continue
        up = -n / np.linalg.norm(n)
        if best is None or up @ prior_up > best[0] @ prior_up:
            best = (up, float(np.linalg.norm(t)))
    return best


def table_up_from_motion(grays: list[np.ndarray] | np.ndarray, table: np.ndarray, K: np.ndarray,
                         prior_up: np.ndarray | None = None, options: TableNormalOptions | None = None) -> np.ndarray | None:
    """The table's unit up vector in the first camera's frame (pointing to the camera's side), from its
    corners (`table`: where the table is in the first frame, the objects left out) followed by
    Lucas–Kanade; the mean over the frames with enough corners, motion and parallax. `prior_up`
    (default: image up, −y) picks between the two decompositions a homography allows. None when the
    camera moved too little, or the corners do not move as one plane seen from above."""
    opt = options or TableNormalOptions()
    K = np.asarray(K, np.float64)
    prior_up = np.array([0.0, -1.0, 0.0]) if prior_up is None else np.asarray(prior_up, np.float64)
    xy0 = corners_to_track(grays[0], table, np.zeros((0, 2)), opt.max_points, opt.quality, opt.min_distance_px, 3,
                           16 * opt.min_tracks)
    if len(xy0) < opt.min_tracks:
        return None
    lk = LucasKanadeTracker(opt.lk)
    rays = np.linalg.inv(K) @ np.vstack([xy0.T, np.ones(len(xy0))])
    cur, alive, found = to_cv(xy0), np.ones(len(xy0), bool), []
    for k in range(1, len(grays)):
        p1, ok = lk.step(grays[k - 1], grays[k], cur)
        cur, alive = p1, alive & ok
        if alive.sum() < opt.min_tracks:
            break
        a, b = xy0[alive], from_cv(cur[alive])  # project coordinates, as K's
        if np.median(np.linalg.norm(b - a, axis=1)) < opt.min_motion_px:
            continue
        H, inliers = cv2.findHomography(a.astype(np.float32), b.astype(np.float32), cv2.RANSAC, opt.ransac_px)
        if H is None or inliers.sum() < max(opt.min_tracks, opt.min_inlier_share * alive.sum()):
            continue
        sol = _plane_solution(H, K, rays[:, alive][:, inliers.ravel() > 0], prior_up)
        if sol is not None and sol[1] >= opt.min_parallax:
            found.append(sol[0])
    if not found:
        return None
    up = np.sum(found, axis=0)
    up /= np.linalg.norm(up)
    spread = np.degrees(np.median(np.arccos(np.clip(np.asarray(found) @ up, -1.0, 1.0))))
    # one plane seen from above: frames agree, and its up points up the image and towards the camera
    # (a static camera watching a person move gives planes that do neither)
    if spread > opt.max_spread_deg or up @ prior_up <= 0 or up[2] >= 0:
        return None
    return up
