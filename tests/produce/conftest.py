import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def english(settings):
    """These tests read messages in English; tests/core/test_translations.py checks the Chinese."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def kiwi(station):
    """The kiwi cooperative of `station`'s county with a published 2026 standard."""
    from tests.produce.factories import kiwi_cooperative

    return kiwi_cooperative(station=station)


@pytest.fixture
def inspector(kiwi):
    """A user assigned to inspect the kiwi cooperative (and nothing else)."""
    from tests.produce.factories import assign_inspector

    return assign_inspector(kiwi.coop, username="inspector")
