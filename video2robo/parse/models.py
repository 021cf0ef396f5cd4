"""Parse's object-model stage: each object's Gaussians in metres, from its model file (--model) or built
from its first-frame crop and mask by a model backend (--model-backend: the weight-free single view, or
an image-to-3D model), and sized by a scale hint.

A built model's size is its largest extent: --size, else the size at which it stands on the marker's
table at the first frame (--marker), else an assumed 10 cm (with a warning). Its up is the table's: the
marker's, else measured from the camera's motion (perception.table_normal). Each model is kept in
work/ under a key of what it depended on, so a re-run rebuilds only what changed.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np

from video2robo.demo_folder import DemoObject, load_arrays, save_arrays
from video2robo.errors import UserError

ASSUMED_EXTENT_M = 0.1


@dataclass
class ObjectModels:
    models: dict = field(default_factory=dict)  # name -> GaussianSet (object frame, metres)
    objects: list[DemoObject] = field(default_factory=list)
    first_poses: dict = field(default_factory=dict)  # name -> T_cam_obj of the first frame, when the build measured it
    files: dict[str, str] = field(default_factory=dict)  # --model: name -> PATH[@SCALE]
    sizes: dict[str, float] = field(default_factory=dict)  # --size: name -> largest extent (m)


def parse_named(items, what: str) -> dict[str, str]:
    """NAME=VALUE flags (--model, --size) as a dict."""
    out = {}
    for item in items:
        if "=" not in item:
            raise UserError(f"--{what} '{item}' must look like NAME=VALUE")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def model_builder(cfg, names: list[str]):
    """The --model-backend (reconstruct.backends.get_model_builder) when some of the objects `names` has no
    --model file, else None; loaded before any work so that a missing package or checkpoint fails at once."""
    from video2robo.reconstruct.backends import get_model_builder

    if not set(names) - set(parse_named(cfg.model, "model")):
        return None
    return get_model_builder(cfg.model_backend, **({"checkpoint": cfg.model_checkpoint} if cfg.model_checkpoint else {}))


def table_up(frames: np.ndarray, masks: dict, K: np.ndarray) -> np.ndarray | None:
    """The table's up direction in the first camera's frame from the camera's motion, the objects'
    first-frame masks (widened) left out; None when the camera hardly moved (perception.table_normal)."""
    import cv2

    from video2robo.perception.masks import disk
    from video2robo.perception.table_normal import table_up_from_motion

    objects = np.zeros(frames.shape[1:3], np.uint8)
    for m in masks.values():
        objects |= m[0].astype(np.uint8)
    table = cv2.dilate(objects, disk(12)) == 0
    grays = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    return table_up_from_motion(grays, table, K)


def extent_on_marker(build, marker, name: str, warnings: list[str]) -> float | None:
    """The extent at which the model `build(extent)` (a LiftedModel) stands on the marker's table plane at
    the first frame (parse.world.scale_to_plane), or None (with a warning) when no size puts it there."""
    from video2robo.parse.world import scale_to_plane

    guess = ASSUMED_EXTENT_M
    lifted = build(guess)
    s = scale_to_plane(marker.plane, lifted.T_cam_obj, lifted.gaussians.means.numpy().astype(np.float64))
    if not (math.isfinite(s) and 0.05 < s < 20):
        warnings.append(f"object '{name}': no size puts its model on the marker's table (it may not rest on the "
                        "table at the first frame); pass --size")
        return None
    return guess * s


def object_models(cfg, builder, names: list[str], roles: dict[str, str], frames: np.ndarray, masks: dict,
                  K: np.ndarray, marker, out, prog, base_key: dict, warnings: list[str]) -> ObjectModels:
    """Every object's model, saved in work/model_NAME.ply (and the built ones' placement beside it)."""
    from video2robo.gaussians import load_ply, save_ply
    from video2robo.reconstruct import model_from_file

    result = ObjectModels(files=parse_named(cfg.model, "model"),
                          sizes={k: float(v) for k, v in parse_named(cfg.size, "size").items()})
    measured_up = functools.cache(lambda: table_up(frames, masks, K))  # once, and only when a model is built
    up_guessed = False
    (out / "work").mkdir(exist_ok=True)
    for nm in names:
        spec = result.files.get(nm)
        key = {"model": spec, "size": result.sizes.get(nm), **base_key,
               **({} if spec else {"built": [builder.name, str(cfg.model_checkpoint), 2]}),
               **({"marker": marker.T_cam_marker.round(6).tolist()} if marker is not None and not spec else {})}
        ply = out / "work" / f"model_{nm}.ply"
        if spec:
            path, _, sc = spec.partition("@")
            scale_source = "model file"
            if not prog.done(f"model_{nm}", key) or not ply.is_file():
                save_ply(model_from_file(path, float(sc) if sc else 1.0), ply)
        else:
            up = marker.up if marker is not None else measured_up()
            build = functools.partial(builder.build, frames[0].astype(np.float32) / 255, masks[nm][0], K, up=up)
            extent, scale_source = result.sizes.get(nm), "known size"
            if extent is None and marker is not None:
                extent, scale_source = extent_on_marker(build, marker, nm, warnings), "aruco"
            if extent is None:
                extent, scale_source = ASSUMED_EXTENT_M, "assumed"
                warnings.append(f"object '{nm}': no model file and no --size; built by '{builder.name}' at an assumed "
                                f"{ASSUMED_EXTENT_M * 100:g} cm extent")
            pose_file = out / "work" / f"model_{nm}_pose.npz"
            if not prog.done(f"model_{nm}", key) or not ply.is_file() or not pose_file.is_file():
                lifted = build(extent)
                save_ply(lifted.gaussians, ply)
                save_arrays(pose_file, T_cam_obj=lifted.T_cam_obj, posed=np.array(lifted.posed))
            placed = load_arrays(pose_file)
            if bool(placed["posed"]):  # seen as in the first frame, its z the table's up: its first pose
                result.first_poses[nm] = placed["T_cam_obj"]
            elif up is None:
                # image up is no better a guess than the first frame's search (a camera looking down 40° put
                # the table plane edge-on and the camera tracker found no motion in three synthetic videos)
                up_guessed = True
        prog.mark(f"model_{nm}", key)
        result.models[nm] = load_ply(ply)
        result.objects.append(DemoObject(nm, roles.get(nm, "other"), f"objects/{nm}.ply", 1.0, scale_source,
                                         "file" if spec else builder.name))
    if up_guessed:
        warnings.append("built models: the camera moved too little to measure the table's up direction; their first "
                        "poses are searched, so their up (the world's z) is uncertain")
    return result
