import json

from tests.support.values import GOOD_ROW


def test_import_command_reports_row_errors(runner, tmp_path, orders):
    bad = dict(GOOD_ROW, order_id="OL-100299", amount="lots")
    path = tmp_path / "orders.json"
    path.write_text(json.dumps([GOOD_ROW, bad]))
    result = runner.invoke(args=["orders", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "imported 1 orders (1 new, 0 updated), 1 rows rejected" in result.output
    assert "OL-100299" in result.output and "amount" in result.output
    assert orders.get("OL-100234").customer.name == "Asha Verma"


def test_import_command_rejects_invalid_json(runner, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("[{")
    result = runner.invoke(args=["orders", "import", str(path)])
    assert result.exit_code != 0 and "not valid JSON" in result.output


def test_seed_if_empty(runner, orders):
    first = runner.invoke(args=["orders", "seed", "--if-empty"])
    assert "seeded 40 demo orders" in first.output
    second = runner.invoke(args=["orders", "seed", "--if-empty"])
    assert "not seeding" in second.output
    statuses = {o.status for p in range(1, 21) for o in orders.for_phone(f"+9190000000{p:02d}")}
    assert statuses == {"placed", "confirmed", "packed", "shipped", "in_transit", "out_for_delivery",
                        "delivery_failed", "delivered", "rto_initiated", "rto_delivered", "cancelled"}
