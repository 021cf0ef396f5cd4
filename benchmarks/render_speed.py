"""Renderer speed: median milliseconds per render, per backend, printed as a table.

Scenes: a tabletop of ~100k Gaussians (table, objects and, when the asset is built, the Gaussian
Franka) at 128² and 256² (forward, what data generation does), a worst-case random 100k cloud, and a
5k-Gaussian object in a 96×96 crop with forward+backward w.r.t. a rigid pose (what pose fitting does).

    python benchmarks/render_speed.py [--repeats 7] [--backends numba torch gsplat] [--no-robot] [--sizes 128 256]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from video2robo.gaussians import GaussianSet, mesh_to_gaussians
from video2robo.geometry import PinholeCamera, se3_exp
from video2robo.render import render


def tabletop(n_total: int = 100_000, with_robot: bool = True) -> GaussianSet:
    """Table, three objects and the Gaussian Franka; without the robot (no robosuite) the table and
    objects take all `n_total` Gaussians, so the count, not the content, stays comparable."""
    import trimesh

    parts = []
    if with_robot:
        from video2robo.robot.gaussian_robot import robot_gaussians
        from video2robo.robot.model import home_configuration

        T_world_base = np.eye(4)
        T_world_base[:3, 3] = [-0.1, 0.0, 0.0]
        parts.append(robot_gaussians(home_configuration(), 0.04, T_world_base))  # the Gaussian Franka (87k)
    have = sum(len(p) for p in parts)
    table = trimesh.creation.box(extents=(1.2, 0.8, 0.02))
    table.apply_translation((0.5, 0, -0.01))
    table.visual.vertex_colors = [170, 130, 90, 255]
    meshes = [table]
    for i, (x, y) in enumerate([(0.45, 0.15), (0.6, -0.1), (0.35, -0.2)]):
        m = trimesh.creation.cylinder(radius=0.04, height=0.1, sections=32) if i % 2 == 0 else trimesh.creation.box(extents=(0.06, 0.06, 0.06))
        m.apply_translation((x, y, 0.05))
        m.visual.vertex_colors = [60 + 60 * i, 200 - 50 * i, 90, 255]
        meshes.append(m)
    rest = max(n_total - have, 10_000)
    counts = [int(rest * 0.7)] + [int(rest * 0.1)] * 3
    parts += [mesh_to_gaussians(m, num=c, seed=i) for i, (m, c) in enumerate(zip(meshes, counts))]
    return GaussianSet.concat(parts)


def random_cloud(n: int = 100_000) -> GaussianSet:
    g = torch.Generator().manual_seed(0)
    return GaussianSet.create(
        torch.randn(n, 3, generator=g) * 0.3 + torch.tensor([0.5, 0.0, 0.3]),
        quats=torch.randn(n, 4, generator=g),
        scales=torch.rand(n, 3, generator=g) * 0.01 + 0.002,
        opacities=torch.rand(n, generator=g) * 0.5 + 0.5,
        rgb=torch.rand(n, 3, generator=g),
    )


def crop_object(n: int = 5000) -> GaussianSet:
    import trimesh

    m = trimesh.creation.cylinder(radius=0.04, height=0.1, sections=32)
    m.visual.vertex_colors = [200, 60, 60, 255]
    return mesh_to_gaussians(m, num=n, seed=0)


def timed(fn, repeats: int) -> float:
    fn()  # warm-up (compilation, caches)
    times = []
    for _ in range(repeats):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        t = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--backends", nargs="+", default=None)
    ap.add_argument("--skip-torch-full", action="store_true", help="skip the slow pure-torch full-scene rows")
    ap.add_argument("--no-robot", action="store_true", help="tabletop without the Gaussian Franka (needs no robosuite)")
    ap.add_argument("--sizes", type=int, nargs="+", default=[128, 256], help="square image sizes of the full-scene rows")
    args = ap.parse_args()
    backends = args.backends or (["numba", "torch"] + (["gsplat"] if torch.cuda.is_available() else []))
    scene, cloud, obj = tabletop(with_robot=not args.no_robot), random_cloud(), crop_object()
    view = dict(eye=[1.3, -0.6, 0.8], target=[0.45, 0.0, 0.2], fov_x_deg=60)
    rows = []
    for backend in backends:
        dev = "cuda" if backend == "gsplat" else "cpu"
        for name, gs in (("tabletop", scene), ("random cloud", cloud)):
            if backend == "torch" and args.skip_torch_full:
                continue
            g = gs.to(dev)
            for res in args.sizes:
                cam = PinholeCamera.looking_at(view["eye"], view["target"], view["fov_x_deg"], res, res)
                with torch.no_grad():
                    ms = timed(lambda: render(g, cam, backend=backend), 1 if backend == "torch" else args.repeats)
                rows.append((backend, f"{name} {len(gs) / 1000:.0f}k", f"{res}x{res}", "forward", ms))
        cam = PinholeCamera.looking_at([0.0, -0.3, 0.12], [0, 0, 0.05], 60, 96, 96)
        g = obj.to(dev)
        T0 = torch.eye(4, device=dev)

        def fwd_bwd():
            xi = torch.zeros(6, requires_grad=True, device=dev)
            out = render(g.transform(se3_exp(xi) @ T0), cam, backend=backend)
            (out.rgb.mean() + out.alpha.mean() + out.depth.mean()).backward()

        rows.append((backend, f"object {len(obj) / 1000:.0f}k", "96x96", "forward+backward (pose)", timed(fwd_bwd, args.repeats)))
    gpu = f", GPU: {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""
    print(f"\nrender speed, median of {args.repeats} (torch threads: {torch.get_num_threads()}{gpu})")
    print("| backend | scene | size | pass | ms |\n|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]:.1f} |")


if __name__ == "__main__":
    main()
