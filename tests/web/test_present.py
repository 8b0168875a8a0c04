"""Presented orders as the API's HTTP bodies."""
import json

from orderline.present import OrderRows
from tests.support.odd_orders import add_odd_orders, all_numbers
from web.present import to_json


def test_json_body_is_what_jsonify_sends(app, services, demo):
    add_odd_orders(services, demo)
    rows = OrderRows(services.engine, services.clock)
    with app.app_context():
        for number in all_numbers(services):
            value = rows.by_number(number)
            assert to_json(value) == app.json.response(value).get_data()
            assert json.loads(to_json(value)) == value
