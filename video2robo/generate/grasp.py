"""Grasp selection on the source object's Gaussian model: antipodal sampling, finger clearance, ranking.

A grasp is the pose of the Panda grasp site in the source object's frame, `T_obj_grip`, with the closing
width. The grasp-site frame (robosuite's `grip_site`): z is the approach direction (hand → fingertips),
the fingers close along x; the finger pads' centres sit 3.6 mm behind the site, so contacts are put at
z = -CONTACT_DEPTH in the grasp frame.

Antipodal sampling uses the Gaussians as surface samples: the thin axis of each disc is the surface
normal, up to sign (reconstructed or procedurally built models do not wind every part consistently,
e.g. a mug handle). From a contact p1 with normal n1 both rays p1 ± s·n1 are searched; the first surface
point near a ray whose normal is parallel to n1 within the friction cone (either sign) is the second
contact p2. Pairs across empty space (between a handle and the body) leave object material inside the
finger columns, so the clearance test below removes them. Every grasp
must leave the finger columns (swept along the approach) and the palm free of object points; survivors
are ranked by closeness to the object's centre of mass and by how well the approach matches the task's
preference (from above by default). Reachability along the whole coupled trajectory is decided later,
per episode, by the planner and the checks (`episode.py`), which try the ranked grasps in order.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from video2robo.errors import UserError
from video2robo.geometry.so3 import frame_around
from video2robo.robot.model import MAX_GRIPPER_WIDTH
from video2robo.task_spec import GraspSpec

# Gripper geometry in the grasp-site frame, measured from robosuite's Panda collision meshes (the hulls
# the collision checker uses), rounded outwards by about 1 mm.
CONTACT_DEPTH = 0.004  # m: contacts at the pads' centre, this far behind the grasp site along z
PAD_TOP_Z = 0.0044  # m: the finger pads end this far ahead of the grasp site
FINGER_THICKNESS = 0.028  # m: finger column extent along x beyond the inner face
FINGER_HALF_DEPTH = 0.012  # m: finger column half extent along y
FINGERTIP_Z = 0.010  # m: fingertips end this far ahead of the grasp site
PALM_Z = -0.032  # m: the hand's collision hull starts this far behind the grasp site
PALM_HALF = (0.105, 0.033)  # m: hand hull half extents along x, y
PALM_BACK_Z = -0.124  # m: the hand hull ends this far behind the grasp site
MIN_WIDTH = 0.004  # m: thinner contacts than this are not graspable reliably
TABLE_CLEARANCE = 0.003  # m: fingertips and hand stay this far above the table at the grasp
MAX_BACKOFF = 0.006  # m: a grasp may be moved back along its approach this far to clear the table
BACKOFF_STEPS = (0.0, 0.003, 0.006)  # m: shallower grasp variants tried when the fingers hit the object


@dataclass
class Grasp:
    """A grasp on the source object."""

    T_obj_grip: np.ndarray  # (4, 4) grasp site in the object frame
    width: float  # m, closing width (fingers touching the object)
    open_width: float  # m, opening used to approach and release
    score: float = 0.0
    label: str = ""

    def flipped(self) -> "Grasp":
        """The same grasp with the hand turned 180° about the approach (equivalent for a parallel gripper)."""
        T = self.T_obj_grip.copy()
        T[:3, :2] *= -1.0
        return replace(self, T_obj_grip=T, label=self.label + "/flipped")


def surface_samples(gaussians) -> tuple[np.ndarray, np.ndarray]:
    """(points (N, 3), unit outward normals (N, 3)) from a GaussianSet: means and the thin axis."""
    from video2robo.geometry import quat_to_rotmat

    q = gaussians.quats.detach().double().numpy()
    q = q / np.linalg.norm(q, axis=1, keepdims=True).clip(1e-12)
    R = quat_to_rotmat(q)
    thin = np.argmin(gaussians.log_scales.detach().numpy(), axis=1)
    normals = R[np.arange(len(q)), :, thin]
    return gaussians.means.detach().double().numpy(), normals


def fingers_clear(points_grip: np.ndarray, open_width: float) -> bool:
    """True when no object point lies in the finger columns (swept back along the approach) or the palm."""
    x, y, z = points_grip[:, 0], points_grip[:, 1], points_grip[:, 2]
    half = open_width / 2.0
    in_column = (np.abs(x) >= half) & (np.abs(x) <= half + FINGER_THICKNESS) & (np.abs(y) <= FINGER_HALF_DEPTH) & (z <= FINGERTIP_Z)
    in_palm = (np.abs(x) <= PALM_HALF[0]) & (np.abs(y) <= PALM_HALF[1]) & (z <= PALM_Z) & (z >= PALM_BACK_Z)
    return not bool(np.any(in_column) or np.any(in_palm))


def _frame(closing: np.ndarray, approach: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """Grasp-site pose with x = closing axis, z = approach, contacts' centre at z = -CONTACT_DEPTH."""
    x = closing / np.linalg.norm(closing)
    z = approach - np.dot(approach, x) * x
    z /= np.linalg.norm(z)
    T = np.eye(4)
    T[:3, :3] = np.stack([x, np.cross(z, x), z], axis=1)
    T[:3, 3] = centre + CONTACT_DEPTH * z
    return T


