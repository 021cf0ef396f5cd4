"""Prompt parsing (CLI strings and JSON), validation against the image size, mask files."""

import json

import numpy as np
import pytest
from PIL import Image

from video2robo.errors import UserError
from video2robo.perception import load_mask, load_prompts_json, parse_prompt, parse_prompts, scale_prompts, validate_prompts


def test_parse_box_points_neg():
    p = parse_prompt("cup:box=120,80,220,200")
    assert p.name == "cup" and p.box == (120, 80, 220, 200) and len(p.points) == 0
    q = parse_prompt("cup:point=150,120:point=160,140,170,150:neg=90,100")
    np.testing.assert_array_equal(q.points, [[150, 120], [160, 140], [170, 150]])
    np.testing.assert_array_equal(q.neg_points, [[90, 100]])
    merged = parse_prompts(["cup:box=1,2,30,40", "bowl:point=5,5", "cup:neg=3,4"])
    assert [m.name for m in merged] == ["cup", "bowl"]
    assert merged[0].box == (1, 2, 30, 40) and merged[0].neg_points.tolist() == [[3, 4]]


@pytest.mark.parametrize("spec,match", [
    ("cup", "NAME:FIELD"),
    ("cup:box=1,2,3", "4 numbers"),
    ("cup:box=10,10,5,20", "x0 < x1"),
    ("cup:point=1,2,3", "pairs"),
    ("cup:point=a,b", "numbers"),
    ("cup:colour=red", "unknown field"),
    ("c u p:box=1,2,3,4", "bad object name"),
    ("cup:box=1,2,3,4:box=2,3,4,5", "more than one box"),
])
def test_parse_errors(spec, match):
    with pytest.raises(UserError, match=match):
        parse_prompt(spec)


def test_validation_names_object_and_image_size():
    with pytest.raises(UserError, match=r"'cup'.*160x120"):
        validate_prompts(parse_prompts(["cup:box=10,10,200,50"]), 160, 120)
    with pytest.raises(UserError, match=r"'mug'.*point.*160x120"):
        validate_prompts(parse_prompts(["mug:point=50,130"]), 160, 120)
    validate_prompts(parse_prompts(["cup:box=0,0,160,120", "mug:point=159.5,0.5"]), 160, 120)  # edges are inside
    with pytest.raises(UserError, match="mask file not found"):
        validate_prompts([parse_prompt("cup:mask=/no/such/m.png")], 160, 120)


def test_json_prompts_and_mask(tmp_path):
    mask = np.zeros((60, 80), np.uint8)
    mask[10:30, 20:50] = 255
    Image.fromarray(mask).save(tmp_path / "m0.png")
    (tmp_path / "p.json").write_text(json.dumps({
        "cup": {"box": [1, 2, 30, 40], "neg": [[3, 4]]},
        "apple": {"mask": "m0.png"},
    }))
    cup, apple = load_prompts_json(tmp_path / "p.json")
    assert cup.box == (1, 2, 30, 40) and apple.mask_path == tmp_path / "m0.png"
    validate_prompts([cup, apple], 80, 60)
    m = load_mask(apple.mask_path, 80, 60)
    assert m.sum() == 20 * 30
    half = load_mask(apple.mask_path, 40, 30)  # frames read at half size: mask follows
    assert half.shape == (30, 40) and half.sum() == 10 * 15
    with pytest.raises(UserError, match="aspect"):
        load_mask(apple.mask_path, 80, 80)
    (tmp_path / "bad.json").write_text(json.dumps({"cup": {"box": [1, 2]}}))
    with pytest.raises(UserError, match="4 numbers"):
        load_prompts_json(tmp_path / "bad.json")
    (tmp_path / "bad2.json").write_text("{not json")
    with pytest.raises(UserError, match="not valid JSON"):
        load_prompts_json(tmp_path / "bad2.json")
    Image.fromarray(np.zeros((60, 80), np.uint8)).save(tmp_path / "empty.png")
    with pytest.raises(UserError, match="empty"):
        load_mask(tmp_path / "empty.png", 80, 60)


def test_scale_prompts():
    (p,) = scale_prompts(parse_prompts(["cup:box=10,20,30,40:point=15,25"]), 0.5, 0.25)
    assert p.box == (5, 5, 15, 10)
    np.testing.assert_allclose(p.points, [[7.5, 6.25]])


def test_hull_gaps_are_the_fingers_across_a_detection_not_its_surroundings():
    from video2robo.perception.masks import hull_gaps

    can = np.zeros((60, 60), bool)
    can[10:50, 15:45] = True
    detected = can.copy()
    for x in (20, 28, 36):  # three fingers across the can
        detected[10:40, x : x + 4] = False
    gaps = hull_gaps(detected)
    assert gaps.sum() == (can & ~detected).sum()  # exactly the fingers' pixels...
    assert not (gaps & ~can).any()  # ...nothing outside the can
    sparse = np.zeros((60, 60), bool)
    sparse[5:8, 5:8] = sparse[50:53, 50:53] = True  # two specks far apart say nothing about what lies between
    assert not hull_gaps(sparse).any()
