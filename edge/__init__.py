"""Plumbing every HTTP adapter shares: JSON errors, Twilio request signatures, browser sessions.

It knows Flask and Twilio's signing scheme, and nothing of any channel or of the wiring.
"""
