"""The weight-free single-view model (reconstruct.single_view): lifted from one view, it reproduces the
mask from that view, and its frame's z is the table's up when one is given."""

import numpy as np

from video2robo.reconstruct import single_view_model
from video2robo.render import render

W, H = 160, 120
K = np.array([[150.0, 0, W / 2], [0, 150.0, H / 2], [0, 0, 1]])


def _view():
    yy, xx = np.mgrid[:H, :W]
    mask = (xx - 80) ** 2 / 30**2 + (yy - 60) ** 2 / 20**2 <= 1  # an ellipse
    rgb = np.zeros((H, W, 3), np.float32)
    rgb[mask] = (0.8, 0.2, 0.2)
    return rgb, mask


def test_lifted_model_is_the_same_shape_whatever_its_up_and_z_is_that_up():
    from video2robo.geometry.camera import PinholeCamera

    rgb, mask = _view()
    g0, T0, z0 = single_view_model(rgb, mask, K, 0.1)
    assert np.allclose(T0[:3, 0], [1, 0, 0])  # no up known: x is image right
    up = np.array([0.05, -0.7, -0.71])
    up /= np.linalg.norm(up)
    g1, T1, _ = single_view_model(rgb, mask, K, 0.1, up=up)
    assert np.allclose(T1[:3, 2], up) and np.allclose(T1[:3, :3].T @ T1[:3, :3], np.eye(3), atol=1e-9)
    assert T1[0, 0] > 0.99  # x is still about image right
    # the same Gaussians in the camera's frame, only the object frame differs
    p0 = g0.means.numpy() @ T0[:3, :3].T + T0[:3, 3]
    p1 = g1.means.numpy() @ T1[:3, :3].T + T1[:3, 3]
    assert np.allclose(p0, p1, atol=1e-5)
    cam = PinholeCamera(K, np.eye(4), W, H)
    alpha = render(g1.transform(np.asarray(T1, np.float32)), cam).alpha[0].numpy() > 0.5
    assert (alpha & mask).sum() / (alpha | mask).sum() > 0.85  # from its own view it covers its mask


def test_a_thin_objects_model_is_as_deep_as_it_is_wide_not_as_long():
    """A stick seen side-on (a 100 × 8 px bar) lifts to a rod about 8 px deep: inflated by its length, it
    was a fin 12 times deeper than wide, and fat from every view but the first."""
    from video2robo.geometry.camera import PinholeCamera

    yy, xx = np.mgrid[:H, :W]
    mask = (abs(xx - 80) < 50) & (abs(yy - 60) < 4)
    rgb = np.zeros((H, W, 3), np.float32)
    rgb[mask] = (0.2, 0.6, 0.6)
    extent = 0.3
    g, T, z0 = single_view_model(rgb, mask, K, extent)
    m_per_px = z0 / K[0, 0]
    width = 8 * m_per_px
    p = g.means.numpy() @ T[:3, :3].T + T[:3, 3]
    assert np.ptp(p[:, 2]) < 1.5 * width  # depth span in the camera frame: about its width
    assert np.ptp(p[:, 0]) > 0.9 * extent  # and still as long as the scale hint says
    assert g.scales.numpy()[:, :2].max() < 1.5 * m_per_px  # splats about a pixel: no halo wider than it
    cam = PinholeCamera(K, np.eye(4), W, H)
    alpha = render(g.transform(np.asarray(T, np.float32)), cam).alpha[0].numpy() > 0.5
    assert (alpha & mask).sum() == mask.sum()  # covers its mask...
    assert alpha[:, 40:120].sum(0).max() <= mask[:, 80].sum() + 2  # ...at most a pixel wider each side
