"""Camera motion of a hand-held video from the table around the objects (no weights, no SLAM).

The table is a plane whose place in the first camera frame is known once a resting object is fitted
(its lowest model point lies on the table, its model z is the table normal). Corners on the table,
away from the objects, are lifted onto that plane in 3D and followed by Lucas–Kanade; PnP-RANSAC on
the 2D–3D pairs gives the camera pose of every frame relative to the first, `T_cam_cam0`, at metric
scale. Corners that are not on the table (the floor past its edge, a wall, the hand, moving shadows)
do not fit the rigid motion of the plane and fall out as RANSAC outliers. When too few tracks remain,
new corners are lifted with the current pose, so the estimate drifts slowly instead of stopping.

Knowing the camera motion separates what the camera did from what the objects did: an object that
rests stays at one pose in the first camera's frame, which fitting can hold instead of re-estimating
(its depth is what a silhouette fit sees worst), and the world frame follows the camera exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from video2robo.perception.lucas_kanade import LKOptions, LucasKanadeTracker, corners_to_track
from video2robo.perception.masks import disk
from video2robo.perception.pixels import from_cv, to_cv


@dataclass
class CameraMotionOptions:
    max_points: int = 300
    min_points: int = 150  # fewer live tracks than this: lift new corners
    min_distance_px: int = 7  # between corners
    quality: float = 0.003  # goodFeaturesToTrack quality level (table textures are faint)
    exclude_px: int = 12  # corners keep this far from the objects' masks
    max_radius: float = 0.45  # lift only table points this close (metres) to the resting object: further
    # out, the floor past the table's edge or a wall would be lifted onto the wrong plane
    pnp_px: float = 1.5  # RANSAC reprojection threshold
    min_inliers: int = 15
    lk: LKOptions = field(default_factory=lambda: LKOptions(show_progress=False))


def table_plane(T_cam_obj: np.ndarray, model_points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, foot) of the table under a resting object, in its camera frame: the table's up direction n
    (the object's axis that points up, pose.upright.up_axis: its model z unless it lies on a side) and
    the point under the object's origin at its lowest model point's height along it."""
    from video2robo.pose.upright import up_axis

    R, t = T_cam_obj[:3, :3], T_cam_obj[:3, 3]
    a = up_axis(R)
    return R @ a, R @ (a * float((model_points @ a).min())) + t


class CameraTracker:
    """`T_cam_cam0` frame by frame from table corners (see module docstring). Call `start` on the
    first frame, then `advance` on each next one."""

    def __init__(self, K: np.ndarray, plane_n: np.ndarray, foot: np.ndarray, options: CameraMotionOptions | None = None):
        self.K = np.asarray(K, np.float64)
        self.K_inv = np.linalg.inv(self.K)
        self.n, self.foot = np.asarray(plane_n, np.float64), np.asarray(foot, np.float64)
        self.d = float(self.n @ self.foot)  # the table: n·X = d
        self.opt = options or CameraMotionOptions()
        self._lk = LucasKanadeTracker(self.opt.lk)
        self.T = np.eye(4)  # T_cam_cam0 of the last frame
        self.xy = np.zeros((0, 2))
        self.points = np.zeros((0, 3))  # on the table, first-camera frame
        self.prev_gray: np.ndarray | None = None
        self.inliers = 0  # of the last frame's PnP (0: the pose was held)

    def start(self, gray: np.ndarray, exclude: np.ndarray) -> None:
        self.prev_gray = gray
        self._seed(gray, exclude)

    def advance(self, gray: np.ndarray, exclude: np.ndarray) -> np.ndarray:
        """T_cam_cam0 of this frame (the previous one's when the table is not seen well enough)."""
        opt = self.opt
        if len(self.xy):
            p1, ok = self._lk.step(self.prev_gray, gray, to_cv(self.xy))
            self.xy, self.points = from_cv(p1[ok]), self.points[ok]
        self.prev_gray = gray
        self.inliers = 0
        if len(self.xy) >= opt.min_inliers:
            rvec, _ = cv2.Rodrigues(self.T[:3, :3])
            tvec = self.T[:3, 3].reshape(3, 1).copy()
            ok, rvec, tvec, idx = cv2.solvePnPRansac(self.points, self.xy, self.K, None, rvec, tvec, useExtrinsicGuess=True,
                                                     iterationsCount=200, reprojectionError=opt.pnp_px, confidence=0.999,
                                                     flags=cv2.SOLVEPNP_ITERATIVE)
            if ok and idx is not None and len(idx) >= opt.min_inliers:
                inl = idx.ravel()
                rvec, tvec = cv2.solvePnPRefineLM(self.points[inl], self.xy[inl], self.K, None, rvec, tvec)
                T = np.eye(4)
                T[:3, :3], T[:3, 3] = cv2.Rodrigues(rvec)[0], tvec.ravel()
                self.T, self.inliers = T, len(inl)
                keep = np.zeros(len(self.xy), bool)
                keep[inl] = True
                self.xy, self.points = self.xy[keep], self.points[keep]
        if len(self.xy) < opt.min_points:
            self._seed(gray, exclude)
        return self.T.copy()

    def _lift(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(first-camera 3D points, ok) where the pixels' rays meet the table in front of the camera."""
        R, t = self.T[:3, :3], self.T[:3, 3]
        n_t = R @ self.n  # the plane in the current camera: n_t·X = d + n_t·t
        d_t = self.d + n_t @ t
        rays = np.c_[xy, np.ones(len(xy))] @ self.K_inv.T
        denom = rays @ n_t
        s = np.where(np.abs(denom) > 1e-9, d_t / np.where(denom == 0, 1.0, denom), -1.0)
        X0 = (rays * s[:, None] - t) @ R  # R^T (X_t − t), row-wise
        return X0, (s > 0) & (np.linalg.norm(X0 - self.foot, axis=1) <= self.opt.max_radius)

    def _seed(self, gray: np.ndarray, exclude: np.ndarray) -> None:
        opt = self.opt
        h, w = gray.shape
        ys, xs = np.mgrid[0:h, 0:w]
        _, on_table = self._lift(np.stack([xs.ravel() + 0.5, ys.ravel() + 0.5], 1))
        region = on_table.reshape(h, w) & (cv2.dilate(exclude.astype(np.uint8), disk(opt.exclude_px)) == 0)
        # corners are ranked within the table only (a faint cloth next to a high-contrast floor still gets its own)
        xy = corners_to_track(gray, region, self.xy, opt.max_points - len(self.xy), opt.quality, opt.min_distance_px,
                              block_size=7, min_region=16)
        if not len(xy):
            return
        pts, ok = self._lift(xy)
        self.xy = np.concatenate([self.xy, xy[ok]])
        self.points = np.concatenate([self.points, pts[ok]])
