"""The documented production settings pass `kehu check --deploy`, and a web server refuses the
development secret key outside development. Each runs kehu in a fresh process, as an
administrator would, with only the environment variables it is given."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
REFUSAL = "kehu will not serve with the published development secret key"


def documented_environment() -> dict[str, str]:
    """The KEY=value lines of the production environment block in README.md."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(
        r"<!-- production-environment.*?```sh\n(.*?)```.*?<!-- /production-environment -->",
        readme,
        re.DOTALL,
    )
    assert block, "README.md lost its production environment block"
    environment = {}
    for line in block.group(1).splitlines():
        setting = line.split("#", 1)[0].strip()
        if setting:
            name, value = setting.split("=", 1)
            environment[name] = value
    return environment


def run(arguments: list[str], environment: dict[str, str], tmp_path: Path):
    base = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("KEHU_", "DJANGO_")) and name != "DATABASE_URL"
    }
    return subprocess.run(
        arguments,
        env={**base, "KEHU_VAR_DIR": str(tmp_path), **environment},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def production(**changes: str | None) -> dict[str, str]:
    environment = {**documented_environment(), "KEHU_SECRET_KEY": secrets.token_urlsafe(50)}
    for name, value in changes.items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    return environment


def test_the_documented_production_settings_pass_check_deploy(tmp_path):
    result = run(
        [str(BIN / "kehu"), "check", "--deploy", "--fail-level", "WARNING"],
        production(),
        tmp_path,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_with_the_defaults(tmp_path):
    result = run([str(BIN / "kehu"), "check", "--deploy", "--fail-level", "WARNING"], {}, tmp_path)

    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W009", "security.W012"):
        assert warning in result.stderr


@pytest.mark.parametrize("server", ["gunicorn", "import", "runserver"])
def test_a_web_server_refuses_the_development_key_in_production(tmp_path, server):
    environment = production(KEHU_SECRET_KEY=None)

    result = run(start_command(server), environment, tmp_path)

    assert result.returncode != 0
    assert REFUSAL in result.stdout + result.stderr


@pytest.mark.parametrize("server", ["gunicorn", "import"])
def test_a_web_server_starts_with_a_key_of_its_own(tmp_path, server):
    result = run(start_command(server), production(), tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr


def test_development_may_serve_with_the_development_key(tmp_path):
    result = run(start_command("import"), {"KEHU_DEV": "true"}, tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr


def start_command(server: str) -> list[str]:
    """gunicorn's own start-up check, the import every WSGI server makes, or `kehu serve`."""
    if server == "gunicorn":
        return [str(BIN / "gunicorn"), "--check-config", "kehu.wsgi:application"]
    if server == "runserver":
        return [str(BIN / "kehu"), "serve", "127.0.0.1:0"]
    return [sys.executable, "-c", "import kehu.wsgi"]
