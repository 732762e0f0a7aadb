"""The hand-written statements of the hot paths write and read exactly what the ORM does."""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from cuntao.core.db import Columns, insert_new, pk_where
from cuntao.core.errors import NotFound
from cuntao.core.models import ApiToken, IdempotencyRecord, hash_token
from cuntao.notify.models import Notice
from cuntao.villagers.models import Villager
from cuntao.villagers.selectors import villager_get_for_actor, villager_with_station_for_actor
from tests.factories import UserFactory, VillagerFactory


def orm_row(model, pk) -> dict:
    return model.objects.filter(pk=pk).values().get()


def test_insert_new_writes_the_rows_bulk_create_writes(db, station):
    villager = VillagerFactory(station=station, needs_voice=True)
    made = dict(county_id=station.county_id, station=station, villager=villager, phone="+8613800000000",
                channel="sms", language="zh-hans", kind="order_placed", text="订单已下 ✓", recipient_key="villager",
                next_attempt_at=timezone.now())
    by_orm = Notice.objects.bulk_create([Notice(dedupe_key="a", **made)])[0]
    by_hand = insert_new([Notice(dedupe_key="b", **made), Notice(dedupe_key="c", **made)])
    assert [n.pk for n in by_hand] == sorted(n.pk for n in by_hand) and by_hand[0].pk > by_orm.pk
    assert not by_hand[0]._state.adding
    own = ("id", "dedupe_key", "created_at", "reference")  # each row's own values
    expected = orm_row(Notice, by_orm.pk)
    for notice in by_hand:
        got = orm_row(Notice, notice.pk)
        assert {k: v for k, v in got.items() if k not in own} == {k: v for k, v in expected.items() if k not in own}
        assert got["created_at"] is not None  # auto_now_add, filled by the field's pre_save
        assert got["reference"] == notice.reference  # a UUID, stored as the field stores it


def test_insert_new_adapts_json_and_datetimes_as_the_orm_does(db):
    user = UserFactory()
    [record] = insert_new([IdempotencyRecord(user=user, key="k", request_hash="h" * 64, response_status=201,
                                             response_body={"a": [1, "二"], "b": None})])
    stored = IdempotencyRecord.objects.get(pk=record.pk)
    assert stored.response_body == {"a": [1, "二"], "b": None}
    assert abs((timezone.now() - stored.created_at).total_seconds()) < 60


def test_insert_new_meets_the_same_unique_index(db):
    user = UserFactory()
    insert_new([IdempotencyRecord(user=user, key="same", request_hash="h", response_status=0, response_body={})])
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_new([IdempotencyRecord(user=user, key="same", request_hash="h", response_status=0, response_body={})])
    assert IdempotencyRecord.objects.filter(key="same").count() == 1


def test_pk_where_finds_one_row_or_none(db):
    user = UserFactory()
    record = IdempotencyRecord.objects.create(user=user, key="k1", request_hash="h", response_status=0,
                                              response_body={})
    assert pk_where(IdempotencyRecord, user_id=user.pk, key="k1") == record.pk
    assert pk_where(IdempotencyRecord, user_id=user.pk, key="k2") is None


def test_columns_build_the_model_a_queryset_builds(db, station):
    from django.db import connection

    villager = VillagerFactory(station=station, needs_voice=True, phone="")
    columns = Columns(Villager, "v")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns.sql} FROM villagers_villager v WHERE v.id = %s", [villager.pk])
        built = columns.build(cursor.fetchone())
    by_orm = Villager.objects.get(pk=villager.pk)
    for field in Villager._meta.concrete_fields:
        assert getattr(built, field.attname) == getattr(by_orm, field.attname), field.name
    assert built.needs_voice is True and isinstance(built.consent_at, datetime.datetime)
    assert not built._state.adding


def test_only_columns_leave_the_rest_deferred(db, partner):
    from django.db import connection

    columns = Columns(ApiToken, "t", only=("id", "last_used_at"))
    token = ApiToken.objects.create(user=partner.user, name="phone", key_hash=hash_token("x"), hint="x")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns.sql} FROM core_apitoken t WHERE t.id = %s", [token.pk])
        built = columns.build(cursor.fetchone())
    assert built.get_deferred_fields() >= {"name", "key_hash"}
    assert built.name == "phone"  # loaded when asked, as .only() would


def test_villager_with_station_keeps_to_the_scope(db, station, partner, other_station, clerk, scope_of):
    mine = VillagerFactory(station=station)
    next_door = VillagerFactory(station=other_station)
    got = villager_with_station_for_actor(scope=scope_of(partner.user), villager_id=mine.pk)
    assert got.pk == mine.pk and got.station.code == station.code
    for scope, villager_id in ((scope_of(partner.user), next_door.pk), (scope_of(partner.user), 10**9),
                               (scope_of(UserFactory()), mine.pk)):
        with pytest.raises(NotFound):
            villager_with_station_for_actor(scope=scope, villager_id=villager_id)
    # County staff reach both, as through villager_get_for_actor.
    staff = scope_of(clerk)
    for villager in (mine, next_door):
        assert villager_with_station_for_actor(scope=staff, villager_id=villager.pk).pk == \
            villager_get_for_actor(scope=staff, villager_id=villager.pk).pk


def test_token_reads_its_user_and_partner_and_refuses_dead_tokens(db, partner):
    secret = "ct_hot_path_secret"
    token = ApiToken.objects.create(user=partner.user, name="phone", key_hash=hash_token(secret), hint=secret[:8])
    client = Client()

    def whoami():
        return client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {secret}")

    answer = whoami()
    assert answer.status_code == 200, answer.content
    assert answer.json() == {"username": partner.user.username, "role": "partner",
                             "county_ids": [partner.station.county_id], "station_ids": [partner.station_id]}
    token.refresh_from_db()
    assert token.last_used_at is not None
    partner.user.is_active = False
    partner.user.save()
    assert whoami().status_code == 401
    partner.user.is_active = True
    partner.user.save()
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    assert whoami().status_code == 401
    assert Client().get("/api/v1/me", HTTP_AUTHORIZATION="Bearer ct_forged").status_code == 401
