"""Room codes (join and watch codes), and the process tag a balancer routes them by.

A code is CODE_LENGTH characters of CODE_ALPHABET. With `--route-tag N` the first one is
CODE_ALPHABET[N], the same for every code this process makes: a load balancer in front
of several processes (deploy/haproxy.cfg, docs/scaling.md), or the `--workers`
supervisor in front of its workers (server/net/router.py), then sends every connection
that names a room (`/ws?room=CODE`, as invite and spectator links do) to the process that
owns it, so the room's traffic never crosses Redis. A tag takes 5 of a code's 30 bits;
the failed-join limits make the rest unguessable all the same.
"""

from __future__ import annotations

import secrets

from server.core.room import normalize_code

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"   # no 0/O, no 1/I: read aloud safely
CODE_LENGTH = 6                                       # 32**6 ~ 1.07e9 codes
ROUTE_TAGS = len(CODE_ALPHABET)                       # processes a balancer can tell apart


def code_maker(route_tag: int | None):
    """A function making new codes; tagged with `route_tag` when given."""
    if route_tag is None:
        return lambda: "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    tag = CODE_ALPHABET[route_tag]
    return lambda: tag + "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH - 1))


def route_tag_of(code: str) -> int | None:
    """The tag a code names (its first character, read as the lobby reads codes: case,
    spaces and dashes don't matter), or None: what a router in front of tagged
    processes sends the code's connections by."""
    first = normalize_code(code)[:1]
    index = CODE_ALPHABET.find(first) if first else -1
    return index if index >= 0 else None
