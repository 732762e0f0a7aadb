"""GTIN check digits, GS1 Digital Link and short URIs, box codes typed by hand."""

import pytest

from cuntao.produce import codes


@pytest.mark.parametrize("gtin", [
    "4006381333931",   # EAN-13 on a Stabilo pen
    "9780306406157",   # ISBN-13 as EAN-13
    "036000291452",    # UPC-A (GTIN-12)
    "96385074",        # GTIN-8
    "09506000134352",  # GTIN-14 of GS1's Digital Link examples
    "10614141000415",  # GTIN-14 with indicator 1 (GS1 US examples)
])
def test_known_gtins_have_correct_check_digits(gtin):
    assert codes.is_valid_gtin(gtin)
    assert codes.gtin_check_digit(gtin[:-1]) == int(gtin[-1])


@pytest.mark.parametrize("gtin", ["4006381333932", "09506000134353", "123", "abcdefghijklm", "", "0950600013435X"])
def test_wrong_gtins_are_refused(gtin):
    assert not codes.is_valid_gtin(gtin)
    with pytest.raises(ValueError):
        codes.gtin14(gtin)


def test_gtin14_pads_shorter_gtins():
    assert codes.gtin14("4006381333931") == "04006381333931"


def test_make_gtin14_computes_the_check_digit():
    assert codes.make_gtin14(company_prefix="6901234", item_reference="00001") == "06901234000016"
    with pytest.raises(ValueError):
        codes.make_gtin14(company_prefix="6901234", item_reference="1")


def test_digital_link_path_has_gtin_lot_and_serial(db):
    assert codes.digital_link_path(gtin="4006381333931", lot="G260922A-ABCDE", serial="K7M2Q9X4TR") == \
        "/01/04006381333931/10/G260922A-ABCDE/21/K7M2Q9X4TR"
    with pytest.raises(ValueError):
        codes.digital_link_path(gtin="4006381333931", lot="x" * 21, serial="A")


def test_box_codes_are_ten_unambiguous_characters():
    code = codes.new_box_code()
    assert len(code) == 10 and not set(code) & set("ILOU")


@pytest.mark.parametrize("typed,stored", [("k7m2q9x4tr", "K7M2Q9X4TR"), (" K7M2Q9X4TR ", "K7M2Q9X4TR"),
                                          ("O1234567IL", "0123456711"), ("short", None), ("K7M2Q9X4T!", None)])
def test_typed_codes_are_normalised(typed, stored):
    assert codes.normalise_box_code(typed) == stored
