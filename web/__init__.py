"""The HTTP adapter for machines: the order API, health checks and courier webhooks.

The app factory that mounts it, with every other adapter, is `wiring.create_app`.
"""
