"""Synth output folder: files, gt.npz/gt.json contents, CLI `synth` and `eval-poses` end to end."""

import json

import numpy as np
import pytest

from video2robo.cli import main
from video2robo.synth import read_gt


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth") / "stack_video"
    rc = main(["synth", "--task", "stack", "--seed", "1", "--out", str(out), "--width", "128", "--height", "72",
               "--speed", "3", "--handheld", "--hand", "--blur", "--noise", "--crf", "23"])
    assert rc == 0
    return out


def test_folder_layout_and_ground_truth(out_dir):
    summary, gt = read_gt(out_dir)
    n = summary["n_frames"]
    assert {p.name for p in out_dir.iterdir()} == {"video.mp4", "gt.npz", "gt.json", "meshes", "contact_sheet.png"}
    assert gt["K"].shape == (3, 3) and np.allclose(gt["K"], summary["K"])
    assert gt["masks"].shape == (n, 72, 128) and gt["masks"].dtype == np.uint8
    assert gt["depth"].shape == (n, 72, 128) and gt["depth"].dtype == np.float32
    assert gt["T_world_cam"].shape == (n, 4, 4)
    for obj in summary["objects"]:
        name = obj["name"]
        assert (out_dir / obj["mesh"]).is_file() and obj["diameter"] > 0
        # T_cam_obj is consistent with the world poses and the camera pose
        assert np.allclose(gt[f"T_cam_{name}"], np.linalg.inv(gt["T_world_cam"]) @ gt[f"T_world_{name}"], atol=1e-9)
    assert [o["role"] for o in summary["objects"]] == ["source", "target"]
    assert len(summary["objects"][0]["symmetries_discrete"]) == 24  # a cube
    assert int(gt["grasp_frame"]) == summary["grasp_frame"] < summary["release_frame"]
    t0, t1 = summary["task_frames"]
    assert summary["grasp_frame"] <= t0 <= t1 <= summary["release_frame"]
    assert (gt["masks"] == 255).any(), "hand occluder rendered"
    json.loads((out_dir / "gt.json").read_text())  # plain JSON


def test_video_matches_ground_truth_frame_count(out_dir):
    import imageio.v2 as imageio

    summary, _ = read_gt(out_dir)
    frames = imageio.mimread(out_dir / "video.mp4", memtest=False)
    assert len(frames) == summary["n_frames"] and frames[0].shape == (72, 128, 3)


def test_existing_output_needs_overwrite(out_dir, capsys):
    assert main(["synth", "--task", "stack", "--out", str(out_dir)]) == 2
    assert "--overwrite" in capsys.readouterr().err


def test_bad_input_is_one_line_error(tmp_path, capsys):
    assert main(["synth", "--task", "stack", "--out", str(tmp_path / "x"), "--width", "127"]) == 2
    err = capsys.readouterr().err.strip()
    assert "127" in err and "\n" not in err
    assert main(["eval-poses", str(tmp_path), str(tmp_path)]) == 2


def test_eval_poses_perfect_and_perturbed(out_dir, tmp_path, capsys):
    _, gt = read_gt(out_dir)
    names = list(gt["object_names"])
    perfect = tmp_path / "perfect"
    perfect.mkdir()
    np.savez(perfect / "poses.npz", **{f"T_cam_{n}": gt[f"T_cam_{n}"] for n in names})
    assert main(["eval-poses", str(perfect), str(out_dir), "--frame-step", "4", "--json-out", str(tmp_path / "p.json")]) == 0
    rows = json.loads((tmp_path / "p.json").read_text())
    assert all(r["AR"] == 1.0 and r["n"] > 0 for r in rows)
    assert "AR" in capsys.readouterr().out

    shifted = tmp_path / "shifted"
    shifted.mkdir()
    off = {}
    for n in names:
        T = gt[f"T_cam_{n}"].copy()
        T[:, 0, 3] += 0.02  # 2 cm sideways
        off[f"T_cam_{n}"] = T
    off[f"valid_{names[1]}"] = np.zeros(len(T), bool)  # no estimate for the target: all wrong
    np.savez(shifted / "poses.npz", **off)
    assert main(["eval-poses", str(shifted), str(out_dir), "--frame-step", "4", "--json-out", str(tmp_path / "s.json")]) == 0
    rows = {r["object"]: r for r in json.loads((tmp_path / "s.json").read_text())}
    src = rows[names[0]]
    assert 0.0 < src["AR"] < 1.0
    # MSSD: a 2 cm shift of a cube (diameter 7.79 cm) is correct only for θ = 0.30 … 0.50 (θ·d > 2 cm)
    assert src["AR_MSSD"] == pytest.approx(0.5, abs=1e-9)
    assert rows[names[1]]["AR"] == 0.0
