"""Optional SAM2 segmenter ("sam2"): Segment Anything 2 image predictor from a local checkpoint.

Needs the `sam2` package (pip install 'git+https://github.com/facebookresearch/sam2.git', which
brings hydra-core and its model configs) and a checkpoint file the user downloaded (e.g.
sam2.1_hiera_large.pt). Nothing is downloaded here. SAM2 normalises prompt coordinates by the image
width and height, i.e. it treats them as continuous coordinates — the project convention — so prompts
are passed unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from video2robo.errors import BackendUnavailable, UserError, local_checkpoint
from video2robo.perception.masks import clean_mask
from video2robo.perception.prompts import ObjectPrompt

INSTALL = "pip install 'git+https://github.com/facebookresearch/sam2.git'"

# checkpoint file stem → config name shipped inside the sam2 package
_CONFIGS = {
    "sam2.1_hiera_tiny": "configs/sam2.1/sam2.1_hiera_t.yaml",
    "sam2.1_hiera_small": "configs/sam2.1/sam2.1_hiera_s.yaml",
    "sam2.1_hiera_base_plus": "configs/sam2.1/sam2.1_hiera_b+.yaml",
    "sam2.1_hiera_large": "configs/sam2.1/sam2.1_hiera_l.yaml",
    "sam2_hiera_tiny": "configs/sam2/sam2_hiera_t.yaml",
    "sam2_hiera_small": "configs/sam2/sam2_hiera_s.yaml",
    "sam2_hiera_base_plus": "configs/sam2/sam2_hiera_b+.yaml",
    "sam2_hiera_large": "configs/sam2/sam2_hiera_l.yaml",
}


@dataclass
class Sam2Options:
    """Where the weights are and how to run them."""

    checkpoint: Path | str | None = None  # local .pt file (required)
    config: str | None = None  # sam2 config name; inferred from the checkpoint file name when None
    device: str = "cpu"
    multimask: bool = True  # ask for 3 candidates and keep the best-scored one (better for single points)


class Sam2Segmenter:
    """Segmenter "sam2": SAM2ImagePredictor with box/point/negative-point prompts."""

    name = "sam2"

    def __init__(self, options: Sam2Options | None = None, **kwargs):
        opt = options or Sam2Options(**kwargs)
        try:
            from sam2.build_sam import build_sam2
            from sam2.sam2_image_predictor import SAM2ImagePredictor
        except ImportError as exc:
            raise BackendUnavailable("sam2", "sam2", INSTALL, reason=str(exc)) from exc
        ckpt = local_checkpoint(opt.checkpoint, "segmenter 'sam2'", "file (e.g. sam2.1_hiera_large.pt)",
                                "--segmenter-checkpoint PATH")
        config = opt.config or _CONFIGS.get(ckpt.stem)
        if config is None:
            raise UserError(f"cannot infer the SAM2 config from checkpoint name '{ckpt.name}'; "
                            f"pass config= one of {sorted(set(_CONFIGS.values()))}")
        self.options = opt
        self.predictor = SAM2ImagePredictor(build_sam2(config, str(ckpt), device=opt.device))

    def segment(self, image: np.ndarray, prompt: ObjectPrompt) -> np.ndarray:
        """Bool mask (H, W): SAM2's best mask for the prompt, cleaned (components touching points)."""
        import torch

        points = np.concatenate([prompt.points, prompt.neg_points]).astype(np.float32)
        labels = np.concatenate([np.ones(len(prompt.points)), np.zeros(len(prompt.neg_points))]).astype(np.int32)
        box = None if prompt.box is None else np.asarray(prompt.box, dtype=np.float32)
        with torch.inference_mode():
            self.predictor.set_image(np.ascontiguousarray(image))
            masks, scores, _ = self.predictor.predict(
                point_coords=points if len(points) else None,
                point_labels=labels if len(points) else None,
                box=box,
                multimask_output=self.options.multimask,
            )
        mask = np.asarray(masks[int(np.argmax(scores))]) > 0.5
        seeds = np.zeros_like(mask)
        h, w = mask.shape
        for x, y in prompt.points:
            seeds[min(int(y), h - 1), min(int(x), w - 1)] = True
        return clean_mask(mask, seeds if seeds.any() else None, open_radius=0, close_radius=0, holes=False)
