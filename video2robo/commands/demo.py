"""`video2robo demo`: the whole pipeline on the bundled default, with no arguments.

1. synthesise a short Pour video with MuJoCo (phone-like camera; ground truth kept for scoring),
2. parse it (segment from first-frame boxes, track, fit 6D poses, parse skills) into a demo folder,
3. score the fitted poses against the ground truth (BOP AR, without VSD for speed),
4. generate demos with the Gaussian Franka and write robomimic HDF5 + zarr datasets, a preview and stats.
Every stage resumes: re-running after an interruption skips what is finished. If parse fits poses but
cannot find the skill, or generation rejects every sample from the parsed demo, the demo says so
loudly, keeps what was produced, and shows generation on the synthetic video's true trajectories,
which exist only because the video is synthetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class Config:
    """Run the whole pipeline on the bundled default (a synthetic Pour video) and print where results are."""

    out: Path = Path("video2robo_demo")
    """Folder for everything the demo writes."""
    num: int = 10
    """Robot demonstrations to generate."""
    task: str = "pour"
    seed: int = 3
    width: int = 480
    """Width of the synthetic phone video (height is 9/16 of it)."""
    stride: int = 2
    """Parse every stride-th frame."""


def run(cfg: Config) -> int:
    import json
    import time

    from video2robo.errors import UserError

    if cfg.num < 1:
        raise UserError(f"--num {cfg.num}: generate at least one demo")
    if cfg.width < 160 or cfg.width % 16:
        raise UserError(f"--width {cfg.width}: use a multiple of 16 of at least 160 (e.g. 480)")
    out = cfg.out
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()

    # 1. video -----------------------------------------------------------------------------------
    video_dir = out / "video"
    if not (video_dir / "gt.npz").is_file():
        from video2robo.synth import CaptureSettings, capture, write_capture

        print(f"[1/4] synthesising a {cfg.task} video (MuJoCo) ...", flush=True)
        height = cfg.width * 9 // 16
        cap = capture(CaptureSettings(task=cfg.task, seed=cfg.seed, width=cfg.width, height=height - height % 2,
                                      fov_x_deg=65.0))
        write_capture(cap, video_dir, overwrite=True)
    else:
        print("[1/4] video already there", flush=True)
    summary = json.loads((video_dir / "gt.json").read_text())

    # 2. parse ----------------------------------------------------------------------------------
    import numpy as np

    from video2robo.parse import ParseConfig, run_parse
    from video2robo.synth.output import first_frame_boxes

    print("[2/4] parsing the video into object trajectories and skills ...", flush=True)
    names = [o["name"] for o in summary["objects"]]
    demo_dir = out / "demo"
    source_for_generate = demo_dir
    prompts = tuple(first_frame_boxes(np.load(video_dir / "gt.npz")))
    try:
        run_parse(ParseConfig(video=video_dir / "video.mp4", out=demo_dir, task=cfg.task, prompt=prompts,
                              model=tuple(f"{n}={video_dir / 'meshes' / (n + '.obj')}" for n in names),
                              fov=summary["fov_x_deg"], stride=cfg.stride))
    except UserError as e:
        if not (demo_dir / "poses.npz").is_file():
            raise
        # parse produced poses but no usable skill: say so, keep its outputs, and show the rest of the
        # pipeline on the synthetic video's true trajectories (available only because the video is synthetic)
        from video2robo.demo_from_gt import demo_from_gt

        print(f"WARNING: parse could not extract the skill: {e}", flush=True)
        print(f"WARNING: generating from the ground-truth trajectories of the synthetic video instead "
              f"({out / 'demo_ground_truth'}); parse's own outputs are in {demo_dir}", flush=True)
        source_for_generate = demo_from_gt(video_dir, out / "demo_ground_truth", overwrite=True)

    # 3. score ----------------------------------------------------------------------------------
    from video2robo.synth.evaluate import evaluate_folder

    print("[3/4] scoring the fitted poses against the ground truth ...", flush=True)
    rows = evaluate_folder(demo_dir, video_dir, video="demo", use_vsd=False, progress=False)
    for r in rows:
        print(f"      {r['object']:>8}: AR (MSSD, MSPD) = {r['AR']:.2f}  over {r['n']} frames")

    # 4. generate -------------------------------------------------------------------------------
    from video2robo.generate.run import generate_dataset

    print(f"[4/4] generating {cfg.num} robot demonstrations ...", flush=True)
    dataset = out / "dataset"
    try:
        stats = generate_dataset(source_for_generate, dataset, num=cfg.num, seed=cfg.seed,
                                 max_attempts=5 if source_for_generate == demo_dir else 20)
    except UserError as e:
        if source_for_generate != demo_dir:
            raise
        from video2robo.demo_from_gt import demo_from_gt

        print(f"WARNING: generation from the parsed demo failed: {e}", flush=True)
        print("WARNING: generating from the ground-truth trajectories of the synthetic video instead "
              f"({out / 'demo_ground_truth'}); the parsed demo is kept in {demo_dir}", flush=True)
        source_for_generate = demo_from_gt(video_dir, out / "demo_ground_truth", overwrite=True)
        dataset = out / "dataset_ground_truth"
        stats = generate_dataset(source_for_generate, dataset, num=cfg.num, seed=cfg.seed)
    minutes = (time.perf_counter() - t0) / 60
    print(f"\ndone in {minutes:.1f} min:")
    print(f"  video + ground truth : {video_dir}")
    print(f"  demo folder          : {demo_dir}  (overlay.mp4, report.html)")
    if source_for_generate != demo_dir:
        print(f"  generated from       : {source_for_generate}  (ground truth: the parsed demo was not usable)")
    print(f"  dataset              : {dataset}  (robomimic HDF5, zarr, preview, stats.json)")
    print(f"  accepted {stats['num_success']} of {stats['num_attempts']} attempts "
          f"({stats['seconds_per_demo']:.1f} s per accepted demo); rejections: {stats['rejections'] or 'none'}")
    return 0
