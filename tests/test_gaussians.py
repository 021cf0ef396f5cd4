"""GaussianSet and spherical harmonics: rigid transforms, SH rotation, concat/select/scale (render-free)."""

import math

import numpy as np
import pytest
import torch

from video2robo.gaussians import GaussianSet, eval_sh, rgb_to_sh0, rotate_sh, sh0_to_rgb
from video2robo.gaussians.sh import num_coeffs
from video2robo.geometry import make_pose, pose_inverse, quat_to_rotmat


def random_pose(rng) -> np.ndarray:
    q = rng.normal(size=4)
    return make_pose(quat_to_rotmat(q / np.linalg.norm(q)), rng.normal(size=3))


def random_set(rng, n=200, degree=3, dtype=torch.float64) -> GaussianSet:
    q = rng.normal(size=(n, 4))
    return GaussianSet(
        means=torch.tensor(rng.normal(size=(n, 3)), dtype=dtype),
        quats=torch.tensor(q / np.linalg.norm(q, axis=1, keepdims=True), dtype=dtype),
        log_scales=torch.tensor(rng.normal(-4, 0.5, size=(n, 3)), dtype=dtype),
        opacity_logits=torch.tensor(rng.normal(size=n), dtype=dtype),
        sh=torch.tensor(rng.normal(0, 0.3, size=(n, num_coeffs(degree), 3)), dtype=dtype),
    )


def covariances(g: GaussianSet) -> torch.Tensor:
    R = quat_to_rotmat(g.quats)
    S = torch.diag_embed(g.scales**2)
    return R @ S @ R.transpose(-1, -2)


def assert_same_set(a: GaussianSet, b: GaussianSet, atol=1e-10):
    """Equal as geometry: means, covariances, opacities, colour coefficients (quats up to sign)."""
    assert torch.allclose(a.means, b.means, atol=atol)
    assert torch.allclose(covariances(a), covariances(b), atol=atol)
    assert torch.allclose(a.opacity_logits, b.opacity_logits, atol=atol)
    assert torch.allclose(a.sh, b.sh, atol=atol)


def random_dirs(rng, n):
    d = rng.normal(size=(n, 3))
    return torch.tensor(d / np.linalg.norm(d, axis=1, keepdims=True))


@pytest.mark.parametrize("degree", [0, 1, 2, 3])
def test_transform_then_inverse_gives_back_the_set(degree):
    rng = np.random.default_rng(degree)
    g = random_set(rng, degree=degree)
    T = random_pose(rng)
    back = g.transform(T).transform(pose_inverse(T))
    assert_same_set(back, g, atol=1e-9)


def test_transform_moves_means_and_rotates_covariances():
    rng = np.random.default_rng(10)
    g = random_set(rng, degree=1)
    T = random_pose(rng)
    R, t = torch.tensor(T[:3, :3]), torch.tensor(T[:3, 3])
    moved = g.transform(T)
    assert torch.allclose(moved.means, g.means @ R.T + t, atol=1e-12)
    assert torch.allclose(covariances(moved), R @ covariances(g) @ R.T, atol=1e-12)
    assert torch.equal(moved.log_scales, g.log_scales) and torch.equal(moved.opacity_logits, g.opacity_logits)
    # composing transforms equals transforming by the product
    T2 = random_pose(rng)
    assert_same_set(moved.transform(T2), g.transform(T2 @ T), atol=1e-9)


def test_transform_is_differentiable_in_the_pose():
    rng = np.random.default_rng(11)
    g = random_set(rng, degree=2)
    T = torch.tensor(random_pose(rng), requires_grad=True)
    moved = g.transform(T)
    (moved.means.sum() + moved.sh[:, 1:].pow(2).sum() + moved.quats[:, 1].sum()).backward()
    assert T.grad is not None and torch.isfinite(T.grad).all() and T.grad[:3, :3].abs().sum() > 0


@pytest.mark.parametrize("degree", [1, 2, 3])
def test_sh_rotation_matches_rotated_view_direction(degree):
    """eval_sh(rotate_sh(c, R), R d) == eval_sh(c, d): the colour travels with the object."""
    rng = np.random.default_rng(20 + degree)
    c = torch.tensor(rng.normal(0, 0.3, size=(100, num_coeffs(degree), 3)))
    R = torch.tensor(quat_to_rotmat(rng.normal(size=4)))
    d = random_dirs(rng, 100)
    # keep colours away from the max(·, 0) clamp so the comparison tests the SH sum itself
    c[:, 0] += 3.0
    lhs = eval_sh(rotate_sh(c, R), d @ R.T)
    rhs = eval_sh(c, d)
    assert torch.allclose(lhs, rhs, atol=1e-10)
    # and the transform of a set does the same thing
    g = GaussianSet.create(torch.zeros(100, 3, dtype=torch.float64), sh=c, dtype=torch.float64)
    T = make_pose(R.numpy(), np.zeros(3))
    assert torch.allclose(eval_sh(g.transform(T).sh, d @ R.T), rhs, atol=1e-10)


def test_sh_rotation_is_not_identity_and_degree_zero_is_untouched():
    rng = np.random.default_rng(30)
    c = torch.tensor(rng.normal(size=(10, 16, 3)))
    R = torch.tensor(quat_to_rotmat(np.array([math.cos(0.4), 0.0, math.sin(0.4), 0.0])))
    rotated = rotate_sh(c, R)
    assert torch.equal(rotated[:, 0], c[:, 0])
    assert (rotated[:, 1:] - c[:, 1:]).abs().max() > 0.1
    c0 = c[:, :1]
    assert torch.equal(rotate_sh(c0, R), c0)


