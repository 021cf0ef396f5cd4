"""Replay a generated demo's joint actions on robosuite's Panda MuJoCo model and measure the grip-site error.

The dataset's `actions` are absolute joint targets for the next step (7) + a gripper command. Two modes:

- kinematic: set the joints of each step and run MuJoCo's kinematics (what a perfect position
  controller would give): checks the actions' alignment, units and the base transform;
- physics: step MuJoCo's dynamics at its own timestep, with a joint-space PD controller plus gravity
  and Coriolis compensation (`qfrc_bias`) driving robosuite's torque actuators towards targets
  interpolated linearly between control steps, as robosuite's joint-position controller does.
  Optionally renders an offscreen RGB frame per control step (the cost a simulator-based generator
  pays per step), for the speed comparison in `benchmarks/gen_speed.py`.

The grip site (`gripper0_grip_site`) is compared with the recorded eef positions (world frame).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KP = np.array([600.0, 600.0, 600.0, 600.0, 250.0, 150.0, 50.0])  # N·m/rad
KD = 2.0 * np.sqrt(KP)  # critically damped for unit inertia; scaled by the mass matrix below


@dataclass
class ReplayResult:
    """Grip-site positions (T, 3, world), the max/mean distance to the recorded eef (m), seconds taken."""

    site: np.ndarray
    max_error: float
    mean_error: float
    seconds: float
    frames: int = 0


def _model(T_world_base: np.ndarray):
    import mujoco

    from video2robo.robot.model import BASE_BODY, panda_spec
    from video2robo.robot.collision import _set_pose

    spec = panda_spec()
    _set_pose(spec.body(BASE_BODY), T_world_base)
    spec.worldbody.add_camera(name="replay_cam", pos=[1.2, 0.0, 0.8], xyaxes=[0, 1, 0, -0.5, 0, 0.8])
    m = spec.compile()
    return m, mujoco.MjData(m)


def replay(actions: np.ndarray, q0: np.ndarray, eef_pos: np.ndarray, T_world_base: np.ndarray, control_hz: float,
           physics: bool = True, render_size: int = 0) -> ReplayResult:
    """Replay `actions` (T, 8) from the start configuration `q0` (7,); compare with `eef_pos` (T, 3).

    Step t of the recording is the state before action t, so the site after applying action t is
    compared with eef_pos[t + 1].
    """
    import time

    import mujoco

    from video2robo.robot.kinematics import width_to_fingers
    from video2robo.robot.model import GRASP_SITE, MAX_GRIPPER_WIDTH, model_info

    m, d = _model(np.asarray(T_world_base, float))
    info = model_info(m)
    site = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_SITE, GRASP_SITE)
    arm_q, arm_v = np.asarray(info.arm_qpos), np.asarray(info.arm_dof)
    fq = np.asarray(info.finger_qpos)
    renderer = mujoco.Renderer(m, render_size, render_size) if render_size else None
    t0 = time.perf_counter()
    d.qpos[arm_q] = q0
    d.qpos[fq] = width_to_fingers(MAX_GRIPPER_WIDTH * (1 - actions[0, 7]) / 2)
    mujoco.mj_forward(m, d)
    out = [d.site_xpos[site].copy()]
    substeps = max(1, int(round(1.0 / (control_hz * m.opt.timestep))))
    q_prev = np.asarray(q0, float)
    frames = 0
    for a in actions[:-1]:
        q_goal, width = a[:7].astype(float), MAX_GRIPPER_WIDTH * (1 - float(a[7])) / 2
        if physics:
            for k in range(1, substeps + 1):
                q_ref = q_prev + (q_goal - q_prev) * k / substeps
                v_ref = (q_goal - q_prev) / (substeps * m.opt.timestep)
                M = np.zeros((m.nv, m.nv))
                mujoco.mj_fullM(m, M, d.qM)
                Ma = M[np.ix_(arm_v, arm_v)]
                acc = KP * (q_ref - d.qpos[arm_q]) + KD * (v_ref - d.qvel[arm_v])
                d.ctrl[:7] = Ma @ acc + d.qfrc_bias[arm_v]
                d.ctrl[7:9] = width_to_fingers(width) * np.array([1.0, 1.0])
                mujoco.mj_step(m, d)
        else:
            d.qpos[arm_q] = q_goal
            d.qpos[fq] = width_to_fingers(width)
            mujoco.mj_forward(m, d)
        if renderer is not None:
            renderer.update_scene(d, camera="replay_cam")
            renderer.render()
            frames += 1
        q_prev = q_goal
        out.append(d.site_xpos[site].copy())
    seconds = time.perf_counter() - t0
    if renderer is not None:
        renderer.close()
    site_xyz = np.array(out)
    err = np.linalg.norm(site_xyz - np.asarray(eef_pos)[: len(site_xyz)], axis=1)
    return ReplayResult(site_xyz, float(err.max()), float(err.mean()), seconds, frames)
