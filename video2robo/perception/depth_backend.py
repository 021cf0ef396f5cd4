"""Optional monocular depth backend ("depth-anything"): per-frame depth maps in metres from a metric
Depth Anything V2 checkpoint, for parse when no depth maps are given (`--depth-dir`): the depth loss,
and the object scale that depth makes observable.

Needs the `transformers` package (pip install 'transformers>=4.45') and a local folder holding a
*metric* checkpoint in Hugging Face format (e.g. Depth-Anything-V2-Metric-Indoor-Base-hf: config.json,
model.safetensors, preprocessor_config.json). Nothing is downloaded (local_files_only). A relative-depth
checkpoint is refused: its values have no unit and grow toward the camera, and a fit reading them as
metres would put every object at a wrong scale.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from video2robo.errors import BackendUnavailable, UserError, local_checkpoint

INSTALL = "pip install 'transformers>=4.45'"


@dataclass
class DepthAnythingOptions:
    """Where the weights are and how to run them."""

    checkpoint: Path | str | None = None  # local Hugging Face model folder (required)
    device: str = "cpu"


class DepthAnything:
    """Depth backend "depth-anything": `depth(image)` → (H, W) float32 metres."""

    name = "depth-anything"

    def __init__(self, options: DepthAnythingOptions | None = None, **kwargs):
        opt = options or DepthAnythingOptions(**kwargs)
        try:
            from transformers import AutoImageProcessor, AutoModelForDepthEstimation
        except ImportError as exc:
            raise BackendUnavailable("depth-anything", "transformers", INSTALL, reason=str(exc)) from exc
        folder = local_checkpoint(opt.checkpoint, "depth backend 'depth-anything'", "of a Hugging Face model (e.g. "
                                  "Depth-Anything-V2-Metric-Indoor-Base-hf)", "--depth-checkpoint DIR", inside="config.json")
        config = folder / "config.json"
        try:
            kind = json.loads(config.read_text()).get("depth_estimation_type", "relative")
        except (OSError, json.JSONDecodeError) as exc:
            raise UserError(f"cannot read {config}: {exc}") from exc
        if kind != "metric":
            raise UserError(f"{folder} is a relative-depth checkpoint (its values have no unit); use a metric one, "
                            "e.g. Depth-Anything-V2-Metric-Indoor-Base-hf")
        self.options = opt
        self.processor = AutoImageProcessor.from_pretrained(str(folder), local_files_only=True)
        self.model = AutoModelForDepthEstimation.from_pretrained(str(folder), local_files_only=True).to(opt.device).eval()

    def depth(self, image: np.ndarray) -> np.ndarray:
        """(H, W) float32 depth in metres of an RGB uint8 image, resized back to the image."""
        import torch

        inputs = self.processor(images=np.ascontiguousarray(image), return_tensors="pt")
        inputs = {k: v.to(self.options.device) for k, v in inputs.items()}
        with torch.inference_mode():
            predicted = self.model(**inputs).predicted_depth  # (1, h, w) metres
        full = torch.nn.functional.interpolate(predicted[:, None].float(), size=image.shape[:2], mode="bilinear",
                                               align_corners=False)
        return full[0, 0].cpu().numpy().astype(np.float32).clip(min=0.0)


def estimate_depths(frames: np.ndarray, backend, progress: bool = True) -> np.ndarray:
    """(n, H, W) float32 metres: the backend's depth of every frame."""
    from tqdm import tqdm

    out = np.zeros(frames.shape[:3], np.float32)
    for i in tqdm(range(len(frames)), desc=f"depth ({backend.name})", unit="frame", disable=not progress):
        out[i] = backend.depth(frames[i])
    return out
