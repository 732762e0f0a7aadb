"""Helpers to build ledger states through the services (the ledger has no free-standing rows)."""

import itertools

from cuntao.ledger.services import Reference

_ids = itertools.count(1)


def order_ref() -> Reference:
    """A reference to an order the orders app would own; the ledger only stores its label and id."""
    return Reference("orders.order", str(next(_ids)))
