"""Money is integer fen (minor units) everywhere; these turn it into text and back.

No floats: 129900 fen is shown as ¥1,299.00, and "1,299.5" typed by a partner is 129950.
"""

from django.conf import settings

SYMBOLS = {"CNY": "¥", "INR": "₹", "IDR": "Rp"}


def format_fen(fen: int | None, *, signed: bool = False) -> str:
    """129900 -> "¥1,299.00"; with signed, money in gets a plus sign. None -> ""."""
    if fen is None:
        return ""
    fen = int(fen)
    sign = "-" if fen < 0 else ("+" if signed and fen > 0 else "")
    symbol = SYMBOLS.get(settings.CURRENCY, settings.CURRENCY + " ")
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}{symbol}{yuan:,}.{cents:02d}"


def plain_yuan(fen: int) -> str:
    """12345 -> "123.45": no symbol, no separators; for form fields and machine-read files."""
    whole, cents = divmod(int(fen), 100)
    return f"{whole}.{cents:02d}"


def parse_yuan(text: str) -> int | None:
    """'1299', '1,299.5', '¥12.50' -> fen; None when empty; ValueError when not an amount."""
    text = (text or "").strip().replace(",", "").replace("¥", "").replace("￥", "")
    if not text:
        return None
    whole, _, part = text.partition(".")
    if not (whole or part) or (whole and not whole.isdigit()) or (part and (not part.isdigit() or len(part) > 2)):
        raise ValueError(text)
    return int(whole or 0) * 100 + int(part.ljust(2, "0") if part else 0)
