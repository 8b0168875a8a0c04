"""Outbound WhatsApp: one sender for bot replies, agent replies, holding messages and notifications."""
