"""`parse`: video → masks and tracks → object models → per-frame 6D poses → world frame and skills.

Each stage writes its result atomically into the demo folder and records a key of the settings it
depended on in `progress.json`; a re-run skips finished stages with the same key, so a failure late in
the run (or Ctrl-C) loses nothing already produced.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np

from video2robo.demo_folder import DemoInfo, DemoObject, Skills, load_arrays, save_arrays, save_info
from video2robo.errors import UserError
from video2robo.io_utils import atomic_path
from video2robo.parse.config import ParseConfig
from video2robo.parse.models import ASSUMED_EXTENT_M, model_builder, object_models
from video2robo.skills import SkillParams, parse_skills
from video2robo.task_spec import TaskSpec, load_task_spec

PHONE_FOV_DEG = 66.0
NO_TASK = "none"  # --task none: trajectories only, no skills


class Progress:
    """progress.json: which stages are done, under which settings."""

    def __init__(self, folder: Path):
        self.path = folder / "progress.json"
        self.state = json.loads(self.path.read_text()) if self.path.is_file() else {}

    def done(self, stage: str, key) -> bool:
        return self.state.get(stage) == key

    def mark(self, stage: str, key) -> None:
        self.state[stage] = key
        with atomic_path(self.path) as tmp:
            tmp.write_text(json.dumps(self.state, indent=2))


def _intrinsics(cfg: ParseConfig, orig_w: int, orig_h: int, w: int, h: int, warnings: list[str]) -> tuple[np.ndarray, str]:
    sx, sy = w / orig_w, h / orig_h
    if cfg.intrinsics is not None:
        fx, fy, cx, cy = cfg.intrinsics
        if fx <= 0 or fy <= 0:
            raise UserError(f"--intrinsics focal lengths must be positive (got {fx}, {fy})")
        return np.array([[fx * sx, 0, cx * sx], [0, fy * sy, cy * sy], [0, 0, 1.0]]), "given intrinsics"
    fov = cfg.fov
    source = f"given horizontal field of view {fov}°"
    if fov is None:
        fov = PHONE_FOV_DEG
        source = f"default phone field of view {fov}°"
        warnings.append(f"no intrinsics given: assumed a {fov}° horizontal field of view (pass --fov or --intrinsics "
                        "for metric accuracy)")
    if not 10 <= fov <= 150:
        raise UserError(f"--fov {fov} is out of range; give the horizontal field of view in degrees (10-150)")
    f = 0.5 * w / math.tan(math.radians(fov) / 2)
    return np.array([[f, 0, w / 2], [0, f, h / 2], [0, 0, 1.0]]), source


def _load_depths(folder: Path, frame_indices: list[int], h: int, w: int) -> np.ndarray:
    import cv2

    if not folder.is_dir():
        raise UserError(f"--depth-dir {folder} is not a folder; give a folder of per-frame depth maps")
    files = sorted([p for p in folder.iterdir() if p.suffix.lower() in (".png", ".npy")])
    if len(files) <= max(frame_indices):
        raise UserError(f"--depth-dir {folder} has {len(files)} depth maps but frame {max(frame_indices)} is needed")
    out = np.zeros((len(frame_indices), h, w), np.float32)
    for i, fi in enumerate(frame_indices):
        p = files[fi]
        d = np.load(p).astype(np.float32) if p.suffix == ".npy" else cv2.imread(str(p), cv2.IMREAD_UNCHANGED).astype(np.float32) / 1000.0
        out[i] = cv2.resize(d, (w, h), interpolation=cv2.INTER_NEAREST)
    return out


def run_parse(cfg: ParseConfig, progress: bool = True) -> Path:
    from video2robo.perception import (first_frame_masks, get_segmenter, get_tracker, load_prompts_json, parse_prompts,
                                       scale_prompts, track_objects, validate_prompts)
    from video2robo.video import probe_video, read_video

    t_start = time.perf_counter()
    warnings: list[str] = []
    if cfg.task == NO_TASK:
        source_name, target_name = cfg.source, cfg.target
    else:
        try:
            spec = load_task_spec(cfg.task)
        except UserError as e:
            raise UserError(f"{e} (or --task {NO_TASK}: trajectories only, no skills)") from None
        source_name, target_name = cfg.source or spec.objects["source"], cfg.target or spec.objects["target"]
    if source_name is not None and source_name == target_name:
        raise UserError(f"the source and the target are both '{source_name}'; name two different objects")
    roles = {nm: role for nm, role in ((source_name, "source"), (target_name, "target")) if nm is not None}
    if cfg.stride < 1:
        raise UserError(f"--stride must be at least 1 (got {cfg.stride})")
    info = probe_video(cfg.video)
    frames, fps = read_video(cfg.video, max_frames=cfg.max_frames, stride=cfg.stride, max_side=cfg.max_side)
    n, h, w = frames.shape[:3]
    if n < 2:
        raise UserError(f"{cfg.video} has {n} usable frame(s); parse needs a video with motion (at least 2 frames)")
    frame_indices = [i * cfg.stride for i in range(n)]
    K, k_source = _intrinsics(cfg, info.width, info.height, w, h, warnings)
    marker = _marker(cfg, frames[0], K)
    depth_backend = _depth_backend(cfg)  # loaded now: a missing package or checkpoint fails before any work

    prompts = parse_prompts(list(cfg.prompt)) + (load_prompts_json(cfg.prompts_json) if cfg.prompts_json else [])
    if not prompts:
        example = " ".join(f"--prompt {nm}:box=X0,Y0,X1,Y1" for nm in (roles or {"OBJECT": None}))
        raise UserError(f"no prompts: mark the objects on the first frame, e.g. {example} (pixels of the original video)")
    prompts = scale_prompts(prompts, w / info.width, h / info.height)
    validate_prompts(prompts, w, h)
    names = [p.name for p in prompts]
    for name in roles:
        if name not in names:
            raise UserError(f"task '{cfg.task}' needs a prompt for its {roles[name]} object '{name}' (prompted: "
                            f"{', '.join(names)}; --{roles[name]} NAME names another prompt as the {roles[name]})")
    # loaded now, when some object needs a model built: a missing package or checkpoint fails before any work
    builder = model_builder(cfg, names)
    # without a task: the first prompt that is not the source anchors the world
    target_name = target_name or next((nm for nm in names if nm != source_name), names[0])
    out = Path(cfg.out)
    (out / "objects").mkdir(parents=True, exist_ok=True)
    prog = Progress(out)
    base_key = {"video": str(Path(cfg.video).resolve()), "stride": cfg.stride, "max_frames": cfg.max_frames, "max_side": cfg.max_side}

    # 1. masks and tracks -------------------------------------------------------------------------
    key = {**base_key, "prompts": [repr(p) for p in prompts], "segmenter": cfg.segmenter, "tracker": cfg.tracker}
    if prog.done("perception", key):
        masks_npz, tracks_npz = load_arrays(out / "masks.npz"), load_arrays(out / "tracks.npz")
        labels = masks_npz["labels"]
        names = [str(s) for s in masks_npz["names"]]
        lost = masks_npz["lost"]
    else:
        seg_kw = {"checkpoint": cfg.segmenter_checkpoint} if cfg.segmenter_checkpoint else {}
        trk_kw = {"checkpoint": cfg.tracker_checkpoint} if cfg.tracker_checkpoint else {}
        masks0 = first_frame_masks(frames[0], prompts, get_segmenter(cfg.segmenter, **seg_kw))
        result = track_objects(frames, masks0, get_tracker(cfg.tracker, **trk_kw))
        names = list(result.names)
        labels = result.labels()
        lost = np.stack([result.objects[nm].lost for nm in names], axis=1)
        tracks_npz = {}
        for k, nm in enumerate(names):
            tr = result.tracks_of(nm)
            tracks_npz[f"{nm}_xy"], tracks_npz[f"{nm}_visible"] = tr.xy.astype(np.float32), tr.visible
        save_arrays(out / "tracks.npz", **tracks_npz)
        save_arrays(out / "masks.npz", labels=labels, names=np.array(names), lost=lost)
        prog.mark("perception", key)
    masks = {nm: (labels == k + 1) & ~lost[:, k][:, None, None] for k, nm in enumerate(names)}
    for nm, m in masks.items():
        if m.reshape(n, -1).sum(1).max() < 16:
            raise UserError(f"object '{nm}' is never visible after segmentation; check its prompt on the first frame")

    # 2. object models ----------------------------------------------------------------------------
    built = object_models(cfg, builder, names, roles, frames, masks, K, marker, out, prog, base_key, warnings)
    models, objects, first_poses = built.models, built.objects, built.first_poses

    # 3. poses ------------------------------------------------------------------------------------
    depths = _load_depths(cfg.depth_dir, frame_indices, h, w) if cfg.depth_dir else None
    if depth_backend is not None:
        depths = _estimated_depths(cfg, depth_backend, frames, out, prog, base_key, progress)
    key = {"models": {nm: built.files.get(nm) for nm in names}, "sizes": {nm: built.sizes.get(nm) for nm in names},
           "model_backend": None if builder is None else [cfg.model_backend, str(cfg.model_checkpoint)],
           "fit": repr(cfg.fit), "K": K.round(6).tolist(), "depth": str(cfg.depth_dir),
           "depth_backend": [cfg.depth_backend, str(cfg.depth_checkpoint)], **base_key, "tracking": 8,
           "camera": cfg.camera}
    fit_paths = [out / "work" / f"fit_{nm}.npz" for nm in names] + [out / "work" / "camera.npz"]
    if not (prog.done("fit", key) and all(p.is_file() for p in fit_paths)):
        from video2robo.parse.fit_video import fit_video

        fitted, camera = fit_video(names, models, frames, masks, depths, K, cfg.fit, progress,
                                   table_object=None if cfg.camera == "static" else target_name,
                                   first_poses=first_poses if depths is None else None,
                                   given_shapes={nm for nm in names if built.files.get(nm)})
        for nm, arrays in fitted.items():
            save_arrays(out / "work" / f"fit_{nm}.npz", **arrays)
        save_arrays(out / "work" / "camera.npz", **camera)
        prog.mark("fit", key)
    fits = {nm: load_arrays(out / "work" / f"fit_{nm}.npz") for nm in names}
    camera = load_arrays(out / "work" / "camera.npz")
    for nm in names:
        if fits[nm]["resettled"][0]:
            warnings.append(f"the first-frame fit of '{nm}' stood on neither the table nor an object, and was searched "
                            "again standing on one (its mask may hold its shadow or a neighbour: check the first frame "
                            "of overlay.mp4, and tighten its prompt if it is off)")
    from video2robo.gaussians import save_ply

    for obj in objects:  # final models carry the fitted metric scale (1 unless depth made it observable)
        scale = float(fits[obj.name]["scale"])
        models[obj.name] = models[obj.name].scaled(scale) if abs(scale - 1) > 1e-9 else models[obj.name]
        obj.scale = scale
        save_ply(models[obj.name], out / obj.model)

    # 4. world frame and skills -------------------------------------------------------------------
    from video2robo.parse.world import (T_world_target_rest, fill_invalid, robust_mean_pose, target_in_first_camera,
                                        target_rests, target_up, world_from_camera_motion, world_from_marker)

    tgt = target_name
    pts = {nm: models[nm].means.numpy() for nm in names}
    T_cam_cam0 = camera["T_cam_cam0"]
    tracked = camera["inliers"][1:] > 0
    if cfg.camera != "static" and len(tracked) and tracked.mean() < 0.8:
        warnings.append(f"the camera's motion was found in only {tracked.mean():.0%} of the frames (too little table "
                        "texture around the objects); the world frame holds the last found camera pose in the rest")
    static = cfg.camera == "static" or bool(np.abs(T_cam_cam0 - np.eye(4)).max() < 1e-12)
    rests = target_rests(fits[tgt]["T_cam"], fits[tgt]["valid"], T_cam_cam0, pts[tgt])
    if not rests:
        warnings.append(f"the target '{tgt}' does not seem to rest on the table throughout (its fits, the camera's "
                        "motion taken off, move): its per-frame fits are kept, and the world frame is less certain")
    if marker is None:
        T_world_cam = world_from_camera_motion(fits[tgt]["T_cam"], fits[tgt]["valid"], pts[tgt], T_cam_cam0)
        T_world_tgt = T_world_target_rest(pts[tgt], target_up(fits[tgt]["T_cam"], fits[tgt]["valid"], T_cam_cam0))
    else:
        T_world_cam = world_from_marker(marker.T_cam_marker, T_cam_cam0)
        T_world_tgt = robust_mean_pose(np.linalg.inv(marker.T_cam_marker)
                                       @ target_in_first_camera(fits[tgt]["T_cam"], fits[tgt]["valid"], T_cam_cam0))
        warnings += _marker_warnings(marker, cfg.marker, T_world_tgt, pts[tgt], tgt)
    poses = {"T_world_cam": T_world_cam}
    T_world = {}
    for nm in names:
        T_cam = fill_invalid(fits[nm]["T_cam"], fits[nm]["valid"], T_cam_cam0)
        valid = fits[nm]["valid"]
        if nm == tgt and rests:  # resting target: one pose in the world for the whole video, from all its good
            T_cam = np.linalg.inv(T_world_cam) @ T_world_tgt  # fits, which holds as well where the brush
            valid = np.ones_like(valid)  # sweeping over the board hid it from its own fit
        poses[f"T_cam_{nm}"], poses[f"residual_{nm}"] = T_cam, fits[nm]["residual"]
        poses[f"valid_{nm}"], poses[f"fitted_{nm}"] = valid, fits[nm]["valid"]
        if "hand" in fits[nm]:
            poses[f"hand_{nm}"] = fits[nm]["hand"]
        T_world[nm] = T_world_cam @ T_cam
        if fits[nm]["valid"].mean() < 0.5:
            warnings.append(f"object '{nm}': only {fits[nm]['valid'].mean():.0%} of frames fitted well (silhouette IoU >= "
                            f"{cfg.fit.valid_iou}); the rest are interpolated")
    size_warnings = _size_warnings(objects, fits, pts, masks, built.sizes)
    warnings += size_warnings
    skills, skill_error = None, None
    if cfg.task == NO_TASK:
        warnings.append("no task: object trajectories only, no skills parsed (`generate` needs a task's skills)")
    else:
        skills, skill_error = _skills(source_name, tgt, T_world, pts, fits, poses, skill_params(spec, fps))
        if skill_error:
            warnings.append(f"skills not parsed: {skill_error}")
            skill_error = "; ".join([skill_error] + size_warnings)  # the likelier fix first in sight
        warnings += release_at_end(source_name, skills, len(frame_indices))
    save_arrays(out / "poses.npz", **poses)
    demo = DemoInfo(task=cfg.task, fps=float(fps), width=w, height=h, K=K.tolist(), objects=objects,
                    frame_indices=frame_indices, skills=skills, source_video=str(cfg.video), intrinsics_source=k_source,
                    warnings=warnings + (["camera treated as static"] if static else ["camera motion tracked from the table"])
                    + ([f"target '{tgt}' rests: one world pose for the whole video"] if rests else []))
    save_info(out, demo)

    # 5. pictures ---------------------------------------------------------------------------------
    if cfg.overlay:
        from video2robo.parse.overlay import write_overlay
        from video2robo.parse.report import write_report

        write_overlay(out / "overlay.mp4", frames, fps, K, models, poses, _fitted_labels(fits, names, labels), names,
                      load_arrays(out / "tracks.npz"), progress)
        fit_times = {nm: {k: float(fits[nm][k]) for k in ("init_s", "track_s_per_frame")} for nm in names}
        write_report(out, demo, poses, names, fit_times, time.perf_counter() - t_start)
    if skill_error:
        raise UserError(f"{skill_error} (poses, masks, tracks and the overlay are kept in {out})")
    return out


def _depth_backend(cfg: ParseConfig):
    """The --depth-backend (perception.registry.get_depth_backend), None without it."""
    if cfg.depth_backend is None:
        return None
    if cfg.depth_dir is not None:
        raise UserError("give --depth-dir or --depth-backend, not both")
    from video2robo.perception import get_depth_backend

    return get_depth_backend(cfg.depth_backend, **({"checkpoint": cfg.depth_checkpoint} if cfg.depth_checkpoint else {}))


def _estimated_depths(cfg: ParseConfig, backend, frames: np.ndarray, out: Path, prog: Progress, base_key: dict,
                      progress: bool) -> np.ndarray:
    """The backend's depth maps of every processed frame, kept in work/depth.npz (estimated once)."""
    from video2robo.perception.depth_backend import estimate_depths

    key = {**base_key, "depth_backend": cfg.depth_backend, "checkpoint": str(cfg.depth_checkpoint)}
    path = out / "work" / "depth.npz"
    if prog.done("depth", key) and path.is_file():
        return load_arrays(path)["depth"]
    depths = estimate_depths(frames, backend, progress)
    save_arrays(path, depth=depths)
    prog.mark("depth", key)
    return depths


