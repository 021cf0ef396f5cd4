"""Object poses: BOP metrics (MSSD, MSPD, VSD, AR) now; pose fitting (DE initialisation, Adam
tracking, losses) later."""

from video2robo.pose.bop import average_recall, mspd, mssd, symmetry_transforms, vsd

__all__ = ["average_recall", "mspd", "mssd", "symmetry_transforms", "vsd"]
