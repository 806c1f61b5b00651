"""Competitions in SQLite: points per period and the boards of the text of the day, on
the tables of migrations 5 and 7 (server/store/sqlite_schema.py). Points are folded
from the saved results (server/store/sqlite_fold.py: each clean result exactly once,
crash or not; SqliteStore folds what is pending before it reads them); a day's board
is written by the save. Every read is an index range: a board reads the top of
points_rank (or bests_rank). SQLite has no order-statistic index, so a place on a
points board is the players of the buckets above (points_hist, a sum over at most a
couple of thousand rows) plus a count of the index entries ahead in the player's own
bucket; on a day's board it counts the index entries ahead (a day's board is small).
Either takes away the banned players ahead (few: players_banned)."""

from __future__ import annotations

from server.store.folding import FOLD_BATCH, fold_for_read
from server.store.sqlite_fold import fold_points, place_in_period
from server.store.sqlite_results import read_best, read_board


def read_points_board(db, period: str, limit: int) -> list[dict]:
    rows = db.execute(
        "SELECT t.player_id, p.name, t.points, t.races FROM points t"
        " JOIN players p ON p.player_id = t.player_id"     # (every result keeps its player)
        " WHERE t.period = ? AND p.banned = 0"
        " ORDER BY t.points DESC, t.reached_ms, t.player_id LIMIT ?",
        (period, max(0, limit))).fetchall()
    return [dict(r) for r in rows]


def _place(db, table: str, board: str, score: str, tie: str, at: tuple,
           above: tuple[int, int] | None = None) -> int:
    """1 + the players not banned ahead on a ranked table: a higher `score`, or the same
    and a smaller `tie` (columns). `at` = (board value, score, tie values...); `above`,
    when known, = (how many have a score of `ceiling` or more, ceiling), so only the
    scores below the ceiling are counted. Two index ranges (an OR of both would walk
    the whole board), then the banned players among them, found from the banned ones
    (few: players_banned)."""
    key, value, ties = at[0], at[1], at[2:]
    marks = ", ".join("?" * len(ties))
    higher, ceiling = above or (0, None)
    below = "" if ceiling is None else f" AND {score} < {int(ceiling)}"
    ahead = higher + db.execute(
        f"SELECT COUNT(*) FROM {table} WHERE {board} = ? AND {score} > ?{below}",
        (key, value)).fetchone()[0]
    ahead += db.execute(f"SELECT COUNT(*) FROM {table} WHERE {board} = ? AND {score} = ?"
                        f" AND ({tie}) < ({marks})", (key, value, *ties)).fetchone()[0]
    ahead -= db.execute(
        f"SELECT COUNT(*) FROM players p CROSS JOIN {table} t ON t.{board} = ?"
        f" AND t.player_id = p.player_id WHERE p.banned = 1 AND (t.{score} > ?"
        f" OR (t.{score} = ? AND ({', '.join('t.' + c for c in tie.split(', '))}) < ({marks})))",
        (key, value, value, *ties)).fetchone()[0]
    return ahead + 1


def read_points_place(db, period: str, player_id: str) -> dict | None:
    me = db.execute("SELECT points, reached_ms FROM points WHERE period = ? AND player_id = ?",
                    (period, player_id)).fetchone()
    if me is None:
        return None
    return {"points": me["points"], "place": _place(
        db, "points", "period", "points", "reached_ms, player_id",
        (period, me["points"], me["reached_ms"], player_id),
        above=place_in_period(db, period, me["points"]))}


def read_board_place(db, board: int, player_id: str) -> dict | None:
    """The player's best on a board (a day's) and place among players not banned."""
    me = read_best(db, board, player_id)
    if me is None:
        return None
    return {"best_wpm": me["wpm"], "place": _place(
        db, "bests", "board", "wpm", "at_ms, race_id",
        (board, me["wpm"], me["at_ms"], me["race_id"]))}


class SqliteCompetition:
    """Mixed into SqliteStore: uses its `_read`, `_write` and `_fold`."""

    async def points_board(self, period, limit=20):
        await fold_for_read(lambda: self._fold(fold_points, FOLD_BATCH))
        return await self._read(read_points_board, period, limit)

    async def points_place(self, period, player_id):
        await fold_for_read(lambda: self._fold(fold_points, FOLD_BATCH))
        return await self._read(read_points_place, period, player_id)

    async def day_board(self, board, limit=20):
        return await self._read(read_board, board, limit)

    async def day_board_place(self, board, player_id):
        return await self._read(read_board_place, board, player_id)

    async def daily_texts(self, days):
        def work(db):
            found = {day: [] for day in days}
            for day in days:
                for row in db.execute("SELECT text_id FROM daily_texts WHERE day = ?"
                                      " ORDER BY text_id", (day,)):
                    found[day].append(row[0])
            return found
        return await self._read(work)

    async def pin_daily_text(self, day, text_id):
        def work(db):
            db.execute("INSERT INTO daily_pins VALUES (?, ?) ON CONFLICT(day)"
                       " DO UPDATE SET text_id = excluded.text_id", (day, text_id))
        await self._write(work)

    async def daily_pin(self, day):
        def work(db):
            row = db.execute("SELECT text_id FROM daily_pins WHERE day = ?", (day,)).fetchone()
            return row[0] if row else None
        return await self._read(work)
