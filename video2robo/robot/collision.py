"""Robot-vs-environment collision queries on MuJoCo's own collision detection.

A `CollisionChecker` compiles, once, the robosuite Panda (its collision geoms) together with a table
top (a half-space: everything below the plane is inside the table) and obstacle objects (boxes or
triangle meshes), each obstacle on a mocap body so its pose can change per query without recompiling.
A query sets the joints and obstacle poses, runs `mj_kinematics` + `mj_collision`, and returns the
contacts between a robot link and the table or an obstacle (robot self-contacts are not reported).

Notes on MuJoCo semantics that matter to callers:
- Meshes collide as their convex hulls (robot collision meshes and obstacle meshes alike), so the
  answer is conservative for concave objects (a bowl's hollow counts as solid).
- Geoms fixed to the world are never tested against each other, so the robot's fixed base link
  (`link0`) reports no contacts; only moving links do.
- `margin` (m) reports near-misses too: a contact with distance < margin is returned (distance > 0
  means a gap, < 0 a penetration).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from video2robo.geometry.so3 import rotmat_to_quat
from video2robo.robot.kinematics import width_to_fingers
from video2robo.robot.model import BASE_BODY, LINK_BODIES, MAX_GRIPPER_WIDTH, model_info, panda_spec

TABLE = "table"
FINGER_LINKS = ("left_finger", "right_finger")
_PREFIX = "obstacle:"


@dataclass
class BoxObstacle:
    """A box obstacle, `half_extents` (m) along its own x, y, z axes, centred at its frame origin."""

    name: str
    half_extents: tuple[float, float, float]


@dataclass
class MeshObstacle:
    """A triangle-mesh obstacle (collides as its convex hull), vertices in metres in the object frame."""

    name: str
    vertices: np.ndarray  # (V, 3)
    faces: np.ndarray  # (F, 3) int

    @classmethod
    def from_trimesh(cls, name: str, mesh) -> "MeshObstacle":
        return cls(name, np.asarray(mesh.vertices, dtype=np.float64), np.asarray(mesh.faces, dtype=np.int64))


@dataclass
class Contact:
    """One robot-environment contact: which link touched what, how deep, where (world frame)."""

    link: str  # robot link name as in `LINK_BODIES` (e.g. "link6", "left_finger")
    geom: str  # robot collision geom name
    other: str  # "table" or an obstacle name
    distance: float  # metres; < 0 is penetration depth, > 0 a gap smaller than the margin
    position: np.ndarray = field(repr=False)  # (3,) world frame


def _set_pose(obj, T) -> None:
    """Set pos/quat of an MjSpec element from a 4x4 pose."""
    T = np.asarray(T, dtype=np.float64)
    obj.pos = T[:3, 3]
    obj.quat = rotmat_to_quat(T[:3, :3])


class CollisionChecker:
    """Collision queries for one scene layout (robot base pose, table height, obstacle shapes)."""

    def __init__(
        self,
        obstacles=(),
        table_height: float | None = 0.0,
        T_world_base=None,
        margin: float = 0.0,
    ):
        import mujoco

        self._mj = mujoco
        self.margin = float(margin)
        self.T_world_base = np.eye(4) if T_world_base is None else np.asarray(T_world_base, dtype=np.float64)
        spec = panda_spec()
        _set_pose(spec.body(BASE_BODY), self.T_world_base)
        self.obstacle_names: list[str] = []
        if table_height is not None:
            g = spec.worldbody.add_geom(name=TABLE, type=mujoco.mjtGeom.mjGEOM_PLANE, size=[0, 0, 0.01])
            g.pos = [0.0, 0.0, float(table_height)]
            self._env_geom(g)
        for ob in obstacles:
            if ob.name in self.obstacle_names or ob.name == TABLE:
                raise ValueError(f"obstacle name {ob.name!r} used twice (or clashes with the table)")
            body = spec.worldbody.add_body(name=_PREFIX + ob.name, mocap=True)
            if isinstance(ob, BoxObstacle):
                g = body.add_geom(name=_PREFIX + ob.name, type=mujoco.mjtGeom.mjGEOM_BOX, size=list(map(float, ob.half_extents)))
            elif isinstance(ob, MeshObstacle):
                mesh = spec.add_mesh(name=_PREFIX + ob.name)
                mesh.uservert = np.asarray(ob.vertices, dtype=np.float64).ravel().tolist()
                mesh.userface = np.asarray(ob.faces, dtype=np.int64).ravel().tolist()
                g = body.add_geom(name=_PREFIX + ob.name, type=mujoco.mjtGeom.mjGEOM_MESH, meshname=_PREFIX + ob.name)
            else:
                raise TypeError(f"unsupported obstacle type {type(ob).__name__}")
            self._env_geom(g)
            self.obstacle_names.append(ob.name)
        self.model = spec.compile()
        self.data = mujoco.MjData(self.model)
        self.info = model_info(self.model)
        self._classify_geoms()

    def _env_geom(self, g) -> None:
        g.contype = 1
        g.conaffinity = 1
        g.margin = self.margin
        g.group = 3  # hidden in default renders; not a robot visual or collision geom

    def _classify_geoms(self) -> None:
        """Map each geom id to (robot link name or None, environment name or None)."""
        mj, m = self._mj, self.model
        body_to_link = {}
        for link, body in LINK_BODIES.items():
            body_to_link[mj.mj_name2id(m, mj.mjtObj.mjOBJ_BODY, body)] = link
        self._geom_link: dict[int, str] = {}
        self._geom_env: dict[int, str] = {}
        for gid in range(m.ngeom):
            name = mj.mj_id2name(m, mj.mjtObj.mjOBJ_GEOM, gid) or ""
            if name == TABLE:
                self._geom_env[gid] = TABLE
                continue
            if name.startswith(_PREFIX):
                self._geom_env[gid] = name[len(_PREFIX):]
                continue
            b = m.geom_bodyid[gid]
            while b > 0 and b not in body_to_link:  # finger pads hang below the finger bodies
                b = m.body_parentid[b]
            if b in body_to_link and m.geom_group[gid] != 1:
                self._geom_link[gid] = body_to_link[b]
        self._mocap = {
            n: m.body_mocapid[mj.mj_name2id(m, mj.mjtObj.mjOBJ_BODY, _PREFIX + n)] for n in self.obstacle_names
        }

    def contacts(
        self,
        q,
        gripper_width: float = MAX_GRIPPER_WIDTH,
        obstacle_poses: dict | None = None,
        grasped: str | None = None,
    ) -> list[Contact]:
        """Robot-environment contacts at arm configuration q (rad) and gripper opening (m).

        `obstacle_poses`: name -> T_world_obj for every obstacle (missing names raise). `grasped`: an
        obstacle held by the gripper; its contacts with the fingers are expected and left out (contacts
        with any other link are still reported).
        """
        mj, m, d = self._mj, self.model, self.data
        q = np.asarray(q, dtype=np.float64)
        if q.shape != (7,):
            raise ValueError(f"arm configuration must have shape (7,), got {q.shape}")
        poses = obstacle_poses or {}
        missing = [n for n in self.obstacle_names if n not in poses]
        if missing:
            raise ValueError(f"no pose given for obstacle(s) {missing}")
        unknown = [n for n in poses if n not in self.obstacle_names]
        if unknown:
            raise ValueError(f"pose given for unknown obstacle(s) {unknown}; known: {self.obstacle_names}")
        if grasped is not None and grasped not in self.obstacle_names:
            raise ValueError(f"grasped object {grasped!r} is not an obstacle of this checker")
        for name, T in poses.items():
            T = np.asarray(T, dtype=np.float64)
            k = self._mocap[name]
            d.mocap_pos[k] = T[:3, 3]
            d.mocap_quat[k] = rotmat_to_quat(T[:3, :3])
        d.qpos[self.info.arm_qpos] = q
        d.qpos[self.info.finger_qpos] = width_to_fingers(gripper_width)
        mj.mj_kinematics(m, d)
        mj.mj_collision(m, d)
        out = []
        for c in d.contact[: d.ncon]:
            g1, g2 = int(c.geom1), int(c.geom2)
            for robot_g, env_g in ((g1, g2), (g2, g1)):
                link, env = self._geom_link.get(robot_g), self._geom_env.get(env_g)
                if link is None or env is None or c.dist >= self.margin:
                    continue
                if grasped is not None and env == grasped and link in FINGER_LINKS:
                    continue
                name = mj.mj_id2name(m, mj.mjtObj.mjOBJ_GEOM, robot_g) or f"geom{robot_g}"
                out.append(Contact(link, name, env, float(c.dist), np.array(c.pos)))
        return out

    def in_collision(self, q, gripper_width: float = MAX_GRIPPER_WIDTH, obstacle_poses=None, grasped=None) -> bool:
        """True when any robot link touches (or comes within `margin` of) the table or an obstacle."""
        return bool(self.contacts(q, gripper_width, obstacle_poses, grasped))
