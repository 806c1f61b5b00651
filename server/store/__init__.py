"""The store port: what the server needs to keep. Adapters: sqlite (embedded
default) and redis (shared by many processes). Both pass tests/test_store_contract.py.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from server.core.accounts import Allowance
from server.core.results import RaceInfo, Result
from server.core.texts import Text


HISTORY = 50        # clean results in `player_stats` history
RECENT = 10         # results in `recent`; the rating averages the last RECENT clean ones


class StoreError(Exception):
    """The store failed: the base of what an adapter raises for the shell to handle."""


class StoreUnavailable(StoreError):
    """The store can't serve right now (Redis away, disk full, the database locked by
    another process): transient; a player is told `unavailable`, a save is retried."""


class StoreUnusable(StoreError):
    """The store named by the configuration can't be opened; the message names the flag
    and what is wrong, for one line on the operator's terminal."""


class TextExists(ValueError):
    """A submitted text whose body is already in the library."""

    def __init__(self, text_id: int):
        super().__init__(f"this text is already in the library (text {text_id})")
        self.text_id = text_id


class NameTaken(ValueError):
    """Another player's account has this name (compared by name_key)."""


class AlreadyRegistered(ValueError):
    """The player has an account already."""


@dataclass(frozen=True)
class Account:
    player_id: str
    name: str                   # as registered (the key compares it case-folded)
    password_hash: str          # server/core/passwords.py; never the password
    token_generation: int       # tokens signed with an older generation are revoked
    banned: bool


@dataclass(frozen=True)
class Identity:
    """What `hello` must know about a player and a name, read in one go."""
    token_generation: int = 0   # the generation a token must carry to be honoured
    banned: bool = False
    account: str | None = None  # the player's account name; None for a guest
    name_owner: str | None = None   # the player whose account has the hello's name


@dataclass(frozen=True)
class ReportOutcome:
    counted: bool               # False: this player had reported this text already
    reports: int                # different players who reported it
    hidden: bool                # the text is hidden now


@dataclass(frozen=True)
class ReportedText:
    """A text with reports, as the operator's `reports` lists it."""
    text_id: int
    title: str
    author: str | None
    author_name: str | None
    reports: int
    hidden: bool
    last_reason: str
    last_ms: int


@dataclass(frozen=True)
class Bests:
    """A player's best clean WPM on one text and on any text (None: no clean result)."""
    text_wpm: float | None = None
    overall_wpm: float | None = None


@dataclass
class RaceRecord:
    """Results of one race to save, or a saved race. A race is saved in steps: each
    finisher's result when it finishes, then the race's end with everyone's."""
    race_id: str
    room_id: str
    kind: str                   # quick | private | practice
    text_id: int
    started_ms: int             # server wall clock of the start
    ended_ms: int               # when these results were made: the race's end, or a
                                # finish; a saved race keeps the latest
    results: list[Result] = field(default_factory=list)   # the core's frozen results
    daily: bool = False         # raced on the text of the UTC day of ended_ms
    racers: int | None = None   # racers in the race, what a win needs more than one of
                                # (ghosts excluded); not given: len(results)
    passage: str | None = None  # what was raced when it is no stored text (a generated one)

    @classmethod
    def of(cls, race: RaceInfo, at_ms: int, results: list[Result],
           daily: bool = False) -> RaceRecord:
        return cls(race.race_id, race.room_id, race.kind, race.text_id, race.started_ms,
                   at_ms, list(results), daily, race.racers, race.passage)

    def __post_init__(self):
        if self.racers is None:
            self.racers = len(self.results)


