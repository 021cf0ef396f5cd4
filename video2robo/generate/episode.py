"""One episode: seeded rearrangement → grasp choice → coupled motion → IK + checks → rendering → arrays.

`EpisodeGenerator` is built once per worker process (it loads the demo, the Gaussian Franka, MuJoCo
kinematics and collision models, and samples the grasp candidates once). `generate(index)` is a pure
function of (base seed, index): attempt j of episode i draws everything from
`np.random.default_rng([seed, i, j])`, so a resumed or parallel run writes the same episodes.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from video2robo.demo_folder import Demo
from video2robo.errors import UserError
from video2robo.generate import augment, grasp as grasp_mod
from video2robo.generate.actions import build_actions, pose_vector, robot_state
from video2robo.generate.checks import PANDA_VELOCITY_LIMITS, CheckContext, check_trajectory_at
from video2robo.generate.motion import PHASES, plan_episode, steps_at
from video2robo.generate.track_ik import TrackIK
from video2robo.generate.trajectory import Failure, solve_episode
from video2robo.generate.scene import LABELS, FastRobot, Parts, render_parts, render_static, table_parts, wall_parts
from video2robo.task_spec import TaskSpec

TRACK_POINTS = 32  # surface points tracked per object (3D flow labels)
HOVER_CLEARANCE = 0.1  # m: the joint-space transit ends this far above the taller object (see motion.py)


@dataclass
class RenderSettings:
    width: int = 128
    height: int = 128
    depth: bool = True
    masks: bool = True
    wrist: bool = False
    robot_detail: str = "auto"  # "full" | "coarse" | "auto": coarse when the main camera's pixels are large enough


@dataclass
class EpisodeResult:
    """An accepted episode (`arrays`, `meta`) plus the rejected attempts before it."""

    index: int
    arrays: dict[str, np.ndarray] | None
    meta: dict
    rejections: Counter = field(default_factory=Counter)
    attempts: int = 0
    seconds: float = 0.0


def _rest_pose(T: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The object's pose moved up or down so its lowest surface point (`points`, object frame) lies on
    the table: parsed poses float or sink by millimetres to centimetres."""
    out = T.copy()
    out[2, 3] -= float((points @ T[2, :3]).min() + T[2, 3])
    return out


def _planar_move(T_from: np.ndarray, T_to: np.ndarray) -> np.ndarray:
    """T_from⁻¹ · M · T_from, where M is the table-plane part (x, y, yaw about world z) of the motion
    taking T_from to T_to: an object put back on the table rests on it again, whatever height or tilt
    noise the demo's release pose carries."""
    M = T_to @ np.linalg.inv(T_from)
    yaw = float(np.arctan2(M[1, 0], M[0, 0]))
    c, s = np.cos(yaw), np.sin(yaw)
    P = np.eye(4)
    P[:2, :2] = [[c, -s], [s, c]]
    P[:2, 3] = T_to[:2, 3] - P[:2, :2] @ T_from[:2, 3]  # T_from's origin lands under T_to's
    return np.linalg.inv(T_from) @ P @ T_from


def _yaw(R: np.ndarray) -> float:
    """Heading of an orientation: the angle of its x axis projected on the table (its z axis when the x
    axis points nearly straight up or down)."""
    v = R[:, 0] if np.linalg.norm(R[:2, 0]) > 0.3 else R[:, 2]
    return float(np.arctan2(v[1], v[0]))


def _yawed_like(T_rest: np.ndarray, T_ref: np.ndarray) -> np.ndarray:
    """T_rest turned about the world z axis (in place) so its heading matches T_ref's."""
    a = _yaw(T_ref[:3, :3]) - _yaw(T_rest[:3, :3])
    c, s = np.cos(a), np.sin(a)
    out = T_rest.copy()
    out[:3, :3] = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]) @ T_rest[:3, :3]
    return out


def _facing_robot(T_tgt_rest: np.ndarray, T_rel0: np.ndarray, spec: TaskSpec) -> np.ndarray:
    """The target's resting pose turned about world z so that the source, at the start of the task, sits
    on the side of the target facing the robot base (seen from the middle of the target's range)."""
    d = (T_tgt_rest[:3, :3] @ T_rel0[:3, 3])[:2]
    if np.linalg.norm(d) < 0.02:  # the task happens on top of the target: no side to choose
        return T_tgt_rest
    ws = spec.workspace
    centre = np.array([(ws.target_x.low + ws.target_x.high) / 2, (ws.target_y.low + ws.target_y.high) / 2])
    to_base = np.asarray(spec.robot.base_xyz[:2], float) - centre
    a = np.arctan2(to_base[1], to_base[0]) - np.arctan2(d[1], d[0])
    c, s = np.cos(a), np.sin(a)
    out = T_tgt_rest.copy()
    out[:3, :3] = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]) @ T_tgt_rest[:3, :3]
    return out


