"""The posed Gaussian Franka: FK posing, base pose, and agreement with MuJoCo's render of the Panda."""

import numpy as np
import pytest
import torch
from PIL import Image

from video2robo.cli import main
from video2robo.robot.gaussian_robot import GaussianRobot, robot_gaussians
from video2robo.robot.model import home_configuration
from video2robo.robot.mujoco_view import MujocoRobotRenderer
from video2robo.robot.render_check import compare_with_mujoco, framing_camera


@pytest.fixture(scope="module")
def robot():
    return GaussianRobot()


def test_links_follow_forward_kinematics(robot):
    q = home_configuration()
    posed = robot.pose(q, 0.06)
    poses = robot.kin.link_poses(q, 0.06)
    for i, name in enumerate(robot.link_names):
        local = robot.links[name].means.double()
        expected = local @ torch.from_numpy(poses[name][:3, :3]).T + torch.from_numpy(poses[name][:3, 3])
        got = posed.means[robot.link_index == i].double()
        torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)


def test_base_pose_and_gripper_width(robot):
    q = home_configuration()
    T = np.eye(4)
    c, s = np.cos(0.7), np.sin(0.7)
    T[:3, :3] = [[c, -s, 0], [s, c, 0], [0, 0, 1]]
    T[:3, 3] = [0.3, -0.2, 0.8]
    a, b = robot.pose(q, 0.02), robot_gaussians(q, 0.02, T_world_base=T)
    expected = a.means.double() @ torch.from_numpy(T[:3, :3]).T + torch.from_numpy(T[:3, 3])
    torch.testing.assert_close(b.means.double(), expected, atol=1e-5, rtol=0)
    left = robot.link_names.index("left_finger")
    right = robot.link_names.index("right_finger")
    sel_l, sel_r = robot.link_index == left, robot.link_index == right
    gap = lambda g: (g.means[sel_l].mean(0) - g.means[sel_r].mean(0)).norm().item()  # noqa: E731
    assert gap(robot.pose(q, 0.08)) - gap(robot.pose(q, 0.0)) == pytest.approx(0.08, abs=1e-5)


def test_silhouette_and_depth_match_mujoco(robot):
    """20 random valid configurations × 2 cameras at 256 px (robot framed in the image)."""
    rng = np.random.default_rng(7)
    mj = MujocoRobotRenderer(256, 256)
    ious, depths = [], []
    try:
        for _ in range(20):
            q = robot.kin.random_configuration(rng)
            w = float(rng.uniform(0.0, 0.08))
            means = robot.pose(q, w).means.numpy()
            for view in ((1.0, 0.7, 0.5), (-0.4, -1.0, 0.8)):
                r = compare_with_mujoco(robot, mj, framing_camera(means, view, 256, 256), q, w)
                ious.append(r.iou)
                depths.append(r.depth_median_abs)
    finally:
        mj.close()
    ious, depths = np.array(ious), np.array(depths)
    print(f"IoU median {np.median(ious):.3f} min {ious.min():.3f}; depth |diff| median {np.median(depths) * 1000:.2f} mm max {depths.max() * 1000:.2f} mm")
    assert np.median(ious) >= 0.9
    assert ious.min() >= 0.85
    assert np.all(depths <= 0.01)


def test_render_robot_command(tmp_path, capsys):
    out = tmp_path / "robot.png"
    assert main(["render-robot", "--out", str(out), "--width", "96", "--height", "80"]) == 0
    img = np.asarray(Image.open(out))
    assert img.shape == (80, 3 * 96, 3)
    gauss, mujoco_rgb, sil = img[:, :96], img[:, 96:192], img[:, 192:]
    assert gauss.max() > 200 and mujoco_rgb.max() > 100  # both show a robot
    assert (sil[..., 0] & sil[..., 1]).astype(bool).sum() > 200  # silhouettes overlap
    assert "silhouette IoU" in capsys.readouterr().out


def test_render_robot_command_rejects_bad_input(tmp_path, capsys):
    assert main(["render-robot", "--q", "0", "0", "0", "0", "0", "0", "0", "--out", str(tmp_path / "x.png")]) == 2
    assert "joint4" in capsys.readouterr().err
    assert main(["render-robot", "--gripper-width", "0.2", "--out", str(tmp_path / "x.png")]) == 2
    assert not (tmp_path / "x.png").exists()
