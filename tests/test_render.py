"""Renderer: every backend against the brute-force per-pixel reference, analytic footprints, gradients."""


import numpy as np
import pytest
import torch

from video2robo.gaussians import GaussianSet
from video2robo.geometry import PinholeCamera, se3_exp
from video2robo.render import render
from video2robo.render.projection import project
from video2robo.render.reference import rasterize_reference

CPU_BACKENDS = ["torch", "numba"]


def random_scene(n=30, sh_degree=0, seed=0, dtype=torch.float32, extent=0.3):
    g = torch.Generator().manual_seed(seed)
    sh = torch.randn(n, (sh_degree + 1) ** 2, 3, generator=g, dtype=dtype) * 0.4
    return GaussianSet.create(
        torch.randn(n, 3, generator=g, dtype=dtype) * extent,
        quats=torch.randn(n, 4, generator=g, dtype=dtype),
        scales=torch.rand(n, 3, generator=g, dtype=dtype) * 0.08 + 0.01,
        opacities=torch.rand(n, generator=g, dtype=dtype) * 0.85 + 0.1,
        sh=sh,
        dtype=dtype,
    )


def cameras(width=40, height=32):
    return [
        PinholeCamera.looking_at([0.0, -2.0, 0.6], [0, 0, 0], 60, width, height),
        PinholeCamera.looking_at([1.2, 1.0, 1.4], [0.05, 0, 0], 70, width, height),
    ]


