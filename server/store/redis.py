"""Redis adapter of the store port: one Redis shared by every server process.

Same semantics as the SQLite adapter (the contract tests run on both). Every write
that touches more than one key is ONE Lua script, so it is atomic: another process
never sees half a race, and a script that died with the connection left nothing.
The keys and the scripts are in server/store/redis_scripts.py.

"Clean" means finished and not flagged: only clean results count for wins, bests,
averages, completions and the boards (as in the SQLite adapter).

save_race is idempotent by race_id (the script does nothing when the race exists),
so the app's retry loop can repeat a save whose reply was lost in an outage without
counting it twice. Durability across a Redis restart is Redis's own persistence
(appendonly): see docs/scaling.md, "The shared store".
"""

from __future__ import annotations

import hashlib
import json

import msgpack

from server.store.redis_adapter import Redis, decoded
from server.core import competition
from server.core.results import Result
from server.store import HISTORY, RECENT, Bests, RaceRecord, Store, StoreUnusable, TextExists
from server.store.redis_scripts import (ADD_TEXTS, BESTS_OF, LEADERBOARD, LIST_TEXTS,
                                        PERSONAL_BEST, PLAYER_STATS, RATING, RENAME_PLAYER,
                                        SAVE_RACE, SET_META_ONCE)
from server.store.folding import FOLD_DELAY_S, Folder
from server.store.redis_keystats import RedisKeyStats
from server.store.redis_competition import RedisCompetition
from server.store.redis_trust import RedisTrust
from server.core.texts import Text


BODIES_KEPT = 1000      # text bodies kept for the key tallies of folds


def _hash(flat: list) -> dict[str, bytes]:
    """A flat HGETALL reply [f1, v1, f2, v2...] as {field: value}."""
    return {flat[i].decode(): flat[i + 1] for i in range(0, len(flat), 2)}


def _text(text_id: int, h: dict[str, bytes] | dict[str, str]) -> Text:
    return Text(text_id, decoded(h["title"]), decoded(h["source"]), decoded(h["body"]),
                decoded(h.get("author")), decoded(h.get("author_name")),
                int(h["created_ms"]), int(h["completions"]),
                decoded(h.get("hidden")) == "1")


