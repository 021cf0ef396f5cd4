"""Build a demo folder (design §3) from a synth ground-truth folder: true poses, true skills.

This stands in for `parse` while it is being built, and gives `generate` a demo whose poses carry no
estimation error: object Gaussians come from the capture's meshes (`mesh_to_gaussians`, metres, object
frame), `poses.npz` holds the true `T_cam_<name>` and `T_world_cam`, and `demo.json` the true grasp and
release frames and the 3 cm task segment.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from video2robo.demo_folder import DemoInfo, DemoObject, Skills, save_arrays, save_info
from video2robo.errors import UserError
from video2robo.io_utils import atomic_dir

DEFAULT_GAUSSIANS = 6000


def demo_from_gt(gt_folder: Path | str, out: Path | str, num_gaussians: int = DEFAULT_GAUSSIANS, overwrite: bool = False) -> Path:
    """Write a demo folder at `out` from the synth output at `gt_folder`; returns `out`. Atomic."""
    from video2robo.gaussians import mesh_to_gaussians, save_ply
    from video2robo.synth.output import read_gt

    gt_folder, out = Path(gt_folder), Path(out)
    summary, gt = read_gt(gt_folder)
    if out.exists() and not overwrite:
        raise UserError(f"demo folder {out} exists; choose another path or pass overwrite=True")
    names = [str(n) for n in gt["object_names"]]
    roles = [str(r) for r in gt["object_roles"]]
    meshes = {o["name"]: gt_folder / o["mesh"] for o in summary["objects"]}
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_dir(out) as tmp:
        objects = []
        for name, role in zip(names, roles):
            if not meshes.get(name, Path("-")).is_file():
                raise UserError(f"{gt_folder} lacks the mesh of '{name}' ({meshes.get(name)}); re-run `video2robo synth`")
            g = mesh_to_gaussians(meshes[name], num=num_gaussians, seed=0)
            save_ply(g, tmp / "objects" / f"{name}.ply")
            objects.append(DemoObject(name=name, role=role, model=f"objects/{name}.ply", scale=1.0, scale_source="model file",
                                      model_source="file"))
        n = len(gt["T_world_cam"])
        a, b = (int(x) for x in gt["task_frames"])
        poses = {f"T_cam_{k}": gt[f"T_cam_{k}"] for k in names}
        poses.update({f"residual_{k}": np.zeros(n) for k in names})
        poses.update({f"valid_{k}": np.ones(n, bool) for k in names})
        poses["T_world_cam"] = gt["T_world_cam"]
        src = names[roles.index("source")]
        tgt = names[roles.index("target")]
        T_t = gt["T_world_cam"] @ gt[f"T_cam_{tgt}"]
        T_s = gt["T_world_cam"] @ gt[f"T_cam_{src}"]
        poses["T_rel"] = np.linalg.inv(T_t[a : b + 1]) @ T_s[a : b + 1]
        save_arrays(tmp / "poses.npz", **poses)
        info = DemoInfo(
            task=str(summary["task"]), fps=float(gt["fps"]), width=int(gt["width"]), height=int(gt["height"]),
            K=np.asarray(gt["K"]).tolist(), objects=objects, frame_indices=list(range(n)),
            skills=Skills(int(gt["grasp_frame"]), int(gt["release_frame"]), (a, b)),
            source_video=str((gt_folder / "video.mp4").resolve()), intrinsics_source="ground truth",
            warnings=["built from synth ground truth (true poses and skills), not parsed"],
        )
        save_info(tmp, info)
    return out
