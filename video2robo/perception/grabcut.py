"""Prompt-based segmentation with no model weights: OpenCV GrabCut.

GrabCut fits colour mixture models to the object and background and cuts along colour edges.
It is initialised from the box (outside = background) or, for point prompts, from a box around the
points with the points themselves as sure foreground; negative points are sure background. It runs
on a crop around the prompt (downscaled if large) for speed, and the result is cleaned with
morphology, keeping the component(s) touching the prompt.

Works well for objects whose colours differ from their surroundings; it cannot separate an object
from an adjacent region of the same colour (use a tighter box, negative points, a mask file or SAM2).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from video2robo.perception.masks import clean_mask
from video2robo.perception.prompts import ObjectPrompt


@dataclass
class GrabCutOptions:
    """Knobs of the GrabCut segmenter (pixels are in the full image unless said otherwise)."""

    iterations: int = 5  # GrabCut EM iterations
    crop_margin: float = 0.5  # crop = prompt box grown by this fraction of its size on each side...
    min_crop_margin_px: int = 16  # ...and at least this many pixels (background samples for GrabCut)
    max_crop_side: int = 400  # crops larger than this are downscaled for speed
    point_box_pad: float = 0.6  # point-only prompts: box around the points grown by this fraction...
    point_box_min_frac: float = 0.3  # ...and at least this fraction of the image's shorter side
    seed_radius_px: int = 3  # radius of the sure-foreground/background discs at prompt points
    open_radius_px: int = 1
    close_radius_px: int = 2
    fill_holes: bool = True


def grab_cut(image_rgb: np.ndarray, gc: np.ndarray, iterations: int) -> None:
    """cv2.grabCut from the label map `gc` (updated in place). Its k-means starts from OpenCV's global
    RNG, whose state is whatever ran before (RANSAC, other GrabCuts): seeded here, a mask depends on the
    image alone, and a parse run gives the same result alone or after other runs in the same process (the
    same first-frame mask up to 13 pixels apart sent a box's first-frame search 5 cm off)."""
    cv2.setRNGSeed(0)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.grabCut(np.ascontiguousarray(image_rgb[:, :, ::-1]), gc, None, bgd, fgd, iterations, cv2.GC_INIT_WITH_MASK)


def _prompt_box(prompt: ObjectPrompt, w: int, h: int, opt: GrabCutOptions) -> tuple[float, float, float, float]:
    """The box GrabCut starts from: the user's box, or a box around the positive points."""
    if prompt.box is not None:
        return prompt.box
    pts = prompt.points
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    size = np.maximum((hi - lo) * (1 + 2 * opt.point_box_pad), opt.point_box_min_frac * min(w, h))
    centre = (lo + hi) / 2
    x0, y0 = np.maximum(centre - size / 2, 0)
    x1, y1 = np.minimum(centre + size / 2, [w, h])
    return float(x0), float(y0), float(x1), float(y1)


class GrabCutSegmenter:
    """Segmenter "grabcut": box/points → mask with cv2.grabCut (no weights)."""

    name = "grabcut"

    def __init__(self, options: GrabCutOptions | None = None):
        self.options = options or GrabCutOptions()

    def segment(self, image: np.ndarray, prompt: ObjectPrompt) -> np.ndarray:
        """Bool mask (H, W) of the prompted object. Prompt coordinates are project pixels (centres
        at +0.5); the integer pixel grid used below is OpenCV's, so a box [x0, x1) covers columns
        floor(x0) .. ceil(x1) - 1."""
        opt = self.options
        h, w = image.shape[:2]
        x0, y0, x1, y1 = _prompt_box(prompt, w, h, opt)
        mx = max(opt.min_crop_margin_px, opt.crop_margin * (x1 - x0))
        my = max(opt.min_crop_margin_px, opt.crop_margin * (y1 - y0))
        c0, r0 = int(max(0, np.floor(x0 - mx))), int(max(0, np.floor(y0 - my)))
        c1, r1 = int(min(w, np.ceil(x1 + mx))), int(min(h, np.ceil(y1 + my)))
        scale = min(1.0, opt.max_crop_side / max(c1 - c0, r1 - r0))
        crop = image[r0:r1, c0:c1]
        if scale < 1.0:
            crop = cv2.resize(crop, (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale))),
                              interpolation=cv2.INTER_AREA)
        ch, cw = crop.shape[:2]

        def to_crop(xy):  # project coords (full image) → continuous crop coords
            return (np.asarray(xy, dtype=np.float64) - [c0, r0]) * scale

        # a user box bounds the object (outside = sure background); a box guessed around points does
        # not, so there only the crop border is sure background and the rest is "probably background"
        gc = np.full((ch, cw), cv2.GC_BGD if prompt.box is not None else cv2.GC_PR_BGD, dtype=np.uint8)
        if prompt.box is None:
            gc[[0, -1], :] = cv2.GC_BGD
            gc[:, [0, -1]] = cv2.GC_BGD
        bx0, by0 = to_crop([x0, y0])
        bx1, by1 = to_crop([x1, y1])
        gc[int(np.floor(by0)):int(np.ceil(by1)), int(np.floor(bx0)):int(np.ceil(bx1))] = cv2.GC_PR_FGD
        seeds = np.zeros((ch, cw), dtype=np.uint8)
        radius = max(1, round(opt.seed_radius_px * scale))
        for x, y in to_crop(prompt.points).reshape(-1, 2):
            cv2.circle(seeds, (int(x), int(y)), radius, 1, -1)  # int(): integer pixel containing the point
        gc[seeds > 0] = cv2.GC_FGD
        for x, y in to_crop(prompt.neg_points).reshape(-1, 2):
            cv2.circle(gc, (int(x), int(y)), radius, int(cv2.GC_BGD), -1)
        if not (gc == cv2.GC_BGD).any():
            # the box covers the whole crop (object fills the frame): GrabCut needs background samples
            gc[[0, -1], :] = cv2.GC_PR_BGD
            gc[:, [0, -1]] = cv2.GC_PR_BGD
        grab_cut(crop, gc, opt.iterations)
        fg = (gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD)
        if scale < 1.0:
            fg = cv2.resize(fg.astype(np.float32), (c1 - c0, r1 - r0), interpolation=cv2.INTER_LINEAR) > 0.5
            seeds = cv2.resize(seeds, (c1 - c0, r1 - r0), interpolation=cv2.INTER_NEAREST)
        mask = np.zeros((h, w), dtype=bool)
        mask[r0:r1, c0:c1] = fg
        seed_mask = np.zeros((h, w), dtype=bool)
        seed_mask[r0:r1, c0:c1] = seeds > 0
        return clean_mask(mask, seed_mask if seed_mask.any() else None, opt.open_radius_px,
                          opt.close_radius_px, opt.fill_holes)
