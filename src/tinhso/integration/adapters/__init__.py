"""Adapters of the outbox: one module per external system, each mapping our data to what it
speaks and delivering one message (`deliver(message)` raises `outbox.DeliveryFailed`)."""
