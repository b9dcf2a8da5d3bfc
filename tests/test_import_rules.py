"""The import rules of pyproject.toml catch what they are for: run import-linter on a copy of
kehu with one bad import added, and it must fail naming the broken contract (and pass on the
copy as it is)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

PAGE_LAYER = "Only the page layer imports the page layer, in every module of every app"
APP_ORDER = "Apps only import down their order"


@pytest.fixture(scope="module")
def copy_of_kehu(tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("lint")
    ignored = shutil.ignore_patterns("__pycache__", "locale", "static", "templates", "*.mo")
    shutil.copytree(ROOT / "kehu", copy / "kehu", ignore=ignored)
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    return copy


def lint(copy: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(copy), "COLUMNS": "500"}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=copy,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def broken_contracts(output: str) -> list[str]:
    """The names of the contracts the summary says are broken ("<name> BROKEN (n ignored…)")."""
    return [line.split(" BROKEN")[0] for line in output.splitlines() if " BROKEN" in line]


def with_import(copy: Path, module: str, statement: str):
    path = copy / (module.replace(".", "/") + ".py")
    original = path.read_text()
    path.write_text(original + f"\n{statement}  # added by the test\n")
    return path, original


def test_the_rules_pass_on_kehu_as_it_is(copy_of_kehu):
    result = lint(copy_of_kehu)
    assert result.returncode == 0, result.stdout[-3000:]


@pytest.mark.parametrize(
    ("module", "statement", "contract"),
    [
        # A service module of a loyalty part that is not named `services`.
        ("kehu.loyalty.points.expiry", "import kehu.loyalty.coupons.views", PAGE_LAYER),
        ("kehu.segments.refresh", "from kehu.segments import api", PAGE_LAYER),
        ("kehu.customers.pool", "import kehu.customers.forms", PAGE_LAYER),
        ("kehu.commerce.queries", "import kehu.loyalty.models", APP_ORDER),
        ("kehu.commerce.services", "import kehu.segments.queries", APP_ORDER),
        ("kehu.customers.queries", "import kehu.segments.models", APP_ORDER),
        ("kehu.customers.services", "import kehu.loyalty.points.services", APP_ORDER),
        ("kehu.accounts.services", "import kehu.engagement.models", APP_ORDER),
    ],
)
def test_a_forbidden_import_breaks_its_contract(copy_of_kehu, module, statement, contract):
    path, original = with_import(copy_of_kehu, module, statement)
    try:
        result = lint(copy_of_kehu)
    finally:
        path.write_text(original)
    assert result.returncode == 1
    assert contract in broken_contracts(result.stdout), result.stdout[-3000:]
