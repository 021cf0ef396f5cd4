"""The segmenter protocol and first-frame mask extraction for all prompted objects.

A segmenter turns one RGB image and one object prompt (box and/or points, optional negative points)
into a bool mask. Backends are chosen by name through perception.registry.get_segmenter.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
from tqdm import tqdm

from video2robo.errors import UserError
from video2robo.perception.masks import load_mask
from video2robo.perception.prompts import ObjectPrompt, validate_prompts


@runtime_checkable
class Segmenter(Protocol):
    """Prompt → mask on one image. `image` is uint8 RGB (H, W, 3); returns bool (H, W)."""

    name: str

    def segment(self, image: np.ndarray, prompt: ObjectPrompt) -> np.ndarray: ...


def first_frame_masks(image: np.ndarray, prompts: list[ObjectPrompt], segmenter: Segmenter | None,
                      min_area_px: int = 20) -> dict[str, np.ndarray]:
    """Masks of every prompted object on the first frame, keyed by object name, in prompt order.

    Objects with a mask file use it (resized to the frame if the aspect ratio matches); the others
    go through `segmenter`. Pixels claimed by several objects are kept by the first one only, so the
    masks are disjoint (the demo folder stores one label image). An empty or tiny result raises
    UserError naming the object, since everything downstream depends on this mask.
    """
    h, w = image.shape[:2]
    validate_prompts(prompts, w, h)
    masks: dict[str, np.ndarray] = {}
    taken = np.zeros((h, w), dtype=bool)
    for prompt in tqdm(prompts, desc="segment first frame", unit="object", disable=len(prompts) < 2):
        if prompt.mask_path is not None:
            mask = load_mask(prompt.mask_path, w, h, prompt.name)
        else:
            if segmenter is None:
                raise UserError(f"object '{prompt.name}' has a box/point prompt but no segmenter was chosen")
            mask = np.asarray(segmenter.segment(image, prompt), dtype=bool)
            if mask.shape != (h, w):
                raise RuntimeError(f"segmenter {segmenter.name} returned shape {mask.shape}, expected {(h, w)}")
        mask = mask & ~taken
        if mask.sum() < min_area_px:
            raise UserError(f"segmentation of '{prompt.name}' is empty or smaller than {min_area_px} pixels; "
                            "give a tighter box, more points, or a mask file")
        masks[prompt.name] = mask
        taken |= mask
    return masks
