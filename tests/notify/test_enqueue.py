"""Queueing notices inside other apps' transactions: who gets them, how, in which language, once."""

import pytest
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy

from cuntao.notify.kinds import NoticeKind, register_notice_kind, yuan
from cuntao.notify.models import DeliveredMessage, Notice, NoticeEvent
from cuntao.notify.services import notice_enqueue, notices_cancel
from tests.factories import RelativeFactory, VillagerFactory
from tests.notify.factories import NoticeFactory

# A kind whose text is already in the Chinese catalogue, so the language shows in the test.
register_notice_kind(NoticeKind(key="test_hello", label=gettext_lazy("Hello, %(name)s."),
                                text=gettext_lazy("Hello, %(name)s."), params=("name",)))

PICKUP = {"kind": "pickup_code", "params": {"code": "482913"}}


def enqueue(villager=None, key="parcel:1:arrived", **kwargs):
    return notice_enqueue(villager=villager, dedupe_key=key, **{**PICKUP, **kwargs})


def test_notice_queued_in_a_transaction_that_rolls_back_leaves_nothing(station):
    villager = VillagerFactory(station=station, phone="+8613812345678")

    class BusinessRefused(Exception):
        pass

    with pytest.raises(BusinessRefused), transaction.atomic():
        enqueue(villager)
        assert Notice.objects.count() == 1
        raise BusinessRefused
    assert not Notice.objects.exists()


def test_notice_queued_inside_the_callers_transaction_commits_with_it(station):
    villager = VillagerFactory(station=station, phone="+8613812345678")
    with transaction.atomic():
        [notice] = enqueue(villager)
    assert Notice.objects.get().pk == notice.pk


def test_villager_with_a_phone_gets_a_text_due_now(station):
    villager = VillagerFactory(station=station, phone="+8613812345678")
    [notice] = enqueue(villager)
    assert (notice.channel, notice.phone, notice.status) == ("sms", "+8613812345678", "pending")
    assert notice.villager == villager and notice.relative is None
    assert notice.county_id == station.county_id and notice.station_id == station.pk
    assert notice.next_attempt_at is not None and notice.attempts == 0


def test_villager_who_cannot_read_gets_a_voice_call(station):
    villager = VillagerFactory(station=station, phone="+8613812345678", needs_voice=True)
    [notice] = enqueue(villager)
    assert (notice.channel, notice.phone) == ("voice", "+8613812345678")


def test_villager_without_phone_is_told_through_each_relative_who_receives_notices(station):
    villager = VillagerFactory(station=station, phone="", needs_voice=True)
    son = RelativeFactory(villager=villager, name="王建国")
    daughter = RelativeFactory(villager=villager, name="王丽", relation="daughter")
    RelativeFactory(villager=villager, receives_notices=False)
    notices = enqueue(villager)
    assert sorted((n.relative_id, n.phone, n.channel) for n in notices) == sorted(
        [(son.pk, son.phone, "sms"), (daughter.pk, daughter.phone, "sms")])
    assert all(n.villager_id == villager.pk for n in notices)


def test_villager_without_phone_or_relatives_goes_on_the_stations_tell_list(station):
    villager = VillagerFactory(station=station, phone="")
    RelativeFactory(villager=villager, receives_notices=False)
    [notice] = enqueue(villager)
    assert (notice.channel, notice.phone, notice.station_id) == ("in_person", "", station.pk)
    assert notice.next_attempt_at is None


def test_pay_link_goes_to_the_relative_asked_to_pay_and_nobody_else(station):
    villager = VillagerFactory(station=station, phone="+8613812345678")
    payer = RelativeFactory(villager=villager, receives_notices=False)
    RelativeFactory(villager=villager)
    [notice] = notice_enqueue(kind="pay_link", relative=payer, dedupe_key="order:7:pay-link",
                              params={"order_no": "A7", "amount": yuan(129900), "url": "https://x.test/p/abc",
                                      "expires": "12-01 18:00"})
    assert (notice.relative_id, notice.phone, notice.channel) == (payer.pk, payer.phone, "sms")
    assert notice.villager_id == villager.pk
    assert "¥1,299.00" in notice.text and "https://x.test/p/abc" in notice.text


def test_personal_notice_for_villager_without_phone_is_told_in_person_not_passed_to_relatives(station):
    villager = VillagerFactory(station=station, phone="")
    RelativeFactory(villager=villager)
    [notice] = notice_enqueue(kind="pay_link", villager=villager, dedupe_key="order:8:pay-link",
                              params={"order_no": "A8", "amount": yuan(500), "url": "https://x.test/p/d",
                                      "expires": "12-01"})
    assert notice.channel == "in_person" and notice.relative is None


