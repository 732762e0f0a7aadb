"""Validators for the people data every app shares: phones, ID numbers, birth years."""

import datetime

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# GB 11643-1999: weights of the first 17 digits, and the check character for sum % 11.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
OLDEST_BIRTH_YEAR = 1900


def normalize_phone(raw: str) -> str:
    """Return the number in E.164 (+8613812345678), or raise ValidationError.

    Numbers without a country code are read in the network's region.
    """
    text = (raw or "").strip()
    try:
        number = phonenumbers.parse(text, settings.PHONE_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("“%(phone)s” is not a valid phone number. Enter 11 digits such as 13812345678, or +country code and number."),
            code="invalid_phone",
            params={"phone": text[:40]},
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def national_id_check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def normalize_national_id(raw: str) -> str:
    """Return an 18-character resident ID number (GB 11643) in upper case, or raise."""
    text = (raw or "").strip().upper()
    if len(text) != 18 or not text[:17].isdigit() or not (text[17].isdigit() or text[17] == "X"):
        raise ValidationError(
            _("An ID number has 18 characters: 17 digits and a last digit or X."),
            code="invalid_national_id",
        )
    try:
        datetime.date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        raise ValidationError(
            _("The birth date inside this ID number (characters 7 to 14) is not a real date."),
            code="invalid_national_id",
        ) from None
    if national_id_check_char(text[:17]) != text[17]:
        raise ValidationError(
            _("This ID number's last character does not match its check digit; check it for a mistyped digit."),
            code="invalid_national_id",
        )
    return text


def national_id_birth_year(national_id: str) -> int:
    return int(national_id[6:10])


def mask_national_id(national_id: str) -> str:
    """Show only the first 3 and last 4 characters: enough to tell two people apart."""
    if not national_id:
        return ""
    return national_id[:3] + "*" * (len(national_id) - 7) + national_id[-4:]


def mask_name(name: str) -> str:
    """王** for 王小明: shown on public pages, where a full name is not needed."""
    return name[:1] + "*" * max(len(name) - 1, 1)


def validate_birth_year(year: int) -> None:
    this_year = timezone.localdate().year
    if year > this_year:
        raise ValidationError(
            _("The birth year %(year)s is in the future; enter the year the person was born."),
            code="future_birth_year",
            params={"year": year},
        )
    if year < OLDEST_BIRTH_YEAR:
        raise ValidationError(
            _("The birth year %(year)s is too early; enter a year after %(oldest)s."),
            code="invalid_birth_year",
            params={"year": year, "oldest": OLDEST_BIRTH_YEAR},
        )


def validate_phone(value: str) -> None:
    if value and normalize_phone(value) != value:
        raise ValidationError(_("Store phone numbers in E.164 form, such as +8613812345678."), code="invalid_phone")


def validate_national_id(value: str) -> None:
    if value:
        normalize_national_id(value)