def reference_images(gs, cam, antialiased=False):
    K = torch.as_tensor(cam.K, dtype=gs.dtype)
    T = torch.as_tensor(cam.T_cam_world, dtype=gs.dtype)
    p = project(gs.means, gs.quats, gs.scales, gs.opacities, gs.sh, T, K, cam.width, cam.height, antialiased=antialiased)
    feat, alpha = rasterize_reference(p, torch.cat([p.colors, p.depths[:, None]], 1), cam.width, cam.height)
    return feat[..., :3], alpha, feat[..., 3]


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("sh_degree", [0, 3])
@pytest.mark.parametrize("grad", [False, True])
def test_backend_matches_bruteforce_reference(backend, sh_degree, grad):
    gs = random_scene(sh_degree=sh_degree, seed=sh_degree + 1)
    if grad:  # exercises the autograd path (numba: PyTorch projection + custom Function)
        gs = GaussianSet(gs.means.clone().requires_grad_(), gs.quats, gs.log_scales, gs.opacity_logits, gs.sh)
    cams = cameras()
    out = render(gs, cams, backend=backend)
    assert out.rgb.shape == (2, 32, 40, 3) and out.alpha.shape == (2, 32, 40) and out.depth.shape == (2, 32, 40)
    for i, cam in enumerate(cams):
        rgb_ref, alpha_ref, acc_depth_ref = reference_images(gs, cam)
        assert alpha_ref.max() > 0.5, "scene must be visible for the comparison to mean anything"
        np.testing.assert_allclose(out.rgb[i].detach().numpy(), rgb_ref, atol=1e-4, rtol=0)
        np.testing.assert_allclose(out.alpha[i].detach().numpy(), alpha_ref, atol=1e-4, rtol=0)
        seen = alpha_ref > 0.05
        ed_ref = acc_depth_ref[seen] / alpha_ref[seen]
        np.testing.assert_allclose(out.depth[i].detach().numpy()[seen], ed_ref, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("grad", [False, True])
def test_antialiased_mode_matches_reference(backend, grad):
    gs = random_scene(n=40, sh_degree=1, seed=9, extent=0.5)
    if grad:
        gs = GaussianSet(gs.means.clone().requires_grad_(), gs.quats, gs.log_scales, gs.opacity_logits, gs.sh)
    cam = cameras()[1]
    out = render(gs, cam, backend=backend, antialiased=True)
    rgb_ref, alpha_ref, _ = reference_images(gs, cam, antialiased=True)
    np.testing.assert_allclose(out.rgb[0].detach().numpy(), rgb_ref, atol=1e-4, rtol=0)
    np.testing.assert_allclose(out.alpha[0].detach().numpy(), alpha_ref, atol=1e-4, rtol=0)
    classic = render(gs, cam, backend=backend)
    assert out.alpha.sum() < classic.alpha.sum(), "compensation only ever lowers opacity"


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_tile_size_does_not_change_the_image(backend):
    gs = random_scene(n=60, seed=7)
    cam = cameras(48, 40)[0]
    imgs = [render(gs, cam, backend=backend, tile_size=t) for t in (4, 8, 16)]
    for o in imgs[1:]:
        assert torch.allclose(o.rgb, imgs[0].rgb, atol=1e-6) and torch.allclose(o.alpha, imgs[0].alpha, atol=1e-6)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_single_gaussian_matches_analytic_footprint(backend):
    """An isotropic Gaussian is a 2D Gaussian with covariance s²·J·Jᵀ + 0.3 px² (first-order projection)."""
    z, s, o, f = 2.0, 0.05, 0.8, 40.0
    W = H = 48
    cam = PinholeCamera(np.array([[f, 0, W / 2], [0, f, H / 2], [0, 0, 1.0]]), np.eye(4), W, H)
    mean = torch.tensor([[0.013, -0.021, z]], dtype=torch.float64)
    gs = GaussianSet.create(mean, scales=torch.full((1, 3), s), opacities=[o], rgb=[[0.2, 0.6, 0.9]], dtype=torch.float64)
    out = render(gs, cam, backend=backend)
    u0, v0 = f * mean[0, 0].item() / z + W / 2, f * mean[0, 1].item() / z + H / 2
    x, y = mean[0, 0].item(), mean[0, 1].item()
    J = np.array([[f / z, 0, -f * x / z**2], [0, f / z, -f * y / z**2]])
    cov = s**2 * J @ J.T + 0.3 * np.eye(2)
    xs, ys = np.meshgrid(np.arange(W) + 0.5, np.arange(H) + 0.5)
    d = np.stack([xs - u0, ys - v0], -1)
    maha = np.einsum("...i,ij,...j->...", d, np.linalg.inv(cov), d)
    expected = o * np.exp(-0.5 * maha)
    expected[expected < 1 / 255] = 0
    np.testing.assert_allclose(out.alpha[0].numpy(), expected, atol=1e-6)
    np.testing.assert_allclose(out.rgb[0].numpy(), expected[..., None] * np.array([0.2, 0.6, 0.9]), atol=1e-6)
    seen = expected > 0
    np.testing.assert_allclose(out.depth[0].numpy()[seen], z, atol=1e-9)
    assert (out.depth[0].numpy()[~seen] == 0).all()


def test_background_fills_transparent_pixels():
    gs = random_scene(seed=3)
    cam = cameras()[0]
    plain = render(gs, cam, backend="numba")
    bg = render(gs, cam, backend="numba", background=[0.1, 0.2, 0.3])
    expected = plain.rgb + (1 - plain.alpha[..., None]) * torch.tensor([0.1, 0.2, 0.3])
    assert torch.allclose(bg.rgb, expected, atol=1e-6)


def test_culling_behind_camera_and_outside_image():
    cam = PinholeCamera(np.array([[30.0, 0, 16], [0, 30.0, 16], [0, 0, 1]]), np.eye(4), 32, 32)
    gs = GaussianSet.create([[0, 0, -1.0], [5.0, 0, 1.0], [0, 0, 0.005]], scales=torch.full((3, 3), 0.05), opacities=[0.9] * 3)
    for backend in CPU_BACKENDS:
        assert render(gs, cam, backend=backend).alpha.max() == 0


def test_unknown_backend_is_a_user_error():
    from video2robo.errors import UserError

    with pytest.raises(UserError, match="unknown render backend"):
        render(random_scene(), cameras()[0], backend="vulkan")


# --- gradients ------------------------------------------------------------------------------------

def _loss_fn(backend, cam, weights):
    def loss(gs):
        out = render(gs, cam, backend=backend)
        return (out.rgb * weights[0]).sum() + (out.alpha * weights[1]).sum() + (out.depth * out.alpha * weights[2]).sum()

    return loss


def _fd_check(loss_of_param, param, n_dirs=4, eps=1e-6, seed=0):
    """Directional derivatives from autograd vs central differences along random directions."""
    param = param.detach().clone().requires_grad_(True)
    value = loss_of_param(param)
    (grad,) = torch.autograd.grad(value, param)
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0, "gradient must exist and be non-trivial"
    g = torch.Generator().manual_seed(seed)
    for _ in range(n_dirs):
        d = torch.randn(param.shape, generator=g, dtype=param.dtype)
        with torch.no_grad():
            fd = (loss_of_param(param + eps * d) - loss_of_param(param - eps * d)) / (2 * eps)
        ad = (grad * d).sum()
        assert abs(fd.item() - ad.item()) <= 1e-5 + 1e-4 * abs(fd.item()), (fd.item(), ad.item())


def _grad_scene():
    gs = random_scene(n=6, sh_degree=1, seed=11, dtype=torch.float64, extent=0.12)
    # keep every Gaussian off the 0.999 clamp so the loss is smooth
    return GaussianSet(gs.means, gs.quats, gs.log_scales, gs.opacity_logits.clamp(-2.0, 1.5), gs.sh)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("field", ["means", "log_scales", "sh", "opacity_logits", "quats"])
def test_gradients_match_finite_differences(backend, field):
    gs = _grad_scene()
    cam = PinholeCamera.looking_at([0.0, -1.0, 0.3], [0, 0, 0], 60, 24, 20)
    w = [torch.rand(1, 20, 24, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1)),
         torch.rand(1, 20, 24, dtype=torch.float64, generator=torch.Generator().manual_seed(2)),
         torch.rand(1, 20, 24, dtype=torch.float64, generator=torch.Generator().manual_seed(3))]
    loss = _loss_fn(backend, cam, w)

    def of_param(p):
        kw = {k: getattr(gs, k) for k in ("means", "quats", "log_scales", "opacity_logits", "sh")}
        kw[field] = p
        return loss(GaussianSet(**kw))

    _fd_check(of_param, getattr(gs, field))


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_gradient_wrt_rigid_pose(backend):
    """What pose fitting optimises: a twist ξ applied as gs.transform(exp(ξ) · T0)."""
    gs = _grad_scene()
    T0 = torch.as_tensor(se3_exp(np.array([0.02, -0.01, 0.03, 0.1, -0.2, 0.15])), dtype=torch.float64)
    cam = PinholeCamera.looking_at([0.0, -1.0, 0.3], [0, 0, 0], 60, 24, 20)
    w = [torch.rand(1, 20, 24, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(4)),
         torch.rand(1, 20, 24, dtype=torch.float64, generator=torch.Generator().manual_seed(5)),
         torch.rand(1, 20, 24, dtype=torch.float64, generator=torch.Generator().manual_seed(6))]
    loss = _loss_fn(backend, cam, w)
    _fd_check(lambda xi: loss(gs.transform(se3_exp(xi) @ T0)), torch.zeros(6, dtype=torch.float64), n_dirs=6)


