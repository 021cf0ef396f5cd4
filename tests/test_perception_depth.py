"""The optional monocular depth backend: clear errors without its package or a metric checkpoint, and
its glue (image in, metres at the image's size out) with a stand-in model."""

import json
import sys
import types

import numpy as np
import pytest
import torch

from video2robo.errors import BackendUnavailable, UserError
from video2robo.perception import get_depth_backend
from video2robo.perception.depth_backend import estimate_depths


def _fake_transformers(monkeypatch, depth_m: float):
    """A stand-in `transformers` whose depth model predicts `depth_m` everywhere at a coarse resolution."""
    calls = {}

    class Processor:
        @staticmethod
        def from_pretrained(path, local_files_only=False):
            calls["processor"] = (path, local_files_only)
            return lambda images, return_tensors: {"pixel_values": torch.zeros(1, 3, 14, 14)}

    class Model(torch.nn.Module):
        @staticmethod
        def from_pretrained(path, local_files_only=False):
            calls["model"] = (path, local_files_only)
            return Model()

        def forward(self, pixel_values):
            return types.SimpleNamespace(predicted_depth=torch.full((1, 7, 9), depth_m))

    module = types.ModuleType("transformers")
    module.AutoImageProcessor, module.AutoModelForDepthEstimation = Processor, Model
    monkeypatch.setitem(sys.modules, "transformers", module)
    return calls


def test_missing_transformers_names_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "transformers", None)
    with pytest.raises(BackendUnavailable, match="transformers") as info:
        get_depth_backend("depth-anything", checkpoint="/tmp/x")
    assert info.value.package == "transformers"
    with pytest.raises(UserError, match="unknown depth backend"):
        get_depth_backend("nope")


def test_checkpoint_must_be_a_local_metric_model(monkeypatch, tmp_path):
    _fake_transformers(monkeypatch, 0.8)
    with pytest.raises(UserError, match="needs a local checkpoint"):
        get_depth_backend("depth-anything")
    with pytest.raises(UserError, match="not found"):
        get_depth_backend("depth-anything", checkpoint=tmp_path / "missing")
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "depth_anything"}))  # relative by default
    with pytest.raises(UserError, match="relative"):
        get_depth_backend("depth-anything", checkpoint=tmp_path)


def test_depth_in_metres_at_the_image_size(monkeypatch, tmp_path):
    calls = _fake_transformers(monkeypatch, 0.8)
    (tmp_path / "config.json").write_text(json.dumps({"depth_estimation_type": "metric", "max_depth": 20}))
    backend = get_depth_backend("depth-anything", checkpoint=tmp_path)
    assert calls["model"] == (str(tmp_path), True) and calls["processor"][1] is True  # never downloads
    frames = np.zeros((3, 30, 40, 3), np.uint8)
    depths = estimate_depths(frames, backend, progress=False)
    assert depths.shape == (3, 30, 40) and depths.dtype == np.float32
    np.testing.assert_allclose(depths, 0.8, rtol=1e-6)


def test_parse_takes_depth_maps_from_one_source(tmp_path):
    from video2robo.parse import ParseConfig
    from video2robo.parse.pipeline import _depth_backend

    cfg = ParseConfig(video=tmp_path / "v.mp4", depth_dir=tmp_path, depth_backend="depth-anything")
    with pytest.raises(UserError, match="not both"):
        _depth_backend(cfg)
    assert _depth_backend(ParseConfig(video=tmp_path / "v.mp4")) is None


def test_estimated_depths_are_kept_and_reused(tmp_path):
    """parse estimates the depth maps once (work/depth.npz, a stage in progress.json) and reuses them."""
    from video2robo.parse import ParseConfig
    from video2robo.parse.pipeline import Progress, _estimated_depths

    class Counting:
        name, calls = "counting", 0

        def depth(self, image):
            Counting.calls += 1
            return np.full(image.shape[:2], 0.5, np.float32)

    (tmp_path / "work").mkdir()
    cfg = ParseConfig(video=tmp_path / "v.mp4", depth_backend="depth-anything", depth_checkpoint=tmp_path)
    frames = np.zeros((2, 6, 8, 3), np.uint8)
    first = _estimated_depths(cfg, Counting(), frames, tmp_path, Progress(tmp_path), {"video": "v"}, False)
    again = _estimated_depths(cfg, Counting(), frames, tmp_path, Progress(tmp_path), {"video": "v"}, False)
    assert Counting.calls == 2 and (tmp_path / "work" / "depth.npz").is_file()
    np.testing.assert_array_equal(first, again)
    _estimated_depths(cfg, Counting(), frames, tmp_path, Progress(tmp_path), {"video": "other"}, False)
    assert Counting.calls == 4  # other frames: estimated afresh
