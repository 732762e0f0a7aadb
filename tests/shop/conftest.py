import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def english(settings):
    """These tests read messages in English; tests/core/test_translations.py checks the Chinese."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def shop(station):
    """The kiwi cooperative of `station`'s county: 10 grade-A boxes in stock, the 5 kg gift box listed at ¥128.00."""
    from tests.shop.factories import kiwi_shop

    return kiwi_shop(station=station)


@pytest.fixture
def chen(db):
    """A city buyer."""
    from tests.shop.factories import buyer

    return buyer(name="陈小姐", phone="13900001111")
