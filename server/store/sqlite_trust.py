"""Accounts, bans, reports and hidden texts in SQLite: the SqliteStore methods on the
tables of migration 3 (server/store/sqlite_schema.py). Reads run on the reader
threads, changes on the writer thread (server/store/sqlite.py); every change is one
transaction, so two players can't both register one name, and the report that
reaches the threshold hides the text exactly once. The limits on logins and sign-ups
(allowances) are kept in the process's memory: an SQLite file has one server."""

from __future__ import annotations

from server.core.accounts import AllowanceTable
from server.store import (Account, AlreadyRegistered, Identity, NameTaken, ReportedText,
                          ReportOutcome)


def _transaction(work):
    """work(db, *args) as one write transaction, undone if it raises."""
    def run(db, *args):
        db.execute("BEGIN IMMEDIATE")
        try:
            result = work(db, *args)
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return result
    return run


class SqliteTrust:
    """Mixed into SqliteStore: uses its `_read` and `_write`."""

    async def check_identity(self, player_id, name_key):
        def work(db):
            owner = db.execute("SELECT player_id FROM accounts WHERE name_key = ?",
                               (name_key,)).fetchone()
            player = player_id and db.execute(
                "SELECT p.token_generation, p.banned, a.name FROM players p"
                " LEFT JOIN accounts a ON a.player_id = p.player_id WHERE p.player_id = ?",
                (player_id,)).fetchone()
            if not player:          # a guest with nothing kept yet: no row
                return Identity(name_owner=owner[0] if owner else None)
            return Identity(player[0], bool(player[1]), player[2], owner[0] if owner else None)
        return await self._read(work)

    async def create_account(self, player_id, name, name_key, password_hash, now_ms):
        @_transaction
        def work(db):
            if db.execute("SELECT 1 FROM accounts WHERE player_id = ?", (player_id,)).fetchone():
                raise AlreadyRegistered(player_id)
            if db.execute("SELECT 1 FROM accounts WHERE name_key = ?", (name_key,)).fetchone():
                raise NameTaken(name)
            # A guest is kept from now on (it has an account to keep), under this name.
            db.execute("""
                INSERT INTO players(player_id, name, created_ms, seen_ms) VALUES (?, ?, ?, ?)
                ON CONFLICT(player_id) DO UPDATE SET name = excluded.name,
                    seen_ms = excluded.seen_ms
                """, (player_id, name, now_ms, now_ms))
            db.execute("INSERT INTO accounts VALUES (?, ?, ?, ?, ?)",
                       (player_id, name, name_key, password_hash, now_ms))
        await self._write(work)

    async def get_account(self, name_key):
        def work(db):
            row = db.execute(
                "SELECT a.player_id, a.name, a.password_hash, p.token_generation, p.banned"
                " FROM accounts a JOIN players p ON p.player_id = a.player_id"
                " WHERE a.name_key = ?", (name_key,)).fetchone()
            return Account(row[0], row[1], row[2], row[3], bool(row[4])) if row else None
        return await self._read(work)

    async def set_password(self, player_id, password_hash):
        @_transaction
        def work(db):
            db.execute("UPDATE accounts SET password_hash = ? WHERE player_id = ?",
                       (password_hash, player_id))
            return db.execute("UPDATE players SET token_generation = token_generation + 1"
                              " WHERE player_id = ? RETURNING token_generation",
                              (player_id,)).fetchone()[0]
        return await self._write(work)

    async def set_banned(self, player_id, banned):
        def work(db):
            row = db.execute("UPDATE players SET banned = ? WHERE player_id = ?"
                             " RETURNING name", (int(banned), player_id)).fetchone()
            return row[0] if row else None
        return await self._write(work)

    async def rekey_accounts(self, version, key):
        @_transaction
        def work(db):
            if db.execute("SELECT value FROM meta WHERE key = 'account_name_keys'"
                          ).fetchone() == (version,):
                return 0
            changed = 0
            for player_id, name, old in db.execute(
                    "SELECT player_id, name, name_key FROM accounts"
                    " ORDER BY created_ms, player_id").fetchall():
                new = key(name)
                if new != old and db.execute("UPDATE OR IGNORE accounts SET name_key = ?"
                                             " WHERE player_id = ?",
                                             (new, player_id)).rowcount:
                    changed += 1
            db.execute("INSERT OR REPLACE INTO meta(key, value)"
                       " VALUES ('account_name_keys', ?)", (version,))
            return changed
        return await self._write(work)

    def _allowance_table(self) -> AllowanceTable:
        return self.__dict__.setdefault("_allowances", AllowanceTable())

    async def take_allowances(self, allowances, now_ms):
        return self._allowance_table().take(allowances, now_ms / 1000)

    async def give_back_allowances(self, allowances, now_ms):
        self._allowance_table().give_back(allowances, now_ms / 1000)

    # ---- reports and hidden texts ---------------------------------------------

    async def report_text(self, text_id, player_id, reason, now_ms, threshold):
        @_transaction
        def work(db):
            text = db.execute("SELECT author, hidden, reviewed FROM texts WHERE text_id = ?",
                              (text_id,)).fetchone()
            if text is None or text["hidden"]:
                return None
            counted = db.execute("INSERT OR IGNORE INTO reports VALUES (?, ?, ?, ?)",
                                 (text_id, player_id, reason, now_ms)).rowcount == 1
            reports = db.execute("SELECT COUNT(*) FROM reports WHERE text_id = ?",
                                 (text_id,)).fetchone()[0]
            hidden = text["author"] is not None and not text["reviewed"] and reports >= threshold
            if hidden:
                db.execute("UPDATE texts SET hidden = 1 WHERE text_id = ?", (text_id,))
            return ReportOutcome(counted, reports, hidden)
        return await self._write(work)

    async def set_text_hidden(self, text_id, hidden):
        @_transaction
        def work(db):
            row = db.execute("SELECT hidden FROM texts WHERE text_id = ?", (text_id,)).fetchone()
            if row is None:
                return None
            # A restore is an operator's verdict on the text: reports no longer hide it.
            db.execute("UPDATE texts SET hidden = ?, reviewed = reviewed OR ? WHERE text_id = ?",
                       (int(hidden), int(not hidden), text_id))
            return bool(row[0])
        return await self._write(work)

    async def hidden_text_ids(self):
        def work(db):
            return {r[0] for r in db.execute("SELECT text_id FROM texts WHERE hidden = 1")}
        return await self._read(work)

    async def reported_texts(self, limit=50):
        def work(db):
            rows = db.execute(
                "SELECT r.text_id, t.title, t.author, t.author_name, t.hidden,"
                " COUNT(*) AS reports, MAX(r.at_ms) AS last_ms,"
                " (SELECT reason FROM reports l WHERE l.text_id = r.text_id"
                "  ORDER BY l.at_ms DESC, l.player_id LIMIT 1) AS last_reason"
                " FROM reports r JOIN texts t ON t.text_id = r.text_id"
                " GROUP BY r.text_id ORDER BY reports DESC, last_ms DESC, r.text_id"
                " LIMIT ?", (limit,)).fetchall()
            return [ReportedText(r["text_id"], r["title"], r["author"], r["author_name"],
                                 r["reports"], bool(r["hidden"]), r["last_reason"],
                                 r["last_ms"]) for r in rows]
        return await self._read(work)
