"""Adapters to the Rasa assistant and the WhatsApp channel in front of it."""