class EpisodeGenerator:
    """Generates episodes from one demo folder with one task spec."""

    def __init__(self, demo_dir: Path | str, spec: TaskSpec, seed: int = 0, render: RenderSettings | None = None,
                 max_attempts: int = 20):
        from video2robo.robot.gaussian_robot import GaussianRobot, default_asset_dir
        from video2robo.robot.ik import PandaIK
        from video2robo.robot.model import home_configuration

        self.demo = Demo.load(demo_dir)
        self.spec, self.seed, self.max_attempts = spec, int(seed), int(max_attempts)
        self.render = render or RenderSettings()
        info = self.demo.info
        if info.skills is None:
            raise UserError(f"{demo_dir} has no parsed skills (grasp/release/task segment); re-run `video2robo parse`")
        self.src_name, self.tgt_name = info.source.name, info.target.name
        self.src_model, self.tgt_model = self.demo.model(self.src_name), self.demo.model(self.tgt_name)
        self.src_pts = self.src_model.means.detach().double().numpy()
        self.tgt_pts = self.tgt_model.means.detach().double().numpy()
        sk = info.skills
        T_s, T_t = self.demo.T_world(self.src_name), self.demo.T_world(self.tgt_name)
        self.T_src_rest = _rest_pose(T_s[sk.grasp_frame], self.src_pts)
        self.T_tgt_rest = _rest_pose(T_t[sk.grasp_frame], self.tgt_pts)
        self.T_rel = self.demo.T_rel()
        ws = spec.workspace
        if ws.target_yaw_reference == "robot":
            self.T_tgt_rest = _facing_robot(self.T_tgt_rest, self.T_rel[0], spec)
        if ws.source_yaw_reference == "task":
            self.T_src_rest = _yawed_like(self.T_src_rest, self.T_tgt_rest @ self.T_rel[0])
        T_tr = np.linalg.inv(T_t[sk.release_frame]) @ T_s[sk.release_frame]
        on_target = spec.release_on_target
        if on_target is None:
            on_target = bool(np.linalg.norm(T_tr[:2, 3]) < augment.footprint_radius(self.tgt_pts))
        self.T_target_release = T_tr if on_target else None
        self.T_start_release = None if on_target else _planar_move(T_s[sk.grasp_frame], T_s[sk.release_frame])
        r = spec.robot
        self.T_world_base = np.eye(4)
        c, s_ = np.cos(r.base_yaw), np.sin(r.base_yaw)
        self.T_world_base[:3, :3] = [[c, -s_, 0], [s_, c, 0], [0, 0, 1]]
        self.T_world_base[:3, 3] = r.base_xyz
        self.T_base_world = np.linalg.inv(self.T_world_base)
        self.q_home = np.asarray(r.home, float) if r.home else home_configuration()
        self.robot = GaussianRobot(default_asset_dir(self._robot_detail()))
        self.kin = self.robot.kin
        self.fast_robot = FastRobot(self.robot, self.T_world_base)
        self.ik = PandaIK(self.kin, restarts=0)  # posture seeds only: ~2x faster Pour planning, same acceptance (measured)
        self.track = TrackIK(self.kin)
        self.checks = CheckContext.build(self.src_pts, self.tgt_pts, self.T_world_base, spec.checks, spec.timing.control_hz, self.kin)
        self.T_grip_home = self.T_world_base @ self.kin.grasp_pose(self.q_home)
        self.grasps = grasp_mod.require_grasps(grasp_mod.sample_grasps(self.src_model, spec.grasp, seed=self.seed), self.src_name)
        self.src_parts = Parts.from_set(self.src_model, LABELS["source"])
        self.tgt_parts = Parts.from_set(self.tgt_model, LABELS["target"])
        if not self.render.wrist:  # objects are seen from afar only: half a pixel between Gaussians is plenty
            voxel = 0.5 * self._pixel_size()
            self.src_parts, self.tgt_parts = self.src_parts.thinned(voxel), self.tgt_parts.thinned(voxel)
        rng = np.random.default_rng(0)
        self.track_src = self.src_pts[rng.choice(len(self.src_pts), TRACK_POINTS, replace=False)]
        self.track_tgt = self.tgt_pts[rng.choice(len(self.tgt_pts), TRACK_POINTS, replace=False)]
        self.user_textures = augment.load_texture_images(spec.augment.texture_dir) if spec.augment.texture_dir else []
        self.backdrops = self._load_backdrops()
        self.fp_src, self.fp_tgt = augment.footprint(self.src_pts, self.T_src_rest), augment.footprint(self.tgt_pts, self.T_tgt_rest)

    def _robot_detail(self) -> str:
        """The robot asset's level of detail: "auto" picks from the pixel size of the first camera at its
        look-at distance (the robot works around there)."""
        from video2robo.robot.gaussian_robot import detail_for_pixel_size

        if self.render.robot_detail != "auto":
            return self.render.robot_detail
        return detail_for_pixel_size(self._pixel_size())

    def _pixel_size(self) -> float:
        """Metres per pixel of the first camera at its look-at distance (where the robot works)."""
        cam = self.spec.cameras[0]
        dist = float(np.linalg.norm(np.subtract(cam.eye, cam.target)))
        return 2.0 * dist * np.tan(np.radians(cam.fov_deg) / 2.0) / max(self.render.width, self.render.height)

    def _load_backdrops(self) -> list[Parts]:
        a = self.spec.augment
        if a.background != "gaussians":
            return []
        from video2robo.gaussians import load_ply

        folder = Path(a.backdrop_dir)
        files = sorted(folder.glob("*.ply")) if folder.is_dir() else []
        if not files:
            raise UserError(f"augment.background is 'gaussians' but {a.backdrop_dir or '(empty backdrop_dir)'} holds no .ply backdrops")
        return [Parts.from_set(load_ply(f), LABELS["background"]) for f in files]

    # --- kinematics ---------------------------------------------------------------------------------
    def _orientations(self, g: grasp_mod.Grasp, T_world_source: np.ndarray) -> list[grasp_mod.Grasp]:
        """A grasp and its 180° twin (same contacts, hand turned about the approach), the one whose hand
        orientation is closer to the home pose first. Both are tried: which one keeps the wrist inside
        its limits through the task (e.g. a pour's roll) is decided by the planner, not guessed."""
        def angle(cand):
            R = (T_world_source @ cand.T_obj_grip)[:3, :3]
            return np.arccos(np.clip((np.trace(R.T @ self.T_grip_home[:3, :3]) - 1) / 2, -1, 1))

        return sorted((g, g.flipped()), key=angle)

    def _candidates(self, T_s0: np.ndarray, T_t: np.ndarray) -> list[grasp_mod.Grasp]:
        """Grasps to try for a layout, in order: ranked, diverse, each with its hand flip."""
        ranked = grasp_mod.rank_grasps(self.grasps, self.src_model, T_s0, self.spec.grasp, (T_t @ self.T_rel)[:, :3, :3])
        return [g for g0 in grasp_mod.diverse(ranked, self.spec.grasp.max_candidates) for g in self._orientations(g0, T_s0)]

    def plan_attempt(self, rng: np.random.Generator):
        """((layout, grasp, plan, q), None, fails) for a valid sample, or (None, reason, fails).

        `fails` counts every rejected grasp candidate as "reason@phase" (the phase where it failed).
        """
        ws, aug = self.spec.workspace, self.spec.augment
        layout = augment.sample_layout(ws, rng, self.T_src_rest, self.T_tgt_rest, self.fp_src, self.fp_tgt, aug.rearrange)
        if layout is None:
            return None, "placement", Counter({"placement@layout": 1})
        T_s0, T_t = layout
        cands = self._candidates(T_s0, T_t)
        if not cands:
            return None, "no_grasp", Counter({"no_grasp@grasp": 1})
        fails = Counter()
        hover_z = HOVER_CLEARANCE + max(float((self.tgt_pts @ T_t[:3, :3].T)[:, 2].max() + T_t[2, 3]),
                                        float((self.src_pts @ T_s0[:3, :3].T)[:, 2].max() + T_s0[2, 3]))
        limits = self.spec.checks.velocity_scale * PANDA_VELOCITY_LIMITS
        for g in cands:
            found = self._try_grasp(g, T_s0, T_t, hover_z, limits, rng)
            if isinstance(found, str):
                fails[found] += 1
                continue
            plan, q = found
            return (T_s0, T_t, g, plan, q), None, fails
        return None, fails.most_common(1)[0][0].split("@")[0], fails

    def _try_grasp(self, g, T_s0, T_t, hover_z, limits, rng) -> tuple | str:
        """(plan, q) when grasp g gives a valid episode for this layout, else "reason@phase"."""
        tm = self.spec.timing

        def build(stretch):
            return plan_episode(self.spec, g, T_s0, T_t, self.T_rel, self.T_target_release,
                                self.T_start_release, self.demo.info.fps, stretch, hover_z)

        sol = solve_episode(build, self.ik, self.track, self.q_home, self.T_world_base, tm.control_hz, limits,
                            steps_at(tm.transit_s, tm.control_hz), rng, rise_z=hover_z)
        if isinstance(sol, Failure):
            return f"{sol.reason}@{sol.phase}"
        plan, q = sol.plan, sol.q
        reason, step = check_trajectory_at(self.checks, q, plan.width, plan.T_world_source, T_t, plan.T_world_grip)
        if reason is not None:
            return f"{reason}@{PHASES[plan.phase[step]]}"
        return plan, q

    # --- rendering ----------------------------------------------------------------------------------
    def _appearance(self, rng, steps: int):
        a = self.spec.augment
        light = augment.sample_lighting(a, rng)
        static = [table_parts(augment.sample_texture(rng, a.table_texture, self.user_textures))]
        if a.background == "plane":
            static.append(wall_parts(augment.sample_texture(rng, a.table_texture, [], default=(0.8, 0.8, 0.78))))
        elif a.background == "gaussians":
            static.append(self.backdrops[int(rng.integers(len(self.backdrops)))])
        static.extend(self._distractors(rng, a.distractors))
        cams = augment.sample_cameras(self.spec.cameras, a, rng, self.render.width, self.render.height, steps)
        bg = rng.uniform(0.2, 0.9, 3) if a.background != "none" and a.lighting else np.full(3, 0.5)
        return light, static, cams, bg

    def _distractors(self, rng, count: int) -> list[Parts]:
        """Small coloured boxes on the table away from the workspace objects (visual only: placed beyond
        the robot's side of the table, outside the arm's path, at y beyond the source range)."""
        from video2robo.gaussians import mesh_to_gaussians
        import trimesh

        out = []
        for k in range(count):
            size = rng.uniform(0.03, 0.06, 3)
            box = trimesh.creation.box(extents=size)
            box.visual.vertex_colors = (np.r_[rng.uniform(0.1, 0.9, 3), 1.0] * 255).astype(np.uint8)
            g = mesh_to_gaussians(box, num=600, seed=k)
            side = 1.0 if rng.uniform() < 0.5 else -1.0
            T = augment.place(np.eye(4), rng.uniform(0.1, 0.35), side * rng.uniform(0.36, 0.5), rng.uniform(-np.pi, np.pi))
            T[2, 3] = size[2] / 2
            out.append(Parts.from_set(g, LABELS["distractor"]).transformed(T))
        return out

    def _wrist_camera(self, T_world_grip: np.ndarray):
        from video2robo.geometry import PinholeCamera, look_at

        eye = (T_world_grip @ np.array([0.0, 0.07, -0.11, 1.0]))[:3]
        target = (T_world_grip @ np.array([0.0, 0.0, 0.06, 1.0]))[:3]
        up = T_world_grip[:3, 0]
        return PinholeCamera.from_fov(75.0, self.render.width, self.render.height, look_at(eye, target, up))

    def render_episode(self, rng, q, width, T_world_source, T_world_target) -> dict[str, np.ndarray]:
        steps = len(q)
        light, static, cams, bg = self._appearance(rng, steps)
        static = Parts.concat(static + [self.tgt_parts.transformed(T_world_target)]).lit(light)
        layers = None
        if not self.spec.augment.camera_motion:  # fixed cameras: draw the static scene once per camera
            layers = [render_static(static, cams[c][0], masks=self.render.masks) for c in range(len(cams))]
        robot_rgb = light.apply(self.fast_robot.parts.rgb).astype(np.float32)
        src = self.src_parts.lit(light)
        rs = self.render
        names = [c.name for c in self.spec.cameras]
        out = {f"{n}_image": np.empty((steps, rs.height, rs.width, 3), np.uint8) for n in names}
        if rs.depth:
            out.update({f"{n}_depth": np.empty((steps, rs.height, rs.width), np.float32) for n in names})
        if rs.masks:
            out.update({f"{n}_mask": np.empty((steps, rs.height, rs.width), np.uint8) for n in names})
        if rs.wrist:
            out["robot0_eye_in_hand_image"] = np.empty((steps, rs.height, rs.width, 3), np.uint8)
        K = np.stack([[cams[c][t].K for t in range(steps)] for c in range(len(names))])
        T_cw = np.stack([[cams[c][t].T_cam_world for t in range(steps)] for c in range(len(names))])
        with torch.no_grad():
            for t in range(steps):
                moving = [self.fast_robot.pose(q[t], float(width[t]), robot_rgb), src.transformed(T_world_source[t])]
                scene = Parts.concat(moving if layers else [static] + moving)
                for c, n in enumerate(names):
                    rgb, depth, mask = render_parts(scene, cams[c][t], bg, masks=rs.masks, static=layers[c] if layers else None)
                    out[f"{n}_image"][t] = rgb
                    if rs.depth:
                        out[f"{n}_depth"][t] = depth
                    if rs.masks:
                        out[f"{n}_mask"][t] = mask
                if rs.wrist:  # the wrist camera moves: everything is drawn every frame
                    T_g = self.T_world_base @ self.kin.grasp_pose(q[t], float(width[t]))
                    full = Parts.concat([static] + moving) if layers else scene
                    out["robot0_eye_in_hand_image"][t] = render_parts(full, self._wrist_camera(T_g), bg, masks=False)[0]
        out["camera_K"], out["camera_T_cam_world"] = K, T_cw
        out.update(self._tracks(T_world_source, T_world_target, cams[0], out.get(f"{names[0]}_depth")))
        return out

    def _tracks(self, T_ws, T_wt, cams, depth) -> dict[str, np.ndarray]:
        """World 3D points of both objects' surfaces per step, their pixels in camera 0 and visibility."""
        src = np.einsum("tij,pj->tpi", T_ws[:, :3, :3], self.track_src) + T_ws[:, None, :3, 3]
        tgt = np.broadcast_to(self.track_tgt @ T_wt[:3, :3].T + T_wt[:3, 3], src.shape)
        pts = np.concatenate([src, tgt], axis=1)
        uv = np.empty(pts.shape[:2] + (2,), np.float32)
        vis = np.zeros(pts.shape[:2], bool)
        for t, cam in enumerate(cams):
            p, z = cam.project(pts[t])
            uv[t] = p
            if depth is not None:
                i, j = np.floor(p[:, 1]).astype(int), np.floor(p[:, 0]).astype(int)
                inside = (i >= 0) & (i < cam.height) & (j >= 0) & (j < cam.width) & (z > 0)
                d = np.where(inside, depth[t][i.clip(0, cam.height - 1), j.clip(0, cam.width - 1)], 0.0)
                vis[t] = inside & (d > 0) & (z <= d + 0.01)
        return {"tracks_3d": pts.astype(np.float32), "tracks_2d": uv, "tracks_visible": vis}

    # --- the episode --------------------------------------------------------------------------------
    def generate(self, index: int) -> EpisodeResult:
        """Episode `index`: attempts until one passes every check (or `max_attempts` are rejected)."""
        from threadpoolctl import threadpool_limits

        # Planning solves thousands of 6x6/7x7 systems: BLAS worker threads only add wake-up latency
        # (measured 5x slower IK on this 2-core machine when other processes were busy).
        with threadpool_limits(1, user_api="blas"):
            return self._generate(index)

    def _generate(self, index: int) -> EpisodeResult:
        t0 = time.perf_counter()
        rejections, candidates = Counter(), Counter()
        for attempt in range(self.max_attempts):
            rng = np.random.default_rng([self.seed, int(index), attempt])
            found, reason, fails = self.plan_attempt(rng)
            candidates.update(fails)
            if found is None:
                rejections[reason] += 1
                continue
            T_s0, T_t, g, plan, q = found
            state = robot_state(self.kin, q, plan.width, self.T_world_base, self.spec.timing.control_hz)
            arrays = {
                **self.render_episode(rng, q, plan.width, plan.T_world_source, T_t),
                **{k: v for k, v in state.items()},
                **build_actions(q, plan.width, state["T_base_grip"]),
                "gripper_width": plan.width.astype(np.float32),
                "T_world_source": plan.T_world_source, "T_world_target": T_t, "T_world_grip_target": plan.T_world_grip,
                "T_world_base": self.T_world_base, "attached": plan.attached, "phase": plan.phase,
                "object": np.concatenate([pose_vector(plan.T_world_source), np.broadcast_to(pose_vector(T_t), (len(q), 7))], 1).astype(np.float32),
            }
            meta = {"index": int(index), "attempt": attempt, "seed": [self.seed, int(index), attempt], "grasp": g.label,
                    "grasp_width": g.width, "T_obj_grip": g.T_obj_grip.tolist(), "steps": len(q), "phases": list(PHASES),
                    "candidate_rejections": dict(candidates)}
            return EpisodeResult(index, arrays, meta, rejections, attempt + 1, time.perf_counter() - t0)
        return EpisodeResult(index, None, {"index": int(index), "candidate_rejections": dict(candidates)}, rejections,
                             self.max_attempts, time.perf_counter() - t0)
