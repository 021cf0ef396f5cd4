"""The compiled population objective equals `total_loss` on the rendered crop, pose by pose."""

from dataclasses import replace

import numpy as np
import pytest
import torch
import trimesh

from video2robo.gaussians.from_mesh import mesh_to_gaussians
from video2robo.geometry.camera import PinholeCamera
from video2robo.geometry.so3 import axis_angle_to_rotmat
from video2robo.pose.config import LossWeights
from video2robo.pose.crop import crop_around
from video2robo.pose.fit import FitConfig, FrameInput, ObjectFitter
from video2robo.pose.losses import total_loss
from video2robo.pose.population import population_losses
from video2robo.render import render


@pytest.fixture(scope="module")
def scene():
    """A box with coloured faces and view-dependent colour (SH degree 1), 50 cm in front of the camera;
    the observation is its render at the true pose, with a depth map and a strip hidden by something else."""
    mesh = trimesh.creation.box(extents=(0.06, 0.04, 0.03))
    palette = np.array([[200, 40, 40], [40, 160, 60], [40, 60, 200], [220, 200, 40], [160, 40, 160], [40, 180, 180]])
    mesh.visual.face_colors = np.c_[palette[np.arange(len(mesh.faces)) // 2], np.full(len(mesh.faces), 255)]
    model = mesh_to_gaussians(mesh, num=1500, seed=0)
    g = torch.Generator().manual_seed(0)
    model = replace(model, sh=torch.cat([model.sh, 0.3 * torch.randn(len(model), 3, 3, generator=g)], dim=1))
    K = np.array([[300.0, 0, 100], [0, 300.0, 80], [0, 0, 1]])
    T = np.eye(4)
    T[:3, :3] = trimesh.transformations.euler_matrix(-2.2, 0.0, 0.5)[:3, :3]
    T[:3, 3] = [0.01, 0.0, 0.5]
    with torch.no_grad():
        out = render(model.transform(torch.as_tensor(T, dtype=torch.float32)), PinholeCamera(K, np.eye(4), 200, 160),
                     background=[0.85, 0.83, 0.8], antialiased=True)
    ignore = np.zeros((160, 200), bool)
    ignore[:, 95:102] = True
    depth = out.depth[0].numpy() * (1 + 0.02 * np.sin(np.arange(200) / 7.0))  # a depth map not quite the model's
    frame = FrameInput(out.rgb[0].numpy().astype(np.float32), out.alpha[0].numpy() > 0.5, depth.astype(np.float32),
                       ignore=ignore)
    return ObjectFitter(model, K, FitConfig()), T, frame


@pytest.mark.parametrize("with_depth", [False, True])
def test_population_losses_equal_total_loss_pose_by_pose(scene, with_depth):
    fitter, T_true, frame = scene
    if not with_depth:
        frame = replace(frame, depth=None)
    crop = crop_around(frame.mask, 56)
    cam = crop.camera(fitter.K)
    obs = fitter._observation(frame, crop, with_tracks=False)
    weights = LossWeights(mask=1.0, rgb=2.0, depth=0.7)
    rng = np.random.default_rng(1)
    poses, scales, expected = [], [], []
    for k in range(12):
        T = T_true.copy()
        T[:3, :3] = axis_angle_to_rotmat(rng.normal(0, 0.4, 3)) @ T[:3, :3]
        T[:3, 3] += rng.normal(0, 0.01, 3)
        s = 1.0 if k % 3 else float(np.exp(rng.normal(0, 0.2)))
        T_t = torch.as_tensor(T, dtype=torch.float32)
        with torch.no_grad():  # the path every other fit takes: the model scaled, moved, rendered
            out = fitter._render(fitter.model_de.scaled(s), T_t, cam)
            expected.append(float(total_loss(out, T_t, None, obs, weights, fitter.size * s, use_tracks=False)[0]))
        poses.append(T)
        scales.append(s)
    got = population_losses(fitter.model_de, np.stack(poses), np.array(scales), cam.K, obs, weights, fitter.size)
    assert np.ptp(expected) > 0.1  # the poses differ enough to tell the terms apart
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    # one candidate alone scores as it does within a generation (no state shared between threads)
    assert population_losses(fitter.model_de, poses[4][None], np.array(scales[4:5]), cam.K, obs, weights,
                             fitter.size)[0] == pytest.approx(got[4], abs=1e-9)


_SCORE_ONE_POSE = """
import numpy as np, torch, trimesh
from video2robo.gaussians.from_mesh import mesh_to_gaussians
from video2robo.pose import population
from video2robo.pose.config import LossWeights
from video2robo.pose.losses import Observation
model = mesh_to_gaussians(trimesh.creation.box(extents=(0.06, 0.04, 0.03)), num=300, seed=0)
T = np.eye(4)
T[2, 3] = 0.5
mask = torch.zeros(32, 32)
mask[10:22, 8:24] = 1.0
obs = Observation(rgb=torch.full((32, 32, 3), 0.5), mask=mask)
K = np.array([[60.0, 0, 16], [0, 60.0, 16], [0, 0, 1]])
population.population_losses(model, T[None], np.ones(1), K, obs, LossWeights(), 0.07)
print(sum(population._KERNEL.stats.cache_hits.values()))
"""


def test_a_new_process_loads_the_compiled_objective_from_numba_cache():
    """Compiling the kernel takes 9-14 s on this CPU: every parse paid it while the kernels it calls were
    closure cells (a pickled dispatcher, part of numba's cache key, differs per process)."""
    import subprocess
    import sys

    runs = [subprocess.run([sys.executable, "-c", _SCORE_ONE_POSE], capture_output=True, text=True, timeout=300)
            for _ in range(2)]
    for r in runs:
        assert r.returncode == 0, r.stderr[-2000:]
    assert int(runs[1].stdout.split()[-1]) >= 1  # the second process compiled nothing: it loaded the first's