def test_numba_and_torch_gradients_agree():
    gs = _grad_scene()
    cam = PinholeCamera.looking_at([0.0, -1.0, 0.3], [0, 0, 0], 60, 24, 20)
    grads = []
    for backend in CPU_BACKENDS:
        means = gs.means.clone().requires_grad_(True)
        out = render(GaussianSet(means, gs.quats, gs.log_scales, gs.opacity_logits, gs.sh), cam, backend=backend)
        (out.rgb.sum() + 2 * out.alpha.sum()).backward()
        grads.append(means.grad)
    assert torch.allclose(grads[0], grads[1], atol=1e-9, rtol=1e-7)


# --- CUDA ---------------------------------------------------------------------------------------

@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="gsplat backend needs CUDA")
@pytest.mark.parametrize("sh_degree", [0, 3])
def test_gsplat_matches_torch_backend(sh_degree):
    pytest.importorskip("gsplat", reason="gsplat not installed (pip install -e '.[cuda]')")
    gs = random_scene(n=200, sh_degree=sh_degree, seed=5)
    cams = cameras(64, 48)
    cpu = render(gs, cams, backend="torch")
    gpu = render(gs.to("cuda"), cams, backend="gsplat")
    assert torch.allclose(gpu.rgb.cpu(), cpu.rgb, atol=1e-4)
    aa_cpu = render(gs, cams, backend="torch", antialiased=True)
    aa_gpu = render(gs.to("cuda"), cams, backend="gsplat", antialiased=True)
    assert torch.allclose(aa_gpu.rgb.cpu(), aa_cpu.rgb, atol=1e-4)
    assert torch.allclose(gpu.alpha.cpu(), cpu.alpha, atol=1e-4)
    seen = cpu.alpha > 0.05
    assert torch.allclose(gpu.depth.cpu()[seen], cpu.depth[seen], rtol=1e-4, atol=1e-4)
