"""Task objects: meshes are well formed, textured, exported losslessly, and their symmetries are real."""

import numpy as np
import pytest
from scipy.spatial import cKDTree

from video2robo.errors import UserError
from video2robo.objects import OBJECTS, load_asset, make_object
from video2robo.objects.robosuite_objects import NAMES as ROBOSUITE_NAMES


@pytest.mark.parametrize("name", sorted(OBJECTS))
def test_object_is_a_textured_mesh_resting_on_z0(name):
    obj = make_object(name, 3)
    v, f, uv = obj.vertices, obj.faces, obj.mesh.uv
    assert v.ndim == 2 and v.shape[1] == 3 and len(v) >= 8
    assert f.min() >= 0 and f.max() < len(v)
    assert uv.shape == (len(v), 2) and np.isfinite(uv).all()
    if name not in ROBOSUITE_NAMES:  # robosuite's own UVs tile their textures beyond [0, 1]
        assert np.all((uv >= -1e-9) & (uv <= 1 + 1e-9))
    assert abs(v[:, 2].min()) < 1e-6, "object frame origin must be on the resting face"
    assert 0.03 < obj.diameter < 0.4, "everyday object sizes, metres"
    tex = obj.texture
    assert tex.dtype == np.uint8 and tex.ndim == 3 and tex.shape[2] == 3
    assert tex.reshape(-1, 3).std(axis=0).mean() > 8, "texture must have detail for point tracking"


@pytest.mark.parametrize("name", sorted(OBJECTS))
def test_discrete_symmetries_map_the_shape_onto_itself(name):
    obj = make_object(name, 0)
    tree = cKDTree(obj.vertices)
    for S in obj.symmetries_discrete:
        moved = obj.vertices @ S[:3, :3].T + S[:3, 3]
        assert tree.query(moved)[0].max() < 1e-6


def test_continuous_symmetry_keeps_distances_to_axis():
    obj = make_object("drumstick", 0)
    (sym,) = obj.symmetries_continuous
    axis, offset = np.asarray(sym["axis"], float), np.asarray(sym["offset"], float)
    p = obj.vertices - offset
    radial = p - np.outer(p @ axis, axis)
    # a stick lying on the table: its thickest section touches z = 0, so the axis is at that radius
    assert np.linalg.norm(radial, axis=1).max() == pytest.approx(offset[2], abs=1e-3)


def test_cup_has_no_symmetry_because_of_its_handle():
    cup = make_object("cup", 0)
    assert cup.symmetries_discrete == [] and cup.symmetries_continuous == []
    assert cup.vertices[:, 0].max() > cup.vertices[:, 1].max() + 0.02  # the handle sticks out along +x


def test_same_seed_same_object_other_seed_other_colours():
    a, b, c = make_object("bowl", 5), make_object("bowl", 5), make_object("bowl", 6)
    assert np.array_equal(a.texture, b.texture) and np.array_equal(a.vertices, c.vertices)
    assert not np.array_equal(a.texture, c.texture)


def test_cube_diameter_is_its_space_diagonal():
    assert make_object("cube_small").diameter == pytest.approx(0.045 * np.sqrt(3), rel=1e-9)


def test_export_round_trip(tmp_path):
    obj = make_object("cup", 1)
    files = obj.export(tmp_path)
    back = load_asset(tmp_path / files["obj"], info=obj.symmetry_info())
    assert np.allclose(back.vertices, obj.vertices, atol=1e-6)
    assert np.array_equal(back.faces, obj.faces)
    assert np.allclose(back.mesh.uv, obj.mesh.uv, atol=1e-6)
    assert np.array_equal(back.texture, obj.texture)
    assert (tmp_path / files["mtl"]).read_text().count("map_Kd") == 1


def test_unknown_object_is_a_user_error():
    with pytest.raises(UserError, match="unknown object"):
        make_object("teapot")
