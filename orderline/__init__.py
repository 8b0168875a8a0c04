"""Orderline's domain core: orders, the rules about them, and their storage.

Nothing in this package knows about HTTP, WhatsApp, voice or Rasa.
"""
