"""Store adapters: each store's order webhook payload read into the core's `StoreOrder`."""
