"""Fill empty msgstr entries of a .po file from a JSON map of msgid → translation.

Used when adding a handful of strings by hand: `python scripts/fill-translations.py PO JSON`.
"""

import json
import re
import sys
from pathlib import Path

ENTRY = re.compile(r'(msgid ((?:"(?:[^"\\]|\\.)*"\s*)+)msgstr )""\n(?!")', re.MULTILINE)


def joined(quoted: str) -> str:
    return "".join(json.loads(part) for part in re.findall(r'"(?:[^"\\]|\\.)*"', quoted))


def fill(po_path: Path, translations: dict[str, str]) -> int:
    text = po_path.read_text(encoding="utf-8")
    filled = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal filled
        message = joined(match.group(2))
        if message and message in translations:
            filled += 1
            return match.group(1) + json.dumps(translations[message], ensure_ascii=False) + "\n"
        return match.group(0)

    po_path.write_text(ENTRY.sub(replace, text), encoding="utf-8")
    return filled


if __name__ == "__main__":
    count = fill(Path(sys.argv[1]), json.loads(Path(sys.argv[2]).read_text(encoding="utf-8")))
    print(f"{count} entries filled")
