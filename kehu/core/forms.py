"""Form bases shared by every app's pages."""

from typing import Any

from django import forms

from kehu.core.text import without_control_characters


class WithoutControlCharacters:
    """Form mixin: text loses its control characters; a text area keeps tab and line breaks,
    a one-line input loses them too. Subclasses that override clean() call super().clean()."""

    fields: dict[str, forms.Field]
    cleaned_data: dict[str, Any]

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean()  # type: ignore[misc]
        for name, value in cleaned.items():
            if isinstance(value, str) and name in self.fields:
                multiline = isinstance(self.fields[name].widget, forms.Textarea)
                cleaned[name] = without_control_characters(value, multiline=multiline).strip()
        return cleaned
