def test_official_open_station_is_confirmed_with_masked_partner(client, partner):
    response = client.get(f"/verify/?code={partner.station.code.lower()}", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    text = response.content.decode()
    assert "is an official station" in text
    assert partner.full_name not in text and partner.full_name[0] + "**" in text


def test_unknown_code_warns_against_joining_fees(client, db):
    response = client.get("/verify/?code=FAKE-001", HTTP_ACCEPT_LANGUAGE="en")
    assert "is not an official station" in response.content.decode()


def test_suspended_station_is_not_vouched_for(client, station):
    station.status = "suspended"
    station.save()
    response = client.get(f"/verify/?code={station.code}", HTTP_ACCEPT_LANGUAGE="en")
    assert "not open now" in response.content.decode()


def test_public_api_verification_needs_no_login(client, partner):
    body = client.get(f"/api/v1/verify/{partner.station.code}").json()
    assert body["official"] is True and body["partner"].endswith("**")
    assert client.get("/api/v1/verify/NOPE").json() == {"code": "NOPE", "official": False, "status": None,
                                                        "name": None, "village": None, "county": None, "partner": None}
