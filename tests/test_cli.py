"""The CLI as a user meets it: version, help, one-line errors with exit 2, rendering a PLY."""

import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from video2robo.cli import main
from video2robo.gaussians import GaussianSet, save_ply


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "video2robo", *args], capture_output=True, text=True, timeout=300)


def test_version(capsys):
    assert main(["--version"]) == 0
    assert "video2robo" in capsys.readouterr().out


def test_help_lists_commands(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "render" in out and "demo" in out


@pytest.mark.parametrize(
    "args, needle",
    [
        (["render", "--width", "abc"], "--width"),
        (["render", "--no-such-flag"], "Unrecognized"),
        (["no-such-command"], "Unrecognized"),
        (["render", "--ply", "/definitely/missing.ply"], "not found"),
        (["render", "--fov", "500"], "--fov"),
    ],
)
def test_bad_input_is_one_line_exit_2(args, needle):
    r = run_cli(*args)
    assert r.returncode == 2, r.stderr
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("video2robo: error:") and needle in lines[0]
    assert "Traceback" not in r.stderr


def test_corrupt_ply_is_one_line_exit_2(tmp_path):
    bad = tmp_path / "bad.ply"
    bad.write_bytes(b"ply\nformat binary_little_endian 1.0\nelement vertex 10\nend_header\n\x00\x01")
    r = run_cli("render", "--ply", str(bad), "--out", str(tmp_path / "x.png"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_render_writes_image_of_a_ply_scene(tmp_path):
    g = torch.Generator().manual_seed(0)
    n = 400
    gs = GaussianSet.create(
        torch.randn(n, 3, generator=g) * 0.05,
        scales=torch.full((n, 3), 0.01),
        opacities=torch.full((n,), 0.9),
        rgb=torch.tensor([[0.9, 0.1, 0.1]]).expand(n, 3),
    )
    ply = save_ply(gs, tmp_path / "scene.ply")
    out = tmp_path / "img.png"
    assert main(["render", "--ply", str(ply), "--out", str(out), "--width", "64", "--height", "48"]) == 0
    rgb = np.asarray(Image.open(out))
    assert rgb.shape == (48, 64, 3)
    alpha = np.asarray(Image.open(tmp_path / "img_alpha.png"))
    depth = np.asarray(Image.open(tmp_path / "img_depth.png"))
    covered = alpha > 200
    assert covered.sum() > 50, "the blob should cover the image centre"
    assert (rgb[covered, 0] > 150).all() and (rgb[covered, 1] < 90).all(), "red blob on white background"
    assert (rgb[alpha == 0] == 255).all()
    assert (depth[covered] > 0).all() and (depth[alpha == 0] == 0).all()
