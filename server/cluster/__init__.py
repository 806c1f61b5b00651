"""Many processes through Redis: directory, bus, relay, routing, liveness."""
