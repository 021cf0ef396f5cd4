"""The run loop: episodes → `<out>/episodes/ep_<i>.npz` (atomic, resumable) → datasets, stats, preview.

Episode i is a pure function of (seed, i) (see `episode.py`), so:
- resume = skip episodes whose file exists; an interrupted run leaves no partial file (atomic rename);
- `--workers N` runs episodes in a spawn process pool, each worker building its own generator;
- the datasets are assembled from the episode files at the end (idempotent, atomic rebuild).
If an episode exhausts its attempts the run stops: finished episodes are kept and assembled, and a
`UserError` names the dominant rejection reason.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from video2robo import __version__
from video2robo.demo_folder import Demo
from video2robo.errors import UserError
from video2robo.generate.episode import EpisodeGenerator, EpisodeResult, RenderSettings
from video2robo.generate.stats import summarise
from video2robo.io_utils import atomic_path

_WORKER: EpisodeGenerator | None = None


def episode_path(out: Path, i: int) -> Path:
    return Path(out) / "episodes" / f"ep_{i:06d}.npz"


def save_episode(out: Path, res: EpisodeResult) -> Path:
    path = episode_path(out, res.index)
    meta = {**res.meta, "attempts": res.attempts, "rejections": dict(res.rejections), "seconds": res.seconds}
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, meta_json=np.array(json.dumps(meta)), **res.arrays)
    return path


def _init_worker(demo_dir, spec, seed, render, max_attempts):
    global _WORKER
    import torch

    torch.set_num_threads(1)
    _WORKER = EpisodeGenerator(demo_dir, spec, seed, render, max_attempts)


def _work(i: int):
    res = _WORKER.generate(i)
    if res.arrays is None:
        return i, None, dict(res.rejections), res.meta.get("candidate_rejections", {})
    save_episode(_OUT, res)
    return i, str(episode_path(_OUT, i)), dict(res.rejections), {}


_OUT: Path = Path(".")


def _init_pool(out, *args):
    global _OUT
    _OUT = Path(out)
    _init_worker(*args)


def generate_dataset(
    demo_dir: Path | str,
    out: Path | str,
    num: int = 100,
    task: str | None = None,
    seed: int = 0,
    width: int = 128,
    height: int = 128,
    workers: int = 1,
    writers: tuple[str, ...] = ("robomimic_hdf5", "zarr_replay"),
    depth: bool = True,
    masks: bool = True,
    wrist: bool = False,
    max_attempts: int = 20,
    preview: int = 3,
    augment: dict | None = None,
    progress: bool = True,
) -> dict:
    """Generate `num` demos from a demo folder into `out`; returns the stats dict (also `out/stats.json`).

    `task`: a bundled task name or YAML path (default: the demo's task). `augment`: overrides of the
    task spec's augmentation fields (e.g. {"camera_motion": True}).
    """
    from tqdm import tqdm

    from video2robo.generate.preview import write_preview
    from video2robo.generate.writers.registry import get_writer
    from video2robo.task_spec import load_task_spec

    t_run = time.perf_counter()
    demo_dir, out = Path(demo_dir), Path(out)
    demo = Demo.load(demo_dir)
    spec = load_task_spec(task or demo.info.task)
    for k, v in (augment or {}).items():
        if not hasattr(spec.augment, k):
            raise UserError(f"unknown augmentation setting '{k}'")
        setattr(spec.augment, k, v)
    if num < 1:
        raise UserError(f"--num must be at least 1, got {num}")
    writer_fns = [(w, get_writer(w)) for w in writers]
    render = RenderSettings(width, height, depth, masks, wrist)
    todo = [i for i in range(num) if not episode_path(out, i).is_file()]
    out.mkdir(parents=True, exist_ok=True)
    bar = tqdm(total=num, initial=num - len(todo), desc="generate", unit="demo", disable=not progress)
    failed: dict | None = None
    failed_candidates: dict = {}
    args = (demo_dir, spec, seed, render, max_attempts)
    setup_seconds = None
    if todo and workers <= 1:
        t_setup = time.perf_counter()
        gen = EpisodeGenerator(*args)
        setup_seconds = time.perf_counter() - t_setup
        for i in todo:
            res = gen.generate(i)
            if res.arrays is None:
                failed = dict(res.rejections)
                failed_candidates = res.meta.get("candidate_rejections", {})
                break
            save_episode(out, res)
            bar.update(1)
    elif todo:
        import multiprocessing as mp

        with mp.get_context("spawn").Pool(workers, initializer=_init_pool, initargs=(out, *args)) as pool:
            for i, path, rej, cand in pool.imap_unordered(_work, todo):
                if path is None:
                    failed, failed_candidates = rej, cand
                    pool.terminate()
                    break
                bar.update(1)
    bar.close()
    # Only a contiguous prefix 0..k-1 is assembled, so demo_i always maps to episode i.
    files = [episode_path(out, i) for i in range(num) if episode_path(out, i).is_file()]
    contiguous = []
    for i, f in enumerate(files):
        if f != episode_path(out, i):
            break
        contiguous.append(f)
    metas = [json.loads(str(np.load(f)["meta_json"])) for f in contiguous]
    meta = {
        "generator": "video2robo generate", "generator_version": __version__, "task": spec.name, "seed": seed,
        "source_demo": str(demo_dir.resolve()), "num_requested": num, "control_hz": spec.timing.control_hz,
        "width": width, "height": height, "cameras": [c.name for c in spec.cameras], "wrist_camera": wrist,
        "augmentation": asdict(spec.augment), "task_spec": spec.to_dict(),
        "actions": "absolute joint positions (7) + gripper command (+1 closed, -1 open); eef abs/delta in actions_eef_*",
        "quaternions": "xyzw in datasets (robomimic/robosuite order)",
    }
    t_write = time.perf_counter()
    written = [str(fn(contiguous, out / _dataset_name(w), meta)) for w, fn in writer_fns] if contiguous else []
    write_seconds = time.perf_counter() - t_write
    previews = [str(p) for p in write_preview(contiguous, out, spec.cameras[0].name, spec.timing.control_hz, preview)] if preview else []
    stats = summarise(metas, time.perf_counter() - t_run, {"task": spec.name, "datasets": written, "previews": previews,
                                                           "setup_seconds": setup_seconds, "write_seconds": write_seconds})
    if failed:
        stats["num_attempts"] += sum(failed.values())
        stats["num_failures"] += sum(failed.values())
        for k, v in failed.items():
            stats["rejections"][k] = stats["rejections"].get(k, 0) + v
        for k, v in failed_candidates.items():
            stats["candidate_rejections"][k] = stats["candidate_rejections"].get(k, 0) + v
        stats["success_rate"] = stats["num_success"] / stats["num_attempts"]
    with atomic_path(out / "stats.json") as tmp:
        tmp.write_text(json.dumps(stats, indent=2))
    if not contiguous and failed is not None:
        raise UserError(f"zero accepted samples: every attempt was rejected (mostly {max(failed, key=failed.get)}: {failed}); "
                        "check the task's workspace ranges and grasp settings")
    if failed is not None:
        raise UserError(f"an episode was rejected {max_attempts} times (mostly {max(failed, key=failed.get)}: {failed}); "
                        f"kept {len(contiguous)} finished demos in {out}; widen the workspace or change the grasp settings")
    return stats


def _dataset_name(writer: str) -> str:
    return {"robomimic_hdf5": "dataset.hdf5", "zarr_replay": "replay.zarr"}.get(writer, writer)
