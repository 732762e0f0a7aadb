import pytest

from cuntao.villagers.selectors import villager_list
from tests.factories import VillagerFactory


@pytest.fixture
def villagers(partner):
    names = ["王秀英", "王小明", "李桂芳", "张伟", "欧阳娜娜"]
    made = {name: VillagerFactory(station=partner.station, name=name) for name in names}
    made["张伟"].phone = "+8613900001111"
    made["张伟"].save()
    return made


def names(scope, q):
    return [v.name for v in villager_list(scope=scope, q=q)]


@pytest.mark.parametrize("q, expected_first", [
    ("王秀英", "王秀英"),            # characters
    ("wangxiuying", "王秀英"),       # full pinyin
    ("wxy", "王秀英"),               # initials
    ("wangxiu", "王秀英"),           # prefix of full pinyin
    ("WXY", "王秀英"),               # any case
    ("王xy", "王秀英"),              # characters mixed with initials
    ("ouyang", "欧阳娜娜"),
    ("0000111", "张伟"),             # part of a phone number
    ("lgf", "李桂芳"),
])
def test_finds_villager_by_name_pinyin_initials_or_phone(partner, scope_of, villagers, q, expected_first):
    found = names(scope_of(partner.user), q)
    assert found and found[0] == expected_first


def test_initials_prefix_finds_everyone_who_starts_so(partner, scope_of, villagers):
    assert sorted(names(scope_of(partner.user), "wx")) == ["王小明", "王秀英"]


def test_no_match_finds_nobody(partner, scope_of, villagers):
    assert names(scope_of(partner.user), "zzzz") == []


def test_search_never_crosses_to_another_station(partner, other_station, scope_of, villagers):
    VillagerFactory(station=other_station, name="王秀英")
    assert names(scope_of(partner.user), "wxy") == ["王秀英"]


def test_list_page_query_count_does_not_grow_with_villagers(partner_client, partner, django_assert_max_num_queries):
    for i in range(40):
        VillagerFactory(station=partner.station, name=f"王{i}")
    with django_assert_max_num_queries(12):
        response = partner_client.get(f"/stations/{partner.station.code}/villagers/?q=wang")
    assert response.status_code == 200


def test_surname_is_read_as_a_surname(partner, scope_of):
    VillagerFactory(station=partner.station, name="曾国强")
    assert names(scope_of(partner.user), "zengguoqiang") == ["曾国强"]
    assert names(scope_of(partner.user), "zgq") == ["曾国强"]
