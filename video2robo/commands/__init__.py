"""Subcommands of the `video2robo` CLI (see video2robo.cli.COMMANDS)."""
