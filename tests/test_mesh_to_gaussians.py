"""Mesh → Gaussians: counts, determinism, samples on the surface, disc orientation, colours, loading."""

import math

import numpy as np
import pytest
import torch
import trimesh
from PIL import Image

from video2robo.errors import UserError
from video2robo.gaussians import load_mesh, mesh_to_gaussians
from video2robo.gaussians.from_mesh import sample_surface_even, sample_texture
from video2robo.geometry import quat_to_rotmat

# 4×4 blocks of distinct colours; block (row r from the top, column c) has colour BLOCKS[r, c]
BLOCKS = np.random.default_rng(0).integers(0, 256, size=(4, 4, 3)).astype(np.uint8)
TEX = 256  # texture size, texels


def block_texture() -> Image.Image:
    return Image.fromarray(np.repeat(np.repeat(BLOCKS, TEX // 4, axis=0), TEX // 4, axis=1))


def textured_plane(size=0.2, image=None) -> trimesh.Trimesh:
    """Square in z=0 from (0,0) to (size,size), UV = xy/size, textured with the block image."""
    v = np.array([[0, 0, 0], [size, 0, 0], [size, size, 0], [0, size, 0]], dtype=np.float64)
    f = np.array([[0, 1, 2], [0, 2, 3]])
    visual = trimesh.visual.TextureVisuals(uv=v[:, :2] / size, image=block_texture() if image is None else image)
    return trimesh.Trimesh(v, f, visual=visual, process=False)


def expected_block_colour(xy, size):
    """Texture colour at plane points: v is up in UV, so image row = (1 - y/size)·4."""
    col = np.clip((xy[:, 0] / size * 4).astype(int), 0, 3)
    row = np.clip(((1 - xy[:, 1] / size) * 4).astype(int), 0, 3)
    return BLOCKS[row, col] / 255.0


def away_from_block_edges(xy, size, margin_texels=2.0):
    f = xy / size * TEX
    d = np.abs(f - np.round(f / (TEX / 4)) * (TEX / 4))
    return (d > margin_texels).all(axis=1)


def surface_distance(mesh: trimesh.Trimesh, points: np.ndarray) -> np.ndarray:
    """Distance (m) from points to the mesh surface.

    Queried in millimetres: trimesh's closest-point tolerances are absolute and misjudge
    millimetre-sized triangles expressed in metres (seen on the YCB mug: 1e-4 m errors).
    """
    mm = mesh.copy()
    mm.apply_scale(1000.0)
    return mm.nearest.on_surface(np.asarray(points, dtype=np.float64) * 1000.0)[1] / 1000.0


def test_exact_count_and_determinism():
    mesh = trimesh.creation.icosphere(subdivisions=2, radius=0.05)
    a = mesh_to_gaussians(mesh, num=1500, seed=3)
    b = mesh_to_gaussians(mesh, num=1500, seed=3)
    c = mesh_to_gaussians(mesh, num=1500, seed=4)
    assert len(a) == 1500
    for name in ("means", "quats", "log_scales", "opacity_logits", "sh"):
        assert torch.equal(getattr(a, name), getattr(b, name)), name
    assert not torch.equal(a.means, c.means)
    assert len(mesh_to_gaussians(mesh, num=7)) == 7


def test_spacing_sets_the_density():
    mesh = trimesh.creation.box(extents=(0.1, 0.1, 0.1))
    g = mesh_to_gaussians(mesh, spacing=0.005)
    expected = mesh.area / (math.sqrt(3) / 2 * 0.005**2)
    assert abs(len(g) - expected) <= 1
    # discs are sized from the spacing: tangent σ = overlap · spacing (0.5 by default), normal σ thin
    s = g.scales.numpy()
    assert np.allclose(np.median(s[:, 0]), 0.5 * 0.005, rtol=0.25)
    assert np.allclose(s[:, 0], s[:, 1]) and (s[:, 2] < 0.2 * s[:, 0]).all()
    with pytest.raises(UserError):
        mesh_to_gaussians(mesh, num=10, spacing=0.01)


def test_samples_are_even():
    """Poisson-disc elimination keeps neighbours apart, unlike plain random sampling."""
    mesh = trimesh.creation.box(extents=(0.1, 0.1, 0.1))
    from scipy.spatial import cKDTree

    even, _, _ = sample_surface_even(mesh, 3000, seed=0)
    plain = mesh_to_gaussians(mesh, num=3000, even=False).means.numpy()
    nominal = math.sqrt(mesh.area / 3000)
    d_even = cKDTree(even).query(even, k=2)[0][:, 1]
    d_plain = cKDTree(plain).query(plain, k=2)[0][:, 1]
    assert d_even.min() > 0.5 * nominal
    assert d_plain.min() < 0.1 * nominal


def test_means_on_surface_and_discs_along_faces():
    mesh = trimesh.creation.icosphere(subdivisions=2, radius=0.05)
    g = mesh_to_gaussians(mesh, num=2000)
    means = g.means.numpy().astype(np.float64)
    assert surface_distance(mesh, means).max() < 1e-5
    _, _, tri = mesh.nearest.on_surface(means)
    # the disc's thin axis (third rotation column) is the face normal
    normal_axis = quat_to_rotmat(g.quats.double()).numpy()[:, :, 2]
    cos = np.abs((normal_axis * mesh.face_normals[tri]).sum(1))
    assert cos.min() > 1 - 1e-5
    assert torch.argmin(g.scales, dim=1).eq(2).all()


def test_means_on_surface_of_real_mesh(shared_data):
    mesh = load_mesh(shared_data / "meshes" / "ycb_025_mug" / "textured.obj", scale=0.01)
    assert mesh.extents.max() < 0.2  # metres after the cm → m scale
    g = mesh_to_gaussians(mesh, num=3000)
    assert surface_distance(mesh, g.means.numpy()).max() < 1e-5


def test_colours_follow_the_texture():
    size = 0.2
    g = mesh_to_gaussians(textured_plane(size), num=4000)
    xy = g.means.numpy()[:, :2].astype(np.float64)
    ok = away_from_block_edges(xy, size)
    assert ok.sum() > 3000
    assert np.allclose(g.rgb.numpy()[ok], expected_block_colour(xy[ok], size), atol=1e-5)


def test_explicit_texture_path_and_bilinear_lookup(tmp_path):
    block_texture().save(tmp_path / "tex.png")
    size = 0.1
    grey = Image.new("RGB", (2, 2), (128, 128, 128))
    g = mesh_to_gaussians(textured_plane(size, image=grey), num=2000, texture=tmp_path / "tex.png")
    xy = g.means.numpy()[:, :2].astype(np.float64)
    ok = away_from_block_edges(xy, size)
    assert np.allclose(g.rgb.numpy()[ok], expected_block_colour(xy[ok], size), atol=1e-5)
    # halfway between two texel centres, bilinear lookup averages them
    img = np.zeros((1, 2, 3), np.uint8)
    img[0, 1] = 200
    mid = sample_texture(img, np.array([[0.5, 0.5], [0.25, 0.5]]))
    assert np.allclose(mid, [[100 / 255] * 3, [0.0] * 3])
    with pytest.raises(UserError, match="not found"):
        mesh_to_gaussians(textured_plane(size), num=10, texture=tmp_path / "missing.png")


def test_vertex_then_material_colours():
    mesh = trimesh.creation.box(extents=(0.1, 0.1, 0.1))
    mesh.visual.vertex_colors = np.where(mesh.vertices[:, :1] > 0, [255, 0, 0, 255], [0, 0, 255, 255]).astype(np.uint8)
    g = mesh_to_gaussians(mesh, num=2000)
    x, rgb = g.means.numpy()[:, 0], g.rgb.numpy()
    # vertex colours linear in x, interpolated barycentrically, stay linear in x on every face
    assert np.allclose(rgb[:, 0], (x + 0.05) / 0.1, atol=1e-5)
    assert np.allclose(rgb[:, 2], 1 - rgb[:, 0], atol=1e-5)
    assert np.allclose(rgb[:, 1], 0.0)
    assert (x > 0.0499).any() and (np.abs(x) < 0.04).any()
    plain = trimesh.creation.box(extents=(0.1, 0.1, 0.1))
    plain.visual = trimesh.visual.TextureVisuals(material=trimesh.visual.material.SimpleMaterial(diffuse=[51, 102, 204, 255]))
    assert np.allclose(mesh_to_gaussians(plain, num=100).rgb.numpy(), [0.2, 0.4, 0.8], atol=1e-5)


def test_gso_layout_finds_texture_png(shared_data):
    """GSO model.obj names a missing .mtl; texture.png beside it must still colour the Gaussians."""
    folder = shared_data / "meshes" / "gso_Cole_Hardware_Mug_Classic_Blue"
    mesh = load_mesh(folder / "model.obj")
    assert mesh.visual.material.image.size == Image.open(folder / "texture.png").size
    g = mesh_to_gaussians(mesh, num=2000)
    rgb = g.rgb.numpy()
    assert rgb.std(axis=0).max() > 0.05  # a real texture, not a flat placeholder
    assert rgb[:, 2].mean() > rgb[:, 0].mean()  # the mug is blue


def test_load_mesh_errors(tmp_path):
    with pytest.raises(UserError, match="not found"):
        load_mesh(tmp_path / "none.obj")
    (tmp_path / "bad.obj").write_text("this is not an obj\n")
    with pytest.raises(UserError):
        load_mesh(tmp_path / "bad.obj")
    with pytest.raises(UserError, match="UV"):
        mesh_to_gaussians(trimesh.creation.box(), num=10, texture=block_texture())


# --- against MuJoCo's rasteriser ---------------------------------------------------------------------
def mujoco_silhouette(mesh: trimesh.Trimesh, cam) -> np.ndarray:
    """Boolean (H, W) mask of `mesh` rendered by MuJoCo (segmentation) from our OpenCV-style camera.

    MuJoCo cameras look along −z with y up, so R_world_mjcam = R_world_cam · diag(1, −1, −1); square
    pixels and a centred principal point, so the vertical field of view pins the intrinsics.
    """
    import mujoco

    from video2robo.geometry import rotmat_to_quat

    spec = mujoco.MjSpec()
    m = spec.add_mesh()
    m.name = "object"
    m.uservert = mesh.vertices.astype(np.float32).ravel()
    m.userface = mesh.faces.astype(np.int32).ravel()
    m.inertia = mujoco.mjtMeshInertia.mjMESH_INERTIA_SHELL  # scans need not be watertight
    spec.worldbody.add_geom(type=mujoco.mjtGeom.mjGEOM_MESH, meshname="object")
    T_world_cam = cam.T_world_cam
    fovy = math.degrees(2 * math.atan(0.5 * cam.height / cam.K[1, 1]))
    spec.worldbody.add_camera(
        name="view", pos=T_world_cam[:3, 3], quat=rotmat_to_quat(T_world_cam[:3, :3] @ np.diag([1.0, -1.0, -1.0])), fovy=fovy
    )
    spec.visual.global_.offwidth, spec.visual.global_.offheight = cam.width, cam.height
    spec.visual.map.znear = 1e-4  # fraction of the model extent: keep the near plane out of the way
    model = spec.compile()
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    with mujoco.Renderer(model, cam.height, cam.width) as renderer:
        renderer.enable_segmentation_rendering()
        renderer.update_scene(data, camera="view")
        seg = renderer.render()
    return seg[..., 0] >= 0


@pytest.mark.parametrize(
    "name,file,scale",
    [("ycb_025_mug", "textured.obj", 0.01), ("dex_cube", "dex_cube.obj", 0.025)],
)
def test_silhouette_matches_mujoco(shared_data, name, file, scale):
    from video2robo.geometry import PinholeCamera
    from video2robo.render import render

    mesh = load_mesh(shared_data / "meshes" / name / file, scale=scale)
    g = mesh_to_gaussians(mesh, num=20_000)
    centre, radius = mesh.bounds.mean(axis=0), 0.5 * np.linalg.norm(mesh.extents)
    ious = []
    for direction in [(1.0, -0.6, 0.5), (-0.4, 1.0, -0.3)]:
        d = np.asarray(direction) / np.linalg.norm(direction)
        cam = PinholeCamera.looking_at(centre + 3.0 * radius * d, centre, 45.0, 128, 128)
        reference = mujoco_silhouette(mesh, cam)
        ours = render(g, cam).alpha[0].numpy() > 0.5
        assert reference.sum() > 1000  # the object fills a good part of the view
        ious.append((reference & ours).sum() / (reference | ours).sum())
        # no holes: every pixel MuJoCo covers is covered by the discs
        assert (reference & ~ours).sum() <= 0.002 * reference.sum()
    print(f"{name}: silhouette IoU vs MuJoCo {[round(float(v), 4) for v in ious]}")
    assert min(ious) >= 0.9


def test_load_mesh_concatenates_scenes_and_scales(tmp_path):
    scene = trimesh.Scene()
    scene.add_geometry(trimesh.creation.box(extents=(1.0, 1.0, 1.0)), node_name="a")
    scene.add_geometry(trimesh.creation.box(extents=(1.0, 1.0, 1.0)), node_name="b", transform=trimesh.transformations.translation_matrix([3.0, 0, 0]))
    scene.export(tmp_path / "two.glb")
    mesh = load_mesh(tmp_path / "two.glb", scale=0.01)
    assert isinstance(mesh, trimesh.Trimesh) and len(mesh.faces) == 24
    assert np.allclose(mesh.bounds, [[-0.005, -0.005, -0.005], [0.035, 0.005, 0.005]])


def test_pbr_base_colour_factor_multiplies_the_texture():
    size = 0.1
    mesh = textured_plane(size)
    mesh.visual.material = trimesh.visual.material.PBRMaterial(baseColorTexture=block_texture(), baseColorFactor=[1.0, 0.5, 1.0, 1.0])
    g = mesh_to_gaussians(mesh, num=1000)
    xy = g.means.numpy()[:, :2].astype(np.float64)
    ok = away_from_block_edges(xy, size)
    expected = expected_block_colour(xy[ok], size) * [1.0, 128 / 255, 1.0]  # trimesh stores the factor as uint8
    assert np.allclose(g.rgb.numpy()[ok], expected, atol=1e-5)