def antipodal_pairs(points, normals, spec: GraspSpec, rng: np.random.Generator, max_width: float):
    """[(p1, p2)] antipodal contact pairs from up to `spec.num_samples` first contacts (normals unsigned)."""
    cos_f = np.cos(np.radians(spec.friction_deg))
    idx = rng.choice(len(points), size=min(spec.num_samples, len(points)), replace=False)
    pairs = []
    for i in idx:
        p1, n1 = points[i], normals[i]
        v = points - p1
        along = v @ n1
        r = np.linalg.norm(v - along[:, None] * n1, axis=1)
        parallel = np.abs(normals @ n1) > cos_f
        for sign in (-1.0, 1.0):
            s = sign * along
            ok = (s > MIN_WIDTH) & (s < max_width) & (r < 0.004) & parallel
            if np.any(ok):
                j = np.flatnonzero(ok)[np.argmin(s[ok])]
                pairs.append((p1, points[j]))
                break
    return pairs


def sample_grasps(gaussians, spec: GraspSpec, seed: int = 0, approach_steps: int = 24) -> list[Grasp]:
    """Collision-free antipodal grasps (object frame), unranked; both hand flips are not included."""
    if spec.mode == "manual":
        return [manual_grasp(spec)]
    points, normals = surface_samples(gaussians)
    rng = np.random.default_rng(seed)
    # Clearance is tested against a subsample: 3k points still resolve the fingers' 22 mm columns.
    clear_pts = points[rng.choice(len(points), size=min(3000, len(points)), replace=False)]
    max_width = MAX_GRIPPER_WIDTH - 2 * spec.open_clearance
    grasps = []
    for p1, p2 in antipodal_pairs(points, normals, spec, rng, max_width):
        axis = p2 - p1
        width = float(np.linalg.norm(axis))
        axis /= width
        centre = 0.5 * (p1 + p2)
        u, w = frame_around(axis, hint=(0.0, 0.0, 1.0), fallback=(1.0, 0.0, 0.0))[:, :2].T
        close_w = width if spec.width == "auto" else float(spec.width)
        open_w = min(MAX_GRIPPER_WIDTH, width + 2 * spec.open_clearance)
        for th in np.linspace(0.0, 2 * np.pi, approach_steps, endpoint=False):
            T = _frame(axis, np.cos(th) * u + np.sin(th) * w, centre)
            local = (clear_pts - T[:3, 3]) @ T[:3, :3]
            # Shallower variants (contacts nearer the pads' tips) clear a surface just below the
            # contacts, e.g. a lid's top under its knob.
            for back in BACKOFF_STEPS:
                if fingers_clear(local + [0.0, 0.0, back], open_w):
                    Tb = T.copy()
                    Tb[:3, 3] -= back * T[:3, 2]
                    grasps.append(Grasp(Tb, close_w, open_w, 0.0, f"antipodal w={width * 1000:.0f}mm back={back * 1000:.0f}mm"))
                    break
    return grasps


def manual_grasp(spec: GraspSpec) -> Grasp:
    """The task file's fixed grasp: [x, y, z, roll, pitch, yaw] (m, rad, extrinsic xyz) and width."""
    from scipy.spatial.transform import Rotation

    x, y, z, roll, pitch, yaw = spec.pose
    T = np.eye(4)
    T[:3, :3] = Rotation.from_euler("xyz", [roll, pitch, yaw]).as_matrix()
    T[:3, 3] = [x, y, z]
    width = float(spec.width)
    return Grasp(T, width, min(MAX_GRIPPER_WIDTH, width + 2 * spec.open_clearance), 1.0, "manual")


def gripper_corners(open_width: float) -> np.ndarray:
    """(24, 3) corners of the finger columns and the hand hull (grasp-site frame) at an opening."""
    half = open_width / 2.0
    out = []
    for sx in (-1.0, 1.0):
        for x in (half, half + FINGER_THICKNESS):
            for y in (-FINGER_HALF_DEPTH, FINGER_HALF_DEPTH):
                for z in (FINGERTIP_Z, PALM_Z):
                    out.append((sx * x, y, z))
    for x in (-PALM_HALF[0], PALM_HALF[0]):
        for y in (-PALM_HALF[1], PALM_HALF[1]):
            for z in (PALM_Z, PALM_BACK_Z):
                out.append((x, y, z))
    return np.array(out)


