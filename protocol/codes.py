"""The wire's closed sets of values, as types: a room's state, a racer's status, the
error codes and the WebSocket close codes.

Each is a StrEnum (IntEnum for close codes), so a member IS its wire value ("finished",
1008) wherever it is encoded or compared, while a typo is an AttributeError at import
rather than a silent new state. protocol/REFERENCE.md lists the same values
(tests/test_codes.py checks the error codes against it).
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class RoomState(StrEnum):
    """A room's `state`: its race's, or `waiting` before its first race. A race goes
    countdown -> racing -> finished (server/core/race.py holds the transitions)."""

    WAITING = "waiting"
    COUNTDOWN = "countdown"
    RACING = "racing"
    FINISHED = "finished"


class RacerStatus(StrEnum):
    """A racer's `status` in a race and in its result."""

    RACING = "racing"
    FINISHED = "finished"
    DNF = "dnf"                 # still there at the end, not done
    LEFT = "left"               # gone before the end (left, or its connection lost)


class ErrorCode(StrEnum):
    """An `error` message's `code` (protocol/REFERENCE.md, "Errors")."""

    BAD_MESSAGE = "bad_message"
    UNKNOWN_TYPE = "unknown_type"
    NOT_HELLO = "not_hello"
    INVALID_NAME = "invalid_name"
    INVALID_TOKEN = "invalid_token"
    NAME_TAKEN = "name_taken"
    WEAK_PASSWORD = "weak_password"
    ALREADY_REGISTERED = "already_registered"
    BAD_CREDENTIALS = "bad_credentials"
    NO_ACCOUNT = "no_account"
    IN_ROOM = "in_room"
    BANNED = "banned"
    RATE_LIMITED = "rate_limited"
    ROOM_NOT_FOUND = "room_not_found"
    ROOM_FULL = "room_full"
    RACE_IN_PROGRESS = "race_in_progress"
    KICKED = "kicked"
    ALREADY_IN_ROOM = "already_in_room"
    NOT_HOST = "not_host"
    NOT_IN_ROOM = "not_in_room"
    NOT_A_PLAYER = "not_a_player"
    NOT_RACING = "not_racing"
    TEXT_INVALID = "text_invalid"
    TEXT_NOT_FOUND = "text_not_found"
    PLAYER_NOT_FOUND = "player_not_found"
    RACE_NOT_FOUND = "race_not_found"
    GHOST_NOT_FOUND = "ghost_not_found"
    UNAVAILABLE = "unavailable"
    TOO_MANY_ROOMS = "too_many_rooms"
    SHUTTING_DOWN = "shutting_down"
    ROOM_LOST = "room_lost"
    INTERNAL = "internal"


class CloseCode(IntEnum):
    """The WebSocket close codes the server sends (RFC 6455 7.4.1, and 4000-4999 for
    the application's own)."""

    GOING_AWAY = 1001           # the server shuts down
    PROTOCOL_ERROR = 1002
    INVALID_DATA = 1007         # a text frame that is not UTF-8
    POLICY = 1008               # floods, no hello, limits, a banned player
    TOO_BIG = 1009              # a message over --max-frame
    INTERNAL = 1011
    REPLACED = 4000             # the same player (same token) connected again elsewhere
