"""Object model builders chosen by name (reconstruct.backends): the weight-free single view, and the
optional image-to-3D backend's errors and glue (mask in as alpha; its unit-box output sized, thinned and
placed on the mask's viewing ray), run against a stand-in `trellis` package."""

import sys

import numpy as np
import pytest
import torch

from video2robo.errors import BackendUnavailable, UserError
from video2robo.gaussians import GaussianSet
from video2robo.reconstruct import get_model_builder, single_view_model

W, H = 160, 120
K = np.array([[150.0, 0, W / 2], [0, 150.0, H / 2], [0, 0, 1]])


def _view():
    yy, xx = np.mgrid[:H, :W]
    mask = (np.abs(xx - 90) <= 30) & (np.abs(yy - 50) <= 12)  # a bar, 61 px wide
    rgb = np.zeros((H, W, 3), np.float32)
    rgb[mask] = (0.8, 0.2, 0.2)
    return rgb, mask


def _bar(n=20000, seed=0):
    """A 2 × 0.5 × 0.5 bar of Gaussians off the origin, z up: what a generator might give, in its units."""
    rng = np.random.default_rng(seed)
    means = rng.uniform(-1, 1, (n, 3)) * [1.0, 0.25, 0.25] + [0.3, -0.2, 0.1]
    opac = np.linspace(0.05, 0.95, n)[rng.permutation(n)]
    return GaussianSet.create(means, scales=np.full((n, 3), 0.01), opacities=opac, rgb=np.full((n, 3), 0.5))


def test_unknown_backend_and_the_default_single_view():
    with pytest.raises(UserError, match="unknown model backend 'nope'; choose one of: single-view, trellis"):
        get_model_builder("nope")
    rgb, mask = _view()
    builder = get_model_builder()
    assert builder.name == "single-view"
    up = np.array([0.0, -0.7, -0.7]) / np.sqrt(0.98)
    lifted = builder.build(rgb, mask, K, 0.1, up=up)
    g, T, _ = single_view_model(rgb, mask, K, 0.1, up=up)
    np.testing.assert_array_equal(lifted.gaussians.means.numpy(), g.means.numpy())
    np.testing.assert_array_equal(lifted.T_cam_obj, T)
    assert lifted.posed and not builder.build(rgb, mask, K, 0.1, up=None).posed  # no up: only a start


def test_trellis_without_its_package_names_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "trellis", None)
    with pytest.raises(BackendUnavailable, match="'trellis'") as info:
        get_model_builder("trellis", checkpoint="/tmp/x")
    assert info.value.package == "trellis" and "github.com/microsoft/TRELLIS" in str(info.value)


def test_trellis_needs_a_local_checkpoint_and_a_gpu(fake_trellis, tmp_path, monkeypatch):
    fake_trellis(_bar())
    with pytest.raises(UserError, match="needs a local checkpoint"):
        get_model_builder("trellis")
    with pytest.raises(UserError, match="holds no pipeline.json"):  # never read as a Hub id (a download)
        get_model_builder("trellis", checkpoint=tmp_path)
    (tmp_path / "pipeline.json").write_text("{}")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(UserError, match="needs a CUDA GPU"):
        get_model_builder("trellis", checkpoint=tmp_path)
    with pytest.raises(UserError, match="bad option for model backend 'trellis'"):
        get_model_builder("trellis", checkpoint=tmp_path, colour=1)


def test_trellis_output_is_sized_thinned_and_placed_on_the_masks_ray(fake_trellis, tmp_path):
    calls = fake_trellis(_bar())
    (tmp_path / "pipeline.json").write_text("{}")
    builder = get_model_builder("trellis", checkpoint=tmp_path, device="cpu", max_gaussians=3000)
    assert calls["checkpoint"] == str(tmp_path) and calls["device"] == "cpu"
    rgb, mask = _view()
    up = np.array([0.0, -0.6, -0.8])
    lifted = builder.build(rgb, mask, K, 0.12, up=up)
    assert calls["mode"] == "RGBA" and calls["formats"] == ["gaussian"]
    np.testing.assert_array_equal(calls["image"][..., 3] > 0, mask)  # the mask is the alpha: no background removal
    np.testing.assert_allclose(calls["image"][mask][:, :3].mean(0), [204, 51, 51], atol=1)
    g = lifted.gaussians
    assert len(g) == 3000 and g.opacities.min() > 0.45  # the most opaque kept
    means = g.means.numpy()
    np.testing.assert_allclose(np.ptp(means, axis=0).max(), 0.12, rtol=1e-5)  # its largest extent is the size
    np.testing.assert_allclose(0.5 * (means.min(0) + means.max(0)), 0, atol=1e-6)  # centred
    T = lifted.T_cam_obj
    assert not lifted.posed  # the generated shape's yaw is unknown: the first frame's search finds it
    np.testing.assert_allclose(T[:3, 2], up, atol=1e-9)
    np.testing.assert_allclose(T[:3, :3].T @ T[:3, :3], np.eye(3), atol=1e-9)
    centre = T[:3, 3]  # on the ray through the mask's centroid, where 0.12 m spans its 61 px
    np.testing.assert_allclose(centre[2], 150.0 * 0.12 / 61, rtol=1e-6)
    np.testing.assert_allclose((K @ centre)[:2] / centre[2], [90.5, 50.5], atol=1e-6)
    calls.clear()
    np.testing.assert_allclose(builder.build(rgb, mask, K, 0.24, up=up).gaussians.means.numpy(),
                               2 * lifted.gaussians.means.numpy(), rtol=1e-6)  # another size: the same shape...
    assert not calls  # ...not generated again (sizing on a marker builds twice)


def test_a_generated_model_is_sized_to_stand_on_the_markers_table(fake_trellis, tmp_path):
    """parse.models.extent_on_marker with the trellis backend: the size found puts the generated model's
    lowest point on the table plane (the camera 60 cm above it, looking down 45°), from one generation."""
    from types import SimpleNamespace

    from video2robo.parse.models import extent_on_marker
    from video2robo.parse.world import scale_to_plane

    calls = fake_trellis(_bar())
    (tmp_path / "pipeline.json").write_text("{}")
    builder = get_model_builder("trellis", checkpoint=tmp_path, device="cpu")
    up = np.array([0.0, -np.sqrt(0.5), -np.sqrt(0.5)])  # camera frame: image up and toward the camera
    marker = SimpleNamespace(plane=(up, -0.6 * up), up=up)  # the table 60 cm from the camera along -up
    rgb, mask = _view()

    def build(extent):
        return builder.build(rgb, mask, K, extent, up=up)

    warnings = []
    extent = extent_on_marker(build, marker, "bar", warnings)
    assert not warnings and 0.02 < extent < 2.0
    standing = build(extent)
    points = standing.gaussians.means.numpy().astype(np.float64)
    np.testing.assert_allclose(scale_to_plane(marker.plane, standing.T_cam_obj, points), 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.ptp(points, axis=0).max(), extent, rtol=1e-5)
    assert calls["runs"] == 1  # built three times (a guess, the size found, here), generated once
