"""Typed task specifications (`tasks/<name>.yaml`), loaded and validated with clear errors.

A task spec says how `generate` turns a demo of that task into robot demonstrations: which object roles
take part, how the source is grasped (automatic antipodal sampling, or a fixed grasp in the source
object's frame), where objects may be rearranged on the table, the default camera(s), the episode
timing at the control rate, the kinematic checks and the augmentation defaults; and how `parse` reads
the task's segment from a video (`skills`).

Units: metres, radians for angles given as `*_rad`, degrees for fields named `*_deg`, seconds. Poses are
T_<to>_<from>; the world is the table frame (z up, table top at z = 0).

Every field has a default, so a YAML file only lists what differs. Unknown keys, wrong types and values
out of range raise `UserError` naming the file and the key (e.g. `tasks/pour.yaml: grasp.width: ...`).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from video2robo.errors import UserError

TASKS_DIR = Path(__file__).resolve().parents[1] / "tasks"
TASK_NAMES = ("attach", "drum", "place", "pour", "stack", "sweep")


@dataclass
class Range:
    """A closed interval [low, high] sampled uniformly."""

    low: float
    high: float


@dataclass
class GraspSpec:
    """How the source object is grasped."""

    mode: str = "auto"
    """"auto": antipodal sampling on the source model; "manual": use `pose` and `width`."""
    approach: str = "top"
    """Preferred approach in the world at the grasp: "top" (from above, ranked first), "side", "any"."""
    max_approach_tilt_deg: float = 60.0
    """Auto grasps whose approach deviates more than this from straight down are dropped ("top" only)."""
    width: float | str = "auto"
    """Closing width (m) or "auto" (the antipodal contact distance)."""
    open_clearance: float = 0.012
    """Extra opening (m) on each side beyond the object when approaching/releasing."""
    pose: list[float] = field(default_factory=list)
    """Manual grasp: [x, y, z, roll, pitch, yaw] of the grasp site in the source object frame (m, rad)."""
    num_samples: int = 400
    """Surface points tried as first contacts when sampling antipodal grasps."""
    max_candidates: int = 6
    """Ranked grasps tried per episode before the sample is rejected."""
    friction_deg: float = 20.0
    """Half-angle (deg) of the friction cone: contact normals must be antiparallel within it."""
    pregrasp_distance: float = 0.08
    """Pre-grasp offset back along the approach axis (m)."""
    lift_height: float = 0.12
    """Lift after closing (m)."""


@dataclass
class WorkspaceSpec:
    """Object rearrangement ranges on the table (world frame, metres and radians)."""

    target_x: Range = field(default_factory=lambda: Range(0.05, 0.15))
    target_y: Range = field(default_factory=lambda: Range(-0.1, 0.1))
    target_yaw: Range = field(default_factory=lambda: Range(-0.5, 0.5))
    source_x: Range = field(default_factory=lambda: Range(0.0, 0.15))
    source_y: Range = field(default_factory=lambda: Range(-0.25, 0.25))
    source_yaw: Range = field(default_factory=lambda: Range(-0.5, 0.5))
    target_yaw_reference: str = "demo"
    """What `target_yaw` is relative to: "demo" (the target's resting yaw in the demo) or "robot" (the
    target turned so the source works on the robot's side of it: the direction from the target to the
    source at the start of the task points at the robot base; for tasks done beside the target, such as
    pouring, where the demo's side may be out of the arm's reach)."""
    source_yaw_reference: str = "demo"
    """What `source_yaw` is relative to: "demo" (the source's resting yaw in the demo) or "task" (the yaw
    the source has, relative to the target, when the task segment starts, so a rearranged source already
    faces the way the task needs it, e.g. a cup's handle towards the robot for pouring)."""
    min_gap: float = 0.03
    """Minimum gap (m) between the footprints of source and target."""
    pretask_height: float = 0.06
    """The source approaches the first task pose from this height above it (m)."""


@dataclass
class CameraSpec:
    """A fixed third-person camera looking from `eye` at `target` (world, metres)."""

    name: str = "agentview"
    eye: list[float] = field(default_factory=lambda: [0.75, 0.0, 0.55])
    target: list[float] = field(default_factory=lambda: [-0.05, 0.0, 0.1])
    fov_deg: float = 55.0


@dataclass
class TimingSpec:
    """Episode timing: phase durations (s) and the control rate every step is rendered at."""

    control_hz: float = 10.0
    transit_s: float = 1.8
    approach_s: float = 0.8
    close_s: float = 0.4
    lift_s: float = 0.7
    transfer_s: float = 1.2
    task_speed: float = 1.0
    """Task segment replay speed relative to the demo (2 = twice as fast)."""
    place_s: float = 1.4
    release_s: float = 0.4
    retreat_s: float = 0.6


@dataclass
class ChecksSpec:
    """Thresholds of the kinematic validity checks."""

    velocity_scale: float = 0.8
    """Allowed fraction of the Panda's joint velocity limits."""
    table_margin: float = 0.0
    """Robot links must stay this far above the table (m)."""
    object_table_tolerance: float = 0.003
    """Object surface points may dip this far below the table top (m) (model noise)."""


@dataclass
class RobotSpec:
    """The robot base on the table and its start configuration."""

    base_xyz: list[float] = field(default_factory=lambda: [-0.56, 0.0, 0.0])
    base_yaw: float = 0.0
    home: list[float] = field(default_factory=list)
    """Start joint angles (rad); empty: robosuite's default Panda pose."""


@dataclass
class AugmentSpec:
    """Augmentation defaults; each one can be switched off and every draw is seeded."""

    rearrange: bool = True
    table_texture: bool = True
    texture_dir: str = ""
    """Optional folder of images used as table textures alongside the procedural ones."""
    background: str = "plane"
    """"plane" (a textured wall behind the table), "gaussians" (PLY backdrops from `backdrop_dir`), "none"."""
    backdrop_dir: str = ""
    lighting: bool = True
    light_scale: Range = field(default_factory=lambda: Range(0.75, 1.2))
    light_shift: Range = field(default_factory=lambda: Range(-0.05, 0.05))
    light_tint: float = 0.06
    """Per-channel colour scale drawn from 1 ± tint."""
    camera_jitter: bool = True
    camera_pos_m: float = 0.03
    camera_target_m: float = 0.03
    camera_fov_deg: float = 3.0
    camera_motion: bool = False
    """Move the camera linearly between two jittered poses over an episode."""
    distractors: int = 0
    """Number of small distractor objects placed on free table space."""


@dataclass
class SkillSpec:
    """How `parse` reads the task from the source's motion relative to the target."""

    task_end: str = "contact"
    """Where the task segment ends: "contact", its last frame within 3 cm of the target (a cup pours over
    a bowl, a lid is pressed onto a box); "last_touch", the end of the last run within 3 cm in which the
    source comes as close to the target as it ever does (a stick strikes a drum, then is put back beside
    it, close enough that its fit may read within 3 cm)."""


@dataclass
class TaskSpec:
    """Everything `generate` (and `parse`, in `skills`) needs to know about one task."""

    name: str
    description: str = ""
    objects: dict[str, str] = field(default_factory=dict)
    """Role -> expected object name in the demo (informational; roles come from the demo folder)."""
    grasp: GraspSpec = field(default_factory=GraspSpec)
    workspace: WorkspaceSpec = field(default_factory=WorkspaceSpec)
    cameras: list[CameraSpec] = field(default_factory=lambda: [CameraSpec()])
    timing: TimingSpec = field(default_factory=TimingSpec)
    checks: ChecksSpec = field(default_factory=ChecksSpec)
    robot: RobotSpec = field(default_factory=RobotSpec)
    augment: AugmentSpec = field(default_factory=AugmentSpec)
    skills: SkillSpec = field(default_factory=SkillSpec)
    release_on_target: bool | None = None
    """Release where the demo released relative to the target (stack, place) or put the source back
    relative to its start (pour, drum, sweep); None: decided from the demo."""

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# --- generic dataclass parsing with validation -------------------------------------------------------
def _fail(where: str, msg: str):
    raise UserError(f"{where}: {msg}")


def _convert(value, tp, where: str):
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for a in args:
            if a is type(None):
                continue
            try:
                return _convert(value, a, where)
            except UserError as e:
                errors.append(str(e).split(": ", 1)[-1])
        _fail(where, " or ".join(errors))
    if dataclasses.is_dataclass(tp):
        if tp is Range and isinstance(value, (list, tuple)):
            if len(value) != 2:
                _fail(where, f"a range needs [low, high], got {value!r}")
            value = {"low": value[0], "high": value[1]}
        if not isinstance(value, dict):
            _fail(where, f"expected a mapping, got {type(value).__name__}")
        return _from_dict(tp, value, where)
    if origin is list:
        (item,) = typing.get_args(tp)
        if not isinstance(value, list):
            _fail(where, f"expected a list, got {type(value).__name__}")
        return [_convert(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            _fail(where, f"expected a mapping, got {type(value).__name__}")
        return {str(k): str(v) for k, v in value.items()}
    if tp is bool:
        if not isinstance(value, bool):
            _fail(where, f"expected true or false, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            _fail(where, f"expected a number, got {value!r}")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            _fail(where, f"expected an integer, got {value!r}")
        return value
    if tp is str:
        if not isinstance(value, str):
            _fail(where, f"expected a string, got {value!r}")
        return value
    raise TypeError(f"unsupported field type {tp} at {where}")


def _from_dict(cls, data: dict, where: str):
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        _fail(where, f"unknown key(s) {', '.join(map(str, unknown))}; known: {', '.join(sorted(names))}")
    kwargs = {k: _convert(v, hints[k], f"{where}.{k}" if where else k) for k, v in data.items()}
    try:
        return cls(**kwargs)
    except TypeError as e:
        _fail(where or "task", f"missing required key ({e})")


def _check(cond: bool, where: str, msg: str) -> None:
    if not cond:
        _fail(where, msg)


def validate(spec: TaskSpec, where: str) -> TaskSpec:
    """Range and consistency checks that types alone cannot express."""
    g = spec.grasp
    _check(g.mode in ("auto", "manual"), f"{where}: grasp.mode", f"must be 'auto' or 'manual', got {g.mode!r}")
    _check(g.approach in ("top", "side", "any"), f"{where}: grasp.approach", f"must be top, side or any, got {g.approach!r}")
    if isinstance(g.width, str):
        _check(g.width == "auto", f"{where}: grasp.width", f"must be a number (m) or 'auto', got {g.width!r}")
    else:
        _check(0.0 <= g.width <= 0.08, f"{where}: grasp.width", f"{g.width} m is outside the Panda gripper's 0-0.08 m")
    if g.mode == "manual":
        _check(len(g.pose) == 6, f"{where}: grasp.pose", "a manual grasp needs [x, y, z, roll, pitch, yaw]")
        _check(not isinstance(g.width, str), f"{where}: grasp.width", "a manual grasp needs a numeric width")
    _check(g.num_samples >= 10 and g.max_candidates >= 1, f"{where}: grasp", "num_samples >= 10 and max_candidates >= 1")
    _check(0 < g.friction_deg < 60, f"{where}: grasp.friction_deg", "must be in (0, 60)")
    for name in ("target_x", "target_y", "target_yaw", "source_x", "source_y", "source_yaw"):
        r = getattr(spec.workspace, name)
        _check(r.low <= r.high, f"{where}: workspace.{name}", f"low {r.low} > high {r.high}")
    _check(spec.workspace.target_yaw_reference in ("demo", "robot"), f"{where}: workspace.target_yaw_reference",
           f"must be 'demo' or 'robot', got {spec.workspace.target_yaw_reference!r}")
    _check(spec.workspace.source_yaw_reference in ("demo", "task"), f"{where}: workspace.source_yaw_reference",
           f"must be 'demo' or 'task', got {spec.workspace.source_yaw_reference!r}")
    t = spec.timing
    _check(1.0 <= t.control_hz <= 100.0, f"{where}: timing.control_hz", "must be in [1, 100]")
    for f in dataclasses.fields(t):
        _check(getattr(t, f.name) > 0, f"{where}: timing.{f.name}", "must be positive")
    _check(len(spec.cameras) >= 1, f"{where}: cameras", "at least one camera is needed")
    for i, c in enumerate(spec.cameras):
        _check(len(c.eye) == 3 and len(c.target) == 3, f"{where}: cameras[{i}]", "eye and target need 3 numbers")
        _check(5 < c.fov_deg < 150, f"{where}: cameras[{i}].fov_deg", "must be in (5, 150)")
    _check(len(spec.robot.base_xyz) == 3, f"{where}: robot.base_xyz", "needs 3 numbers")
    _check(len(spec.robot.home) in (0, 7), f"{where}: robot.home", "needs 7 joint angles or nothing")
    a = spec.augment
    _check(a.background in ("plane", "gaussians", "none"), f"{where}: augment.background", "must be plane, gaussians or none")
    _check(a.distractors >= 0, f"{where}: augment.distractors", "must be >= 0")
    _check(spec.skills.task_end in ("contact", "last_touch"), f"{where}: skills.task_end",
           f"must be 'contact' or 'last_touch', got {spec.skills.task_end!r}")
    _check(0 < spec.checks.velocity_scale <= 1, f"{where}: checks.velocity_scale", "must be in (0, 1]")
    return spec


def parse_task_spec(data: dict, where: str = "task") -> TaskSpec:
    """A validated TaskSpec from a mapping (a parsed YAML file)."""
    if not isinstance(data, dict):
        _fail(where, "a task file must be a YAML mapping")
    if "name" not in data:
        _fail(where, "missing required key 'name'")
    try:
        spec = _from_dict(TaskSpec, data, "")
    except UserError as e:
        raise UserError(f"{where}: {e}") from None
    return validate(spec, where)


def load_task_spec(name_or_path: str | Path) -> TaskSpec:
    """Load `tasks/<name>.yaml` (a bundled task name) or any YAML file path."""
    p = Path(name_or_path)
    if not p.exists() and (TASKS_DIR / f"{name_or_path}.yaml").is_file():
        p = TASKS_DIR / f"{name_or_path}.yaml"
    if not p.is_file():
        raise UserError(f"task spec {name_or_path} not found; use one of {', '.join(TASK_NAMES)} or a path to a YAML file")
    try:
        data = yaml.safe_load(p.read_text())
    except yaml.YAMLError as e:
        raise UserError(f"{p} is not valid YAML ({str(e).splitlines()[0]})") from None
    return parse_task_spec(data, str(p))
