import pytest
from django.core.exceptions import ValidationError

from cuntao.core.errors import DomainError
from cuntao.logistics.distances import (
    Place,
    TravelMatrix,
    haversine_m,
    matrix_from_places,
    parse_matrix_csv,
    road_metres,
    travel_seconds,
)

BEIJING = Place("BJ", 39.9042, 116.4074)
SHANGHAI = Place("SH", 31.2304, 121.4737)
HANGZHOU = Place("HZ", 30.2741, 120.1551)


def test_haversine_gives_known_city_distances():
    # Beijing-Shanghai about 1,067 km, Shanghai-Hangzhou about 164 km (great circle).
    assert haversine_m(BEIJING.lat, BEIJING.lng, SHANGHAI.lat, SHANGHAI.lng) == pytest.approx(
        1_067_000, rel=0.01)
    assert haversine_m(SHANGHAI.lat, SHANGHAI.lng, HANGZHOU.lat, HANGZHOU.lng) == pytest.approx(
        164_000, rel=0.02)


def test_haversine_of_one_degree_of_latitude_is_about_111_km():
    assert haversine_m(30, 120, 31, 120) == pytest.approx(111_195, abs=10)


def test_road_metres_applies_the_winding_factor():
    straight = haversine_m(SHANGHAI.lat, SHANGHAI.lng, HANGZHOU.lat, HANGZHOU.lng)
    assert road_metres(SHANGHAI, HANGZHOU, winding=1.0) == round(straight)
    assert road_metres(SHANGHAI, HANGZHOU, winding=1.4) == round(straight * 1.4)


def test_travel_seconds_at_given_speed():
    assert travel_seconds(36_000, speed_kmh=36) == 3600
    assert travel_seconds(1000, speed_kmh=60) == 60


@pytest.mark.parametrize("winding", [0.5, 0.99, 6.0])
def test_winding_factor_outside_sensible_range_is_refused(winding):
    with pytest.raises(ValidationError) as e:
        road_metres(SHANGHAI, HANGZHOU, winding=winding)
    assert "winding" in e.value.message_dict


def test_zero_speed_is_refused():
    with pytest.raises(ValidationError):
        travel_seconds(1000, speed_kmh=0)


def test_matrix_from_places_puts_the_depot_first_and_scales_by_winding():
    m = matrix_from_places(SHANGHAI, [HANGZHOU, BEIJING], winding=1.5, speed_kmh=50)
    assert m.codes == ("SH", "HZ", "BJ")
    assert m.metres[0][0] == 0
    assert m.metres[0][1] == road_metres(SHANGHAI, HANGZHOU, winding=1.5)
    assert m.metres[1][0] == m.metres[0][1]
    assert m.seconds[0][1] == travel_seconds(m.metres[0][1], speed_kmh=50)


def test_matrix_from_places_refuses_duplicate_codes():
    with pytest.raises(DomainError):
        matrix_from_places(SHANGHAI, [Place("SH", 30, 120)], winding=1.3, speed_kmh=40)


# --- CSV ---------------------------------------------------------------------------

GOOD = (
    "from,to,metres,seconds\n"
    "WH,S1,1000,100\n"
    "S1,WH,1100,110\n"
    "WH,S2,2000,200\n"
    "S2,WH,2000,200\n"
    "S1,S2,1500,150\n"
    "S2,S1,1500,151\n"
)


def messages(excinfo) -> list[str]:
    return excinfo.value.message_dict["file"]


def test_csv_parses_a_complete_asymmetric_matrix():
    m = parse_matrix_csv(GOOD.encode())
    assert m.codes == ("WH", "S1", "S2")
    assert m.metres[0][1] == 1000 and m.metres[1][0] == 1100
    assert m.seconds[2][1] == 151
    assert m.metres[1][1] == 0


def test_csv_accepts_utf8_bom_crlf_blank_lines_decimals_and_self_rows():
    text = GOOD.replace("\n", "\r\n").replace("WH,S1,1000,100", "WH,S1,999.6,99.5")
    text += "\r\nWH,WH,0,0\r\n\r\n"
    m = parse_matrix_csv(b"\xef\xbb\xbf" + text.encode())
    assert m.metres[0][1] == 1000
    assert m.seconds[0][1] == 100  # round half to even: 99.5 -> 100


def test_csv_accepts_chinese_codes_in_utf8():
    m = parse_matrix_csv(GOOD.replace("S1", "青山站").encode("utf-8"))
    assert "青山站" in m.codes


def test_csv_restricted_to_a_day_subset_keeps_order():
    m = parse_matrix_csv(GOOD).restricted_to(["WH", "S2"])
    assert m.codes == ("WH", "S2")
    assert m.metres == ((0, 2000), (2000, 0))


