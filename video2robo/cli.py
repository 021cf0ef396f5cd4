"""The `video2robo` command: one entry point, one subcommand per stage.

Each subcommand lives in `video2robo/commands/<name>.py` with a typed dataclass `Config` (parsed by tyro)
and a `run(config) -> int`. Command modules keep heavy imports (torch, mujoco) inside `run`, so
`video2robo --help` stays fast. User errors (`UserError`) and bad arguments print one line and exit 2.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import re
import sys

from video2robo import __version__
from video2robo.errors import UserError

# name -> module holding `Config` and `run`. Add a line here to add a command.
COMMANDS: dict[str, str] = {
    "demo": "video2robo.commands.demo",
    "parse": "video2robo.commands.parse",
    "render": "video2robo.commands.render",
    "synth": "video2robo.commands.synth",
    "eval-poses": "video2robo.commands.eval_poses",
    "render-robot": "video2robo.commands.render_robot",
    "generate": "video2robo.commands.generate",
}

_BOX = re.compile(r"[│╭╮╰╯┃]+")


def _one_line_parse_error(text: str, argv: list[str]) -> str:
    """Condense tyro's boxed error message (title, rule, message block, rule, help) into one line."""
    raw = [_BOX.sub("", line.strip()).strip() for line in text.splitlines()]
    blocks: list[list[str]] = [[]]
    for line in raw:
        if line and set(line) <= set("-─━"):
            blocks.append([])
        elif line:
            blocks[-1].append(line)
    title = " ".join(blocks[0]) or "invalid arguments"
    body = " ".join(blocks[1]) if len(blocks) > 1 else ""
    msg = f"{title}: {body}" if body else title
    msg = msg if len(msg) <= 240 else msg[:237] + "..."
    cmd = argv[0] if argv and argv[0] in COMMANDS else ""
    return f"{msg} (see: video2robo {cmd + ' ' if cmd else ''}--help)"


def parse(argv: list[str]):
    """(module, config) for the command line, or raise SystemExit."""
    import tyro

    modules = {name: importlib.import_module(path) for name, path in COMMANDS.items()}
    configs = {name: mod.Config for name, mod in modules.items()}
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            config = tyro.extras.subcommand_cli_from_dict(configs, args=argv, prog="video2robo", description=__doc__.splitlines()[0])
    except SystemExit as e:
        if e.code in (0, None):
            sys.stdout.write(out.getvalue() + err.getvalue())
            raise
        print(f"video2robo: error: {_one_line_parse_error(err.getvalue() + out.getvalue(), argv)}", file=sys.stderr)
        raise SystemExit(2) from None
    sys.stdout.write(out.getvalue())
    module = next(modules[name] for name, cls in configs.items() if isinstance(config, cls))
    return module, config


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv in (["--version"], ["-V"]):
        print(f"video2robo {__version__}")
        return 0
    try:
        module, config = parse(argv)
    except SystemExit as e:
        return int(e.code or 0)
    try:
        return int(module.run(config) or 0)
    except UserError as e:
        print(f"video2robo: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("video2robo: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
