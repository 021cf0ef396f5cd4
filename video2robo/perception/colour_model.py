"""Per-object colour model: re-detects an object near where it is expected, independently of tracks.

A colour histogram (HSV) of the object's first-frame mask against one of the rest of the frame gives
P(object | colour) per bin; back-projecting it near the predicted silhouette and keeping the confident
blobs that touch the prediction gives a mask that neither drifts with the tracks nor shrinks with
our own prediction (an occluding hand or a differently coloured object is not taken).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from video2robo.perception.masks import clean_mask, disk


@dataclass
class ColourModelOptions:
    bins: tuple[int, int, int] = (18, 8, 8)  # hue, saturation, value
    threshold: float = 0.6  # posterior above which a pixel is the object's
    min_fg_pixels: int = 50
    prior_weight: float = 1.0  # pseudo-counts per bin (keeps unseen colours at P = 1/2 → not object)


class ColourModel:
    """P(object | colour) learnt once from a frame and the object's mask (see module docstring)."""

    def __init__(self, image: np.ndarray, mask: np.ndarray, exclude: np.ndarray | None = None,
                 options: ColourModelOptions | None = None):
        self.opt = options or ColourModelOptions()
        fg = cv2.erode(mask.astype(np.uint8), disk(1))
        bg = (~cv2.dilate(mask.astype(np.uint8), disk(2)).astype(bool))
        if exclude is not None:
            bg &= ~exclude
        self.usable = int(fg.sum()) >= self.opt.min_fg_pixels
        idx = self._bin_index(image)
        h_fg = np.zeros(self.opt.bins)
        h_bg = np.zeros(self.opt.bins)
        np.add.at(h_fg, tuple(i[fg > 0] for i in idx), 1)
        np.add.at(h_bg, tuple(i[bg] for i in idx), 1)
        a = self.opt.prior_weight
        p_fg = (h_fg + a) / (h_fg.sum() + a * h_fg.size)
        p_bg = (h_bg + a) / (h_bg.sum() + a * h_bg.size)
        self.posterior = (p_fg / (p_fg + p_bg)).astype(np.float32)

    def probability(self, image: np.ndarray) -> np.ndarray:
        """(H, W) float32 P(object | colour)."""
        return self.posterior[self._bin_index(image)]

    def _bin_index(self, image: np.ndarray) -> tuple[np.ndarray, ...]:
        hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV).astype(np.int32)
        return tuple(np.minimum(hsv[..., c] * b // r, b - 1) for c, b, r in zip(range(3), self.opt.bins, (180, 256, 256)))

    def detect(self, image: np.ndarray, prior: np.ndarray, search_px: int, exclude: np.ndarray | None = None) -> np.ndarray:
        """Object pixels within search_px of the prior silhouette, in blobs that overlap the prior."""
        if not self.usable or not prior.any():
            return np.zeros_like(prior)
        ys, xs = np.nonzero(prior)
        h, w = prior.shape
        r0, r1 = max(0, ys.min() - search_px), min(h, ys.max() + search_px + 1)
        c0, c1 = max(0, xs.min() - search_px), min(w, xs.max() + search_px + 1)
        win = np.zeros_like(prior)
        near = cv2.dilate(prior[r0:r1, c0:c1].astype(np.uint8), disk(search_px)) > 0
        prob = cv2.GaussianBlur(self.probability(np.ascontiguousarray(image[r0:r1, c0:c1])), (0, 0), 1.0)
        win[r0:r1, c0:c1] = near & (prob > self.opt.threshold)
        if exclude is not None:
            win &= ~exclude
        if not win.any():
            return win
        out = clean_mask(win, prior, open_radius=1, close_radius=2, holes=True)
        return out & ~exclude if exclude is not None else out
