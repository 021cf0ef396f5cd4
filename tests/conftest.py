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
