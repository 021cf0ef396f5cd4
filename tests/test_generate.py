"""Generate: grasp geometry, and one real small end-to-end run (stack, 2 demos at 64x64) read back
with the consumers' loaders (h5py layout as robomimic reads it, zarr as Diffusion Policy reads it)."""

import json

import numpy as np
import pytest

from video2robo.errors import UserError


def test_fingers_clear_rejects_points_in_the_finger_columns():
    from video2robo.generate.grasp import fingers_clear

    between = np.array([[0.0, 0.0, 0.0]])
    assert fingers_clear(between, 0.04)
    in_finger = np.array([[0.025, 0.0, -0.01]])
    assert not fingers_clear(in_finger, 0.04)
    in_palm = np.array([[0.0, 0.0, -0.07]])
    assert not fingers_clear(in_palm, 0.04)


@pytest.fixture(scope="module")
def stack_demo(tmp_path_factory):
    from video2robo.demo_from_gt import demo_from_gt
    from video2robo.synth import CaptureSettings, capture, write_capture

    root = tmp_path_factory.mktemp("gen")
    cap = capture(CaptureSettings(task="stack", seed=3, width=96, height=64, fps=15.0))
    write_capture(cap, root / "synth")
    return demo_from_gt(root / "synth", root / "demo", num_gaussians=2000)


def test_generate_end_to_end(stack_demo, tmp_path):
    import h5py
    import zarr

    from video2robo.generate.checks import check_trajectory
    from video2robo.generate.episode import EpisodeGenerator, RenderSettings
    from video2robo.generate.run import generate_dataset
    from video2robo.task_spec import load_task_spec

    out = tmp_path / "ds"
    stats = generate_dataset(stack_demo, out, num=2, width=64, height=64, progress=False, preview=1)
    assert stats["num_success"] == 2 and stats["num_attempts"] >= 2
    with h5py.File(out / "dataset.hdf5", "r") as f:
        demos = sorted(f["data"].keys())
        assert demos == ["demo_0", "demo_1"]
        total = 0
        for d in demos:
            g = f["data"][d]
            T = g.attrs["num_samples"]
            total += T
            assert g["actions"].shape == (T, 8)
            img = g["obs/agentview_image"]
            assert img.dtype == np.uint8 and img.shape == (T, 64, 64, 3)
            q = np.linalg.norm(g["obs/robot0_eef_quat"][:], axis=1)
            assert np.allclose(q, 1.0, atol=1e-4)
            assert g["next_obs/agentview_image"].shape == img.shape
        assert f["data"].attrs["total"] == total
        assert json.loads(f["data"].attrs["env_args"])["type"] == 1
        masks = [m.decode() for m in f["mask/train"][:]] + [m.decode() for m in f["mask/valid"][:]]
        assert sorted(masks) == demos
    root = zarr.open_group(str(out / "replay.zarr"), mode="r")
    ends = root["meta/episode_ends"][:]
    assert ends[-1] == total and np.all(np.diff(ends) > 0)
    for k in root["data"].array_keys():
        assert root["data"][k].shape[0] == total
    # Every written demo passes the validity checks again, re-checked from the episode file.
    gen = EpisodeGenerator(stack_demo, load_task_spec("stack"), render=RenderSettings(64, 64))
    for i in range(2):
        with np.load(out / "episodes" / f"ep_{i:06d}.npz") as z:
            reason = check_trajectory(gen.checks, z["joint_pos"].astype(float), z["gripper_width"], z["T_world_source"],
                                      z["T_world_target"], z["T_world_grip_target"])
            assert reason is None
            # the held object follows the gripper with its full relative pose
            att = z["attached"]
            T_og = np.linalg.inv(z["T_world_source"][att]) @ z["T_world_grip_target"][att]
            assert np.allclose(T_og, T_og[0], atol=1e-6)
    # robomimic's own loader reads the file (installed in CI with `pip install --no-deps robomimic==0.3.0`).
    ObsUtils = pytest.importorskip("robomimic.utils.obs_utils")
    from robomimic.utils.dataset import SequenceDataset

    keys = ["robot0_joint_pos", "robot0_eef_pos", "agentview_image"]
    ObsUtils.initialize_obs_utils_with_obs_specs({"obs": {"low_dim": keys[:2], "rgb": keys[2:]}})
    ds = SequenceDataset(hdf5_path=str(out / "dataset.hdf5"), obs_keys=keys, dataset_keys=["actions"], seq_length=4,
                         load_next_obs=True)
    assert len(ds) == total and ds[0]["actions"].shape == (4, 8)
    # Resume: nothing left to do, same files, same stats of success.
    again = generate_dataset(stack_demo, out, num=2, width=64, height=64, progress=False, preview=0)
    assert again["num_success"] == 2


