"""The partner's in-person list, the county's failed notices, and the API: each within its scope."""

from django.urls import reverse

from cuntao.notify.models import Notice, NoticeEvent
from cuntao.notify.services import notice_enqueue
from tests.conftest import login
from tests.factories import UserFactory, VillagerFactory
from tests.notify.factories import (
    FailedNoticeFactory,
    InPersonNoticeFactory,
    NoticeFactory,
)


def tell_url(station):
    return reverse("notify:tell_list", args=[station.code])


def test_partner_sees_their_stations_in_person_list_and_not_the_neighbours(partner_client, partner, other_station):
    mine = InPersonNoticeFactory(villager__station=partner.station, villager__name="张桂兰", text="您的包裹到了")
    theirs = InPersonNoticeFactory(villager__station=other_station, villager__name="赵大爷", text="邻站的通知")
    NoticeFactory(villager__station=partner.station, text="短信通知")  # goes by text: not on the list
    page = partner_client.get(tell_url(partner.station)).content.decode()
    assert "张桂兰" in page and mine.text in page
    assert theirs.text not in page and "短信通知" not in page
    assert partner_client.get(tell_url(other_station)).status_code == 404


def test_partner_marks_a_villager_told_and_the_notice_leaves_the_list(partner_client, partner):
    notice = InPersonNoticeFactory(villager__station=partner.station, text="您的包裹到了")
    response = partner_client.post(reverse("notify:told", args=[notice.pk]), {"next": tell_url(partner.station)})
    assert response.status_code == 302 and response["Location"] == tell_url(partner.station)
    notice.refresh_from_db()
    assert (notice.status, notice.sent_by) == ("sent", partner.user) and notice.sent_at is not None
    event = NoticeEvent.objects.get(notice=notice)
    assert (event.from_status, event.to_status, event.actor) == ("pending", "sent", partner.user)
    assert notice.text not in partner_client.get(tell_url(partner.station)).content.decode()
    # A double tap on a slow network changes nothing.
    partner_client.post(reverse("notify:told", args=[notice.pk]))
    assert NoticeEvent.objects.filter(notice=notice).count() == 1


def test_partner_cannot_mark_a_neighbours_notice_told(partner_client, other_station):
    notice = InPersonNoticeFactory(villager__station=other_station)
    assert partner_client.post(reverse("notify:told", args=[notice.pk])).status_code == 404
    notice.refresh_from_db()
    assert notice.status == "pending"


def test_a_text_notice_cannot_be_marked_told(partner_client, partner):
    notice = NoticeFactory(villager__station=partner.station)
    response = partner_client.post(reverse("notify:told", args=[notice.pk]), follow=True)
    assert "only notices to tell in person" in response.content.decode()
    notice.refresh_from_db()
    assert notice.status == "pending"


def test_station_home_shows_how_many_wait_to_be_told(partner_client, partner, other_station):
    villager = VillagerFactory(station=partner.station, phone="")
    notice_enqueue(kind="pickup_code", villager=villager, dedupe_key="parcel:1", params={"code": "111111"})
    notice_enqueue(kind="pickup_code", villager=villager, dedupe_key="parcel:2", params={"code": "222222"})
    InPersonNoticeFactory(villager__station=other_station)
    page = partner_client.get(reverse("network:station_home")).content.decode()
    assert "<b>2</b>" in page and tell_url(partner.station) in page


def test_tell_list_page_queries_do_not_grow_with_the_list(partner_client, partner, django_assert_max_num_queries):
    InPersonNoticeFactory.create_batch(20, villager__station=partner.station)
    with django_assert_max_num_queries(12):
        assert partner_client.get(tell_url(partner.station)).status_code == 200


def test_county_staff_see_their_countys_failed_notices_and_retry_one(clerk_client, clerk, station, far_station):
    mine = FailedNoticeFactory(villager__station=station, text="发送失败的通知")
    far = FailedNoticeFactory(villager__station=far_station, text="别县的通知")
    url = reverse("notify:county_notices", args=[station.county_id])
    page = clerk_client.get(url).content.decode()
    assert mine.text in page and far.text not in page and "number blocked" in page
    assert clerk_client.get(reverse("notify:county_notices", args=[far_station.county_id])).status_code == 404
    assert clerk_client.post(reverse("notify:retry", args=[far.pk])).status_code == 404

    response = clerk_client.post(reverse("notify:retry", args=[mine.pk]), {"next": url})
    assert response.status_code == 302 and response["Location"] == url
    mine.refresh_from_db()
    assert (mine.status, mine.attempts) == ("pending", 0) and mine.next_attempt_at is not None
    assert NoticeEvent.objects.get(notice=mine).actor == clerk
    far.refresh_from_db()
    assert far.status == "failed"


