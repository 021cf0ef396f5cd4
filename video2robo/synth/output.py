"""On-disk format of a synthetic capture (one folder per video), written atomically, and its reader.

    <out>/
      video.mp4           H.264 (yuv420p), `fps` frames per second, width × height
      gt.npz              ground truth arrays (below)
      gt.json             human-readable summary: task, seed, settings, K, events, objects
      meshes/<name>.obj   object models in metres, in the object frame of the poses (+ .mtl, .png)
      contact_sheet.png   a few frames with the instance-mask outlines, for a quick look

gt.npz (N frames, H × W pixels):
    format_version   str scalar ("synth-1")
    K                (3, 3) intrinsics, OpenCV convention (x right, y down, z forward; pixel centres
                     at +0.5, so the principal point W/2, H/2 is the image centre)
    fps, width, height
    times            (N,) seconds, frame i at i / fps
    T_world_cam      (N, 4, 4) camera pose (world: z up, table top at z = 0)
    T_cam_<name>     (N, 4, 4) object pose in the camera frame, for every object
    T_world_<name>   (N, 4, 4) object pose in the world frame
    masks            (N, H, W) uint8 visible-instance labels: 0 background, `object_labels[i]` for
                     object i, 255 the hand occluder
    depth            (N, H, W) float32 metres along the optical axis (z of the camera frame), 0 = none;
                     rounded to multiples of 2⁻¹⁴ m (0.06 mm) so it compresses
    object_names     (M,) str;  object_roles (M,) "source" | "target";  object_labels (M,) uint8
    grasp_frame      last frame before the source moves (hand closed on it)
    release_frame    first frame after the hand lets go (source at its final rest pose)
    task_frames      (2,) first and last frame (inclusive) within [grasp, release] with the source
                     surface within 3 cm of the target surface
    source_target_distance (N,) metres;  hand_visible (N,) bool
The source pose is constant for frames <= grasp_frame and >= release_frame. Symmetries (BOP layout,
see `video2robo.objects.asset`) and diameters are in gt.json under "objects".
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from video2robo.errors import UserError
from video2robo.io_utils import atomic_dir
from video2robo.synth.capture import Capture

FORMAT_VERSION = "synth-1"


def write_video(path: Path, frames: np.ndarray, fps: float, crf: int = 18) -> None:
    """H.264 mp4 through imageio-ffmpeg; `crf` 0 (lossless) … 51 (worst), phones look like 20–28."""
    import imageio.v2 as imageio

    with imageio.get_writer(path, fps=fps, codec="libx264", macro_block_size=1, quality=None,
                            pixelformat="yuv420p", ffmpeg_log_level="error",
                            ffmpeg_params=["-crf", str(int(crf)), "-preset", "veryfast"]) as w:
        for f in frames:
            w.append_data(f)


def save_npz(path: Path, arrays: dict[str, np.ndarray], level: int = 1) -> None:
    """Like np.savez_compressed (same .npz layout, loads with np.load) but with a fast deflate level:
    level 1 compresses depth and masks nearly as well as numpy's default at a fraction of the time."""
    import zipfile

    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=level) as zf:
        for key, value in arrays.items():
            with zf.open(f"{key}.npy", "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.asanyarray(value), allow_pickle=False)


def contact_sheet(cap: Capture, n_cols: int = 3, tile_width: int = 426) -> np.ndarray:
    """Six frames (start, grasp, approach, mid-task, release, end) with mask outlines and captions."""
    import cv2

    g, r = cap.grasp_frame, cap.release_frame
    t0, t1 = cap.task_frames
    picks = [(0, "start"), (g, "grasp"), ((g + t0) // 2, "carry"), ((t0 + t1) // 2, "task"), (r, "release"),
             (len(cap.frames) - 1, "end")]
    colours = {1: (255, 60, 60), 2: (60, 255, 60), 255: (255, 220, 0)}
    tiles = []
    for i, what in picks:
        img = cap.frames[i].copy()
        for label, colour in colours.items():
            m = (cap.masks[i] == label).astype(np.uint8)
            contours, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
            cv2.drawContours(img, contours, -1, colour, 1)
        s = tile_width / img.shape[1]
        img = cv2.resize(img, (tile_width, int(round(img.shape[0] * s))), interpolation=cv2.INTER_AREA)
        cv2.putText(img, f"{i}: {what}", (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
        tiles.append(img)
    rows = [np.concatenate(tiles[k : k + n_cols], axis=1) for k in range(0, len(tiles), n_cols)]
    return np.concatenate(rows, axis=0)


def _summary(cap: Capture, mesh_files: dict[str, str], crf: int) -> dict:
    st = cap.settings
    objects = []
    for i, obj in enumerate(cap.script.objects):
        objects.append({"name": obj.name, "role": "source" if i == 0 else "target", "label": i + 1,
                        "mesh": f"meshes/{mesh_files[obj.name]}", "description": obj.description, **obj.symmetry_info()})
    return {
        "format_version": FORMAT_VERSION,
        "generator": "video2robo synth",
        "task": st.task, "seed": st.seed,
        "fps": st.fps, "width": st.width, "height": st.height, "n_frames": len(cap.frames),
        "K": cap.K.tolist(), "fov_x_deg": cap.rig.fov_x_deg,
        "camera": "handheld" if st.handheld else "tripod",
        "grasp_frame": cap.grasp_frame, "release_frame": cap.release_frame, "task_frames": list(cap.task_frames),
        "task_distance_m": 0.03,
        "objects": objects, "hand_label": 255,
        "settings": {"hand": st.hand, "blur": st.blur, "blur_samples": st.blur_samples, "shutter": st.shutter,
                     "noise": st.noise, "lens_sigma": st.lens_sigma, "speed": st.speed, "crf": crf},
        "files": {"video": "video.mp4", "gt": "gt.npz", "contact_sheet": "contact_sheet.png"},
    }


def write_capture(cap: Capture, out: Path, crf: int = 18, overwrite: bool = False) -> Path:
    """Write the folder described in the module docstring; atomically (temp folder, then rename)."""
    from PIL import Image

    out = Path(out)
    if out.exists() and not overwrite:
        raise UserError(f"output folder {out} exists; choose another --out or pass --overwrite")
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_dir(out) as tmp:
        write_video(tmp / "video.mp4", cap.frames, cap.settings.fps, crf)
        mesh_files = {}
        for obj in cap.script.objects:
            mesh_files[obj.name] = obj.export(tmp / "meshes")["obj"]
        arrays = {
            "format_version": np.array(FORMAT_VERSION), "K": cap.K, "fps": np.array(cap.settings.fps),
            "width": np.array(cap.settings.width), "height": np.array(cap.settings.height), "times": cap.times,
            "T_world_cam": cap.T_world_cam, "masks": cap.masks, "depth": cap.depth,
            "object_names": np.array(cap.names), "object_roles": np.array(["source", "target"]),
            "object_labels": np.arange(1, len(cap.names) + 1, dtype=np.uint8),
            "grasp_frame": np.array(cap.grasp_frame), "release_frame": np.array(cap.release_frame),
            "task_frames": np.array(cap.task_frames), "source_target_distance": cap.distance,
            "hand_visible": cap.hand_visible,
        }
        for name, T in cap.T_cam_obj.items():
            arrays[f"T_cam_{name}"] = T
            arrays[f"T_world_{name}"] = cap.T_world_obj[name]
        save_npz(tmp / "gt.npz", arrays)
        (tmp / "gt.json").write_text(json.dumps(_summary(cap, mesh_files, crf), indent=2))
        Image.fromarray(contact_sheet(cap)).save(tmp / "contact_sheet.png")
    return out


def is_capture_folder(folder: Path) -> bool:
    return (Path(folder) / "gt.npz").is_file() and (Path(folder) / "gt.json").is_file()


def read_gt(folder: Path) -> tuple[dict, dict[str, np.ndarray]]:
    """(gt.json summary, gt.npz arrays) of a capture folder; UserError if it is not one."""
    folder = Path(folder)
    if not is_capture_folder(folder):
        raise UserError(f"{folder} is not a synth output folder (no gt.npz + gt.json); run `video2robo synth` to make one")
    summary = json.loads((folder / "gt.json").read_text())
    with np.load(folder / "gt.npz") as z:
        arrays = {k: z[k] for k in z.files}
    return summary, arrays


def first_frame_boxes(gt) -> list[str]:
    """`parse --prompt` boxes (NAME:box=X0,Y0,X1,Y1) around each object's true mask in the first frame of a
    capture's ground truth (`gt`: its gt.npz arrays): the prompts a person would draw."""
    out = []
    for name, label in zip(gt["object_names"], gt["object_labels"]):
        ys, xs = np.nonzero(gt["masks"][0] == label)
        out.append(f"{name}:box={xs.min()},{ys.min()},{xs.max() + 1},{ys.max() + 1}")
    return out
