"""Courier adapters: each turns its courier's webhook payload into the core's `TrackingUpdate`."""