@pytest.mark.parametrize("language, expected", [("zh-hans", "王秀英，你好。"), ("en", "Hello, 王秀英.")])
def test_text_is_rendered_in_the_villagers_language(station, language, expected):
    villager = VillagerFactory(station=station, phone="+8613812345678", language=language, name="王秀英")
    [notice] = notice_enqueue(kind="test_hello", villager=villager, dedupe_key="hello", params={"name": "王秀英"})
    assert notice.text == expected
    assert notice.language == language


def test_text_names_the_station_and_for_a_relative_the_villager(station):
    villager = VillagerFactory(station=station, phone="", language="en", name="张桂兰")
    RelativeFactory(villager=villager)
    [notice] = enqueue(villager)
    assert station.name in notice.text and "张桂兰" in notice.text and "482913" in notice.text


def test_same_business_event_queued_again_returns_the_first_notices_and_adds_none(station):
    villager = VillagerFactory(station=station, phone="")
    RelativeFactory(villager=villager)
    first = enqueue(villager, key="parcel:9:arrived")
    RelativeFactory(villager=villager)  # added meanwhile: the event was already told
    again = enqueue(villager, key="parcel:9:arrived")
    assert [n.pk for n in again] == [n.pk for n in first]
    assert Notice.objects.count() == 1


def test_same_key_in_another_county_is_another_event(station, far_station):
    enqueue(VillagerFactory(station=station, phone="+8613812345678"), key="parcel:1:arrived")
    enqueue(VillagerFactory(station=far_station, phone="+8613812345679"), key="parcel:1:arrived")
    assert Notice.objects.count() == 2


def test_database_refuses_a_second_notice_for_one_event_and_recipient(station):
    first = NoticeFactory(villager__station=station, dedupe_key="order:1:placed")
    with pytest.raises(IntegrityError), transaction.atomic():
        NoticeFactory(villager=first.villager, dedupe_key="order:1:placed")


@pytest.mark.parametrize("fields", [
    {"channel": "in_person", "next_attempt_at": None},  # in person, yet with a phone
    {"phone": ""},  # a text without a number
    {"next_attempt_at": None},  # waiting, but never due
    {"status": "sent"},  # sent, but no time
    {"status": "sending"},  # sending, but nobody's claim
])
def test_database_refuses_a_notice_that_breaks_an_invariant(station, fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        NoticeFactory(villager__station=station, **fields)


@pytest.mark.parametrize("call", [
    {"kind": "no_such_kind"},
    {"params": {}},
    {"params": {"code": "1", "typo": "2"}},
    {"key": ""},
])
def test_a_programming_mistake_raises_and_queues_nothing(station, call):
    villager = VillagerFactory(station=station, phone="+8613812345678")
    with pytest.raises(ValueError):
        enqueue(villager, **call)
    assert not Notice.objects.exists()


def test_relative_of_another_villager_is_refused(station):
    villager = VillagerFactory(station=station, phone="")
    stranger = RelativeFactory(villager__station=station)
    with pytest.raises(ValueError):
        enqueue(villager, relative=stranger)


def test_station_of_another_county_is_refused(station, far_station):
    villager = VillagerFactory(station=station, phone="+8613812345678")
    with pytest.raises(ValueError):
        enqueue(villager, station_id=far_station.pk)


def test_notice_may_name_another_station_of_the_county(station, other_station):
    villager = VillagerFactory(station=station, phone="")
    [notice] = enqueue(villager, station_id=other_station.pk)
    assert notice.station_id == other_station.pk and other_station.name in notice.text


def test_cancelling_an_event_cancels_its_waiting_notices_with_an_event_row(station, partner):
    villager = VillagerFactory(station=station, phone="")
    RelativeFactory(villager=villager)
    RelativeFactory(villager=villager)
    enqueue(villager, key="order:3:pay-link")
    other = enqueue(villager, key="order:4:pay-link")
    assert notices_cancel(county_id=station.county_id, dedupe_key="order:3:pay-link", actor=partner.user,
                          reason="order cancelled") == 2
    assert set(Notice.objects.filter(dedupe_key="order:3:pay-link").values_list("status", flat=True)) == {"cancelled"}
    assert {n.status for n in Notice.objects.filter(pk__in=[n.pk for n in other])} == {"pending"}
    assert NoticeEvent.objects.filter(to_status="cancelled", actor=partner.user).count() == 2
    assert notices_cancel(county_id=station.county_id, dedupe_key="order:3:pay-link") == 0
    assert not DeliveredMessage.objects.exists()


def test_yuan_formats_fen_without_floats():
    assert (yuan(0), yuan(5), yuan(129900), yuan(-250)) == ("¥0.00", "¥0.05", "¥1,299.00", "-¥2.50")


def test_queueing_for_a_villager_with_a_phone_takes_two_queries(station, django_assert_max_num_queries):
    villager = VillagerFactory(station=station, phone="+8613812345678")
    with django_assert_max_num_queries(2):  # the dedupe check and one insert; the caller holds the station
        enqueue(villager)
