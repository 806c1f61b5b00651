"""What the server learns only once it starts, shared by reference.

The shell's pieces (sessions, the dispatcher, the handlers) are handed narrow records
of what they use, built once in server/net/app.py, never the whole app (as uvicorn
hands its protocols `config`, `server_state` and `app_state` only). Most of what they
hold is fixed at construction; these two values are not, so pieces hold this record
and read it when they need them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Live:
    """`cluster`: server.cluster.SingleProcess until start joins a Redis cluster
    (--redis-url); `secret`: the token secret, read from the store (or --secret) at
    start."""
    cluster: object
    secret: str = ""
