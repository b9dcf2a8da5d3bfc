"""Every zh-hans catalogue is complete, and its compiled .mo says what its .po says."""

import gettext
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CATALOGUES = sorted((ROOT / "kehu").glob("**/locale/zh_Hans/LC_MESSAGES/django.po"))
ENTRY = re.compile(
    r'^(?P<flags>#,[^\n]*\n)?(?:#\|[^\n]*\n)*(?:msgctxt "(?P<context>[^\n]*)"\n)?'
    r'msgid (?P<msgid>(?:"[^\n]*"\n)+)(?P<plural>msgid_plural (?:"[^\n]*"\n)+)?'
    r"(?P<msgstr>(?:msgstr(?:\[\d\])? (?:\"[^\n]*\"\n)+)+)",
    re.MULTILINE,
)


def unquote(block: str) -> str:
    return "".join(
        bytes(part, "utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")
        for part in re.findall(r'"(.*)"', block)
    )


def entries(po_file: Path) -> list[dict[str, str]]:
    text = po_file.read_text(encoding="utf-8").split("\n#~", 1)[0]
    return [match.groupdict() for match in ENTRY.finditer(text + "\n")]


def test_there_are_catalogues():
    assert len(CATALOGUES) >= 6


@pytest.mark.parametrize("po_file", CATALOGUES, ids=lambda path: str(path.relative_to(ROOT)))
def test_catalogue_is_complete_and_compiled(po_file):
    untranslated, fuzzy = [], []
    with (po_file.with_suffix(".mo")).open("rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)
    for entry in entries(po_file):
        msgid = unquote(entry["msgid"])
        if not msgid:
            continue
        translations = re.findall(r"msgstr(?:\[\d\])? ((?:\"[^\n]*\"\n)+)", entry["msgstr"])
        if any(not unquote(block) for block in translations):
            untranslated.append(msgid)
        if entry["flags"] and "fuzzy" in entry["flags"]:
            fuzzy.append(msgid)
        if entry["context"] is None and entry["plural"] is None:
            assert catalogue.gettext(msgid) == unquote(translations[0]), f"stale .mo: {msgid!r}"
    assert untranslated == []
    assert fuzzy == []
