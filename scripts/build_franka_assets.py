#!/usr/bin/env python
"""Build assets/franka_gs/ (Gaussian Franka Panda) from robosuite's meshes; see video2robo.robot.asset_builder."""

from video2robo.robot.asset_builder import main

if __name__ == "__main__":
    raise SystemExit(main())