def test_csv_restricted_to_a_missing_stop_names_it():
    with pytest.raises(DomainError) as e:
        parse_matrix_csv(GOOD).restricted_to(["WH", "S9"])
    assert "S9" in str(e.value)


@pytest.mark.parametrize(
    "change, line, words",
    [
        (("S1,WH,1100,110", "S1,WH,abc,110"), 3, "not a number"),
        (("S1,WH,1100,110", "S1,WH,1100,"), 3, "not a number"),
        (("WH,S2,2000,200", "WH,S2,-5,200"), 4, "negative"),
        (("S2,WH,2000,200", "S2,WH,2000,nan"), 5, "not a number"),
        (("S1,S2,1500,150", "S1,S2,1500"), 6, "expected 4 columns"),
        (("S1,S2,1500,150", "S1,S2,1500,150,9"), 6, "expected 4 columns"),
        (("S2,S1,1500,151", "S2,S1,1500,151\nS2,S1,1,1"), 8, "already appeared on line 7"),
        (("from,to,metres,seconds", "from,to,km,minutes"), 1, "header"),
        (("S1,S2,1500,150", ",S2,1500,150"), 6, "must not be empty"),
    ],
)
def test_csv_error_names_the_line_and_why(change, line, words):
    with pytest.raises(ValidationError) as e:
        parse_matrix_csv(GOOD.replace(*change).encode())
    text = " ".join(messages(e))
    assert f"Line {line}:" in text
    assert words in text


def test_csv_missing_reverse_row_is_an_asymmetric_shape_error_naming_the_line():
    bad = GOOD.replace("S2,S1,1500,151\n", "")
    with pytest.raises(ValidationError) as e:
        parse_matrix_csv(bad)
    (msg,) = messages(e)
    assert "Line 6:" in msg  # where S1 -> S2 is; S2 -> S1 is missing
    assert "no row from S2 to S1" in msg


def test_csv_missing_stop_pairs_are_reported():
    bad = GOOD + "S3,WH,10,1\n"
    with pytest.raises(ValidationError) as e:
        parse_matrix_csv(bad)
    text = " ".join(messages(e))
    assert "no row from WH to S3" in text and "no row from S3 to S1" in text


def test_csv_self_distance_must_be_zero():
    with pytest.raises(ValidationError) as e:
        parse_matrix_csv(GOOD + "S1,S1,5,0\n")
    assert "Line 8:" in messages(e)[0]


def test_csv_reports_every_bad_line_not_just_the_first():
    bad = GOOD.replace("WH,S1,1000,100", "WH,S1,x,100").replace("S2,S1,1500,151", "S2,S1,-1,2")
    with pytest.raises(ValidationError) as e:
        parse_matrix_csv(bad)
    text = " ".join(messages(e))
    assert "Line 2:" in text and "Line 7:" in text


def test_csv_in_utf16_is_refused_with_advice():
    with pytest.raises(ValidationError) as e:
        parse_matrix_csv(GOOD.encode("utf-16"))
    assert "UTF-16" in messages(e)[0] and "Line 1:" in messages(e)[0]


def test_csv_not_utf8_names_the_line_of_the_bad_byte():
    data = GOOD.replace("S2,WH", "\u9752,WH").encode("gbk")
    with pytest.raises(ValidationError) as e:
        parse_matrix_csv(data)
    assert "Line 5:" in messages(e)[0]
    assert "UTF-8" in messages(e)[0]


def test_csv_empty_file_is_refused():
    with pytest.raises(ValidationError) as e:
        parse_matrix_csv(b"")
    assert "empty" in messages(e)[0]


def test_csv_header_only_is_refused():
    with pytest.raises(ValidationError):
        parse_matrix_csv("from,to,metres,seconds\n")


def test_csv_broken_quoting_is_refused_with_a_line():
    with pytest.raises(ValidationError) as e:
        parse_matrix_csv(GOOD.replace('S1,S2,1500,150', 'S1,"S2,1500,150'))
    assert "Line" in messages(e)[0]


def test_csv_error_can_name_the_form_field():
    with pytest.raises(ValidationError) as e:
        parse_matrix_csv("nonsense", field="matrix")
    assert "matrix" in e.value.message_dict


def test_travel_matrix_is_plain_data():
    m = TravelMatrix(codes=("A", "B"), metres=((0, 1), (1, 0)), seconds=((0, 2), (2, 0)))
    assert m.index("B") == 1


def test_csv_reports_at_most_twenty_errors():
    bad = "from,to,metres,seconds\n" + "".join(f"A,B{i},x,1\n" for i in range(50))
    with pytest.raises(ValidationError) as e:
        parse_matrix_csv(bad)
    assert len(messages(e)) == 20
    assert messages(e)[0].startswith("Line 2:")
