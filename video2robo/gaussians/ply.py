"""PLY I/O for Gaussian sets in the standard 3DGS layout, so files open in common splat viewers.

One `vertex` element with float32 properties, binary little endian, in the order the original 3DGS
code writes them:

    x y z  nx ny nz  f_dc_0..2  f_rest_0..(3·(K-1)-1)  opacity  scale_0..2  rot_0..3

`opacity` is the logit and `scale_*` the log of the activated values (exactly GaussianSet's raw
fields), `rot_*` is the wxyz quaternion, normals are written as zeros. `f_rest` holds the higher SH
bands channel-major, as 3DGS stores `features_rest` transposed to (N, 3, K-1) and flattened:
property index = channel·(K-1) + k, for coefficient k+1 of colour channel `channel`.

Because GaussianSet stores raw float32 fields, save→load gives identical tensors and load→save of a
file in this layout gives identical bytes.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import numpy as np
import plyfile
import torch

from video2robo.errors import UserError
from video2robo.gaussians.gaussian_set import GaussianSet
from video2robo.gaussians.sh import num_coeffs

_REQUIRED = ("x", "y", "z", "f_dc_0", "f_dc_1", "f_dc_2", "opacity", "scale_0", "scale_1", "scale_2",
             "rot_0", "rot_1", "rot_2", "rot_3")
_F_REST = re.compile(r"^f_rest_(\d+)$")


def property_names(sh_degree: int) -> list[str]:
    """The vertex property names, in file order, for a set of the given SH degree (0–3)."""
    n_rest = 3 * (num_coeffs(sh_degree) - 1)
    return (
        ["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2"]
        + [f"f_rest_{i}" for i in range(n_rest)]
        + ["opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"]
    )


def _as_f32(x: torch.Tensor) -> np.ndarray:
    return x.detach().to("cpu", torch.float32).numpy()


def gaussians_to_array(gaussians: GaussianSet) -> np.ndarray:
    """Structured float32 array (N,) with the 3DGS vertex layout (little endian)."""
    n, k = len(gaussians), gaussians.sh.shape[1]
    sh = _as_f32(gaussians.sh)  # (N, K, 3)
    rest = np.ascontiguousarray(sh[:, 1:, :].transpose(0, 2, 1)).reshape(n, 3 * (k - 1))  # channel-major
    columns = np.concatenate(
        [
            _as_f32(gaussians.means),
            np.zeros((n, 3), np.float32),
            sh[:, 0, :],
            rest,
            _as_f32(gaussians.opacity_logits)[:, None],
            _as_f32(gaussians.log_scales),
            _as_f32(gaussians.quats),
        ],
        axis=1,
    )
    names = property_names(gaussians.sh_degree)
    out = np.empty(n, dtype=[(name, "<f4") for name in names])
    for i, name in enumerate(names):
        out[name] = columns[:, i]
    return out


def save_ply(gaussians: GaussianSet, path) -> Path:
    """Write `gaussians` to `path` atomically (a temporary file in the same folder, then a rename).

    A reader never sees a half-written file, and a failed write leaves any previous file intact.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    element = plyfile.PlyElement.describe(gaussians_to_array(gaussians), "vertex")
    data = plyfile.PlyData([element], text=False, byte_order="<")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            data.write(f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _read_vertices(path: Path) -> np.ndarray:
    if not path.is_file():
        raise UserError(f"Gaussian PLY file not found: {path}")
    try:
        ply = plyfile.PlyData.read(str(path))
    except (plyfile.PlyParseError, ValueError, EOFError, IndexError, UnicodeDecodeError, OSError) as e:
        raise UserError(f"cannot read Gaussian PLY {path}: corrupt or not a PLY file ({type(e).__name__}: {e})".replace("\n", " ")) from e
    if "vertex" not in ply:
        raise UserError(f"PLY {path} has no 'vertex' element, so it holds no Gaussians")
    return ply["vertex"].data


def load_ply(path) -> GaussianSet:
    """Read a 3DGS PLY (with or without normals, SH degree 0–3, extra properties ignored).

    Raises UserError (one line) for a missing or corrupt file or one without the Gaussian properties.
    """
    path = Path(path)
    v = _read_vertices(path)
    names = v.dtype.names or ()
    missing = [p for p in _REQUIRED if p not in names]
    if missing:
        raise UserError(f"PLY {path} is not a 3DGS Gaussian file: missing vertex properties {', '.join(missing)}")
    rest_idx = sorted(int(m.group(1)) for m in map(_F_REST.match, names) if m)
    n_rest = len(rest_idx)
    if rest_idx != list(range(n_rest)) or n_rest % 3 or (n_rest // 3 + 1) not in (1, 4, 9, 16):
        raise UserError(
            f"PLY {path} has {n_rest} f_rest_* properties (indices {rest_idx[:3]}…); expected 0, 9, 24 or 45 "
            "numbered from 0 (SH degree 0–3)"
        )
    n, k1 = len(v), n_rest // 3

    def col(*props):
        return np.stack([np.asarray(v[p], dtype=np.float32) for p in props], axis=1) if props else np.zeros((n, 0), np.float32)

    dc = col("f_dc_0", "f_dc_1", "f_dc_2")
    rest = col(*[f"f_rest_{i}" for i in range(n_rest)]).reshape(n, 3, k1).transpose(0, 2, 1)
    sh = np.concatenate([dc[:, None, :], rest], axis=1)
    return GaussianSet(
        means=torch.from_numpy(col("x", "y", "z")),
        quats=torch.from_numpy(col("rot_0", "rot_1", "rot_2", "rot_3")),
        log_scales=torch.from_numpy(col("scale_0", "scale_1", "scale_2")),
        opacity_logits=torch.from_numpy(col("opacity")[:, 0].copy()),
        sh=torch.from_numpy(np.ascontiguousarray(sh)),
    )