def clear_of_table(g: Grasp, T_world_obj: np.ndarray) -> Grasp | None:
    """The grasp, moved back along its approach (≤ MAX_BACKOFF, contacts stay on the pads) until the open
    gripper clears the table top by TABLE_CLEARANCE; None when that is not enough."""
    T = T_world_obj @ g.T_obj_grip
    lowest = float((gripper_corners(g.open_width) @ T[:3, :3].T + T[:3, 3])[:, 2].min())
    need = TABLE_CLEARANCE - lowest
    if need <= 0.0:
        return g
    dz = -T[2, 2]  # world height lost per metre along the approach; backing off raises by this
    if dz <= 1e-6 or need / dz > min(MAX_BACKOFF, PAD_TOP_Z + CONTACT_DEPTH - 0.001):
        return None
    out = g.T_obj_grip.copy()
    out[:3, 3] -= (need / dz) * g.T_obj_grip[:3, 2]
    return replace(g, T_obj_grip=out, label=g.label + f" backoff={need / dz * 1000:.1f}mm")


def rank_grasps(grasps: list[Grasp], gaussians, T_world_obj: np.ndarray, spec: GraspSpec,
                task_rotations: np.ndarray | None = None) -> list[Grasp]:
    """Score and sort grasps (best first) for the object's resting pose; drop disallowed approaches and
    grasps whose open gripper would touch the table (after the small back-off of `clear_of_table`).

    Score = approach preference (cosine to straight down for "top", to horizontal for "side", half the
    downward cosine for "any") − distance of the contacts' centre from the centre of mass / object size
    − how far the approach axis turns upwards during the task (`task_rotations`: the source's world
    orientations over the task segment; a hand below the object it holds is rarely reachable)
    − the largest angle (rad) the approach axis turns through during the task.
    """
    if spec.mode == "manual":
        return list(grasps)
    pts = gaussians.means.detach().double().numpy()
    com = pts.mean(0)
    size = float(np.linalg.norm(pts.max(0) - pts.min(0))) or 1.0
    cos_tilt = np.cos(np.radians(spec.max_approach_tilt_deg))
    R_world_obj = np.asarray(T_world_obj)[:3, :3]
    out = []
    for g in grasps:
        g = clear_of_table(g, T_world_obj)
        if g is None:
            continue
        z_world = R_world_obj @ g.T_obj_grip[:3, 2]
        down = -z_world[2]
        if spec.approach == "top":
            if down < cos_tilt:
                continue
            pref = down
        elif spec.approach == "side":
            pref = 1.0 - abs(z_world[2])
        else:
            pref = 0.5 * down
        if down < -0.3:  # approaching from below the object is never possible on a table
            continue
        centre = g.T_obj_grip[:3, 3] - CONTACT_DEPTH * g.T_obj_grip[:3, 2]
        score = pref - 2.0 * float(np.linalg.norm(centre - com)) / size
        if task_rotations is not None:
            approach = task_rotations @ g.T_obj_grip[:3, 2]
            up = float(np.max(approach[:, 2]))
            if up > 0.5:
                continue
            score -= 2.0 * max(0.0, up + 0.3)
            # The less the approach axis turns during the task, the more of the task's rotation is a
            # wrist roll about it (free for the arm): measured to pick the pour grasps that plan.
            score -= float(np.arccos(np.clip(approach @ approach[0], -1.0, 1.0)).max())
        out.append(replace(g, score=score))
    out.sort(key=lambda g: -g.score)
    return out


def diverse(grasps: list[Grasp], count: int, min_dist: float = 0.01, min_angle_deg: float = 20.0) -> list[Grasp]:
    """Up to `count` grasps from a ranked list, skipping near-duplicates of ones already chosen."""
    chosen: list[Grasp] = []
    cos_min = np.cos(np.radians(min_angle_deg))
    for g in grasps:
        if all(
            np.linalg.norm(g.T_obj_grip[:3, 3] - c.T_obj_grip[:3, 3]) > min_dist
            or np.dot(g.T_obj_grip[:3, 2], c.T_obj_grip[:3, 2]) < cos_min
            for c in chosen
        ):
            chosen.append(g)
        if len(chosen) >= count:
            break
    return chosen


def require_grasps(grasps: list[Grasp], name: str) -> list[Grasp]:
    if not grasps:
        raise UserError(
            f"no collision-free antipodal grasp fits the Panda gripper (max {MAX_GRIPPER_WIDTH * 1000:.0f} mm) on '{name}'; "
            "set grasp.mode: manual with grasp.pose and grasp.width in the task file"
        )
    return grasps