class Store(ABC):
    @abstractmethod
    async def open(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def get_meta(self, key: str) -> str | None: ...

    @abstractmethod
    async def set_meta_once(self, key: str, value: str) -> str:
        """Set key if unset; return the value that is now stored (first writer wins)."""

    @abstractmethod
    async def rename_player(self, player_id: str, name: str, now_ms: int) -> None:
        """A kept player's current name. A player is kept (has a row) from its first
        result or text on: a guest who only said hello leaves nothing behind (its
        token is signed, so it needs no row to come back), and this does nothing
        for one."""

    @abstractmethod
    async def add_texts(self, texts: list[dict], now_ms: int, author: str | None = None,
                        author_name: str | None = None) -> list[int]:
        """Add passages ({title, source, body}); bodies already present are not added
        again (importing the same file twice adds nothing). Returns the text_id of
        every passage given, in order, whether new or already there."""

    @abstractmethod
    async def submit_text(self, text: dict, author: str, author_name: str, now_ms: int) -> Text:
        """A player's own text; raises TextExists if the body is already there. Keeps
        the author as a player (see rename_player) under `author_name`."""

    @abstractmethod
    async def get_text(self, text_id: int) -> Text | None:
        """Any text, hidden ones too (`Text.hidden` says so)."""

    @abstractmethod
    async def library_text_ids(self) -> list[int]:
        """Ids of the library texts (not player-written ones), for drawing races; hidden
        ones too (the server leaves them out when it draws, so a restore brings one
        back without a restart)."""

    @abstractmethod
    async def list_texts(self, offset: int, limit: int,
                         author: str | None = None) -> tuple[list[Text], int]:
        """A page of the texts that are not hidden, newest first, and their count."""

    @abstractmethod
    async def save_race(self, race: RaceRecord) -> None:
        """Commit results of a race durably (before anyone is told them), in one
        transaction. A race may be saved in several steps (a finisher's result at its
        finish, then everyone's at the end): each result is keyed by (race_id,
        player_id), and one the store has already is kept as it was and counted once,
        so saving the same results again (a retry) changes nothing. The race's
        `ended_ms` becomes the latest saved. A text's `completions` counts its finished,
        unflagged results. Keeps every racer as a player, under its name in the race."""

    @abstractmethod
    async def get_race(self, race_id: str) -> RaceRecord | None:
        """A saved race with every result and its keystroke log (enough to replay it);
        results in place order, log entries as (race_ms, keys) tuples."""

    @abstractmethod
    async def player_stats(self, player_id: str) -> dict | None:
        """None for a player not kept (unknown, or a guest with nothing kept yet); else
        {player_id, name, races, wins, best_wpm, avg_wpm, avg_wpm_last_10, avg_accuracy,
        recent, history} (see no_stats). `races` counts every result; a win is place 1
        of a race of two or more. Wins, best and averages count only finished, unflagged
        results; `recent` (newest first, at most 10) shows all; `history` is the last
        HISTORY clean results, oldest first, each {race_id, text_id, wpm, accuracy,
        at_ms} (the WPM chart)."""

    @abstractmethod
    async def key_stats(self, player_id: str) -> tuple[dict, dict] | None:
        """The player's per-key and per-bigram statistics, added to by every clean
        result exactly once: folded from the saved results (server/store/folding.py),
        the player's pending ones before this reads, so it sees every result saved
        before it (server/core/keystats.py: what a race adds, and the caps KEYS_MAX and
        BIGRAMS_MAX on what is kept): ({key: (count, errors, ms)}, {bigram: (count,
        errors, ms)}), or None when there are none."""

    @abstractmethod
    async def rating(self, player_id: str) -> float | None:
        """The player's rating for quick-race matching: the average wpm of their last
        10 clean (finished, unflagged) results, as `avg_wpm_last_10`; None with none."""

    @abstractmethod
    async def personal_best(self, player_id: str, text_id: int) -> dict | None:
        """The player's best clean result on the text as a `leaderboard` entry, or None."""

    @abstractmethod
    async def bests_of(self, player_ids: list[str], text_id: int | None) -> dict[str, Bests]:
        """Each player's best clean WPM on the text and on any text, as saved now (read
        just before a race's results are saved, so `results` can say which are new
        bests). Every id given is a key; a player with no clean result has None."""

    @abstractmethod
    async def text_stats(self, text_id: int) -> dict | None:
        """None for an unknown or hidden text; else {text, completions, avg_wpm, top}."""

    @abstractmethod
    async def leaderboard(self, text_id: int | None, limit: int = 20) -> list[dict]:
        """The best finished, unflagged result of each player who is not banned (on one
        text, or on any), fastest first, ties to the earlier: [{player_id, name, wpm,
        accuracy, race_ms, at_ms, text_id, race_id}]; `name` is the player's current
        name. A ban only hides: unbanned, the player's entries are back."""

    # ---- accounts and bans ----------------------------------------------------

    @abstractmethod
    async def check_identity(self, player_id: str | None, name_key: str) -> Identity:
        """The player's token generation, ban and account (defaults for a player the
        store does not know), and whose account, if any, has the name `name_key`."""

    @abstractmethod
    async def create_account(self, player_id: str, name: str, name_key: str,
                             password_hash: str, now_ms: int) -> None:
        """Attach an account to the player (created if unknown; its name becomes
        `name`). Raises AlreadyRegistered, or NameTaken when another account has
        `name_key`; atomic, so two players can't both win one name."""

    @abstractmethod
    async def get_account(self, name_key: str) -> Account | None: ...

    @abstractmethod
    async def set_password(self, player_id: str, password_hash: str) -> int:
        """Replace the account's password hash and raise its token generation (every
        older token is revoked); returns the new generation."""

    @abstractmethod
    async def set_banned(self, player_id: str, banned: bool) -> str | None:
        """Ban or unban a player; returns its name, or None when no player has that id."""

    @abstractmethod
    async def rekey_accounts(self, version: str, key) -> int:
        """Key every account's name with `key` (a function of the name), unless the
        store's accounts were keyed by this `version` of it already; oldest account
        first, and one whose new key another account has already keeps the key it had
        (so it still logs in with that one). Returns how many keys changed. Safe to run
        by several processes at once."""

    @abstractmethod
    async def take_allowances(self, allowances: tuple[Allowance, ...], now_ms: int) -> bool:
        """Take one token from each of these buckets (server/core/accounts.py), or from
        none when any is empty (then False): atomically, and shared by every process
        on this store (SQLite keeps them in the process's memory: one process)."""

    @abstractmethod
    async def give_back_allowances(self, allowances: tuple[Allowance, ...],
                                   now_ms: int) -> None:
        """Return one token to each bucket (never above its burst)."""

    # ---- reports and hidden texts ---------------------------------------------

    @abstractmethod
    async def report_text(self, text_id: int, player_id: str, reason: str, now_ms: int,
                          threshold: int) -> ReportOutcome | None:
        """Record the player's report (one per player per text counts). A player-written
        text reported by `threshold` different players is hidden, unless an operator
        restored it (the operator has read it: reports no longer hide it). None for an
        unknown or hidden text."""

    @abstractmethod
    async def set_text_hidden(self, text_id: int, hidden: bool) -> bool | None:
        """The operator hides or restores a text (any text). Returns whether it was
        hidden before, or None when no text has that id."""

    @abstractmethod
    async def hidden_text_ids(self) -> set[int]: ...

    @abstractmethod
    async def reported_texts(self, limit: int = 50) -> list[ReportedText]:
        """Texts with reports, most reports first (then the latest report first)."""


    # ---- competitions (server/core/competition.py) -------------------------------
    # Each clean result's points (Result.points) count exactly once in its day, week
    # and all-time periods (Redis: added by save_race's script; SQLite: folded from the
    # saved results, pending ones before any points read: server/store/folding.py);
    # save_race puts a clean result of a race with `daily` on its day's board.

    @abstractmethod
    async def points_board(self, period: str, limit: int = 20) -> list[dict]:
        """The top of a period's points ("day:2026-12-06", "week:2026-W49", "all"):
        [{player_id, name, points, races}], most points first, ties to the player who
        reached the total first; banned players left out, under current names."""

    @abstractmethod
    async def points_place(self, period: str, player_id: str) -> dict | None:
        """{points, place} of the player in the period (place among players not
        banned), or None without points there."""

    @abstractmethod
    async def day_board(self, board: int, limit: int = 20) -> list[dict]:
        """The board of one day's text (competition.daily_board), as `leaderboard`."""

    @abstractmethod
    async def day_board_place(self, board: int, player_id: str) -> dict | None:
        """{best_wpm, place} of the player on a day's board, or None."""

    @abstractmethod
    async def daily_texts(self, days: list[str]) -> dict[str, list[int]]:
        """For each UTC day ("2026-12-06"), the texts raced on it as its text of the
        day (two when the first was hidden during the day), in id order."""

    @abstractmethod
    async def pin_daily_text(self, day: str, text_id: int) -> None:
        """The operator's choice of the day's text (replaces an earlier pin)."""

    @abstractmethod
    async def daily_pin(self, day: str) -> int | None: ...


def no_stats(player_id: str, name: str) -> dict:
    """The statistics of a player with no results."""
    return {"player_id": player_id, "name": name, "races": 0, "wins": 0, "best_wpm": 0.0,
            "avg_wpm": 0.0, "avg_wpm_last_10": 0.0, "avg_accuracy": 0.0, "recent": [],
            "history": []}


def make_store(config) -> Store:
    """The store the config asks for: Redis when --redis-url is set, else SQLite."""
    if config.redis_url:
        from server.store.redis import RedisStore
        return RedisStore(config.redis_url, fold_delay_s=config.fold_delay_s)
    from server.store.sqlite import SqliteStore
    return SqliteStore(config.db, fold_delay_s=config.fold_delay_s)
