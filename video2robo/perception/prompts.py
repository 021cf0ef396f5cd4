"""First-frame object prompts: boxes, positive/negative points or a mask PNG, per named object.

Prompts come from CLI strings or a JSON file and are checked against the first frame's size before
any segmentation runs, so a typo fails fast with the object's name and the image size.

Coordinates are continuous pixel coordinates in the project convention (the centre of pixel column
i is x = i + 0.5, the image spans [0, W] × [0, H]), in the pixels of the video as it is read (scale
them with `scale_prompts` when frames are downsized).

CLI grammar (one string per object, several strings for the same object are merged):
    NAME:FIELD=VALUES[:FIELD=VALUES...]
    box=x0,y0,x1,y1         one box (corners, x0 < x1, y0 < y1)
    point=x,y[,x,y...]      positive points (repeatable)
    neg=x,y[,x,y...]        negative (background) points (repeatable)
    mask=PATH               a first-frame mask image (non-zero = object); must be the last field
e.g. "cup:box=120,80,220,200", "cup:point=150,120:point=160,140:neg=90,100", "apple:mask=m0.png".

JSON file: {"cup": {"box": [x0, y0, x1, y1], "points": [[x, y], ...], "neg": [[x, y], ...],
"mask": "m0.png"}, ...}; mask paths are relative to the JSON file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from video2robo.errors import UserError

_NAME = re.compile(r"^[A-Za-z0-9_\-]+$")


@dataclass(frozen=True)
class ObjectPrompt:
    """How to find one object in the first frame: a box, points, negative points and/or a mask file."""

    name: str
    box: tuple[float, float, float, float] | None = None
    points: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    neg_points: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    mask_path: Path | None = None

    @property
    def has_geometry(self) -> bool:
        """True when a box or positive points are given (what a prompt-based segmenter needs)."""
        return self.box is not None or len(self.points) > 0


def _floats(name: str, key: str, text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip() != ""]
    except ValueError:
        raise UserError(f"prompt for '{name}': {key}= needs comma-separated numbers, got '{text}'") from None
    if not all(np.isfinite(values)):
        raise UserError(f"prompt for '{name}': {key}= has a non-finite number: '{text}'")
    return values


def _pairs(name: str, key: str, values: list[float]) -> np.ndarray:
    if len(values) == 0 or len(values) % 2:
        raise UserError(f"prompt for '{name}': {key}= needs x,y pairs, got {len(values)} numbers")
    return np.asarray(values, dtype=np.float64).reshape(-1, 2)


def _merge(a: ObjectPrompt, b: ObjectPrompt) -> ObjectPrompt:
    if a.box is not None and b.box is not None:
        raise UserError(f"prompt for '{a.name}': more than one box given")
    if a.mask_path is not None and b.mask_path is not None:
        raise UserError(f"prompt for '{a.name}': more than one mask given")
    return ObjectPrompt(
        a.name,
        a.box if a.box is not None else b.box,
        np.concatenate([a.points, b.points]),
        np.concatenate([a.neg_points, b.neg_points]),
        a.mask_path if a.mask_path is not None else b.mask_path,
    )


def _check_name(name: str, source: str) -> None:
    if not _NAME.match(name):
        raise UserError(f"bad object name '{name}' in {source}: use letters, digits, '_' or '-'")


def _check_box(name: str, box: list[float]) -> tuple[float, float, float, float]:
    if len(box) != 4:
        raise UserError(f"prompt for '{name}': box needs 4 numbers x0,y0,x1,y1, got {len(box)}")
    x0, y0, x1, y1 = box
    if not (x1 > x0 and y1 > y0):
        raise UserError(f"prompt for '{name}': box {box} needs x0 < x1 and y0 < y1")
    return (x0, y0, x1, y1)


def parse_prompt(spec: str) -> ObjectPrompt:
    """One CLI prompt string → ObjectPrompt (grammar in the module docstring)."""
    name, sep, rest = spec.partition(":")
    name = name.strip()
    if not sep or not rest.strip():
        raise UserError(f"prompt '{spec}' needs NAME:FIELD=VALUES, e.g. cup:box=120,80,220,200")
    _check_name(name, f"prompt '{spec}'")
    prompt = ObjectPrompt(name)
    while rest:
        key, eq, value = rest.partition("=")
        key = key.strip()
        if not eq:
            raise UserError(f"prompt for '{name}': field '{key}' needs '=VALUES'")
        if key == "mask":  # a path may contain ':'; it must be the last field
            prompt = _merge(prompt, ObjectPrompt(name, mask_path=Path(value)))
            break
        value, _, rest = value.partition(":")
        if key == "box":
            prompt = _merge(prompt, ObjectPrompt(name, box=_check_box(name, _floats(name, key, value))))
        elif key in ("point", "points"):
            prompt = _merge(prompt, ObjectPrompt(name, points=_pairs(name, key, _floats(name, key, value))))
        elif key == "neg":
            prompt = _merge(prompt, ObjectPrompt(name, neg_points=_pairs(name, key, _floats(name, key, value))))
        else:
            raise UserError(f"prompt for '{name}': unknown field '{key}' (use box=, point=, neg= or mask=)")
    return prompt


def _merge_by_name(prompts: list[ObjectPrompt]) -> list[ObjectPrompt]:
    merged: dict[str, ObjectPrompt] = {}
    for p in prompts:
        merged[p.name] = _merge(merged[p.name], p) if p.name in merged else p
    return list(merged.values())


def parse_prompts(specs: list[str]) -> list[ObjectPrompt]:
    """Several CLI strings → one prompt per object, in order of first mention (same names merged)."""
    if not specs:
        raise UserError("no object prompts given; e.g. --prompt cup:box=120,80,220,200")
    return _merge_by_name([parse_prompt(s) for s in specs])


def _json_points(name: str, key: str, value) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64) if isinstance(value, list) else None
    if arr is None or arr.size == 0 or arr.ndim != 2 or arr.shape[1] != 2 or not np.isfinite(arr).all():
        raise UserError(f"prompt for '{name}': '{key}' must be a list of [x, y] pairs, got {value!r}")
    return arr


def load_prompts_json(path: Path | str) -> list[ObjectPrompt]:
    """Prompts from a JSON file {name: {"box"|"points"|"neg"|"mask": ...}} (see module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"prompt file not found: {path}")
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"prompt file {path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or not data:
        raise UserError(f"prompt file {path} must hold a non-empty object {{name: {{box/points/neg/mask}}}}")
    prompts = []
    for name, entry in data.items():
        _check_name(name, str(path))
        if not isinstance(entry, dict):
            raise UserError(f"prompt for '{name}' in {path} must be an object with box/points/neg/mask")
        unknown = set(entry) - {"box", "points", "neg", "mask"}
        if unknown:
            raise UserError(f"prompt for '{name}' in {path}: unknown keys {sorted(unknown)}")
        box = entry.get("box")
        if box is not None:
            if not isinstance(box, list) or not all(isinstance(v, (int, float)) for v in box):
                raise UserError(f"prompt for '{name}': box must be [x0, y0, x1, y1], got {box!r}")
            box = _check_box(name, [float(v) for v in box])
        prompts.append(ObjectPrompt(
            name,
            box,
            _json_points(name, "points", entry["points"]) if "points" in entry else np.zeros((0, 2)),
            _json_points(name, "neg", entry["neg"]) if "neg" in entry else np.zeros((0, 2)),
            (path.parent / entry["mask"]) if "mask" in entry else None,
        ))
    return prompts