def test_missing_demo_folder_is_a_user_error(tmp_path):
    from video2robo.generate.run import generate_dataset

    with pytest.raises(UserError, match="does not exist"):
        generate_dataset(tmp_path / "nope", tmp_path / "out", num=1, progress=False)


def test_demo_json_of_version_1_still_loads_and_a_newer_one_is_refused():
    """Version 2 added each object's model_source; a version-1 demo.json (without it) loads as before,
    and one newer than this code is refused with a one-line error."""
    import json

    from video2robo.demo_folder import VERSION, DemoInfo, DemoObject

    info = DemoInfo(task="place", fps=10.0, width=4, height=3, K=np.eye(3).tolist(),
                    objects=[DemoObject("can", "source", "objects/can.ply", 1.0, "known size", "trellis")], frame_indices=[0])
    assert DemoInfo.from_json(info.to_json()).objects[0].model_source == "trellis"
    old = json.loads(info.to_json())
    old["version"] = 1
    del old["objects"][0]["model_source"]
    assert DemoInfo.from_json(json.dumps(old)).objects[0].model_source == ""
    with pytest.raises(UserError, match="newer than this video2robo"):
        DemoInfo.from_json(json.dumps({**old, "version": VERSION + 1}))


def test_joint_transit_and_velocity_ratio_respect_limits():
    from video2robo.generate.trajectory import joint_transit, velocity_ratio

    limits = np.full(7, 1.0)
    q0, q1 = np.zeros(7), np.r_[2.0, np.zeros(6)]
    q = joint_transit(q0, q1, nominal_steps=3, hz=10.0, limits=limits)
    assert np.allclose(q[0], q0) and len(q) > 3  # stretched beyond the nominal 3 steps
    assert velocity_ratio(np.vstack([q, q1]), 10.0, limits).max() <= 1.0
    # a jump is reported as a ratio above 1
    assert velocity_ratio(np.vstack([q0, q1]), 10.0, limits)[1] == pytest.approx(20.0)


def test_polygon_gap():
    from video2robo.generate.augment import polygon_gap

    sq = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], float)
    assert polygon_gap(sq, sq + [2, 0]) == pytest.approx(1.0)
    assert polygon_gap(sq, sq + [0.5, 0.5]) == 0.0
    assert polygon_gap(sq, sq + [2, 2]) == pytest.approx(np.sqrt(2))


def test_replay_on_mujoco_panda_matches_recorded_eef(stack_demo, tmp_path):
    """A written demo's joint actions, replayed on robosuite's Panda model, put the grip site on the
    recorded eef trajectory: exactly when set kinematically, within 1 cm under physics (PD control)."""
    import h5py

    from video2robo.generate.replay import replay
    from video2robo.generate.run import generate_dataset

    out = tmp_path / "ds"
    generate_dataset(stack_demo, out, num=1, width=32, height=32, progress=False, preview=0, depth=False, masks=False,
                     writers=("robomimic_hdf5",))
    with h5py.File(out / "dataset.hdf5", "r") as f:
        g = f["data/demo_0"]
        actions, q, eef = g["actions"][:], g["obs/robot0_joint_pos"][:], g["obs/robot0_eef_pos"][:]
    with np.load(out / "episodes" / "ep_000000.npz") as z:
        T_world_base = z["T_world_base"]
    kin = replay(actions, q[0], eef, T_world_base, 10.0, physics=False)
    assert kin.max_error < 1e-4
    phys = replay(actions, q[0], eef, T_world_base, 10.0, physics=True)
    assert phys.max_error <= 0.01, f"physics replay deviates {phys.max_error * 1000:.1f} mm"
    # the check can fail: a shifted base moves the site off the recording
    shifted = T_world_base.copy()
    shifted[0, 3] += 0.05
    assert replay(actions, q[0], eef, shifted, 10.0, physics=False).max_error > 0.04


