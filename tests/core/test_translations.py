"""The Simplified Chinese catalogues are complete, compiled, and what Django actually serves.

The project's catalogue is in src/cuntao/locale; an app that keeps its own (community,
impact) has one in src/cuntao/<app>/locale, and each is held to the same rules.

The compiled .mo is committed, so a fresh machine needs no GNU gettext; these tests read
both files with polib (pure Python) and fail when someone edits the .po and forgets to
compile it. After `makemessages`, translate the new entries, then run `cuntao compilemessages`
from src/cuntao (or polib's `save_as_mofile` where msgfmt is missing).
"""

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext, ngettext

LC_MESSAGES = Path(settings.LOCALE_PATHS[0]) / "zh_Hans" / "LC_MESSAGES"
PO_PATH = LC_MESSAGES / "django.po"
MO_PATH = LC_MESSAGES / "django.mo"

# Python %-format and template variables, as they appear in msgids.
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{\{\s*\w+\s*\}\}")


# The project's catalogue first, then every app's own.
CATALOGUES = [LC_MESSAGES, *sorted(p.parent for p in Path(settings.PACKAGE_DIR).glob("*/locale/zh_Hans/LC_MESSAGES/django.po"))]


@pytest.fixture(scope="module", params=CATALOGUES, ids=lambda path: path.parents[2].parent.name)
def catalogue(request) -> Path:
    return request.param


@pytest.fixture(scope="module")
def po(catalogue):
    return polib.pofile(str(catalogue / "django.po"))


@pytest.fixture(scope="module")
def mo(catalogue):
    return polib.mofile(str(catalogue / "django.mo"))


def pairs(catalogue) -> dict:
    """(context, msgid, msgid_plural) -> msgstr, or the tuple of plural msgstrs."""
    out = {}
    for e in catalogue:
        if e.obsolete or e.msgid == "":
            continue
        key = (e.msgctxt, e.msgid, e.msgid_plural or None)
        if e.msgid_plural:
            out[key] = tuple(e.msgstr_plural[i] for i in sorted(int(k) for k in e.msgstr_plural))
        else:
            out[key] = e.msgstr
    return out


def test_catalogue_is_where_django_looks_and_is_not_empty():
    assert PO_PATH.is_file() and MO_PATH.is_file()
    assert len([e for e in polib.pofile(str(PO_PATH)) if not e.obsolete]) > 100


def test_every_app_catalogue_is_compiled():
    assert [str(path) for path in CATALOGUES if not (path / "django.mo").is_file()] == [], "run compilemessages"


def test_header_declares_chinese_utf8_and_one_plural_form(po):
    assert po.metadata["Language"] == "zh_Hans"
    assert "charset=UTF-8" in po.metadata["Content-Type"]
    assert po.metadata["Plural-Forms"].replace(" ", "") == "nplurals=1;plural=0;"
    assert not po.metadata_is_fuzzy


def test_every_entry_is_translated_and_none_is_fuzzy(po):
    live = [e for e in po if not e.obsolete]
    assert [e.msgid for e in live if not e.translated()] == []
    assert [e.msgid for e in live if "fuzzy" in e.flags] == []
    assert [e.msgid for e in po.obsolete_entries()] == [], "run makemessages with --no-obsolete"


def test_translations_keep_every_placeholder(po):
    wrong = []
    for e in po:
        if e.obsolete:
            continue
        translations = e.msgstr_plural.values() if e.msgid_plural else [e.msgstr]
        for source in filter(None, [e.msgid, e.msgid_plural]):
            wanted = sorted(PLACEHOLDER.findall(source))
            wrong += [(source, t) for t in translations if sorted(PLACEHOLDER.findall(t)) != wanted]
    assert wrong == []


def test_compiled_mo_matches_the_po(po, mo):
    """Fails when the .po was edited but `compilemessages` was not run (or its output not committed)."""
    assert pairs(mo) == pairs(po)
    assert mo.metadata.get("Plural-Forms", "").replace(" ", "") == "nplurals=1;plural=0;"


def test_django_serves_chinese_under_zh_hans_and_english_under_en():
    with translation.override("zh-hans"):
        assert gettext("Log in") == "登录"
        assert gettext("Partner") == "村小二"
        assert gettext("Hello, %(name)s.") % {"name": "王秀英"} == "王秀英，你好。"
        assert gettext("Station %(code)s is %(status)s and takes no new records.") % {
            "code": "JZ-0001", "status": gettext("Suspended")} == "服务站 JZ-0001 当前状态是“已暂停”，不能新增登记。"
        assert ngettext("%(n)s villager", "%(n)s villagers", 3) % {"n": 3} == "3 位村民"
        assert gettext("The Idempotency-Key header must have 1 to %(max)s characters.") % {"max": 255} == (
            "Idempotency-Key 请求头须为 1 到 255 个字符。")
    with translation.override("en"):
        assert gettext("Log in") == "Log in"
        assert gettext("Hello, %(name)s.") % {"name": "Wang"} == "Hello, Wang."
        assert ngettext("%(n)s villager", "%(n)s villagers", 1) % {"n": 1} == "1 villager"


def test_lazy_model_labels_follow_the_active_language():
    from cuntao.network.models import StationStatus
    from cuntao.villagers.models import Villager

    with translation.override("zh-hans"):
        assert str(StationStatus.SUSPENDED.label) == "已暂停"
        assert str(Villager._meta.verbose_name) == "村民"
    with translation.override("en"):
        assert str(StationStatus.SUSPENDED.label) == "Suspended"


@pytest.mark.django_db
def test_pages_render_in_chinese_by_default_and_in_english_on_request():
    client = Client()
    page = client.get("/verify/", {"code": "zz-9999"}).content.decode()
    assert '<html lang="zh-hans">' in page
    assert "这是官方服务站吗？" in page
    assert "ZZ-9999 不是官方服务站。" in page

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get("/verify/", {"code": "zz-9999"}).content.decode()
    assert "Is this an official station?" in page
    assert "ZZ-9999 is not an official station." in page


def test_partner_home_page_is_in_chinese(partner, partner_client):
    page = partner_client.get("/station/").content.decode()
    assert f"{partner.full_name}，你好。" in page
    assert "登记村民" in page and "我的服务站" in page
