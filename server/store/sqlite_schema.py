"""The SQLite adapter's schema, as versioned migrations (PRAGMA user_version).

Each entry migrates the schema from version i to i+1 and runs in one transaction.
Never edit a shipped one: add the next. Statements are split on ";", so none may
contain one inside.
"""

from __future__ import annotations

# Leaderboard rows of the overall board have board = OVERALL; a text's board is its
# text_id (text ids start at 1).
OVERALL = 0

MIGRATIONS = [
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE players (
        player_id TEXT PRIMARY KEY, name TEXT NOT NULL,
        created_ms INTEGER NOT NULL, seen_ms INTEGER NOT NULL);
    CREATE TABLE texts (
        text_id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL, source TEXT NOT NULL,
        body TEXT NOT NULL UNIQUE, author TEXT, author_name TEXT,
        created_ms INTEGER NOT NULL, completions INTEGER NOT NULL DEFAULT 0);
    CREATE INDEX texts_author ON texts(author, created_ms);
    CREATE TABLE races (
        race_id TEXT PRIMARY KEY, room_id TEXT NOT NULL, kind TEXT NOT NULL,
        text_id INTEGER NOT NULL, started_ms INTEGER NOT NULL, ended_ms INTEGER NOT NULL,
        racers INTEGER NOT NULL);
    CREATE TABLE results (
        race_id TEXT NOT NULL, player_id TEXT NOT NULL, name TEXT NOT NULL,
        text_id INTEGER NOT NULL, slot INTEGER NOT NULL, place INTEGER NOT NULL,
        racers INTEGER NOT NULL, status TEXT NOT NULL, wpm REAL NOT NULL,
        accuracy REAL NOT NULL, race_ms INTEGER NOT NULL, pos INTEGER NOT NULL,
        keystrokes INTEGER NOT NULL, correct_keystrokes INTEGER NOT NULL,
        flagged TEXT, at_ms INTEGER NOT NULL, log BLOB NOT NULL,
        PRIMARY KEY (race_id, player_id));
    CREATE INDEX results_player ON results(player_id, at_ms);
    CREATE INDEX results_text ON results(text_id, wpm);
    """,
    # 2: every read is an index range, never a scan or a sort of a whole table.
    """
    CREATE INDEX texts_created ON texts(created_ms);

    CREATE TABLE bests (
        board INTEGER NOT NULL, player_id TEXT NOT NULL, name TEXT NOT NULL,
        wpm REAL NOT NULL, accuracy REAL NOT NULL, race_ms INTEGER NOT NULL,
        at_ms INTEGER NOT NULL, text_id INTEGER NOT NULL, race_id TEXT NOT NULL,
        PRIMARY KEY (board, player_id));
    CREATE INDEX bests_rank ON bests(board, wpm DESC, at_ms, race_id);
    INSERT INTO bests
        SELECT 0, player_id, name, wpm, accuracy, race_ms, at_ms, text_id, race_id FROM (
            SELECT *, ROW_NUMBER() OVER (PARTITION BY player_id
                ORDER BY wpm DESC, at_ms, race_id) AS n
            FROM results WHERE status = 'finished' AND flagged IS NULL)
        WHERE n = 1;
    INSERT INTO bests
        SELECT text_id, player_id, name, wpm, accuracy, race_ms, at_ms, text_id, race_id FROM (
            SELECT *, ROW_NUMBER() OVER (PARTITION BY text_id, player_id
                ORDER BY wpm DESC, at_ms, race_id) AS n
            FROM results WHERE status = 'finished' AND flagged IS NULL)
        WHERE n = 1;
    DROP INDEX results_text;

    CREATE INDEX results_player_clean ON results(player_id, at_ms)
        WHERE status = 'finished' AND flagged IS NULL;
    ALTER TABLE players ADD COLUMN races INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE players ADD COLUMN wins INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE players ADD COLUMN clean INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE players ADD COLUMN wpm_sum REAL NOT NULL DEFAULT 0;
    ALTER TABLE players ADD COLUMN acc_sum REAL NOT NULL DEFAULT 0;
    ALTER TABLE players ADD COLUMN best_wpm REAL NOT NULL DEFAULT 0;
    INSERT OR IGNORE INTO players(player_id, name, created_ms, seen_ms)
        SELECT player_id, name, MAX(at_ms), MAX(at_ms) FROM results GROUP BY player_id;
    UPDATE players SET races = t.races, wins = t.wins, clean = t.clean,
            wpm_sum = t.wpm_sum, acc_sum = t.acc_sum, best_wpm = t.best_wpm
        FROM (SELECT player_id, COUNT(*) AS races,
                     SUM(place = 1 AND racers > 1 AND status = 'finished'
                         AND flagged IS NULL) AS wins,
                     SUM(status = 'finished' AND flagged IS NULL) AS clean,
                     TOTAL(CASE WHEN status = 'finished' AND flagged IS NULL
                           THEN wpm END) AS wpm_sum,
                     TOTAL(CASE WHEN status = 'finished' AND flagged IS NULL
                           THEN accuracy END) AS acc_sum,
                     COALESCE(MAX(CASE WHEN status = 'finished' AND flagged IS NULL
                              THEN wpm END), 0) AS best_wpm
              FROM results GROUP BY player_id) AS t
        WHERE t.player_id = players.player_id;

    ALTER TABLE texts ADD COLUMN wpm_sum REAL NOT NULL DEFAULT 0;
    UPDATE texts SET wpm_sum = t.wpm_sum
        FROM (SELECT text_id, TOTAL(wpm) AS wpm_sum FROM results
              WHERE status = 'finished' AND flagged IS NULL GROUP BY text_id) AS t
        WHERE t.text_id = texts.text_id;
    """,
    # 3: accounts, token generations and bans; reports and hidden texts. The listing
    # indexes lead with `hidden`, so a page of the texts shown is still read from an
    # index alone (and the hidden ones are a range of it).
    """
    ALTER TABLE players ADD COLUMN token_generation INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE players ADD COLUMN banned INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE accounts (
        player_id TEXT PRIMARY KEY, name TEXT NOT NULL, name_key TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL, created_ms INTEGER NOT NULL);
    ALTER TABLE texts ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE texts ADD COLUMN reviewed INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX texts_shown ON texts(hidden, created_ms);
    CREATE INDEX texts_author_shown ON texts(hidden, author, created_ms);
    DROP INDEX texts_created;
    CREATE TABLE reports (
        text_id INTEGER NOT NULL, player_id TEXT NOT NULL, reason TEXT NOT NULL,
        at_ms INTEGER NOT NULL, PRIMARY KEY (text_id, player_id));
    """,
    # 4: whether a result is clean is the core's verdict (Result.clean), kept as it was
    # given, so no query restates the rule. Rows saved before carry the verdict the rule
    # gave then: finished and not flagged.
    """
    ALTER TABLE results ADD COLUMN clean INTEGER NOT NULL DEFAULT 0;
    UPDATE results SET clean = 1 WHERE status = 'finished' AND flagged IS NULL;
    CREATE INDEX results_clean ON results(player_id, at_ms) WHERE clean = 1;
    DROP INDEX results_player_clean;
    """,
    # 5: competitions (server/core/competition.py). Points per period ("day:2026-12-06",
    # "week:2026-W49", "all"), read in rank order from points_rank (a table without rowid
    # and no name of its own: each save updates two b-trees, not four); the texts each UTC day
    # raced as its text of the day (their boards are rows of `bests`, negative board
    # numbers); the operator's pins; banned players indexed, so a place is counted
    # without them.
    """
    CREATE TABLE points (
        period TEXT NOT NULL, player_id TEXT NOT NULL,
        points INTEGER NOT NULL, races INTEGER NOT NULL, reached_ms INTEGER NOT NULL,
        PRIMARY KEY (period, player_id)) WITHOUT ROWID;
    CREATE INDEX points_rank ON points(period, points DESC, reached_ms, player_id);
    CREATE TABLE daily_texts (
        day TEXT NOT NULL, text_id INTEGER NOT NULL, PRIMARY KEY (day, text_id));
    CREATE TABLE daily_pins (day TEXT PRIMARY KEY, text_id INTEGER NOT NULL);
    CREATE INDEX players_banned ON players(player_id) WHERE banned = 1;
    """,
    # 6: per-key and per-bigram statistics of each player (server/core/keystats.py),
    # added to as clean results are saved; kind 0 a key, 1 a bigram. The passage of a
    # race on a generated text (weak-key practice: no stored text), for its replay.
    """
    CREATE TABLE passages (race_id TEXT PRIMARY KEY, body TEXT NOT NULL);
    CREATE TABLE key_stats (
        player_id TEXT NOT NULL, kind INTEGER NOT NULL, key TEXT NOT NULL,
        count INTEGER NOT NULL, errors INTEGER NOT NULL, ms INTEGER NOT NULL,
        PRIMARY KEY (player_id, kind, key)) WITHOUT ROWID;
    """,
    # 7: per-key statistics and points become a view folded from the saved results
    # (server/store/sqlite_fold.py): `unfolded` queues the clean results not folded
    # yet (the save adds a row; the points fold sets points_done, the keys fold
    # keys_done, each in the transaction that counts it, and the second deletes it; a
    # board read folds only points, which are cheap);
    # points_hist counts each period's players per bucket of their total
    # (competition.bucket), so a place is a sum over buckets plus a count within one.
    # Everything saved before was counted as it was saved: nothing is unfolded.
    """
    CREATE TABLE unfolded (
        seq INTEGER PRIMARY KEY, race_id TEXT NOT NULL, player_id TEXT NOT NULL,
        points INTEGER NOT NULL, at_ms INTEGER NOT NULL,
        keys_done INTEGER NOT NULL DEFAULT 0, points_done INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE points_hist (
        period TEXT NOT NULL, bucket INTEGER NOT NULL, players INTEGER NOT NULL,
        PRIMARY KEY (period, bucket)) WITHOUT ROWID;
    INSERT INTO points_hist
        SELECT period, points_bucket(points), COUNT(*) FROM points GROUP BY 1, 2;
    """,
]