def test_unreachable_workspace_is_one_line_exit_2(stack_demo, tmp_path, capsys):
    import yaml

    from video2robo.cli import main
    from video2robo.task_spec import TASKS_DIR

    spec = yaml.safe_load((TASKS_DIR / "stack.yaml").read_text())
    spec["workspace"].update({"source_x": [1.5, 1.6], "target_x": [1.2, 1.3]})  # beyond the Panda's reach
    task = tmp_path / "far.yaml"
    task.write_text(yaml.safe_dump(spec))
    out = tmp_path / "ds"
    code = main(["generate", str(stack_demo), "--out", str(out), "--num", "2", "--task", str(task), "--max-attempts", "2",
                 "--width", "32", "--height", "32"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err and "zero accepted samples" in err[-1] and "ik_failure" in err[-1]  # one line (after progress bars)
    stats = json.loads((out / "stats.json").read_text())
    assert stats["num_success"] == 0 and stats["rejections"]["ik_failure"] == 2


def _tilted(T, angle, axis=0):
    from video2robo.geometry import axis_angle_to_rotmat

    aa = np.zeros(3)
    aa[axis] = angle
    out = T.copy()
    out[:3, :3] = axis_angle_to_rotmat(aa) @ T[:3, :3]
    return out


def test_rest_pose_puts_the_lowest_point_on_the_table():
    from video2robo.generate.episode import _rest_pose
    from video2robo.geometry import pose_from_xyz_yaw

    pts = np.random.default_rng(0).uniform(-0.04, 0.04, (500, 3))
    for z in (-0.03, 0.0, 0.02):  # sunk, touching, floating
        T = _tilted(pose_from_xyz_yaw(0.1, -0.2, z, 0.7), 0.05)
        R = _rest_pose(T, pts)
        assert np.allclose(R[:3, :3], T[:3, :3]) and np.allclose(R[:2, 3], T[:2, 3])
        assert abs((pts @ R[:3, :3].T + R[:3, 3])[:, 2].min()) < 1e-12


def test_put_back_is_a_table_plane_move_from_the_rest_pose():
    """The demo's release pose sinks 3 cm and tilts 5 degrees (parse noise): the put-back keeps the
    demo's x, y and heading change and nothing else, so a resting object lands resting again."""
    from video2robo.generate.episode import _planar_move, _rest_pose
    from video2robo.geometry import pose_from_xyz_yaw

    pts = np.random.default_rng(1).uniform(-0.04, 0.04, (300, 3))
    T_grasp = pose_from_xyz_yaw(0.1, -0.2, 0.0, 0.3)
    T_release = _tilted(pose_from_xyz_yaw(0.25, 0.05, -0.03, 1.1), np.radians(5), axis=1)
    move = _planar_move(T_grasp, T_release)
    exact = pose_from_xyz_yaw(0.25, 0.05, 0.0, 1.1)
    assert np.allclose(T_grasp @ _planar_move(T_grasp, exact), exact)  # a true table move is kept exactly
    assert np.allclose((T_grasp @ move)[:3, 3], [0.25, 0.05, 0.0], atol=1e-9)
    # from a rearranged rest pose (turned and shifted on the table) the object still lands on the table
    start = pose_from_xyz_yaw(-0.05, 0.1, 0.0, -0.6) @ _rest_pose(T_grasp, pts)
    end = start @ move
    assert np.isclose(end[2, 2], start[2, 2]) and abs((pts @ end[:3, :3].T + end[:3, 3])[:, 2].min()) < 1e-9
