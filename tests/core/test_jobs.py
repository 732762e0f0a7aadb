"""`cuntao jobs`: the apps' periodic chores, run when due."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from cuntao.core.jobs import periodic_jobs, register_periodic_job


def test_every_app_chore_is_registered():
    names = {job.name for job in periodic_jobs()}
    assert {"payments_deliver_sandbox", "orders_expire_unpaid", "orders_complete_due",
            "shop_expire_reservations", "parcels_age"} <= names


def test_list_names_each_chore_and_how_often():
    out = StringIO()
    call_command("jobs", "--list", stdout=out)
    assert "orders_expire_unpaid         every 60 s" in out.getvalue()


@pytest.mark.django_db
def test_once_runs_the_chosen_chores_and_reports_what_they_did():
    out = StringIO()
    call_command("jobs", "--once", "--only", "orders_expire_unpaid", "--only", "shop_expire_reservations", stdout=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["job"] for line in lines] == ["orders_expire_unpaid", "shop_expire_reservations"]


def test_an_unknown_chore_is_named_in_the_error():
    with pytest.raises(CommandError, match="No such chore: fly_to_the_moon"):
        call_command("jobs", "--once", "--only", "fly_to_the_moon")


def test_a_chore_may_not_run_more_than_once_a_second():
    with pytest.raises(ValueError):
        register_periodic_job("too_eager", every_seconds=0, run=lambda: 0)
