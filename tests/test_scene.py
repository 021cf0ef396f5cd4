"""Generation's Gaussian scene: posing the Franka, layered rendering (static layer + moving parts),
compiled compositing, and the coarse robot asset used for small renders."""

import numpy as np
import pytest

from video2robo.generate.scene import (
    LABELS,
    N_LABELS,
    FastRobot,
    Parts,
    render_parts,
    render_static,
    table_parts,
    wall_parts,
)
from video2robo.geometry import PinholeCamera
from video2robo.robot.model import home_configuration

T_WORLD_BASE = np.array([[1.0, 0, 0, -0.56], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])


def _camera(size=96):
    return PinholeCamera.looking_at(np.array([0.6, 0.0, 0.75]), np.array([-0.15, 0.0, 0.15]), 60.0, size, size)


def _reference_render(parts: Parts, cam, background):
    """What the scene renderer computes, in plain numpy on top of the differentiable renderer's pieces."""
    import torch

    from video2robo.gaussians.gaussian_set import GaussianSet
    from video2robo.gaussians.sh import C0
    from video2robo.render.project_numba import project_numba
    from video2robo.render.raster_numba import rasterize_arrays

    sh = ((parts.rgb - 0.5) / C0)[:, None, :].astype(np.float32)
    g = GaussianSet(*(torch.from_numpy(np.ascontiguousarray(a)) for a in (parts.means, parts.quats, parts.log_scales, parts.logits, sh)))
    means2d, conics, depths, radii, opac, colors = project_numba(g, cam.T_cam_world, cam.K, cam.width, cam.height)
    feats = np.ascontiguousarray(np.concatenate([colors, depths[:, None], np.eye(N_LABELS, dtype=colors.dtype)[parts.label]], 1))
    feat, alpha, _ = rasterize_arrays(means2d, conics, opac, feats, radii, depths, cam.width, cam.height)
    rgb = np.clip(feat[..., :3] + (1 - alpha[..., None]) * np.asarray(background, np.float32), 0, 1)
    depth = np.where(alpha > 0.5, feat[..., 3] / np.maximum(alpha, 1e-6), 0.0)
    cover = feat[..., 4:]
    mask = np.where(cover.max(-1) > 0.5 * alpha.clip(1e-6), cover.argmax(-1), 0)
    mask[alpha < 0.5] = 0
    return (rgb * 255 + 0.5).astype(np.uint8), depth, mask


@pytest.fixture(scope="module")
def scene():
    from video2robo.robot.gaussian_robot import GaussianRobot, default_asset_dir

    rng = np.random.default_rng(0)
    robot = FastRobot(GaussianRobot(default_asset_dir("coarse")), T_WORLD_BASE)
    q = home_configuration() + np.array([0.3, 0.4, 0.0, -0.3, 0.0, 0.2, 0.0])
    static = Parts.concat([table_parts(rng.uniform(0, 1, (8, 8, 3))), wall_parts(np.full((4, 4, 3), 0.7))])
    # a small box (the "source") held near the table
    n = 400
    box = Parts(rng.uniform([0.0, -0.05, 0.02], [0.06, 0.05, 0.08], (n, 3)).astype(np.float32),
                np.tile([1.0, 0, 0, 0], (n, 1)).astype(np.float32), np.full((n, 3), np.log(0.006), np.float32),
                np.full(n, 4.0, np.float32), np.tile([0.9, 0.2, 0.1], (n, 1)).astype(np.float32), np.full(n, LABELS["source"], np.uint8))
    return static, robot.pose(q, 0.04), box


def test_compiled_compositing_matches_numpy_reference(scene):
    static, robot, box = scene
    parts, cam, bg = Parts.concat([static, robot, box]), _camera(), (0.2, 0.3, 0.4)
    rgb, depth, mask = render_parts(parts, cam, bg)
    rgb_ref, depth_ref, mask_ref = _reference_render(parts, cam, bg)
    assert np.abs(rgb.astype(int) - rgb_ref).max() <= 1
    np.testing.assert_allclose(depth, depth_ref, atol=1e-5)
    assert (mask == mask_ref).mean() > 0.999
    assert {0, LABELS["robot"], LABELS["source"]} <= set(np.unique(mask))


def test_layered_render_matches_rendering_everything(scene):
    """The static table/wall drawn once + robot and box drawn in front of it ≈ one render of all."""
    static, robot, box = scene
    cam, bg = _camera(), (0.2, 0.3, 0.4)
    moving = Parts.concat([robot, box])
    full = render_parts(Parts.concat([static, moving]), cam, bg)
    layered = render_parts(moving, cam, bg, static=render_static(static, cam))
    diff = np.abs(full[0].astype(int) - layered[0])
    assert diff.mean() < 0.5 and np.quantile(diff, 0.99) <= 8  # only soft fringes differ
    assert (full[2] == layered[2]).mean() > 0.995
    both = (full[1] > 0) & (layered[1] > 0)
    assert np.median(np.abs(full[1][both] - layered[1][both])) < 1e-4
    # and the layer really is behind: the robot hides the table where it stands in front of it
    assert (layered[2] == LABELS["robot"]).sum() > 100


