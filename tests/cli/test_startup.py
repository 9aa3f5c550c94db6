"""Start-up cost of the command line: `loopwise` imports only what the command it runs needs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Loaded by some commands only (simulate/report: experiments, reports and matplotlib; serve: the web stack).
HEAVY = ("matplotlib", "torch", "ray", "sentence_transformers", "fastapi", "uvicorn",
         "loopwise.experiments", "loopwise.reports", "loopwise.server")


def _modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``code`` (a fresh one: this one has imported everything)."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=300)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_importing_the_cli_loads_no_heavy_module() -> None:
    loaded = _modules_after("import loopwise.cli.main")
    assert "loopwise.cli.main" in loaded
    # Not even the store's SQLAlchemy or scikit-learn: `--help` and a typo's error need none of them.
    assert sorted(m for m in (*HEAVY, "sklearn", "pandas", "scipy", "sqlalchemy") if m in loaded) == []


@pytest.mark.parametrize(("command", "absent"), [
    # serve: not the retrain's loop either, nor scikit-learn (the child process imports them), nor pandas
    # (an upload imports it, in server/_imports.py).
    ("serve", ("matplotlib", "loopwise.experiments", "loopwise.reports", "loopwise.loop", "sklearn", "scipy", "pandas")),
    # runs list: not the PostgreSQL driver either, which the base (SQLite-only) install does not have.
    ("runs list", ("matplotlib", "fastapi", "loopwise.experiments", "loopwise.server", "psycopg")),
])
def test_a_command_loads_what_it_uses_and_not_the_rest(command: str, absent: tuple[str, ...]) -> None:
    # `--help` of a command builds its parameters, which is all a lazy command may need before it runs.
    code = (
        "from typer.testing import CliRunner\nfrom loopwise.cli.main import app\n"
        f"r = CliRunner().invoke(app, {command.split()!r} + ['--help'])\nassert r.exit_code == 0, r.output\n"
    )
    if command == "serve":  # what `serve` imports before it listens
        code += "import uvicorn\nimport loopwise.server\nfrom loopwise.server._app import tune_for_serving\n"
    else:  # what `runs list` imports before it prints
        code += "import loopwise.storage\n"
    loaded = _modules_after(code)
    assert sorted(m for m in absent if m in loaded) == []


def test_the_retraining_child_imports_no_web_stack() -> None:
    # The server's spawned child unpickles its work from loopwise.server._learning: the web stack cost it
    # seconds of imports at every server start.
    loaded = _modules_after("import loopwise.server._learning")
    assert sorted(m for m in ("fastapi", "starlette", "jinja2", "uvicorn", "loopwise.server._app") if m in loaded) == []


def test_simulate_and_resume_import_no_plotting_until_a_report_is_drawn() -> None:
    # What a `simulate`/`resume` subprocess imports before it runs: matplotlib cost each of them seconds.
    loaded = _modules_after("import loopwise.experiments\nimport loopwise.reports\nfrom loopwise.experiments import simulate")
    assert "loopwise.reports" in loaded
    assert sorted(m for m in ("matplotlib", "loopwise.reports._plots") if m in loaded) == []


def test_the_help_text_names_the_loops_own_retrain_modes() -> None:
    from loopwise.cli import main
    from loopwise.loop import RETRAIN_MODES

    assert main.RETRAIN_MODES == RETRAIN_MODES
