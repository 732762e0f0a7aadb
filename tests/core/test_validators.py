import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cuntao.core.validators import (
    mask_national_id,
    normalize_national_id,
    normalize_phone,
    validate_birth_year,
)

VALID_ID = "11010519491231002X"  # the GB 11643 standard's own example


def test_phone_without_country_code_is_read_as_chinese_mobile():
    assert normalize_phone("138 1234 5678") == "+8613812345678"


def test_phone_with_country_code_keeps_its_country():
    assert normalize_phone("+91 98765 43210") == "+919876543210"


@pytest.mark.parametrize("raw", ["12345", "1381234567", "phone", "", "+86 000 0000 0000"])
def test_malformed_phone_is_refused_with_the_number_in_the_message(raw):
    with pytest.raises(ValidationError) as caught:
        normalize_phone(raw)
    assert caught.value.code == "invalid_phone"


def test_national_id_with_correct_check_digit_passes_and_is_upper_cased():
    assert normalize_national_id(VALID_ID.lower()) == VALID_ID


def test_national_id_with_wrong_check_digit_is_refused():
    with pytest.raises(ValidationError) as caught:
        normalize_national_id("110105194912310021")
    assert caught.value.code == "invalid_national_id"


@pytest.mark.parametrize("raw", ["11010519491231002", "1101051949123100XX", "110105194913310028"])
def test_national_id_of_wrong_shape_or_date_is_refused(raw):
    with pytest.raises(ValidationError):
        normalize_national_id(raw)


def test_national_id_is_masked_to_first_three_and_last_four():
    assert mask_national_id(VALID_ID) == "110***********002X"


def test_birth_year_in_the_future_is_refused():
    with pytest.raises(ValidationError) as caught:
        validate_birth_year(timezone.localdate().year + 1)
    assert caught.value.code == "future_birth_year"


def test_birth_year_this_year_is_accepted():
    validate_birth_year(timezone.localdate().year)
