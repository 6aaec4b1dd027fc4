"""The ``autoheal`` command: small tools around the workflow.

* ``autoheal check SCRIPT --data CSV [--store ID]`` scores any script through the sandbox;
* ``autoheal demo --out CSV`` regenerates the demo data.

The workflow itself runs with ``snakemake``; these commands share its library code.
"""

from __future__ import annotations

import sys

__all__ = ["main"]

_COMMANDS = {
    "check": ("autoheal.check", "score a script file against a labelled CSV"),
    "demo": ("autoheal.demo", "write the demo CSV"),
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in _COMMANDS:
        lines = ["usage: autoheal COMMAND [ARGS]", "", "commands:"]
        lines += [f"  {name:8} {help_}" for name, (_, help_) in _COMMANDS.items()]
        print("\n".join(lines), file=sys.stderr if argv and argv[0] not in ("-h", "--help") else sys.stdout)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    module_name, _ = _COMMANDS[argv[0]]
    module = __import__(module_name, fromlist=["main"])
    return module.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
