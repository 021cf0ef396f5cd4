"""Task specs: the six bundled files load; bad files fail with one clear error naming the key."""

import pytest

from video2robo.errors import UserError
from video2robo.task_spec import TASK_NAMES, load_task_spec, parse_task_spec


@pytest.mark.parametrize("name", TASK_NAMES)
def test_bundled_specs_load(name):
    spec = load_task_spec(name)
    assert spec.name == name
    assert set(spec.objects) == {"source", "target"}
    assert spec.timing.control_hz > 0 and spec.cameras


@pytest.mark.parametrize(
    "data, fragment",
    [
        ({"name": "x", "grasp": {"widht": 0.02}}, "unknown key(s) widht"),
        ({"name": "x", "grasp": {"width": 0.2}}, "grasp.width"),
        ({"name": "x", "grasp": {"mode": "manual", "width": 0.02}}, "grasp.pose"),
        ({"name": "x", "workspace": {"target_x": [0.3, 0.1]}}, "workspace.target_x"),
        ({"name": "x", "timing": {"control_hz": "fast"}}, "timing.control_hz"),
        ({"grasp": {}}, "name"),
        ({"name": "x", "workspace": {"target_yaw_reference": "bowl"}}, "workspace.target_yaw_reference"),
        ({"name": "x", "workspace": {"source_yaw_reference": "robot"}}, "workspace.source_yaw_reference"),
        ({"name": "x", "skills": {"task_end": "strike"}}, "skills.task_end"),
    ],
)
def test_bad_specs_name_the_problem(data, fragment):
    with pytest.raises(UserError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        parse_task_spec(data, "test.yaml")


def test_missing_file():
    with pytest.raises(UserError, match="not found"):
        load_task_spec("/nonexistent/task.yaml")
