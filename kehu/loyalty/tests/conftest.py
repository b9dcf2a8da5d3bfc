"""The loyalty tests check messages word for word in English: pages, the API and services
answer in English here whatever the zh-hans catalogue says (tests/test_translations.py checks
that catalogue)."""

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
