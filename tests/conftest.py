"""Shared test set-up: headless MuJoCo rendering and the real test data beside the checkout."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

SHARED_DATA = Path(os.environ.get("VIDEO2ROBO_SHARED_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"))


@pytest.fixture
def shared_data() -> Path:
    """../shared/data next to the checkout (read-only real test data); skips when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real test data not found at {SHARED_DATA} (set VIDEO2ROBO_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture
def fake_trellis(monkeypatch):
    """Installs a stand-in `trellis` package (no weights here) whose image-to-3D pipeline "generates" the
    GaussianSet given to the returned function; that function returns a dict recording the calls."""
    import sys
    import types

    import numpy as np

    def install(generated):
        from video2robo.gaussians import save_ply

        calls = {}

        class Generated:
            def save_ply(self, path):
                save_ply(generated, path)

        class Pipeline:
            @staticmethod
            def from_pretrained(path):
                calls["checkpoint"] = path
                return Pipeline()

            def to(self, device):
                calls["device"] = str(device)

            def run(self, image, seed=42, formats=("mesh", "gaussian", "radiance_field")):
                calls.update(image=np.asarray(image), mode=image.mode, seed=seed, formats=list(formats),
                             runs=calls.get("runs", 0) + 1)
                return {"gaussian": [Generated()]}

        package, pipelines = types.ModuleType("trellis"), types.ModuleType("trellis.pipelines")
        pipelines.TrellisImageTo3DPipeline = Pipeline
        package.pipelines = pipelines
        monkeypatch.setitem(sys.modules, "trellis", package)
        monkeypatch.setitem(sys.modules, "trellis.pipelines", pipelines)
        return calls

    return install
