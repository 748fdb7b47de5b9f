"""A newcomer's first commands, run as typed in a terminal: after `make run`, the README's
`flask --app scheduler_app worker --once` works with nothing exported."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def terminal(tmp_path: Path) -> dict[str, str]:
    """A fresh terminal's environment: no secret, no debug, no demo; a database of the test's own."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("SECRET_KEY", "FLASK_DEBUG", "LIEN_DEMO", "FLASK_APP", "FLASK_SKIP_DOTENV")}
    return {**env, "PYTHONPATH": str(ROOT), "DATABASE_URL": f"sqlite:///{tmp_path / 'lien.sqlite3'}"}


def flask(checkout: Path, env: dict[str, str], *arguments: str, typed: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flask", "--app", "scheduler_app", *arguments], input=typed,
                          cwd=checkout, env=env, capture_output=True, text=True, timeout=120)


def make_secret(checkout: Path) -> None:
    """The step of `make run` that keeps a local secret (the rest installs and serves)."""
    subprocess.run(["make", "--no-print-directory", "-f", str(ROOT / "Makefile"), "secret", f"PYTHON={sys.executable}"],
                   cwd=checkout, check=True, capture_output=True, timeout=60)


def test_the_worker_command_works_after_make_run_without_exporting_a_secret(tmp_path):
    env = terminal(tmp_path)
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    refused = flask(checkout, env, "worker", "--once")
    assert refused.returncode != 0 and "SECRET_KEY is not set" in refused.stderr  # as in production

    make_secret(checkout)
    kept = (checkout / ".env").read_text()
    assert re.fullmatch(r"SECRET_KEY=[\w-]{64}\n", kept)
    assert (checkout / ".env").stat().st_mode & 0o077 == 0  # readable by its owner only
    upgraded = flask(checkout, env, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    worker = flask(checkout, env, "worker", "--once")
    assert worker.returncode == 0, worker.stderr
    assert worker.stdout == "0 sent, 0 to retry, 0 failed\n"

    make_secret(checkout)  # every `make run` after the first keeps it: sessions stay valid
    assert (checkout / ".env").read_text() == kept


def test_a_secret_in_the_environment_wins_over_the_one_make_run_kept(tmp_path):
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / ".env").write_text("SECRET_KEY=from-the-file\n")
    env = terminal(tmp_path)
    assert ">>> from-the-file\n" in flask(checkout, env, "shell", typed="print(app.secret_key)\n").stdout
    env["SECRET_KEY"] = "from-the-environment"
    assert ">>> from-the-environment\n" in flask(checkout, env, "shell", typed="print(app.secret_key)\n").stdout