def _marker(cfg: ParseConfig, first: np.ndarray, K: np.ndarray):
    """The ArUco marker of --marker in the first frame (perception.marker.MarkerPose), None without
    --marker; a UserError when it is not found."""
    if cfg.marker is None:
        return None
    from video2robo.perception.marker import detect_marker

    found = detect_marker(first, K, cfg.marker, cfg.marker_dict, cfg.marker_id)
    if found is None:
        which = cfg.marker_dict + ("" if cfg.marker_id is None else f" id {cfg.marker_id}")
        raise UserError(f"--marker: no ArUco marker ({which}) found in the first frame; check --marker-dict and "
                        "--marker-id, and that the whole marker lies flat and sharp in view (or leave out --marker)")
    return found


def _marker_warnings(marker, side: float, T_world_target: np.ndarray, target_points: np.ndarray, name: str) -> list[str]:
    """The world frame's origin, and a warning when the resting target does not stand on the marker's
    table: its model's scale, the intrinsics or the marker's side disagree."""
    out = [f"world frame: ArUco marker id {marker.marker_id} ({side:g} m, corners reprojected within "
           f"{marker.reprojection_px:.2f} px), origin at its centre, z up"]
    lowest = float((target_points @ T_world_target[:3, :3].T + T_world_target[:3, 3])[:, 2].min())
    if abs(lowest) > 0.02:
        out.append(f"the target '{name}' rests {abs(lowest) * 100:.1f} cm {'above' if lowest > 0 else 'below'} the "
                   "marker's table plane: its model's size, the intrinsics (--fov, --intrinsics) or --marker disagree")
    return out


