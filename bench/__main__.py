"""Run every benchmark module (bench/bench_*.py) in name order; each prints its own table."""

import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> None:
    selected = set(sys.argv[1:])
    folder = Path(__file__).parent
    for module in sorted(pkgutil.iter_modules([str(folder)]), key=lambda m: m.name):
        if not module.name.startswith("bench_"):
            continue
        if selected and module.name not in selected:
            continue
        print(f"\n## {module.name}\n", flush=True)
        importlib.import_module(f"bench.{module.name}").main()


if __name__ == "__main__":
    main()
