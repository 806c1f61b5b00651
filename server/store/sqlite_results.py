"""The SQLite adapter's statements about results: saving a race (its results, each
player's totals, the bests that make the leaderboards, the text's completions) and
reading ratings and boards. Each runs on a store thread with its connection
(server/store/sqlite.py); what counts as clean or a win is the core's verdict
(server/core/results.py), written as given."""

from __future__ import annotations

import msgpack

from server.core import competition
from server.core.results import Result
from server.store import RECENT, Bests, RaceRecord
from server.store.sqlite_fold import queue
from server.store.sqlite_keystats import keep_passage
from server.store.sqlite_schema import OVERALL


def rollback(db) -> None:
    if db.in_transaction:
        db.execute("ROLLBACK")


def keep_player(db, player_id, name, now_ms, races=0, wins=0, clean=0, wpm=0.0,
                 accuracy=0.0) -> None:
    """Create the player's row or bring it up to date: its current name, and the
    result (if any) added to its totals."""
    db.execute(
        "INSERT INTO players(player_id, name, created_ms, seen_ms, races, wins, clean,"
        " wpm_sum, acc_sum, best_wpm) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT(player_id) DO UPDATE SET name = excluded.name,"
        " seen_ms = excluded.seen_ms, races = races + excluded.races,"
        " wins = wins + excluded.wins, clean = clean + excluded.clean,"
        " wpm_sum = wpm_sum + excluded.wpm_sum, acc_sum = acc_sum + excluded.acc_sum,"
        " best_wpm = MAX(best_wpm, excluded.best_wpm)",
        (player_id, name, now_ms, now_ms, races, wins, clean, wpm * clean, accuracy * clean,
         wpm * clean))


def keep_best(db, board: int, race: RaceRecord, r: Result) -> None:
    """The result becomes the player's entry on `board` if it beats the one there:
    faster, or as fast and earlier."""
    db.execute(
        "INSERT INTO bests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT(board, player_id) DO UPDATE SET name = excluded.name,"
        " wpm = excluded.wpm, accuracy = excluded.accuracy, race_ms = excluded.race_ms,"
        " at_ms = excluded.at_ms, text_id = excluded.text_id, race_id = excluded.race_id"
        " WHERE excluded.wpm > bests.wpm OR (excluded.wpm = bests.wpm"
        "  AND (excluded.at_ms, excluded.race_id) < (bests.at_ms, bests.race_id))",
        (board, r.player_id, r.name, r.wpm, r.accuracy, r.race_ms, race.ended_ms,
         race.text_id, race.race_id))


def keep_daily(db, race: RaceRecord, r: Result) -> None:
    """A clean result of a race on the text of the day goes on that day's board."""
    db.execute("INSERT OR IGNORE INTO daily_texts VALUES (?, ?)",
               (competition.day_of(race.ended_ms).isoformat(), race.text_id))
    keep_best(db, competition.daily_board(race.ended_ms, race.text_id), race, r)