def _digest(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _packed(r: Result) -> bytes:
    """One result as the race's hash keeps it (x:<player>), keystroke log included."""
    return msgpack.packb([r.player_id, r.name, r.slot, r.place, r.status, r.wpm,
                          r.accuracy, r.race_ms, r.pos, r.keystrokes, r.correct_keystrokes,
                          [list(e) for e in r.log], r.flagged], use_bin_type=True)


def _average_wpm(summaries: list) -> float | None:
    """The average wpm of result summaries (JSON), None for none."""
    wpms = [json.loads(s)["wpm"] for s in summaries]
    return sum(wpms) / len(wpms) if wpms else None


class RedisStore(RedisTrust, RedisCompetition, RedisKeyStats, Store):
    def __init__(self, url: str, prefix: str = "tr:", timeout: float = 2.0,
                 fold_delay_s: float = FOLD_DELAY_S):
        self.url = url
        self.prefix = prefix
        self.timeout = timeout
        self.redis: Redis | None = None
        self._bodies: dict[int, str] = {}      # text_id -> body, for the key tallies
        self._folder = Folder(self._fold_some, fold_delay_s)

    def _k(self, key: str) -> str:
        return self.prefix + key

    async def _fold_some(self, most: int) -> int:
        """The folder's batch: up to `most` results' points (redis_competition.py) and
        keys (redis_keystats.py), the most of both."""
        return max(await self._fold_points(most), await self._fold_keys(most))

    # ---- lifecycle ------------------------------------------------------------

    async def open(self) -> None:
        try:
            self.redis = await Redis.connect(self.url, timeout=self.timeout)
        except ValueError as exc:   # not a redis:// URL
            raise StoreUnusable(f"--redis-url: {exc}") from None
        self._folder.soon()             # anything a process saved and did not fold

    async def close(self) -> None:
        await self._folder.close()
        if self.redis is not None:
            await self.redis.close()
            self.redis = None

    # ---- meta and players -----------------------------------------------------

    async def get_meta(self, key):
        value = await self.redis.execute("HGET", self._k("meta"), key)
        return value.decode() if value is not None else None

    async def set_meta_once(self, key, value):
        stored = await self.redis.eval(SET_META_ONCE, [self._k("meta")], [key, value])
        return stored.decode()

    async def rename_player(self, player_id, name, now_ms):
        await self.redis.eval(RENAME_PLAYER, [self._k("player:" + player_id)], [name, now_ms])

    # ---- texts ----------------------------------------------------------------

    async def _add(self, texts, now_ms, author, author_name) -> list[int]:
        if not texts:
            return []
        args: list = [self.prefix, now_ms, author or "", author_name or ""]
        for t in texts:
            args += [_digest(t["body"]), t["title"], t.get("source") or "", t["body"]]
        return await self.redis.eval(ADD_TEXTS, [], args)

    async def add_texts(self, texts, now_ms, author=None, author_name=None):
        return [abs(i) for i in await self._add(texts, now_ms, author, author_name)]

    async def submit_text(self, text, author, author_name, now_ms):
        [text_id] = await self._add([text], now_ms, author, author_name)
        if text_id < 0:
            raise TextExists(-text_id)
        return await self.get_text(text_id)

    async def get_text(self, text_id):
        h = _hash(await self.redis.execute("HGETALL", self._k(f"text:{int(text_id)}")))
        return _text(int(text_id), h) if h else None

    async def library_text_ids(self):
        ids = await self.redis.execute("ZRANGE", self._k("texts:library"), 0, -1)
        return [int(m) for m in ids]

    async def list_texts(self, offset, limit, author=None):
        zset = f"texts:by:{author}" if author else "texts"
        reply = await self.redis.eval(LIST_TEXTS, [],
                                      [self.prefix, zset, max(0, offset), max(0, limit)])
        texts = []
        for i in range(1, len(reply), 2):
            flat = json.loads(reply[i + 1])
            texts.append(_text(reply[i], dict(zip(flat[::2], flat[1::2]))))
        return texts, reply[0]

    # ---- results and statistics -----------------------------------------------

    async def save_race(self, race: RaceRecord) -> None:
        racers = race.racers
        record = msgpack.packb(
            [race.race_id, race.room_id, race.kind, race.text_id, race.started_ms,
             race.ended_ms, [], racers, race.passage], use_bin_type=True)
        day, week, _ = competition.windows(race.ended_ms)
        daily = competition.daily_board(race.ended_ms, race.text_id) if race.daily else ""
        args: list = [self.prefix, race.race_id, race.text_id, record, race.ended_ms, daily,
                      competition.day_of(race.ended_ms).isoformat(), day.key, week.key]
        for r in race.results:
            summary = {"race_id": race.race_id, "kind": race.kind, "text_id": race.text_id,
                       "wpm": r.wpm, "accuracy": r.accuracy, "place": r.place,
                       "racers": racers, "status": r.status, "race_ms": r.race_ms,
                       "at_ms": race.ended_ms, "flagged": r.flagged}
            entry = {"player_id": r.player_id, "name": r.name, "wpm": r.wpm,
                     "accuracy": r.accuracy, "race_ms": r.race_ms, "at_ms": race.ended_ms,
                     "text_id": race.text_id, "race_id": race.race_id}
            args += [r.player_id, float(r.wpm), float(r.accuracy), "1" if r.clean else "0",
                     "1" if r.won(racers) else "0",
                     f"{race.ended_ms:015d}:{race.race_id}",
                     json.dumps(summary), json.dumps(entry), r.name, r.points, _packed(r)]
        await self.redis.eval(SAVE_RACE, [], args)
        if any(r.clean for r in race.results):
            self._folder.soon()

    async def _body(self, text_id: int) -> str:
        """A text's body (they never change: kept once read)."""
        body = self._bodies.get(text_id)
        if body is None:
            raw = await self.redis.execute("HGET", self._k(f"text:{int(text_id)}"), "body")
            body = decoded(raw) or ""
            if len(self._bodies) >= BODIES_KEPT:
                self._bodies.clear()
            self._bodies[text_id] = body
        return body

    async def get_race(self, race_id):
        fields = _hash(await self.redis.execute("HGETALL", self._k("race:" + race_id)))
        blob = fields.get("record")
        if blob is None:
            return None
        rid, room_id, kind, text_id, started_ms, ended_ms, results, *rest = msgpack.unpackb(
            blob, raw=False)
        # Races saved whole before results were saved one by one hold them in `record`.
        results += [msgpack.unpackb(v, raw=False) for k, v in fields.items()
                    if k.startswith("x:")]
        record = RaceRecord(rid, room_id, kind, text_id, started_ms, ended_ms,
                            racers=rest[0] if rest else len(results),
                            passage=rest[1] if len(rest) > 1 else None)   # a generated one
        for r in sorted(results, key=lambda r: r[3]):
            record.results.append(Result(*r[:11], [tuple(e) for e in r[11]], r[12]))
        return record

    async def player_stats(self, player_id):
        reply = await self.redis.eval(PLAYER_STATS, [],
                                      [self.prefix, player_id, RECENT, max(RECENT, HISTORY)])
        if reply is None:
            return None
        player, totals, recent_flat, clean = reply
        player, totals = _hash(player), _hash(totals)
        n = int(totals.get("clean", 0))
        history = []
        for summary in reversed(clean[:HISTORY]):
            s = json.loads(summary)
            history.append({k: s[k] for k in ("race_id", "text_id", "wpm", "accuracy",
                                              "at_ms")})
        recent = []
        for i in range(0, len(recent_flat), 2):
            s = json.loads(recent_flat[i])
            title = recent_flat[i + 1]
            recent.append({"race_id": s["race_id"], "kind": s["kind"],
                           "text_id": s["text_id"],
                           "title": title.decode() if title is not None else None,
                           **{k: s[k] for k in ("wpm", "accuracy", "place", "racers",
                                                "status", "race_ms", "at_ms", "flagged")}})
        return {
            "player_id": player_id, "name": player["name"].decode(),
            "races": int(totals.get("races", 0)), "wins": int(totals.get("wins", 0)),
            "best_wpm": round(float(totals.get("best", 0)), 2),
            "avg_wpm": round(float(totals["wpm_sum"]) / n, 2) if n else 0.0,
            "avg_wpm_last_10": round(_average_wpm(clean[:RECENT]) or 0.0, 2),
            "avg_accuracy": round(float(totals["acc_sum"]) / n, 4) if n else 0.0,
            "recent": recent,
            "history": history,
        }

    async def rating(self, player_id):
        return _average_wpm(await self.redis.eval(RATING, [],
                                                  [self.prefix, player_id, RECENT]))

    async def personal_best(self, player_id, text_id):
        found = await self.redis.eval(PERSONAL_BEST, [], [self.prefix, int(text_id), player_id])
        if not found:
            return None
        entry = json.loads(found[0])
        if found[1] is not None:               # shown under the player's current name
            entry["name"] = found[1].decode()
        return entry

    async def bests_of(self, player_ids, text_id):
        player_ids = list(player_ids)
        if not player_ids:
            return {}
        text, overall = await self.redis.eval(
            BESTS_OF, [], [self.prefix, "" if text_id is None else int(text_id), *player_ids])

        def score(scores, i):
            return float(scores[i]) if i < len(scores) and scores[i] is not None else None
        return {pid: Bests(score(text, i), score(overall, i)) for i, pid in enumerate(player_ids)}

    async def _board(self, board: str, limit: int,
                     order=lambda e: (-e["wpm"], e["at_ms"], e["race_id"]),
                     points: list = ()) -> list[dict]:
        """The top `limit` entries of a board (ties put in `order`: Redis would order
        them by member), under the players' current names; `points`: a points board's
        extra arguments (LEADERBOARD)."""
        if limit <= 0:
            return []
        reply = await self.redis.eval(LEADERBOARD, [], [self.prefix, board, limit, *points])
        entries = []
        for i in range(0, len(reply), 2):
            entry = json.loads(reply[i])
            if reply[i + 1] is not None:       # shown under the player's current name
                entry["name"] = reply[i + 1].decode()
            entries.append(entry)
        entries.sort(key=order)
        return entries[:limit]

    async def text_stats(self, text_id):
        text = await self.get_text(text_id)
        if text is None or text.hidden:
            return None
        totals = _hash(await self.redis.execute("HGETALL", self._k(f"tstats:{int(text_id)}")))
        n = int(totals.get("clean", 0))
        return {"text": text.listing(), "completions": text.completions,
                "avg_wpm": round(float(totals["wpm_sum"]) / n, 2) if n else 0.0,
                "top": await self._board(f"lb:t:{int(text_id)}", 10)}

    async def leaderboard(self, text_id, limit=20):
        return await self._board(f"lb:t:{int(text_id)}" if text_id else "lb", limit)
