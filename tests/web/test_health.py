def test_healthz(client):
    assert client.get("/healthz").json == {"status": "ok"}


def test_readyz_checks_real_db_and_redis_and_reports_rasa_down(client):
    resp = client.get("/readyz")
    assert resp.status_code == 503  # Rasa is pointed at a closed port in tests
    assert resp.json["checks"]["database"] == "ok"
    assert resp.json["checks"]["redis"] == "ok"
    assert resp.json["checks"]["rasa"].startswith("error")
