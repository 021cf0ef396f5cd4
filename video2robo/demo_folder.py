"""The demo folder: what `parse` writes and `generate` reads (versioned, documented, resumable).

Anyone may produce one with their own tracker. Layout (N processed frames, M objects):

    <demo>/
      demo.json          format, version, source video, fps, image size, K, task, objects (name, role,
                         model file and how it was made, scale and its source), frame indices, skills, warnings
      objects/<name>.ply object Gaussians in the object frame, metres (standard 3DGS PLY)
      poses.npz          T_cam_<name> (N,4,4), residual_<name> (N,), valid_<name> (N,) bool (the pose is an
                         estimate: fitted_<name>, or the resting target's one world pose; else interpolated),
                         fitted_<name> (N,) bool (the frame's own fit explains the object's mask),
                         hand_<name> (N,) share of the object's surroundings a hand covers (NaN: unmeasured),
                         T_world_cam (N,4,4) (world: z up, table top at z = 0),
                         T_rel (K,4,4) = T_world_target⁻¹ · T_world_source over the task segment
      tracks.npz         <name>_xy (N,P,2) pixels, <name>_visible (N,P) bool   (2D evidence)
      masks.npz          labels (N,H,W) uint8: 0 background, i+1 for object i  (2D evidence)
      overlay.mp4, report.html   for people

Skills in demo.json: grasp_frame (last frame before the source moves), release_frame (first frame after
it settles and, where the hand is measured, the hand has let go), task_segment [first, last] (inclusive)
where the source is within 3 cm of the target.
Frame numbers index the processed frames; `frame_indices` maps them to video frames.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from video2robo.errors import UserError

FORMAT = "video2robo-demo"
VERSION = 2  # 2: objects say how their model was made (model_source); version 1 folders still load


@dataclass
class DemoObject:
    name: str
    role: str  # "source" | "target" | "other"
    model: str = ""  # path of the PLY relative to the demo folder
    scale: float = 1.0  # metres per model unit applied when the model was saved (informational)
    scale_source: str = ""  # e.g. "model file", "known size", "aruco", "depth", "fit"
    model_source: str = ""  # "file" (--model), or the backend that built it: "single-view", "trellis"


@dataclass
class Skills:
    grasp_frame: int
    release_frame: int
    task_segment: tuple[int, int]


@dataclass
class DemoInfo:
    """demo.json."""

    task: str
    fps: float
    width: int
    height: int
    K: list  # 3x3
    objects: list[DemoObject]
    frame_indices: list[int]
    skills: Skills | None = None
    source_video: str = ""
    intrinsics_source: str = ""
    warnings: list[str] = field(default_factory=list)
    format: str = FORMAT
    version: int = VERSION

    @property
    def source(self) -> DemoObject:
        return self._role("source")

    @property
    def target(self) -> DemoObject:
        return self._role("target")

    def _role(self, role: str) -> DemoObject:
        for o in self.objects:
            if o.role == role:
                return o
        raise UserError(f"the demo has no object with role '{role}'; the task file must name a source and a target")

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str, where: str = "demo.json") -> "DemoInfo":
        try:
            d = json.loads(text)
        except json.JSONDecodeError as e:
            raise UserError(f"{where} is not valid JSON ({e.msg} at line {e.lineno}); re-run `video2robo parse`") from None
        if d.get("format") != FORMAT:
            raise UserError(f"{where} is not a video2robo demo (format {d.get('format')!r}); point at a folder written by `video2robo parse`")
        if d.get("version", 0) > VERSION:
            raise UserError(f"{where} has format version {d.get('version')}, newer than this video2robo understands ({VERSION}); upgrade video2robo")
        try:
            d["objects"] = [DemoObject(**o) for o in d["objects"]]
            if d.get("skills") is not None:
                s = d["skills"]
                d["skills"] = Skills(int(s["grasp_frame"]), int(s["release_frame"]), tuple(s["task_segment"]))
            return cls(**d)
        except (KeyError, TypeError) as e:
            raise UserError(f"{where} is missing or has a malformed field ({e}); re-run `video2robo parse`") from None


def save_info(folder: Path, info: DemoInfo) -> None:
    from video2robo.io_utils import atomic_path

    with atomic_path(Path(folder) / "demo.json") as tmp:
        tmp.write_text(info.to_json())


def load_info(folder: Path) -> DemoInfo:
    path = Path(folder) / "demo.json"
    if not path.is_file():
        raise UserError(f"{folder} is not a demo folder (no demo.json); run `video2robo parse VIDEO --out {folder}` first")
    return DemoInfo.from_json(path.read_text(), str(path))


def save_arrays(path: Path, **arrays) -> None:
    """np.savez_compressed, atomically."""
    from video2robo.io_utils import atomic_path

    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)


def load_arrays(path: Path, required: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path} is missing; re-run the stage that writes it (`video2robo parse`)")
    try:
        with np.load(path) as z:
            arrays = {k: z[k] for k in z.files}
    except Exception as e:  # noqa: BLE001 - any unreadable archive is a user-facing input problem
        raise UserError(f"{path} cannot be read ({type(e).__name__}: {e}); re-run `video2robo parse`") from None
    missing = [k for k in required if k not in arrays]
    if missing:
        raise UserError(f"{path} lacks {', '.join(missing)}; re-run `video2robo parse`")
    return arrays


@dataclass
class Demo:
    """A loaded demo folder: info, object models and per-frame poses."""

    folder: Path
    info: DemoInfo
    poses: dict[str, np.ndarray]

    @classmethod
    def load(cls, folder: Path | str) -> "Demo":
        folder = Path(folder)
        if not folder.is_dir():
            raise UserError(f"demo folder {folder} does not exist; run `video2robo parse VIDEO --out {folder}` first")
        info = load_info(folder)
        names = [o.name for o in info.objects]
        poses = load_arrays(folder / "poses.npz", tuple(f"T_cam_{n}" for n in names) + ("T_world_cam",))
        for o in info.objects:
            if not (folder / o.model).is_file():
                raise UserError(f"object model {folder / o.model} is missing; re-run `video2robo parse` for this demo")
        return cls(folder, info, poses)

    def model(self, name: str):
        from video2robo.gaussians import load_ply

        obj = next((o for o in self.info.objects if o.name == name), None)
        if obj is None:
            raise UserError(f"the demo has no object '{name}' (it has {', '.join(o.name for o in self.info.objects)})")
        return load_ply(self.folder / obj.model)

    def T_world(self, name: str) -> np.ndarray:
        """(N, 4, 4) object poses in the world frame."""
        return self.poses["T_world_cam"] @ self.poses[f"T_cam_{name}"]

    def T_rel(self) -> np.ndarray:
        """(K, 4, 4) source pose relative to the target over the task segment."""
        if "T_rel" in self.poses:
            return self.poses["T_rel"]
        if self.info.skills is None:
            raise UserError(f"{self.folder} has no parsed skills; re-run `video2robo parse`")
        a, b = self.info.skills.task_segment
        T_t, T_s = self.T_world(self.info.target.name), self.T_world(self.info.source.name)
        return np.linalg.inv(T_t[a : b + 1]) @ T_s[a : b + 1]
