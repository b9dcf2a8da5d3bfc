"""Import tests run in English so they can assert on the messages' source text."""

import pytest
from django.utils import translation

from kehu.imports.tests.helpers import media_in_tmp  # noqa: F401


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