def _size_warnings(objects: list[DemoObject], fits: dict, pts: dict, masks: dict, sizes: dict[str, float]) -> list[str]:
    """A warning for each object whose size was guessed (built model: --size, or the assumed
    10 cm) and disagrees with the size at which it would stand on the table beside an object of known
    size (a model file) in the first frame (parse.world.scale_to_stand), with the size to pass instead:
    a wrong size hint puts the object at the wrong depth (a tray sized 45 cm sat 40 cm behind the can
    beside it), and the source then never comes near the target."""
    from video2robo.parse.world import scale_to_stand

    def rests_at_first(nm):
        return masks[nm][0].sum() >= 16 and bool(fits[nm]["valid"][0])

    known = [o.name for o in objects if o.scale_source == "model file" and rests_at_first(o.name)]
    out = []
    for o in objects:
        if not known or o.scale_source not in ("known size", "assumed") or not rests_at_first(o.name):
            continue
        ref = known[0]
        s = scale_to_stand(fits[ref]["T_cam"][0], pts[ref], fits[o.name]["T_cam"][0], pts[o.name])
        if math.isfinite(s) and abs(math.log(s)) > math.log(1.2):
            size = sizes.get(o.name, ASSUMED_EXTENT_M)
            out.append(f"object '{o.name}': its size ({size:g} m, {o.scale_source}) puts it {'below' if s < 1 else 'above'} "
                       f"the table '{ref}' stands on; if it rests on the table in the first frame, pass --size "
                       f"{o.name}={s * size:.2f}")
    return out


