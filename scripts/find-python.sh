#!/usr/bin/env bash
# Print the path of a Python >= 3.12 interpreter, or fail with a message saying what to install.
set -euo pipefail

is_recent() {
    "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null
}

candidates=()
if command -v pyenv >/dev/null 2>&1; then
    for version in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.(1[2-9])' | sort -rV); do
        prefix=$(pyenv prefix "$version" 2>/dev/null || true)
        [ -n "$prefix" ] && candidates+=("$prefix/bin/python3")
    done
fi
for name in python3.14 python3.13 python3.12 python3; do
    path=$(command -v "$name" 2>/dev/null || true)
    [ -n "$path" ] && candidates+=("$path")
done

for candidate in "${candidates[@]}"; do
    if [ -x "$candidate" ] && is_recent "$candidate"; then
        echo "$candidate"
        exit 0
    fi
done
echo "kehu needs Python 3.12 or newer; install it (e.g. apt-get install python3.12) and retry." >&2
exit 1
