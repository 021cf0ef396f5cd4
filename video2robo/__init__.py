"""video2robo: one smartphone video of a tabletop task in, robot training datasets out.

Stages (see shared DESIGN.md): parse (Real2Sim) writes a demo folder, generate turns a demo folder into
datasets, bench evaluates policies in robosuite. The core every stage uses is `video2robo.render.render`
over `video2robo.gaussians.GaussianSet`.
"""

import os as _os

__version__ = "0.1.0"

# PyTorch's OpenMP threads (libgomp) spin between parallel regions, 300000 turns by default: with another
# busy process on the cores they take CPU from the threads doing the work. Two parses side by side on 2
# cores took 159 s, one alone 38 s; with this, 41 s side by side (benchmarks/side_by_side.py). A short spin
# costs nothing measurable alone and gives the same results. libgomp reads it when it loads, so it only
# applies when torch is imported after video2robo; a value already set wins.
_os.environ.setdefault("GOMP_SPINCOUNT", "1000")
