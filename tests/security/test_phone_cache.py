"""GET /api/v1/orders?phone= is cached by phone: nobody can fill, read or split its entries from outside."""
import json
import re


def phone_keys(services):
    return sorted(services.redis.keys("orders:phone-*"))


def test_without_the_token_nothing_is_read_or_cached(client, services, demo):
    services.redis.flushdb()
    phone = next(iter(demo.values()))["customer"]["phone"]
    for headers in ({}, {"Authorization": "Bearer guessed"}, {"Authorization": "Basic " + "x" * 40}):
        resp = client.get("/api/v1/orders", query_string={"phone": phone}, headers=headers)
        assert resp.status_code == 401 and "orders" not in resp.get_json()
    assert phone_keys(services) == []


def test_junk_never_reaches_a_cache_key(client, services, auth, demo):
    """Only the E.164 form of a number names an entry: oversized or garbage input is refused, and
    text around digits (phonenumbers reads the number out of it) cannot shape the key."""
    services.redis.flushdb()
    for junk in ("+91" + "9" * 5000, "*", "%00", "whatsapp:", "+91 90000\n00001"):
        assert client.get("/api/v1/orders", query_string={"phone": junk}, headers=auth).status_code == 400, junk
    assert phone_keys(services) == []
    for shaped in ("orders:phone-gen:+919000000001", "+919000000001:50:2099-01-01", "+919000000001*"):
        client.get("/api/v1/orders", query_string={"phone": shaped}, headers=auth)
    for key in phone_keys(services):
        assert re.fullmatch(rb"orders:phone-body:\+\d{8,15}:50:\d{4}-\d{2}-\d{2}", key), key


def test_every_spelling_of_a_number_shares_one_entry(client, services, auth, demo):
    """Spellings cannot be used to hold several copies, or to read around an invalidation."""
    services.redis.flushdb()
    phone = next(iter(demo.values()))["customer"]["phone"]  # E.164, +91...
    national = phone[3:]
    bodies = {client.get("/api/v1/orders", query_string={"phone": spelling}, headers=auth).get_data()
              for spelling in (phone, "whatsapp:" + phone, f"{national[:5]} {national[5:]}", "0" + national)}
    assert len(bodies) == 1 and json.loads(bodies.pop())["orders"]
    gens = [k for k in phone_keys(services) if b"phone-gen" in k]
    entries = [k for k in phone_keys(services) if b"phone-body" in k]
    assert entries == [f"orders:phone-body:{phone}:50:{services.clock.today().isoformat()}".encode()]
    assert gens == []  # no write has happened: the generation is implicitly 0
