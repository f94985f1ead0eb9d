"""The ``chatrec`` console command: one front door to the project's three command lines.

    chatrec ingest|search|stats|prefetch|convert|train-encoder ...   (python -m retrieval ...)
    chatrec app [--catalog PATH] [--port N] ...                       (python app.py ...)
    chatrec eval run|fit|bench|dialogues|interactions ...             (python -m eval ...)

Each command keeps its own ``main(argv)``; this module only picks one and hands it the
arguments. They are named here, not imported: ``import assistant`` never loads the
retrieval CLI, the evaluation or Gradio, and the layers below do not depend on the ones
above (see docs/architecture.md).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from importlib import import_module

# the retrieval CLI's subcommands (python -m retrieval); its global options (--settings,
# --data-dir, --index, -q) may come before or after them
RETRIEVAL_COMMANDS = ("ingest", "search", "stats", "prefetch", "convert", "train-encoder")
# command -> the module whose main(argv) runs it (argv: what follows the command)
OTHER_COMMANDS = {"app": "app", "eval": "eval.__main__"}

USAGE = f"""usage: chatrec COMMAND [ARGS ...]

commands:
  {" | ".join(RETRIEVAL_COMMANDS)}
                 index a catalog and search it (as python -m retrieval COMMAND)
  app            the web chat (as python app.py)
  eval           offline evaluation and benchmarks: run, fit, bench, dialogues,
                 interactions (as python -m eval)

chatrec COMMAND --help says more."""


def _runner(module: str) -> Callable[[list[str]], int]:
    return import_module(module).main


def main(argv: list[str] | None = None) -> int:
    """Run ``chatrec ARGS``; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        try:
            print(USAGE)
        except BrokenPipeError:  # piped into head: not an error
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (Python flushes it at exit)
        return 0 if argv else 2
    # the first word that names a command (retrieval's global options may come first)
    for position, word in enumerate(argv):
        if word in RETRIEVAL_COMMANDS:
            return _runner("retrieval.__main__")(argv)
        if word in OTHER_COMMANDS:
            if position:
                print(f"chatrec: error: {' '.join(argv[:position])} must come after "
                      f"'{word}' (chatrec {word} OPTIONS)", file=sys.stderr)
                return 2
            return _runner(OTHER_COMMANDS[word])(argv[1:])
    print(f"chatrec: error: no command in {' '.join(argv)!r}\n\n{USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