def test_partner_cannot_open_the_county_notices_or_retry(partner_client, partner):
    failed = FailedNoticeFactory(villager__station=partner.station)
    assert partner_client.get(reverse("notify:county_notices", args=[partner.station.county_id])).status_code == 404
    assert partner_client.post(reverse("notify:retry", args=[failed.pk])).status_code == 404
    failed.refresh_from_db()
    assert failed.status == "failed"


def test_retry_of_a_notice_that_has_not_failed_is_refused_with_a_message(clerk_client, station):
    notice = NoticeFactory(villager__station=station)
    response = clerk_client.post(reverse("notify:retry", args=[notice.pk]), follow=True)
    assert "Only a failed notice can be retried" in response.content.decode()


def test_redirect_after_an_action_never_leaves_the_site(clerk_client, station):
    notice = FailedNoticeFactory(villager__station=station)
    response = clerk_client.post(reverse("notify:retry", args=[notice.pk]), {"next": "https://evil.example/"})
    assert response["Location"] == reverse("notify:county_notices", args=[station.county_id])


# --- API ---------------------------------------------------------------------------


def test_api_lists_notices_in_scope_filtered_by_status_and_kind(partner_client, partner, other_station):
    sent = NoticeFactory(villager__station=partner.station, kind="order_paid", status="sent",
                         sent_at="2026-01-01T00:00:00Z")
    waiting = NoticeFactory(villager__station=partner.station, kind="pickup_code")
    NoticeFactory(villager__station=other_station)
    ids = [row["id"] for row in partner_client.get("/api/v1/notices").json()["items"]]
    assert sorted(ids) == sorted([sent.pk, waiting.pk])
    assert [r["id"] for r in partner_client.get("/api/v1/notices?status=pending").json()["items"]] == [waiting.pk]
    [row] = partner_client.get("/api/v1/notices?kind=order_paid").json()["items"]
    assert (row["id"], row["reference"], row["station"]) == (sent.pk, str(sent.reference), partner.station.code)
    bad = partner_client.get("/api/v1/notices?status=lost")
    assert bad.status_code == 422 and "status" in bad.json()["error"]["fields"]
    assert partner_client.get(f"/api/v1/notices?station={other_station.code}").status_code == 404


def test_api_county_staff_see_only_their_county(clerk_client, station, far_station):
    mine = NoticeFactory(villager__station=station)
    NoticeFactory(villager__station=far_station)
    assert [r["id"] for r in clerk_client.get("/api/v1/notices").json()["items"]] == [mine.pk]


def test_api_retry_is_for_county_staff_and_within_their_county(clerk_client, partner_client, partner, far_station):
    failed = FailedNoticeFactory(villager__station=partner.station)
    far = FailedNoticeFactory(villager__station=far_station)
    refused = partner_client.post(f"/api/v1/notices/{failed.pk}/retry")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert clerk_client.post(f"/api/v1/notices/{far.pk}/retry").status_code == 404
    done = clerk_client.post(f"/api/v1/notices/{failed.pk}/retry")
    assert done.status_code == 200 and done.json()["status"] == "pending"
    again = clerk_client.post(f"/api/v1/notices/{failed.pk}/retry")
    assert again.status_code == 409 and again.json()["error"]["code"] == "notice_not_failed"


def test_api_partner_marks_told(partner_client, partner, other_station):
    notice = InPersonNoticeFactory(villager__station=partner.station)
    neighbour = InPersonNoticeFactory(villager__station=other_station)
    assert partner_client.post(f"/api/v1/notices/{neighbour.pk}/told").status_code == 404
    response = partner_client.post(f"/api/v1/notices/{notice.pk}/told")
    assert response.status_code == 200 and response.json()["status"] == "sent"


def test_user_without_a_role_sees_no_notices(partner):
    NoticeFactory(villager__station=partner.station)
    stranger = login(UserFactory(username="nobody"))
    assert stranger.get("/api/v1/notices").json()["items"] == []
    assert Notice.objects.count() == 1


def test_notices_and_deliveries_are_readable_in_django_admin(station):
    from cuntao.notify.gateways import DatabaseLogGateway

    notice = NoticeFactory(villager__station=station)
    DatabaseLogGateway().send(notice)
    admin = login(UserFactory(username="root", is_staff=True, is_superuser=True))
    for url in ("/admin/notify/notice/", f"/admin/notify/notice/{notice.pk}/change/",
                "/admin/notify/deliveredmessage/", "/admin/notify/notice/?status__exact=failed"):
        assert admin.get(url).status_code == 200, url
