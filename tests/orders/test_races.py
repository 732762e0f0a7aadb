"""Real races: threads, each with its own database connection, meeting at a barrier."""

import threading

import pytest
from django.db import connection
from django.test import Client

from cuntao.catalog.models import Product
from cuntao.core.errors import Conflict
from cuntao.ledger.models import Transaction
from cuntao.orders.models import Order, OrderLine
from tests.orders.factories import place, rice_cooker, villager_at

pytestmark = pytest.mark.django_db(transaction=True)


def run_in_threads(n, work):
    """Run work(i) in n threads released together; return (outcomes, unexpected exceptions)."""
    barrier = threading.Barrier(n, timeout=30)
    outcomes, errors = [], []

    def run(i):
        try:
            barrier.wait()
            outcomes.append(work(i))
        except Exception as exc:  # noqa: BLE001 - reported by the caller; a thread's exception is otherwise lost
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    assert not any(t.is_alive() for t in threads)
    return outcomes, errors


def test_sixteen_buyers_of_the_last_ten_units_sell_exactly_ten(partner, station, scope_of):
    scope = scope_of(partner.user)
    cooker = rice_cooker(stock=10)
    villagers = [villager_at(station, name=f"村民{i}") for i in range(16)]

    def buy(i):
        try:
            place(scope, station, villagers[i], cooker, quantity=1)
            return "sold"
        except Conflict as e:
            assert e.code == "out_of_stock"
            return "out_of_stock"

    outcomes, errors = run_in_threads(16, buy)
    assert not errors, errors
    assert sorted(outcomes).count("sold") == 10 and outcomes.count("out_of_stock") == 6
    assert Product.objects.get(pk=cooker.pk).stock == 0
    assert Order.objects.count() == 10
    assert sum(OrderLine.objects.values_list("quantity", flat=True)) == 10
    assert Transaction.objects.filter(kind="payment").count() == 10


def test_five_service_calls_with_one_idempotency_key_make_one_order(partner, station, scope_of):
    scope = scope_of(partner.user)
    cooker = rice_cooker(stock=10)
    villager = villager_at(station)

    outcomes, errors = run_in_threads(
        5, lambda i: place(scope, station, villager, cooker, quantity=2, idempotency_key="same-key").pk)
    assert not errors, errors
    assert len(set(outcomes)) == 1 and Order.objects.count() == 1
    assert Product.objects.get(pk=cooker.pk).stock == 8


def test_five_api_requests_with_one_idempotency_key_make_one_order(partner, station):
    cooker = rice_cooker(stock=10)
    villager = villager_at(station)
    body = {"villager_id": villager.pk, "payment_method": "cash_now",
            "lines": [{"product_id": cooker.pk, "quantity": 1, "expected_unit_price_fen": cooker.price_fen}]}
    clients = []
    for _ in range(5):
        client = Client()
        client.force_login(partner.user)
        clients.append(client)

    outcomes, errors = run_in_threads(5, lambda i: clients[i].post(
        "/api/v1/orders", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="api-race"))
    assert not errors, errors
    assert Order.objects.count() == 1
    assert Product.objects.get(pk=cooker.pk).stock == 9
    statuses = [r.status_code for r in outcomes]
    # A loser that arrives while the winner still runs is told to retry (409); none creates.
    assert statuses.count(201) >= 1 and set(statuses) <= {201, 409}
    assert {r.json()["number"] for r in outcomes if r.status_code == 201} == {Order.objects.get().number}


def test_one_idempotency_key_over_different_products_still_makes_one_order(partner, station, scope_of):
    """The twins lock no product in common; the unique (station, key) index decides."""
    from tests.orders.factories import fertiliser
    scope = scope_of(partner.user)
    products = [rice_cooker(stock=10), fertiliser(stock=10)]
    villager = villager_at(station)

    outcomes, errors = run_in_threads(
        6, lambda i: place(scope, station, villager, products[i % 2], idempotency_key="twin").pk)
    assert not errors, errors
    assert len(set(outcomes)) == 1 and Order.objects.count() == 1
    assert sorted(Product.objects.values_list("stock", flat=True)) == [9, 10]
