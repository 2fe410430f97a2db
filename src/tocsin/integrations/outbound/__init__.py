"""Outbound notification channels (adapters behind the `Notifier` port)."""