def write_race(db, race: RaceRecord) -> int:
    """The results of `race` the store does not have yet, with everything they count
    for, in one transaction (see Store.save_race: a race is saved in steps). Returns how
    many clean results it queued for folding (server/store/sqlite_fold.py)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        racers = race.racers
        db.execute("INSERT INTO races VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(race_id)"
                   " DO UPDATE SET ended_ms = MAX(ended_ms, excluded.ended_ms)",
                   (race.race_id, race.room_id, race.kind, race.text_id,
                    race.started_ms, race.ended_ms, racers))
        keep_passage(db, race)
        clean_count, wpm_sum = 0, 0.0
        for r in race.results:
            if write_result(db, race, r, racers) and r.clean:
                clean_count += 1
                wpm_sum += r.wpm
        if clean_count:
            db.execute("UPDATE texts SET completions = completions + ?,"
                       " wpm_sum = wpm_sum + ? WHERE text_id = ?",
                       (clean_count, wpm_sum, race.text_id))
        db.execute("COMMIT")
    except BaseException:
        rollback(db)
        raise
    return clean_count


def write_result(db, race: RaceRecord, r: Result, racers: int) -> bool:
    """THE place one result is written: its row, its player's totals, its bests, the
    day's board, and (a clean one) its mark for folding into per-key statistics and
    points (server/store/sqlite_fold.py).
    False when the store has it already (a retry, or the race's end after the finish
    saved it): nothing is counted twice."""
    if db.execute(
            "INSERT INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(race_id, player_id) DO NOTHING",
            (race.race_id, r.player_id, r.name, race.text_id, r.slot, r.place, racers,
             r.status, r.wpm, r.accuracy, r.race_ms, r.pos, r.keystrokes,
             r.correct_keystrokes, r.flagged, race.ended_ms,
             msgpack.packb([list(e) for e in r.log], use_bin_type=True),
             int(r.clean))).rowcount == 0:
        return False
    keep_player(db, r.player_id, r.name, race.ended_ms, races=1,
                wins=int(r.won(racers)), clean=int(r.clean), wpm=r.wpm, accuracy=r.accuracy)
    if r.clean:
        if race.passage is None:            # a generated passage is on no board
            keep_best(db, OVERALL, race, r)
            keep_best(db, race.text_id, race, r)
        if race.daily:
            keep_daily(db, race, r)
        queue(db, race.race_id, r.player_id, r.points, race.ended_ms)
    return True


def read_rating(db, player_id) -> float | None:
    """The average wpm of the player's last RECENT clean results (index results_clean)."""
    return db.execute(
        f"SELECT AVG(wpm) FROM (SELECT wpm FROM results WHERE player_id = ? AND clean = 1"
        f" ORDER BY at_ms DESC LIMIT {RECENT})", (player_id,)).fetchone()[0]


def read_best(db, board: int, player_id: str) -> dict | None:
    """One player's entry on a leaderboard, under the current name."""
    row = db.execute(
        "SELECT b.player_id, COALESCE(p.name, b.name) AS name, b.wpm, b.accuracy,"
        " b.race_ms, b.at_ms, b.text_id, b.race_id FROM bests b"
        " LEFT JOIN players p ON p.player_id = b.player_id"
        " WHERE b.board = ? AND b.player_id = ?", (board, player_id)).fetchone()
    return dict(row) if row else None


def read_bests(db, player_ids: list[str], text_id: int | None) -> dict[str, Bests]:
    """Each player's entries on the overall board and the text's (primary key reads)."""
    found = {pid: {} for pid in player_ids}
    boards = [OVERALL] if text_id is None else [OVERALL, text_id]
    for pid in player_ids:
        for board, wpm in db.execute(
                f"SELECT board, wpm FROM bests WHERE player_id = ?"
                f" AND board IN ({', '.join('?' * len(boards))})", (pid, *boards)):
            found[pid][board] = wpm
    return {pid: Bests(text_wpm=b.get(text_id) if text_id is not None else None,
                       overall_wpm=b.get(OVERALL)) for pid, b in found.items()}


def read_board(db, board: int, limit: int) -> list[dict]:
    """The top of a leaderboard (bests_rank, read in order), under current names;
    banned players are skipped as it is read (they are few), so an unban needs no
    rebuild."""
    rows = db.execute(
        "SELECT b.player_id, COALESCE(p.name, b.name) AS name, b.wpm, b.accuracy,"
        " b.race_ms, b.at_ms, b.text_id, b.race_id FROM bests b"
        " LEFT JOIN players p ON p.player_id = b.player_id"
        " WHERE b.board = ? AND COALESCE(p.banned, 0) = 0 ORDER BY b.wpm DESC, b.at_ms, b.race_id LIMIT ?",
        (board, max(0, limit))).fetchall()
    return [dict(r) for r in rows]
