"""The product feed: the shop's listings as CSV, for listing them on external marketplaces.

One row per listing on sale, with the columns marketplaces ask for. Prices are in yuan
with two decimals (written from fen without floats); URLs are absolute, made from the
request's host.
"""

import csv
import io

from cuntao.core.money import plain_yuan
from cuntao.shop.models import Listing

FEED_COLUMNS = ("id", "title_zh", "title_en", "brand", "cooperative", "pack_size", "net_weight_g", "price_yuan",
                "currency", "stock", "availability", "url", "image_url")


def feed_row(listing: Listing, *, absolute, currency: str, default_image: str) -> dict:
    """One listing as a feed row; absolute(path) makes a full URL of a path."""
    brand = listing.pack_size.standard.brand
    image = listing.image_url or default_image
    return {
        "id": f"cuntao-{listing.pk}",
        "title_zh": listing.title_zh,
        "title_en": listing.title_en,
        "brand": brand.name if brand else "",
        "cooperative": listing.cooperative.name,
        "pack_size": listing.pack_size.name,
        "net_weight_g": listing.pack_size.net_weight_g,
        "price_yuan": plain_yuan(listing.price_fen),
        "currency": currency,
        "stock": listing.stock,
        "availability": "in_stock" if listing.stock > 0 else "out_of_stock",
        "url": absolute(listing.get_absolute_url()),
        "image_url": absolute(image) if image else "",
    }


def _cell(value) -> str:
    """Keep a spreadsheet from running a cell as a formula (CSV injection)."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def feed_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FEED_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _cell(value) for key, value in row.items()})
    return out.getvalue()
