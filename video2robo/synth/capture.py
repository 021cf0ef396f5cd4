"""Synthetic phone capture of a scripted task: render every frame with MuJoCo and keep the truth.

`capture(settings)` runs one task script (see `tasks.py`) through a phone-like camera (`camera_rig.py`)
and returns the frames with per-frame ground truth: camera and object poses, instance masks, depth,
grasp/release frames and the task segment. `output.py` writes it to disk.

Frame conventions: frame i is taken at t = i / fps. `grasp_frame` is the last frame before the source
starts moving (the hand has closed on it); `release_frame` is the first frame after the hand lets go; the
source has reached its final resting pose by then (it may have rested a moment before, e.g. pressed). The source pose is constant for i <= grasp_frame and for
i >= release_frame. `task_frames` = (first, last) frame in [grasp, release] where the source is within
`TASK_DISTANCE` (3 cm) of the target, measured between the two surfaces.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from video2robo.errors import UserError
from video2robo.geometry import intrinsics_from_fov, pose_inverse
from video2robo.synth.camera_rig import CameraRig, make_rig
from video2robo.synth.tasks import TaskScript, make_task

DEPTH_STEP = 2.0**-14  # metres (0.06 mm): depth is rounded to this so the stored float32 compresses
TASK_DISTANCE = 0.03  # metres between source and target surfaces that counts as "doing the task"


@dataclass
class CaptureSettings:
    """Everything that determines a synthetic video (same settings + seed → same video)."""

    task: str = "pour"
    seed: int = 0
    width: int = 640
    height: int = 360
    fps: float = 30.0
    fov_x_deg: float | None = None  # None: random in 60–70°
    handheld: bool = False
    hand: bool = False
    blur: bool = False
    blur_samples: int = 3
    shutter: float = 0.5  # exposure as a fraction of the frame interval (for blur)
    noise: bool = False
    lens_sigma: float = 0.5
    speed: float = 1.0

    def check(self) -> None:
        if self.width < 32 or self.height < 32 or self.width % 2 or self.height % 2:
            raise UserError(f"image size {self.width}x{self.height} is not usable; use even sizes of at least 32, e.g. 640x360")
        if self.width > 3840 or self.height > 2160:
            raise UserError(f"image size {self.width}x{self.height} is too large; use at most 3840x2160")
        if not 1 <= self.fps <= 240:
            raise UserError(f"--fps {self.fps} is out of range; use 1 to 240 (phones record 30)")
        if self.fov_x_deg is not None and not 20 <= self.fov_x_deg <= 120:
            raise UserError(f"--fov-x-deg {self.fov_x_deg} is out of range; use 20 to 120 (phones: 60-70)")
        if self.blur_samples < 2:
            raise UserError("--blur-samples must be at least 2 (renders averaged per blurred frame)")


@dataclass
class Capture:
    """Frames and their ground truth (see module docstring for the frame conventions)."""

    settings: CaptureSettings
    script: TaskScript
    rig: CameraRig
    K: np.ndarray
    frames: np.ndarray  # (N, H, W, 3) uint8, degraded (blur/noise/lens) but not compressed
    times: np.ndarray  # (N,) seconds
    T_world_cam: np.ndarray  # (N, 4, 4)
    T_world_obj: dict[str, np.ndarray]  # name -> (N, 4, 4)
    masks: np.ndarray  # (N, H, W) uint8 labels: 0 background, i+1 object i, 255 hand
    depth: np.ndarray  # (N, H, W) float32 metres, 0 = no data
    hand_visible: np.ndarray  # (N,) bool
    distance: np.ndarray  # (N,) source-target surface distance, metres
    grasp_frame: int
    release_frame: int
    task_frames: tuple[int, int]
    names: list[str] = field(default_factory=list)

    @property
    def T_cam_obj(self) -> dict[str, np.ndarray]:
        T_cam_world = pose_inverse(self.T_world_cam)
        return {n: T_cam_world @ T for n, T in self.T_world_obj.items()}


def quantise_depth(depth: np.ndarray) -> np.ndarray:
    """Depth rounded to multiples of DEPTH_STEP (exact in float32; the zero low bits compress 4×)."""
    return (np.round(depth.astype(np.float64) / DEPTH_STEP) * DEPTH_STEP).astype(np.float32)


def hand_pose(script: TaskScript, t: float, approach: float) -> np.ndarray | None:
    """T_world_hand at time t, or None when the hand is out of the scene.

    The hand follows the source rigidly (T_world_source · T_source_hand) while it is held and comes in
    from above / leaves upwards during `approach` seconds before the grasp and after the release.
    """
    from video2robo.geometry import min_jerk

    T_sh = script.source.grasp_offset
    if t < script.t_grasp - approach or t > script.t_release + approach:
        return None

    def away(a: float) -> np.ndarray:  # offset along the forearm, a in [0, 1]
        T = np.eye(4)
        T[:3, 3] = a * np.array([0.06, 0.0, 0.22])
        return T

    if t <= script.t_grasp:
        s = float(min_jerk((t - script.t_grasp + approach) / approach))
        return script.source_traj.at(script.t_grasp) @ T_sh @ away(1.0 - s)
    if t >= script.t_release:
        s = float(min_jerk((t - script.t_release) / approach))
        return script.source_traj.at(script.t_release) @ T_sh @ away(s)
    return script.source_traj.at(t) @ T_sh


def _event_frames(script: TaskScript, fps: float, n: int) -> tuple[int, int]:
    """(grasp_frame, release_frame) from the script's event times (see module docstring)."""
    g = int(math.floor(script.t_grasp * fps + 1e-9))
    r = int(math.ceil(script.t_release * fps - 1e-9))
    if not 0 <= g < r < n:
        raise RuntimeError(f"task script events out of the video: grasp {g}, release {r}, {n} frames")
    return g, r


