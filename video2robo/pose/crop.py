"""Square crops around an object: the fitting works on a small window, with a matching camera.

A crop is a square region of the full image resized to `size` pixels; its camera keeps the
full-image pose conventions (pixel centres at +0.5) with intrinsics mapped into the crop.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from video2robo.geometry.camera import PinholeCamera


@dataclass(frozen=True)
class Crop:
    x0: float  # full-image coordinates of the crop's top-left corner
    y0: float
    side: float  # full-image pixels spanned by the crop
    size: int  # crop resolution (pixels)

    @property
    def zoom(self) -> float:
        return self.size / self.side

    def camera(self, K: np.ndarray) -> PinholeCamera:
        """Camera (identity extrinsics: poses are T_cam_obj) whose image is this crop."""
        s = self.zoom
        Kc = np.array(K, dtype=np.float64, copy=True)
        Kc[0, 0] *= s
        Kc[1, 1] *= s
        Kc[0, 2] = (K[0, 2] - self.x0) * s
        Kc[1, 2] = (K[1, 2] - self.y0) * s
        return PinholeCamera(Kc, np.eye(4), self.size, self.size)

    def image(self, img: np.ndarray, interpolation=cv2.INTER_AREA) -> np.ndarray:
        """The crop of an (H, W[, C]) image, resized; outside the image is filled with zeros."""
        M = np.array([[self.zoom, 0, -self.x0 * self.zoom], [0, self.zoom, -self.y0 * self.zoom]])
        if img.dtype == np.bool_:
            out = cv2.warpAffine(img.astype(np.uint8) * 255, M, (self.size, self.size), flags=cv2.INTER_LINEAR)
            return out > 127
        # warpAffine maps pixel centres at integers; a pure scale+shift of edges needs a half-pixel fix
        M[:, 2] += 0.5 * self.zoom - 0.5
        return cv2.warpAffine(img, M, (self.size, self.size), flags=interpolation if self.zoom < 1 else cv2.INTER_LINEAR)

    def to_crop(self, xy: np.ndarray) -> np.ndarray:
        return (xy - np.array([self.x0, self.y0])) * self.zoom


def crop_around(mask_or_box, size: int, margin: float = 0.35, min_side: float = 24.0) -> Crop:
    """Square crop centred on a mask's (or an (x0, y0, x1, y1) box's) bounding box, enlarged by margin."""
    if isinstance(mask_or_box, np.ndarray) and mask_or_box.ndim == 2:
        ys, xs = np.nonzero(mask_or_box)
        if len(xs) == 0:
            raise ValueError("crop_around needs a non-empty mask")
        box = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
    else:
        box = mask_or_box
    x0, y0, x1, y1 = (float(v) for v in box)
    side = max(x1 - x0, y1 - y0, min_side) * (1 + 2 * margin)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return Crop(cx - side / 2, cy - side / 2, side, size)
