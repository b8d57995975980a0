"""Emergency notifications: signed webhook notices delivered from a durable outbox (Standard Webhooks)."""