def _distances(script: TaskScript, T_src: np.ndarray, T_tgt: np.ndarray, n_points: int = 4000) -> np.ndarray:
    """Per-frame smallest distance between the source and target surfaces (sampled), metres."""
    from scipy.spatial import cKDTree

    ps = script.source.sample_surface(n_points, seed=1)
    pt = script.target.sample_surface(n_points, seed=2)
    out = np.empty(len(T_src))
    for i, (Ts, Tt) in enumerate(zip(T_src, T_tgt)):
        # distance in the target frame: one tree when the target never moves
        T_t_s = np.linalg.solve(Tt, Ts)
        if i == 0:
            tree = cKDTree(pt)
        out[i] = tree.query(ps @ T_t_s[:3, :3].T + T_t_s[:3, 3], k=1)[0].min()
    return out


def _task_frames(distance: np.ndarray, g: int, r: int) -> tuple[int, int]:
    near = np.flatnonzero(distance[g : r + 1] < TASK_DISTANCE)
    if len(near) == 0:
        raise RuntimeError(f"the scripted source never comes within {TASK_DISTANCE} m of the target")
    return g + int(near[0]), g + int(near[-1])


def capture(settings: CaptureSettings, progress: bool = True) -> Capture:
    """Render the task video and its ground truth (deterministic given the settings)."""
    from tqdm import tqdm

    from video2robo.synth.degrade import lens_soften, sensor_noise
    from video2robo.synth.scene import SceneRenderer

    settings.check()
    st = settings
    script = make_task(st.task, st.seed, st.speed)
    rng = np.random.default_rng([st.seed, 7])  # camera, scene and noise draws (independent of the script)
    T_wt, T_ws0 = script.T_world_target, script.source_traj.poses[0]
    look = 0.5 * (T_wt[:3, 3] + T_ws0[:3, 3]) + np.array([0.0, 0.0, 0.05])
    bearing = math.atan2(*(T_ws0[:2, 3] - T_wt[:2, 3])[::-1])
    radius = 0.5 * np.linalg.norm(T_ws0[:2, 3] - T_wt[:2, 3]) + 0.1
    rig = make_rig(rng, look, bearing, st.fov_x_deg, st.handheld, radius)
    K = intrinsics_from_fov(rig.fov_x_deg, st.width, st.height)

    n = int(math.floor(script.duration * st.fps)) + 1
    times = np.arange(n) / st.fps
    g, r = _event_frames(script, st.fps, n)
    objects = script.objects
    names = [o.name for o in objects]
    approach = 0.6 / st.speed
    renderer = SceneRenderer(objects, st.width, st.height, rig.fov_x_deg, rng, room=True, hand=st.hand)

    def state_at(t: float):
        T_objs = [script.source_traj.at(t), script.T_world_target]
        return rig.at(t), T_objs, (hand_pose(script, t, approach) if st.hand else None)

    frames = np.empty((n, st.height, st.width, 3), np.uint8)
    masks = np.empty((n, st.height, st.width), np.uint8)
    depth = np.empty((n, st.height, st.width), np.float32)
    T_world_cam = np.empty((n, 4, 4))
    T_world_obj = {name: np.empty((n, 4, 4)) for name in names}
    hand_visible = np.zeros(n, bool)
    noise_rng = np.random.default_rng([st.seed, 11])
    offsets = (np.linspace(-0.5, 0.5, st.blur_samples) * st.shutter / st.fps) if st.blur else np.zeros(1)
    try:
        for i in tqdm(range(n), desc=f"synth {st.task}", unit="frame", disable=not progress):
            T_wc, T_objs, T_wh = state_at(times[i])
            T_world_cam[i] = T_wc
            for name, T in zip(names, T_objs):
                T_world_obj[name][i] = T
            hand_visible[i] = T_wh is not None
            renderer.set_state(T_wc, T_objs, T_wh)
            masks[i] = renderer.labels()
            depth[i] = quantise_depth(renderer.depth())
            if len(offsets) == 1:
                img = renderer.rgb()
            else:
                acc = np.zeros((st.height, st.width, 3), np.float32)
                for dt in offsets:
                    renderer.set_state(*state_at(times[i] + dt))
                    acc += renderer.rgb()
                img = np.clip(acc / len(offsets) + 0.5, 0, 255).astype(np.uint8)
            img = lens_soften(img, st.lens_sigma)
            frames[i] = sensor_noise(img, noise_rng) if st.noise else img
    finally:
        renderer.close()
    distance = _distances(script, T_world_obj[names[0]], T_world_obj[names[1]])
    return Capture(st, script, rig, K, frames, times, T_world_cam, T_world_obj, masks, depth, hand_visible,
                   distance, g, r, _task_frames(distance, g, r), names)
