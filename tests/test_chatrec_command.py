"""The ``chatrec`` console command (assistant/cli.py): each command reaches the command line
it stands for, with the same output and exit code as the ``python -m`` form."""

from __future__ import annotations

import subprocess
import sys

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

import pytest

from assistant import cli
from retrieval.settings import REPO_ROOT


def test_the_console_script_is_this_function():
    scripts = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, name = scripts["chatrec"].partition(":")
    assert getattr(__import__(module, fromlist=[name]), name) is cli.main


def test_retrieval_commands_answer_as_python_m_retrieval(tmp_path, capsys):
    from retrieval.__main__ import main as retrieval_main

    empty = str(tmp_path / "data")
    # global options before or after the command, as python -m retrieval takes them
    for argv in (["stats", "--data-dir", empty], ["--data-dir", empty, "--index", "shop", "stats"]):
        code = cli.main(argv)
        via_chatrec = capsys.readouterr()
        assert code == retrieval_main(argv) == 6  # IndexMissing: nothing ingested there
        assert via_chatrec == capsys.readouterr()
        assert "is empty: build it with" in via_chatrec.err


def test_app_and_eval_get_their_own_arguments(capsys):
    for argv, usage in ((["app", "--help"], "usage: app.py"), (["eval", "--help"], "usage: python -m eval"),
                        (["eval", "bench", "--help"], "bench")):
        with pytest.raises(SystemExit) as done:
            cli.main(argv)
        assert done.value.code == 0
        assert usage in capsys.readouterr().out


def test_usage_and_mistakes(capsys):
    assert cli.main(["--help"]) == 0
    assert "chatrec COMMAND" in capsys.readouterr().out
    assert cli.main([]) == 2
    assert cli.main(["frob"]) == 2
    assert "no command in 'frob'" in capsys.readouterr().err
    # app and eval take their options after the command
    assert cli.main(["--data-dir", "x", "app"]) == 2
    assert "--data-dir x must come after 'app'" in capsys.readouterr().err


def test_python_m_assistant_cli_runs_it(tmp_path):
    done = subprocess.run([sys.executable, "-m", "assistant.cli", "stats", "--data-dir", str(tmp_path)],
                          capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)
    assert done.returncode == 6 and done.stderr.startswith("error: the index 'default'"), done.stderr
