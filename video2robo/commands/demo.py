"""`video2robo demo`: the main job on the bundled default, with no arguments."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class Config:
    """Run the whole pipeline on the bundled default task and print where the results are."""

    out: Path = Path("video2robo_demo")
    """Folder for everything the demo writes."""


def run(cfg: Config) -> int:
    from video2robo.commands.render import render_sample_scene

    cfg.out.mkdir(parents=True, exist_ok=True)
    print("video2robo demo: the full pipeline (synthesise a Pour video -> parse -> generate 10 demos) is")
    print("being built stage by stage; this version renders the sample Gaussian scene with the CPU renderer.")
    path = render_sample_scene(cfg.out)
    print(f"wrote {path}")
    return 0
