"""The examples in kehu.analytics docstrings run and give what they show."""

import doctest
import importlib
import pkgutil

import pytest

import kehu.analytics

MODULES = ["kehu.analytics"] + [
    f"kehu.analytics.{module.name}" for module in pkgutil.iter_modules(kehu.analytics.__path__)
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)

    assert result.failed == 0


def test_analytics_imports_nothing_from_django_or_other_kehu_packages():
    import ast
    from pathlib import Path

    for path in Path(kehu.analytics.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith("django"), (path.name, name)
                assert not name.startswith("kehu.") or name.startswith("kehu.analytics"), name
