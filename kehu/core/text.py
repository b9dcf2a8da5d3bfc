"""Control characters in text people send: dropped where text enters (forms, API bodies), so
that no stored name can break a spreadsheet, a CSV reader or a terminal later."""

import re

# C0 controls and DEL except tab and line breaks (kept in multi-line text), and lone UTF-16
# surrogates, which no database or spreadsheet can store.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# The same with tab and line breaks, for text that is one line (a name).
ONE_LINE_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


def without_control_characters(text: str, *, multiline: bool = True) -> str:
    pattern = CONTROL_CHARACTERS if multiline else ONE_LINE_CONTROL_CHARACTERS
    return pattern.sub("", text)
