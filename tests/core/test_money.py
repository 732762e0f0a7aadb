import pytest

from cuntao.core.money import format_fen, parse_yuan


@pytest.mark.parametrize("fen, text", [(129900, "¥1,299.00"), (5, "¥0.05"), (-250, "-¥2.50"), (0, "¥0.00"), (None, "")])
def test_fen_is_shown_as_yuan(fen, text):
    assert format_fen(fen) == text


def test_signed_shows_money_in_with_a_plus():
    assert format_fen(100, signed=True) == "+¥1.00"


@pytest.mark.parametrize("text, fen", [("1299", 129900), ("1,299.5", 129950), ("¥12.05", 1205), (".5", 50), ("", None)])
def test_typed_yuan_become_fen(text, fen):
    assert parse_yuan(text) == fen


@pytest.mark.parametrize("text", ["abc", "1.234", "-5", "1.2.3", "."])
def test_what_is_not_an_amount_is_refused(text):
    with pytest.raises(ValueError):
        parse_yuan(text)
