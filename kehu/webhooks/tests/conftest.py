import pytest
from django.utils import translation

from kehu.webhooks.tests.receiver import receiver

__all__ = ["receiver"]


@pytest.fixture(autouse=True)
def english(settings):
    """Messages in English, in the test and in what a worker records (the business's language)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
