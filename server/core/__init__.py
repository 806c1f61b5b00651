"""The pure core: rooms, races, typing, integrity, quotas. No clock reads, no awaits, no I/O:
time comes in as arguments and events go out to an outbox (tests/test_layers.py checks it)."""
