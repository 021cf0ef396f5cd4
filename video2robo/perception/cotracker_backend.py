"""Optional point tracker "cotracker3": Meta's CoTracker3 (offline model) from a local checkpoint.

Needs the `cotracker` package (pip install 'git+https://github.com/facebookresearch/co-tracker.git')
and a checkpoint file the user downloaded (scaled_offline.pth). The model class comes from the
package (cotracker.predictor.CoTrackerPredictor, which builds the network and torch.loads the state
dict from the given file); torch.hub is never used, nothing is downloaded.

CoTracker tracks all frames jointly and predicts occluded points and re-appearance itself, so it
does not accept new points mid-video (supports_reseed = False). It scales queries with
align_corners=True resizing, i.e. integer pixel centres like OpenCV: coordinates are shifted by half
a pixel at the boundary (perception.pixels).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from tqdm import tqdm

from video2robo.errors import BackendUnavailable, local_checkpoint
from video2robo.perception.pixels import from_cv, to_cv
from video2robo.perception.track import FrameCallback, Tracks

INSTALL = "pip install 'git+https://github.com/facebookresearch/co-tracker.git'"


@dataclass
class CoTrackerOptions:
    """Where the weights are and how to run them."""

    checkpoint: Path | str | None = None  # local scaled_offline.pth (required)
    device: str = "cpu"
    window_len: int = 60  # the offline model's temporal window (60 for scaled_offline.pth)
    backward_tracking: bool = False  # only matters for points starting after frame 0
    show_progress: bool = True


class CoTracker3Tracker:
    """Point tracker "cotracker3" (offline CoTracker3)."""

    name = "cotracker3"
    supports_reseed = False

    def __init__(self, options: CoTrackerOptions | None = None, **kwargs):
        opt = options or CoTrackerOptions(**kwargs)
        try:
            from cotracker.predictor import CoTrackerPredictor
        except ImportError as exc:
            raise BackendUnavailable("cotracker3", "cotracker", INSTALL, reason=str(exc)) from exc
        ckpt = local_checkpoint(opt.checkpoint, "tracker 'cotracker3'", "file (scaled_offline.pth)",
                                "--tracker-checkpoint PATH")
        self.options = opt
        self.model = CoTrackerPredictor(checkpoint=str(ckpt), offline=True, window_len=opt.window_len).to(opt.device)

    def track(self, frames: Sequence[np.ndarray], points: np.ndarray, owner: np.ndarray,
              on_frame: FrameCallback | None = None) -> Tracks:
        """Tracks of `points` (P, 2, project coords) from frame 0; `on_frame` is called for each frame
        after the whole video has been tracked (it must not return new points)."""
        import torch

        video = torch.from_numpy(np.stack([np.asarray(f) for f in frames])).permute(0, 3, 1, 2)[None].float()
        queries = np.concatenate([np.zeros((len(points), 1)), to_cv(points)], axis=1)
        with torch.no_grad():
            pred, vis = self.model(video.to(self.options.device),
                                   queries=torch.from_numpy(queries).float()[None].to(self.options.device),
                                   backward_tracking=self.options.backward_tracking)
        xy = from_cv(pred[0].cpu().numpy())
        visible = vis[0].cpu().numpy().astype(bool).reshape(xy.shape[:2])
        if on_frame is not None:
            for t in tqdm(range(len(frames)), desc="propagate (CoTracker3)", unit="frame",
                          disable=not self.options.show_progress):
                new = on_frame(t, np.asarray(frames[t]), xy[t], visible[t])
                if new is not None and len(new[0]):
                    raise RuntimeError("cotracker3 cannot add points mid-video (supports_reseed is False)")
        return Tracks(xy, visible, np.zeros(len(points), dtype=np.int64), np.asarray(owner, dtype=np.int64))
