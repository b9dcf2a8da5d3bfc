"""Fill empty translations of a .po file from a JSON map of msgid → translation.

Used when adding a handful of strings by hand: `python scripts/fill-translations.py PO JSON`.
A message with a context is keyed "context\\u0004msgid" (as gettext does); a plural message by
its singular msgid, and every msgstr[n] gets the same text (zh-hans has one plural form).
An entry that makemessages marked fuzzy gets the given translation and loses the mark.
"""

import json
import re
import sys
from pathlib import Path

QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
KEYWORD = re.compile(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) ")


def unquoted(lines: list[str]) -> str:
    return "".join(json.loads(part) for line in lines for part in QUOTED.findall(line))


def parse(block: list[str]) -> dict[str, list[str]]:
    """Keyword → its quoted lines, for one entry (comment lines are skipped)."""
    fields: dict[str, list[str]] = {}
    current = None
    for line in block:
        match = KEYWORD.match(line)
        if match:
            current = match.group(1)
            fields[current] = [line[match.end() :]]
        elif current and line.startswith('"'):
            fields[current].append(line)
    return fields


def filled_block(block: list[str], translations: dict[str, str]) -> list[str] | None:
    fields = parse(block)
    if "msgid" not in fields:
        return None
    message = unquoted(fields["msgid"])
    if "msgctxt" in fields:
        message = unquoted(fields["msgctxt"]) + "\x04" + message
    targets = [name for name in fields if name.startswith("msgstr")]
    if not message or message not in translations or not targets:
        return None
    if any(unquoted(fields[name]) for name in targets) and not is_fuzzy(block):
        return None
    text = json.dumps(translations[message], ensure_ascii=False)
    lines = []
    skipping = False
    for line in block:
        match = KEYWORD.match(line)
        if match and match.group(1).startswith("msgstr"):
            lines.append(f"{match.group(1)} {text}")
            skipping = True
        elif skipping and line.startswith('"'):
            continue
        else:
            skipping = False
            lines.append(unfuzzy(line))
    return lines


def is_fuzzy(block: list[str]) -> bool:
    return any(line.startswith("#,") and "fuzzy" in line for line in block)


def unfuzzy(line: str) -> str:
    if not line.startswith("#,"):
        return line
    flags = [flag.strip() for flag in line[2:].split(",") if flag.strip() != "fuzzy"]
    return "#, " + ", ".join(flags) if flags else ""


def fill(po_path: Path, translations: dict[str, str]) -> int:
    blocks = po_path.read_text(encoding="utf-8").split("\n\n")
    filled = 0
    for index, block in enumerate(blocks):
        lines = block.split("\n")
        if index == 0:
            continue  # the header
        replacement = filled_block(lines, translations)
        if replacement is not None:
            blocks[index] = "\n".join(line for line in replacement if line != "")
            filled += 1
    po_path.write_text("\n\n".join(blocks), encoding="utf-8")
    return filled


if __name__ == "__main__":
    count = fill(Path(sys.argv[1]), json.loads(Path(sys.argv[2]).read_text(encoding="utf-8")))
    print(f"{count} entries filled")
