"""BOP metrics: known offsets give the expected MSSD/MSPD/VSD values; symmetries are honoured."""

import numpy as np
import pytest

from video2robo.objects import make_object
from video2robo.pose import bop

K = np.array([[500.0, 0, 320], [0, 500.0, 180], [0, 0, 1]])


def _pose(R=np.eye(3), t=(0, 0, 0.6)):
    T = np.eye(4)
    T[:3, :3] = R
    T[:3, 3] = t
    return T


def _rz(a):
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])


def test_identical_poses_give_perfect_recall():
    obj = make_object("cup", 0)
    syms = bop.symmetry_transforms()
    T = _pose(_rz(0.3), (0.02, -0.01, 0.5))
    e1, e2 = bop.mssd(T, T, obj.vertices, syms), bop.mspd(T, T, K, obj.vertices, syms)
    assert e1 == 0 and e2 == 0
    depth = np.zeros((40, 40), np.float32)
    depth[10:30, 10:30] = 0.5
    r = {"MSSD": bop.recall_mssd(e1, obj.diameter), "MSPD": bop.recall_mspd(e2, 640),
         "VSD": bop.recall_vsd(bop.vsd(depth, depth, depth, K, obj.diameter))}
    assert bop.average_recall([r])["AR"] == 1.0


def test_translation_offset_gives_mssd_equal_to_offset_and_mspd_from_projection():
    pts = make_object("cube_small").vertices
    syms = bop.symmetry_transforms()  # identity only: evaluate as if asymmetric
    T_gt = _pose()
    T_est = _pose(t=(0.01, 0, 0.6))
    assert bop.mssd(T_est, T_gt, pts, syms) == pytest.approx(0.01, abs=1e-12)
    # a shift dx parallel to the image plane moves a point at depth z by f·dx/z pixels: largest at the nearest point
    z_near = 0.6 + pts[:, 2].min()
    assert bop.mspd(T_est, T_gt, K, pts, syms) == pytest.approx(500 * 0.01 / z_near, rel=1e-9)


def test_rotation_offset_gives_chord_length():
    pts = np.array([[0.05, 0, 0], [0, 0.02, 0], [0, 0, 0.01]])
    a = 0.2
    e = bop.mssd(_pose(_rz(a)), _pose(), pts, bop.symmetry_transforms())
    assert e == pytest.approx(2 * 0.05 * np.sin(a / 2), rel=1e-9)


def test_symmetric_object_rotated_about_its_axis_is_correct():
    bowl = make_object("bowl", 0)
    syms = bop.symmetry_transforms(bowl.symmetries_discrete, bowl.symmetries_continuous)
    T_gt, T_est = _pose(), _pose(_rz(1.234))
    e = bop.mssd(T_est, T_gt, bowl.vertices, syms)
    assert e < 0.01 * bowl.diameter  # only the discretisation of the continuous symmetry remains
    assert bop.recall_mssd(e, bowl.diameter) == 1.0
    assert bop.recall_mspd(bop.mspd(T_est, T_gt, K, bowl.vertices, syms), 640) == 1.0
    # without the symmetry the same estimate is wrong
    e_asym = bop.mssd(T_est, T_gt, bowl.vertices, bop.symmetry_transforms())
    assert e_asym > 0.5 * bowl.diameter * 0.5


def test_discrete_symmetry_of_cube_quarter_turn():
    cube = make_object("cube_small")
    syms = bop.symmetry_transforms(cube.symmetries_discrete)
    assert len(syms) == 24
    assert bop.mssd(_pose(_rz(np.pi / 2)), _pose(), cube.vertices, syms) < 1e-9


def test_continuous_symmetry_discretisation_count():
    S = bop.symmetry_transforms([], [{"axis": (0, 0, 1), "offset": (0, 0, 0)}])
    assert len(S) == int(np.ceil(np.pi / 0.01))
    assert np.allclose(S[:, :3, :3] @ S[:, :3, :3].swapaxes(1, 2), np.eye(3))


def test_vsd_shifted_silhouette_matches_hand_computation():
    gt = np.zeros((60, 80), np.float32)
    gt[25:35, 35:45] = 1.0  # 10 × 10 pixels near the image centre
    est = np.zeros_like(gt)
    est[25:35, 37:47] = 1.0  # shifted by 2 px
    Kc = np.array([[500.0, 0, 40], [0, 500.0, 30], [0, 0, 1]])
    e = bop.vsd(est, gt, gt.copy(), Kc, diameter=0.1)
    # union 10×12 = 120 px, intersection 10×8 = 80 px with equal depth: e = 40 / 120 for every τ
    assert np.allclose(e, 40 / 120)
    assert bop.recall_vsd(e) == pytest.approx(np.mean(40 / 120 < bop.VSD_THETAS))


def test_vsd_depth_offset_against_tau_and_occlusion():
    Kc = np.array([[500.0, 0, 40], [0, 500.0, 30], [0, 0, 1]])
    gt = np.zeros((60, 80), np.float32)
    gt[28:32, 38:42] = 1.0
    est = np.where(gt > 0, 1.03, 0).astype(np.float32)  # 3 cm behind: 0.3 diameters of a 10 cm object
    e = bop.vsd(est, gt, gt.copy(), Kc, diameter=0.1)
    assert np.array_equal(e, (bop.VSD_TAUS <= 0.3 + 1e-9).astype(float))
    assert bop.recall_vsd(e) == pytest.approx(4 * 10 / 100)
    # half of the object hidden by an occluder in front: those pixels are not judged, a perfect pose stays perfect
    test = gt.copy()
    test[28:30, 38:42] = 0.5
    assert np.all(bop.vsd(gt, gt, test, Kc, diameter=0.1) == 0)
    est_half = gt.copy()
    est_half[30:32] = 0  # estimate misses exactly the visible half
    assert np.allclose(bop.vsd(est_half, gt, test, Kc, diameter=0.1), 1.0)


def test_recall_thresholds():
    assert bop.recall_mssd(0.0, 0.1) == 1.0
    assert bop.recall_mssd(0.012, 0.1) == pytest.approx(0.8)  # correct for θ ≥ 0.15
    assert bop.recall_mspd(12.0, 640) == pytest.approx(0.8)  # correct for 15 … 50 px
    assert bop.recall_mspd(12.0, 1280) == pytest.approx(0.9)  # thresholds scale with the width
    assert bop.average_recall([])["n"] == 0
