"""video2robo: one smartphone video of a tabletop task in, robot training datasets out.

Stages (see shared DESIGN.md): parse (Real2Sim) writes a demo folder, generate turns a demo folder into
datasets, bench evaluates policies in robosuite. The core every stage uses is `video2robo.render.render`
over `video2robo.gaussians.GaussianSet`.
"""

__version__ = "0.1.0"
