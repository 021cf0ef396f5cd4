"""The committed Gaussian Franka asset: consistent manifest, small, and rebuilt to float32 rounding."""

import json
from pathlib import Path

import mujoco
import pytest

from video2robo.robot.asset_builder import COARSE_OUT, COARSE_SPACING, DEFAULT_OUT, MANIFEST, build_assets, sha256_file
from video2robo.robot.model import LINK_BODIES, VISUAL_GROUP, panda_model

MANIFEST_DATA = json.loads((DEFAULT_OUT / MANIFEST).read_text())
COARSE_DATA = json.loads((COARSE_OUT / MANIFEST).read_text())


def test_manifest_matches_committed_files():
    links = MANIFEST_DATA["links"]
    assert list(links) == list(LINK_BODIES)
    total = 0
    for link, entry in links.items():
        assert entry["body"] == LINK_BODIES[link]
        assert sha256_file(DEFAULT_OUT / entry["ply"]) == entry["sha256"]
        assert entry["num_gaussians"] == sum(g["num_gaussians"] for g in entry["geoms"])
        total += entry["num_gaussians"]
    assert MANIFEST_DATA["total_gaussians"] == total
    assert 50_000 <= total <= 150_000


def test_asset_is_small():
    size = sum(p.stat().st_size for p in DEFAULT_OUT.iterdir())
    assert size <= 20e6


def test_every_visual_geom_and_no_collision_geom():
    m = panda_model()
    for link, entry in MANIFEST_DATA["links"].items():
        body = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, LINK_BODIES[link])
        visual = {mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_GEOM, g) for g in range(m.ngeom) if m.geom_bodyid[g] == body and m.geom_group[g] == VISUAL_GROUP}
        assert {g["geom"] for g in entry["geoms"]} == visual
        assert all(g["file_sha256"] and g["num_gaussians"] >= 1 for g in entry["geoms"])


def test_colours_come_from_the_mjcf():
    link6 = MANIFEST_DATA["links"]["link6"]["geoms"]
    colours = {tuple(g["rgba"][:3]) for g in link6}
    assert (1.0, 0.0, 0.0) in colours and (0.039216, 0.541176, 0.780392) in colours  # red/blue status lights


def _same_gaussians(built: Path, committed: Path) -> None:
    """The rebuilt link's Gaussians equal the committed ones to float32 rounding: the bytes (their hash)
    differ by a last bit between numpy/torch builds (a scale 3e-9 off on a fresh machine)."""
    import numpy as np

    from video2robo.gaussians import load_ply

    a, b = load_ply(built), load_ply(committed)
    assert len(a.means) == len(b.means)
    for field in ("means", "scales", "quats", "opacities", "sh"):
        x, y = getattr(a, field).numpy(), getattr(b, field).numpy()
        np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-7, err_msg=field)


@pytest.mark.parametrize("links", [["left_finger", "right_finger", "link7"]])
def test_builder_is_deterministic(tmp_path, links):
    """Rebuilding gives the committed Gaussians (to float32 rounding) from the same geoms."""
    manifest = build_assets(tmp_path, MANIFEST_DATA["spacing_m"], MANIFEST_DATA["seed"], links=links, inset=MANIFEST_DATA["inset_m"])
    for link in links:
        _same_gaussians(tmp_path / manifest["links"][link]["ply"], DEFAULT_OUT / MANIFEST_DATA["links"][link]["ply"])
        assert manifest["links"][link]["geoms"] == MANIFEST_DATA["links"][link]["geoms"]


@pytest.mark.slow
def test_full_rebuild_is_identical(tmp_path):
    manifest = build_assets(tmp_path, MANIFEST_DATA["spacing_m"], MANIFEST_DATA["seed"], inset=MANIFEST_DATA["inset_m"])
    assert manifest["total_gaussians"] == MANIFEST_DATA["total_gaussians"]
    for link, entry in MANIFEST_DATA["links"].items():
        assert manifest["links"][link]["geoms"] == entry["geoms"]
        _same_gaussians(tmp_path / manifest["links"][link]["ply"], DEFAULT_OUT / entry["ply"])


def test_coarse_level_is_consistent_and_rebuilt_byte_for_byte(tmp_path):
    """The coarse level of detail: same links, same builder, 10 mm spacing, reproducible (to float32 rounding)."""
    assert list(COARSE_DATA["links"]) == list(LINK_BODIES)
    assert COARSE_DATA["spacing_m"] == COARSE_SPACING and COARSE_DATA["inset_m"] == MANIFEST_DATA["inset_m"]
    for link, entry in COARSE_DATA["links"].items():
        assert sha256_file(COARSE_OUT / entry["ply"]) == entry["sha256"]
    assert 5_000 <= COARSE_DATA["total_gaussians"] <= MANIFEST_DATA["total_gaussians"] // 6
    manifest = build_assets(tmp_path, COARSE_SPACING, COARSE_DATA["seed"], links=["link7"], inset=COARSE_DATA["inset_m"])
    _same_gaussians(tmp_path / manifest["links"]["link7"]["ply"], COARSE_OUT / COARSE_DATA["links"]["link7"]["ply"])