def release_at_end(src: str, skills: Skills | None, n: int) -> list[str]:
    """A warning when the release is the last of the n processed frames: the source's fit came to rest,
    or the hand let go of it, only as the video ended, so the release and the task segment's end may be
    the video's end rather than seen."""
    if skills is None or skills.release_frame < n - 1:
        return []
    return [f"the release of '{src}' is the video's last frame: its fit came to rest, or the hand let go of it, "
            "only then (the video stops while the hand still holds it, or its track was off while it was set "
            "down); check overlay.mp4 near the end"]


def skill_params(spec: TaskSpec, fps: float) -> SkillParams:
    """The skill parser's settings for a task (its spec's `skills`) at the processed frame rate."""
    return SkillParams(fps=fps, last_touch=spec.skills.task_end == "last_touch")


def _skills(src: str, tgt: str, T_world: dict, pts: dict, fits: dict, poses: dict,
            params: SkillParams) -> tuple[Skills | None, str | None]:
    """(skills, None), the relative trajectory and distances added to `poses`; or (None, why not)."""
    try:
        sk = parse_skills(T_world[src], T_world[tgt], pts[src][::4], pts[tgt][::4], params,
                          hand_source=fits[src].get("hand"),
                          valid_source=fits[src]["valid"], valid_target=fits[tgt]["valid"])
    except UserError as e:
        why = str(e)
        valid = np.asarray(fits[src]["valid"], bool)
        last = int(np.nonzero(valid)[0][-1]) if valid.any() else -1
        if len(valid) - 1 - last >= 0.25 * len(valid):  # the likelier cause: the source was lost, its pose held
            why += (f"; note that the source '{src}' was lost from processed frame {last + 1} on (no valid fit: "
                    "its last pose is held), so its motion after that is unknown")
        return None, why
    poses["T_rel"] = sk["T_rel"]
    poses["source_target_distance"] = sk["distance"]
    return Skills(sk["grasp_frame"], sk["release_frame"], tuple(int(v) for v in sk["task_segment"])), None


def _fitted_labels(fits: dict, names: list[str], labels: np.ndarray) -> np.ndarray:
    """(n, h, w) labels (k + 1 for names[k]) of the masks the pose fits used: after a lift the propagated
    masks (`labels`) stay where the object was picked up, while the fit followed it (colour model,
    re-detection). An older fit without used masks keeps its propagated ones."""
    out = labels.copy()
    w = labels.shape[-1]
    for k, nm in enumerate(names):
        if "used_masks" not in fits[nm]:
            continue
        used = np.unpackbits(fits[nm]["used_masks"], axis=-1, count=w).astype(bool)
        out[out == k + 1] = 0
        out[used] = k + 1
    return out