def test_depth_limit_cuts_gaussians_behind_it():
    """Pixels only receive Gaussians up to their depth limit (layered rendering's contract)."""
    from video2robo.render.raster_numba import rasterize_arrays

    H = W = 8
    means2d = np.array([[4.0, 4.0], [4.0, 4.0]], np.float32)
    conics = np.tile(np.array([[0.05, 0.0, 0.05]], np.float32), (2, 1))
    opac = np.array([0.5, 0.9], np.float32)
    feats = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
    radii = np.full((2, 2), 12, np.int32)
    depths = np.array([1.0, 2.0], np.float32)
    both, _, _ = rasterize_arrays(means2d, conics, opac, feats, radii, depths, W, H)
    limit = np.full((H, W), np.inf, np.float32)
    limit[:, :4] = 1.5  # left half: an opaque surface between the two Gaussians
    cut, alpha, _ = rasterize_arrays(means2d, conics, opac, feats, radii, depths, W, H, limit)
    np.testing.assert_allclose(cut[:, 4:], both[:, 4:])
    assert np.all(cut[:, :4, 1] == 0) and np.all(both[:, :4, 1] > 0)
    np.testing.assert_allclose(cut[:, :4, 0], both[:, :4, 0])


def test_fast_robot_matches_gaussian_robot():
    from video2robo.robot.gaussian_robot import GaussianRobot, default_asset_dir

    robot = GaussianRobot(default_asset_dir("coarse"))
    q = home_configuration() + 0.2
    fast = FastRobot(robot, T_WORLD_BASE).pose(q, 0.03)
    ref = robot.pose(q, 0.03, T_WORLD_BASE)
    np.testing.assert_allclose(fast.means, ref.means.numpy(), atol=1e-5)
    qr = ref.quats.numpy() / np.linalg.norm(ref.quats.numpy(), axis=1, keepdims=True)
    assert np.all(np.abs(np.abs((fast.quats * qr).sum(1)) - 1.0) < 1e-5)  # same rotation (q ~ -q)


def test_coarse_robot_looks_like_the_full_one_at_small_size():
    """The 10 mm level of detail (~8x fewer Gaussians) gives nearly the same 128 px image."""
    from video2robo.robot.gaussian_robot import GaussianRobot, default_asset_dir, detail_for_pixel_size

    full, coarse = GaussianRobot(default_asset_dir("full")), GaussianRobot(default_asset_dir("coarse"))
    assert len(coarse) * 6 < len(full)
    cam = _camera(128)
    rng = np.random.default_rng(1)
    ious, diffs = [], []
    for _ in range(3):
        q = home_configuration() + rng.normal(0, 0.3, 7)
        a = render_parts(FastRobot(full, T_WORLD_BASE).pose(q, 0.04), cam, masks=False)
        b = render_parts(FastRobot(coarse, T_WORLD_BASE).pose(q, 0.04), cam, masks=False)
        ma, mb = a[1] > 0, b[1] > 0
        ious.append((ma & mb).sum() / (ma | mb).sum())
        diffs.append(np.abs(a[0].astype(float) - b[0]).mean())
    assert min(ious) > 0.93 and max(diffs) < 4.0
    assert detail_for_pixel_size(0.009) == "coarse" and detail_for_pixel_size(0.003) == "full"


def test_thinned_object_keeps_its_look_at_small_size():
    """One Gaussian per 4 mm cell with grown discs: fewer Gaussians, nearly the same 96 px image."""
    rng = np.random.default_rng(3)
    n = 6000
    u, v = rng.uniform(0, 1, n), rng.uniform(0, 1, n)  # a 10 cm x 10 cm vertical card, densely covered
    means = np.stack([0.1 * u, 0.1 * v - 0.05, 0.02 + 0.1 * v], 1).astype(np.float32)
    card = Parts(means, np.tile([0.7071, 0, 0.7071, 0], (n, 1)).astype(np.float32),
                 np.tile(np.log([0.002, 0.002, 0.0002]), (n, 1)).astype(np.float32), np.full(n, 4.0, np.float32),
                 np.stack([u, v, 0.5 * np.ones(n)], 1).astype(np.float32), np.full(n, LABELS["source"], np.uint8))
    thin = card.thinned(0.004)
    assert len(thin) < 0.5 * len(card)
    cam = _camera()
    a, b = render_parts(card, cam), render_parts(thin, cam)
    ma, mb = a[2] == LABELS["source"], b[2] == LABELS["source"]
    assert ma.sum() > 100 and (ma & mb).sum() / (ma | mb).sum() > 0.93  # 0.91 without growing the discs
    assert np.abs(a[0].astype(int) - b[0])[ma & mb].mean() < 6  # 8.5 without growing the discs
