"""Optional model backend "trellis": an object's 3D Gaussians generated from its first-frame crop by
TRELLIS (Xiang et al., 2024, "Structured 3D Latents for Scalable and Versatile 3D Generation"), from a
local checkpoint.

TRELLIS gives a whole object, back included, where the weight-free single view gives a pillow; it does
not give its size (its output fills a unit box) nor its pose (its canonical frame is z up, its yaw
unmeasured). The size comes from the same scale hints as the single view's (--size, or the marker's
table); the first frame's search finds the pose, the model's z kept up by its upright prior.

Needs the `trellis` package, which is not on PyPI (git clone https://github.com/microsoft/TRELLIS, its
setup.sh, the clone on PYTHONPATH), a CUDA GPU, and a local folder holding TRELLIS-image-large
(pipeline.json and ckpts/). TRELLIS also loads DINOv2 through torch.hub: offline, that must already be
in torch hub's cache (TORCH_HOME). The object's mask goes in as the image's alpha, so TRELLIS does not
run its own background removal (which would download another model).
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from video2robo.errors import BackendUnavailable, UserError, local_checkpoint
from video2robo.reconstruct.backends import LiftedModel, place_in_view

INSTALL = ("git clone --recurse-submodules https://github.com/microsoft/TRELLIS && (cd TRELLIS && . ./setup.sh "
           "--basic --xformers --spconv) && export PYTHONPATH=$PWD/TRELLIS:$PYTHONPATH  (CUDA only)")


@dataclass
class TrellisOptions:
    checkpoint: Path | str | None = None  # local TRELLIS-image-large folder (required)
    device: str = "cuda"
    seed: int = 0
    max_gaussians: int = 6000  # TRELLIS gives tens of thousands; the fit renders this many at most


class TrellisBuilder:
    """Model backend "trellis" (reconstruct.backends.ModelBuilder)."""

    name = "trellis"

    def __init__(self, options: TrellisOptions | None = None, **kwargs):
        opt = options or TrellisOptions(**kwargs)
        try:
            from trellis.pipelines import TrellisImageTo3DPipeline
        except ImportError as exc:
            raise BackendUnavailable("trellis", "trellis", INSTALL, reason=str(exc)) from exc
        # TRELLIS reads a path without pipeline.json as a Hub id, and downloads
        folder = local_checkpoint(opt.checkpoint, "model backend 'trellis'", "of TRELLIS-image-large",
                                  "--model-checkpoint DIR", inside="pipeline.json")
        import torch

        if opt.device.startswith("cuda") and not torch.cuda.is_available():
            raise UserError("model backend 'trellis' needs a CUDA GPU (its sparse convolutions have no CPU path); "
                            "use --model-backend single-view")
        try:
            self.pipeline = TrellisImageTo3DPipeline.from_pretrained(str(folder))
        except Exception as exc:  # noqa: BLE001 - its loaders raise many kinds; say which folder and why
            raise UserError(f"cannot load TRELLIS from {folder} ({type(exc).__name__}: {exc}); offline, DINOv2 "
                            "must also be in torch hub's cache (TORCH_HOME)") from None
        self.pipeline.to(torch.device(opt.device))
        self.options = opt
        self._generated = None  # (key of the RGBA input, its thinned Gaussians)

    def build(self, rgb, mask, K, extent_m, up) -> LiftedModel:
        from PIL import Image

        from video2robo.gaussians import load_ply

        if mask.sum() < 16:
            raise UserError("the first-frame mask is (almost) empty; give a prompt that covers the object")
        rgba = np.dstack([np.clip(rgb * 255 + 0.5, 0, 255), mask * 255.0]).astype(np.uint8)
        key = hashlib.sha1(rgba.tobytes()).hexdigest()
        if self._generated is None or self._generated[0] != key:  # sizing on a marker builds twice: generate once
            out = self.pipeline.run(Image.fromarray(rgba, "RGBA"), seed=self.options.seed, formats=["gaussian"])
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "trellis.ply"
                out["gaussian"][0].save_ply(str(path))  # its default transform writes z up
                g = load_ply(path)
            if len(g) > self.options.max_gaussians:  # the most opaque: they make the silhouette and the colours
                g = g.select(np.sort(np.argsort(-g.opacities.numpy())[: self.options.max_gaussians]))
            self._generated = (key, g)
        g = self._generated[1]
        means = g.means.numpy().astype(np.float64)
        lo, hi = means.min(0), means.max(0)
        g = g.transform(_translation(-0.5 * (lo + hi))).scaled(extent_m / float((hi - lo).max()))
        return LiftedModel(g, place_in_view(g.means.numpy().astype(np.float64), mask, K, extent_m, up), posed=False)


def _translation(t: np.ndarray) -> np.ndarray:
    T = np.eye(4)
    T[:3, 3] = t
    return T
