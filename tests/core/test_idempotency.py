"""Idempotency-Key: a retry never creates twice, even when both copies race."""

import threading

import pytest
from django.db import connection
from django.test import Client

from cuntao.core.models import IdempotencyRecord
from cuntao.villagers.models import Villager

GOOD = {"name": "张桂兰", "birth_year": 1952, "gender": "female", "consent": True}


def post(client, body, key):
    return client.post("/api/v1/villagers", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)


def test_same_key_and_body_returns_the_first_response(partner_client):
    first = post(partner_client, GOOD, "k-1")
    second = post(partner_client, GOOD, "k-1")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Villager.objects.count() == 1


def test_same_key_with_different_body_is_422_and_changes_nothing(partner_client):
    post(partner_client, GOOD, "k-2")
    response = post(partner_client, {**GOOD, "name": "李四"}, "k-2")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert list(Villager.objects.values_list("name", flat=True)) == ["张桂兰"]


def test_refused_request_keeps_no_record_so_a_corrected_retry_succeeds(partner_client):
    assert post(partner_client, {**GOOD, "phone": "1"}, "k-3").status_code == 422
    assert not IdempotencyRecord.objects.exists()
    assert post(partner_client, {**GOOD, "phone": "1"}, "k-3").status_code == 422
    assert post(partner_client, GOOD, "k-4").status_code == 201


def test_keys_belong_to_their_user(partner_client, other_station):
    from cuntao.network.models import Partner
    from tests.conftest import login

    neighbour = login(Partner.objects.get(station=other_station).user)
    assert post(partner_client, GOOD, "shared").status_code == 201
    assert post(neighbour, GOOD, "shared").status_code == 201
    assert Villager.objects.count() == 2


def test_token_secret_is_not_kept_for_replays(partner_client):
    first = partner_client.post("/api/v1/tokens", {"name": "pad"}, content_type="application/json",
                                HTTP_IDEMPOTENCY_KEY="t-1").json()
    again = partner_client.post("/api/v1/tokens", {"name": "pad"}, content_type="application/json",
                                HTTP_IDEMPOTENCY_KEY="t-1").json()
    assert first["token"] and again["token"] is None and again["id"] == first["id"]
    assert first["token"] not in str(IdempotencyRecord.objects.get().response_body)


def test_overlong_key_is_refused(partner_client):
    response = post(partner_client, GOOD, "k" * 300)
    assert response.status_code == 400
    assert not Villager.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_requests_with_one_key_create_one_villager(partner):
    """Two threads, two connections, one key: one villager, both answered alike."""
    barrier = threading.Barrier(2, timeout=30)
    responses, errors = [], []
    clients = []
    for _ in range(2):
        client = Client()
        client.force_login(partner.user)
        clients.append(client)

    def send(client):
        try:
            barrier.wait()
            responses.append(post(client, GOOD, "race-1"))
        except Exception as exc:  # reported below: a thread's exception is otherwise lost
            errors.append(exc)
        finally:
            connection.close()  # this thread's own connection, so the test database can be dropped

    threads = [threading.Thread(target=send, args=(client,)) for client in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert len(responses) == 2
    assert Villager.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1
    statuses = sorted(r.status_code for r in responses)
    # The loser either waited and replays the winner's answer, or (if it arrived while
    # the winner was still running) is told to retry; it never creates a second row.
    assert statuses in ([201, 201], [201, 409])
    if statuses == [201, 201]:
        assert responses[0].json() == responses[1].json()
