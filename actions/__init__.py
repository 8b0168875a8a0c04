"""Orderline custom actions for Rasa, one module per concern.

The action server (`rasa run actions`) imports every module in this package:
context (metadata -> slots), identity + conversation (which order, who may see
it, short answers), status, address, reschedule, payments, cancel, returns and
handoff. All of them reach the order service through `actions.api.orders`.
"""
