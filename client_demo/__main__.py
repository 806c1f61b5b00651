"""`python -m client_demo <command>`: the demo clients. Each command module adds its
own subparser (`add_parser`) and sets `run`; add a command by adding its module here."""

from __future__ import annotations

import argparse
import sys

from client_demo import bot, play

COMMANDS = [bot, play]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m client_demo",
                                     description="Typerace demo clients.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.add_parser(subparsers)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