def test_sh_degree_one_direction_convention():
    """Band 1 is linear in the direction: colour(d) - colour(-d) is odd, and z picks coefficient 2."""
    c = torch.zeros(1, 4, 3, dtype=torch.float64)
    c[0, 2] = 1.0  # the z coefficient
    up = eval_sh(c, torch.tensor([[0.0, 0.0, 1.0]], dtype=torch.float64))
    down = eval_sh(c, torch.tensor([[0.0, 0.0, -1.0]], dtype=torch.float64))
    assert torch.allclose(up - down, torch.full((1, 3), 2 * 0.4886025119029199, dtype=torch.float64))


def test_create_stores_raw_fields_and_activations_invert():
    rng = np.random.default_rng(40)
    means = rng.normal(size=(50, 3))
    scales = rng.uniform(0.001, 0.1, size=(50, 3))
    opac = rng.uniform(0.05, 0.95, size=50)
    rgb = rng.uniform(0, 1, size=(50, 3))
    g = GaussianSet.create(means, scales=scales, opacities=opac, rgb=rgb, dtype=torch.float64)
    assert torch.allclose(g.scales, torch.tensor(scales), atol=1e-12)
    assert torch.allclose(g.opacities, torch.tensor(opac), atol=1e-12)
    assert torch.allclose(g.rgb, torch.tensor(rgb), atol=1e-12)
    assert torch.allclose(sh0_to_rgb(rgb_to_sh0(torch.tensor(rgb))), torch.tensor(rgb), atol=1e-12)
    assert g.sh_degree == 0 and len(g) == 50
    with pytest.raises(ValueError):
        GaussianSet(g.means, g.quats[:10], g.log_scales, g.opacity_logits, g.sh)


def test_concat_and_select():
    rng = np.random.default_rng(50)
    a, b = random_set(rng, n=30, degree=1), random_set(rng, n=20, degree=3)
    both = GaussianSet.concat([a, b])
    assert len(both) == 50 and both.sh_degree == 3
    first = both.select(np.arange(30))
    assert torch.equal(first.means, a.means) and torch.equal(first.sh[:, :4], a.sh)
    assert torch.equal(first.sh[:, 4:], torch.zeros_like(first.sh[:, 4:]))  # padded bands
    mask = torch.zeros(50, dtype=torch.bool)
    mask[30:] = True
    second = both.select(mask)
    for name in ("means", "quats", "log_scales", "opacity_logits", "sh"):
        assert torch.equal(getattr(second, name), getattr(b, name))
    with pytest.raises(ValueError):
        GaussianSet.concat([])


def test_scaled_scales_positions_and_sizes():
    rng = np.random.default_rng(60)
    g = random_set(rng, degree=2)
    s = g.scaled(0.01)
    assert torch.allclose(s.means, g.means * 0.01, atol=1e-15)
    assert torch.allclose(s.scales, g.scales * 0.01, atol=1e-15)
    assert torch.equal(s.quats, g.quats) and torch.equal(s.sh, g.sh)
    # scaling commutes with rotation about the origin
    T = random_pose(rng)
    T[:3, 3] = 0.0
    assert_same_set(s.transform(T), g.transform(T).scaled(0.01), atol=1e-12)
    f = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    g.scaled(f).means.sum().backward()
    assert torch.allclose(f.grad, g.means.sum())


@pytest.mark.parametrize("backend", ["numba", "torch"])
def test_rotated_set_seen_by_rotated_camera_renders_the_same_image(backend):
    """set.transform(T) seen by T_cam_world·T⁻¹ looks exactly like the set seen by T_cam_world.

    Degree-3 SH colours make this fail if the SH coefficients were not rotated with the set.
    """
    from dataclasses import replace

    from video2robo.geometry import PinholeCamera
    from video2robo.render import render

    rng = np.random.default_rng(70)
    n = 300
    g = random_set(rng, n=n, degree=3, dtype=torch.float32)
    g = replace(
        g,
        means=torch.tensor(rng.uniform(-0.1, 0.1, (n, 3)), dtype=torch.float32),
        log_scales=torch.tensor(np.log(rng.uniform(0.005, 0.02, (n, 3))), dtype=torch.float32),
        sh=g.sh * 1.5,
    )
    cam = PinholeCamera.looking_at([0.3, -0.4, 0.25], [0, 0, 0], 50.0, 64, 64)
    T = random_pose(rng)
    moved_cam = PinholeCamera(cam.K, cam.T_cam_world @ pose_inverse(T), cam.width, cam.height)
    ref = render(g, cam, backend=backend)
    moved = render(g.transform(T), moved_cam, backend=backend)
    assert ref.alpha.mean() > 0.1  # the set is in view
    assert (ref.rgb - moved.rgb).abs().max() <= 1e-4
    assert (ref.alpha - moved.alpha).abs().max() <= 1e-4
    assert (ref.depth - moved.depth).abs().max() <= 1e-4
    # moving means and rotations but not the SH gives visibly wrong colours
    wrong = render(replace(g.transform(T), sh=g.sh), moved_cam, backend=backend)
    assert (ref.rgb - wrong.rgb).abs().max() > 0.1
