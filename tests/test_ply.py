"""3DGS PLY I/O: bit-exact round trips for SH degrees 0–3, the 3DGS property layout, bad files."""

import numpy as np
import plyfile
import pytest
import torch

from video2robo.errors import UserError
from video2robo.gaussians import GaussianSet, load_ply, save_ply
from video2robo.gaussians.ply import property_names
from video2robo.gaussians.sh import num_coeffs

FIELDS = ("means", "quats", "log_scales", "opacity_logits", "sh")


def random_set(degree: int, n: int = 57, seed: int = 0) -> GaussianSet:
    g = torch.Generator().manual_seed(seed + degree)
    return GaussianSet(
        means=torch.randn(n, 3, generator=g),
        quats=torch.randn(n, 4, generator=g),
        log_scales=torch.randn(n, 3, generator=g) - 4,
        opacity_logits=torch.randn(n, generator=g),
        sh=torch.randn(n, num_coeffs(degree), 3, generator=g),
    )


def write_like_3dgs(path, g: GaussianSet, with_normals=True, extra=()):
    """A file written the way the original 3DGS `save_ply` writes it (plyfile, structured array)."""
    n = len(g)
    dc = g.sh[:, 0].numpy()
    rest = g.sh[:, 1:].transpose(1, 2).flatten(start_dim=1).numpy()  # (N, 3·(K-1)), channel-major
    normals = np.zeros((n, 3), np.float32)
    cols = [g.means.numpy()] + ([normals] if with_normals else []) + [dc, rest, g.opacity_logits.numpy()[:, None], g.log_scales.numpy(), g.quats.numpy()]
    names = ["x", "y", "z"] + (["nx", "ny", "nz"] if with_normals else []) + ["f_dc_0", "f_dc_1", "f_dc_2"]
    names += [f"f_rest_{i}" for i in range(rest.shape[1])] + ["opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"]
    names += list(extra)
    cols += [np.full((n, 1), 7.0, np.float32) for _ in extra]
    attributes = np.concatenate(cols, axis=1)
    elements = np.empty(n, dtype=[(name, "f4") for name in names])
    elements[:] = list(map(tuple, attributes))
    plyfile.PlyData([plyfile.PlyElement.describe(elements, "vertex")]).write(str(path))


@pytest.mark.parametrize("degree", [0, 1, 2, 3])
def test_save_load_gives_identical_tensors(tmp_path, degree):
    g = random_set(degree)
    save_ply(g, tmp_path / "a.ply")
    back = load_ply(tmp_path / "a.ply")
    assert back.sh_degree == degree
    for name in FIELDS:
        assert getattr(back, name).dtype == torch.float32
        assert torch.equal(getattr(back, name), getattr(g, name)), name


@pytest.mark.parametrize("degree", [0, 1, 2, 3])
def test_load_save_gives_identical_bytes(tmp_path, degree):
    write_like_3dgs(tmp_path / "ref.ply", random_set(degree, seed=5))
    save_ply(load_ply(tmp_path / "ref.ply"), tmp_path / "out.ply")
    assert (tmp_path / "out.ply").read_bytes() == (tmp_path / "ref.ply").read_bytes()


@pytest.mark.parametrize("degree", [0, 3])
def test_layout_matches_original_3dgs(tmp_path, degree):
    """f_rest is channel-major: index = channel·(K−1) + k; opacity/scale are the raw logit/log."""
    g = random_set(degree, n=4)
    save_ply(g, tmp_path / "a.ply")
    ply = plyfile.PlyData.read(str(tmp_path / "a.ply"))
    assert ply.header.splitlines()[1] == "format binary_little_endian 1.0"
    v = ply["vertex"].data
    assert list(v.dtype.names) == property_names(degree)
    assert all(v.dtype[name] == np.dtype("<f4") for name in v.dtype.names)
    k1 = num_coeffs(degree) - 1
    for channel in range(3):
        for k in range(k1):
            assert np.array_equal(v[f"f_rest_{channel * k1 + k}"], g.sh[:, k + 1, channel].numpy())
    assert np.array_equal(v["opacity"], g.opacity_logits.numpy())
    assert np.array_equal(v["scale_2"], g.log_scales[:, 2].numpy())
    assert np.array_equal(v["rot_0"], g.quats[:, 0].numpy())
    assert np.array_equal(v["nx"], np.zeros(4, np.float32))


def test_load_without_normals_and_with_extra_properties(tmp_path):
    g = random_set(2)
    write_like_3dgs(tmp_path / "x.ply", g, with_normals=False, extra=("semantic", "red"))
    back = load_ply(tmp_path / "x.ply")
    for name in FIELDS:
        assert torch.equal(getattr(back, name), getattr(g, name)), name


def test_load_ascii_and_double_precision(tmp_path):
    g = random_set(1, n=5)
    arr = np.empty(5, dtype=[(n, "f8") for n in property_names(1)])
    from video2robo.gaussians.ply import gaussians_to_array

    src = gaussians_to_array(g)
    for name in property_names(1):
        arr[name] = src[name]
    plyfile.PlyData([plyfile.PlyElement.describe(arr, "vertex")], text=True).write(str(tmp_path / "t.ply"))
    back = load_ply(tmp_path / "t.ply")
    for name in FIELDS:
        assert torch.allclose(getattr(back, name), getattr(g, name), atol=1e-6), name


def test_empty_set_round_trip(tmp_path):
    save_ply(GaussianSet.empty(sh_degree=1), tmp_path / "e.ply")
    back = load_ply(tmp_path / "e.ply")
    assert len(back) == 0 and back.sh_degree == 1


def test_save_is_atomic_and_overwrites(tmp_path):
    path = tmp_path / "sub" / "g.ply"
    save_ply(random_set(0), path)
    save_ply(random_set(1), path)
    assert load_ply(path).sh_degree == 1
    assert sorted(p.name for p in path.parent.iterdir()) == ["g.ply"]  # no temporary files left behind


def test_missing_file_raises_user_error(tmp_path):
    with pytest.raises(UserError, match="not found"):
        load_ply(tmp_path / "nope.ply")


@pytest.mark.parametrize("cut", [5, 200, -9])
def test_truncated_or_garbage_file_raises_user_error(tmp_path, cut):
    save_ply(random_set(3), tmp_path / "a.ply")
    data = (tmp_path / "a.ply").read_bytes()
    (tmp_path / "bad.ply").write_bytes(data[:cut])
    with pytest.raises(UserError) as info:
        load_ply(tmp_path / "bad.ply")
    assert "\n" not in str(info.value)


def test_not_a_ply_raises_user_error(tmp_path):
    (tmp_path / "x.ply").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(UserError, match="corrupt or not a PLY"):
        load_ply(tmp_path / "x.ply")


def test_ply_without_gaussian_properties_raises_user_error(tmp_path):
    pts = np.zeros(3, dtype=[("x", "f4"), ("y", "f4"), ("z", "f4"), ("red", "u1")])
    plyfile.PlyData([plyfile.PlyElement.describe(pts, "vertex")]).write(str(tmp_path / "cloud.ply"))
    with pytest.raises(UserError, match="missing vertex properties f_dc_0"):
        load_ply(tmp_path / "cloud.ply")


def test_wrong_number_of_sh_coefficients_raises_user_error(tmp_path):
    g = random_set(1)
    write_like_3dgs(tmp_path / "odd.ply", g, extra=("f_rest_9",))  # 10 f_rest: no SH degree has that
    with pytest.raises(UserError, match="f_rest"):
        load_ply(tmp_path / "odd.ply")