def validate_prompts(prompts: list[ObjectPrompt], width: int, height: int) -> None:
    """Raise UserError unless every prompt lies inside a width × height image and is usable."""
    names = [p.name for p in prompts]
    if len(set(names)) != len(names):
        raise UserError(f"object names must be unique, got {names}")
    size = f"the image is {width}x{height} (x in [0, {width}], y in [0, {height}])"
    for p in prompts:
        if not p.has_geometry and p.mask_path is None:
            raise UserError(f"prompt for '{p.name}' has no box, point or mask")
        if p.mask_path is not None and p.has_geometry:
            raise UserError(f"prompt for '{p.name}': give either a mask or a box/points, not both")
        if p.mask_path is not None and len(p.neg_points):
            raise UserError(f"prompt for '{p.name}': negative points need a box or points, not a mask")
        if p.box is not None:
            x0, y0, x1, y1 = p.box
            if x0 < 0 or y0 < 0 or x1 > width or y1 > height:
                raise UserError(f"prompt for '{p.name}': box {list(p.box)} is outside the image; {size}")
        for kind, pts in (("point", p.points), ("negative point", p.neg_points)):
            out = (pts[:, 0] < 0) | (pts[:, 0] > width) | (pts[:, 1] < 0) | (pts[:, 1] > height)
            if out.any():
                raise UserError(f"prompt for '{p.name}': {kind} {pts[out][0].tolist()} is outside the image; {size}")
        if p.mask_path is not None and not Path(p.mask_path).is_file():
            raise UserError(f"prompt for '{p.name}': mask file not found: {p.mask_path}")


def scale_prompts(prompts: list[ObjectPrompt], sx: float, sy: float) -> list[ObjectPrompt]:
    """Prompts for frames resized by (sx, sy) (coordinates are continuous, so they scale exactly).
    Mask files are resized when loaded (see masks.load_mask)."""
    out = []
    for p in prompts:
        box = None if p.box is None else (p.box[0] * sx, p.box[1] * sy, p.box[2] * sx, p.box[3] * sy)
        s = np.array([sx, sy])
        out.append(replace(p, box=box, points=p.points * s, neg_points=p.neg_points * s))
    return out
