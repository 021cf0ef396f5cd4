"""Pose fitting on a real YCB-Video RGB-D frame against its ground truth (skips without ../shared/data).

The data loader and metric helpers are checked against the ground truth itself (the mesh rendered at
the GT pose covers the label mask; the table plane tells which model axis is up), then one reduced
fit of the mug must land within 2 cm and 20 degrees of its true axis.
"""

import numpy as np
import pytest

from video2robo.perception import masks
from video2robo.pose import ycbv

SEQ = ("ycbv_0000_first10", "data", "0000")


@pytest.fixture
def frame1(shared_data):
    seq = shared_data.joinpath(*SEQ)
    if not seq.is_dir():
        pytest.skip(f"YCB-Video frames not found at {seq}")
    return ycbv.load_frame(seq, 1)


def test_gt_mesh_render_matches_label_and_table_gives_up_axis(frame1, shared_data):
    brick = ycbv.load_mesh_object(shared_data / "meshes", "061_foam_brick")
    T_gt = frame1.poses["061_foam_brick"]
    depth = ycbv.render_depth(brick, T_gt, frame1.K, 640, 480)
    assert masks.iou(depth > 0, frame1.mask("061_foam_brick")) > 0.95  # loader, K convention, units
    plane = ycbv.table_plane(frame1.depth, frame1.K, frame1.label > 0)
    assert abs(plane[0] @ T_gt[:3, 1]) > 0.98  # the brick stands on its end: model y is the table normal
    height = ycbv.object_height(frame1.depth, frame1.K, frame1.mask("061_foam_brick"), plane)
    axes = {ycbv._axis_name(R) for R in ycbv.up_candidates(brick.vertices, height)}
    assert axes == {"+y", "-y"}
    # scoring: the GT scores perfectly; 3 cm off does not
    e = ycbv.pose_errors(T_gt, T_gt, brick, frame1)
    assert e["MSSD"] == e["MSPD"] == e["VSD"] == 1.0 and e["te_mm"] == 0.0
    T_off = T_gt.copy()
    T_off[0, 3] += 0.03
    e = ycbv.pose_errors(T_off, T_gt, brick, frame1)
    assert e["MSSD"] < 1.0 and e["MSPD"] < 1.0 and abs(e["te_mm"] - 30.0) < 1e-6


def test_mug_fit_on_real_frame_is_close(frame1, shared_data):
    from video2robo.pose.config import FitConfig, LossWeights

    name = "025_mug"
    mug = ycbv.load_mesh_object(shared_data / "meshes", name)
    model = mug.gaussians(1200)
    cfg = FitConfig(de_popsize=6, de_maxiter=12, refine_iters=40, weights=LossWeights(rgb=0.5, depth=2.0))
    # the mug's model z is its axis and it stands upright: the fitter's default upright family applies
    out = ycbv.fit_pose(model, frame1, frame1.mask(name), cfg, up="z", obj=mug)
    T_gt = frame1.poses[name]
    err = ycbv.pose_errors(out.T_cam_obj, T_gt, mug, frame1, use_vsd=False)
    axis_deg = np.degrees(np.arccos(np.clip(out.T_cam_obj[:3, 2] @ T_gt[:3, 2], -1, 1)))
    assert err["te_mm"] < 20.0, err
    assert axis_deg < 20.0, (axis_deg, err)
