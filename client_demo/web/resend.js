// Typed keys that the server refused, sent again in order. Pure (the time is passed in):
// the page's copy of client_demo/resend.py, whose docstring says the whole rule. In
// short: every `input` carries an id and its keys are kept by it; an `unavailable` error
// with that id means it was not applied. Then nothing more is sent until a `ping` (the
// probe; the server answers in order) has settled every input in flight; after a
// back-off the refused keys go again, in order, the keys typed meanwhile behind them and
// a probe after them, until a round comes back clean. After RESEND_GIVE_UP_MS of
// trouble, or when the race ends or the seat changes, the held keys are dropped and
// counted in `lost`, for the page to tell the player.
import { KEYS_MAX, RESEND_FIRST_MS, RESEND_GIVE_UP_MS, RESEND_MAX_MS } from "./protocol.js";

const SENT_MAX = 256;          // inputs remembered while all is well (refusals take a round trip)
export const PROBE = null;     // in what take() returns: send a `ping`, report its id to probing()
const RACE_OVER = new Set(["results", "joined", "resume", "left", "kicked"]);

/** What the page tells the player about keys given up on. */
export function lostNotice(keys) {
  return `${keys} typed key${keys !== 1 ? "s" : ""} could not reach the race's server ` +
    "and were dropped; your progress is what the server has";
}

export class Resender {
  constructor() {
    this.later = "";           // typed keys not sent yet (behind any refused)
    this.refused = [];         // refused inputs' keys, in the order they were typed
    this.sent = new Map();     // id -> keys of inputs sent and not known settled
    this.probe = null;         // the id of the `ping` awaited
    this.since = null;         // when the trouble began; null: all is well
    this.retryAt = 0;
    this.backoff = RESEND_FIRST_MS;
    this.refusals = 0;         // `unavailable` inputs, ever
    this.lost = 0;             // keys given up on; the page tells and resets it
  }

  /** Whether keys wait for the server (the page keeps calling take()). */
  get holding() { return this.since !== null; }

  type(keys) { this.later += keys; }

  /** What to send now, in order: the keys of one `input` each, and PROBE for a `ping`.
   *  Report each message's id: sending(id, keys), probing(id). */
  take(nowMs) {
    if (this.since === null) return this.chunks([]);
    if (nowMs - this.since >= RESEND_GIVE_UP_MS) {
      this.end();
      return this.chunks([]);
    }
    if (this.probe !== null) return [];          // waiting to hear what became of the inputs sent
    if (this.sent.size) return [PROBE];          // inputs in flight: settle them before anything
    if (!this.refused.length) {                  // a round came back clean: the trouble is over
      this.since = null;
      this.backoff = RESEND_FIRST_MS;
      return this.chunks([]);
    }
    if (nowMs < this.retryAt) return [];
    return [...this.chunks(this.refused), PROBE];
  }

  chunks(first) {
    const later = this.later;
    this.later = "";
    this.refused = [];
    const out = [...first];
    for (let i = 0; i < later.length; i += KEYS_MAX) out.push(later.slice(i, i + KEYS_MAX));
    return out;
  }

  sending(id, keys) {
    this.sent.set(id, keys);
    if (this.sent.size > SENT_MAX && this.since === null) {
      this.sent.delete(this.sent.keys().next().value);
    }
  }

  probing(id) { this.probe = id; }

  /** Every message from the server; true when it was about our keys. */
  heard(msg, nowMs) {
    const id = msg.id;
    if (RACE_OVER.has(msg.type) || (msg.type === "error" && msg.code === "room_lost")) {
      this.end();
      return false;
    }
    if (typeof id !== "number") return false;
    if (id === this.probe) {                     // answered in order: every input before it settled
      this.probe = null;
      this.settledBefore(id + 1);
      return true;
    }
    if (msg.type === "error" && msg.code === "unavailable" && this.sent.has(id)) {
      this.refuse(id, nowMs);
      return true;
    }
    return false;
  }

  settledBefore(id) {
    for (const sentId of [...this.sent.keys()]) if (sentId < id) this.sent.delete(sentId);
  }

  refuse(id, nowMs) {
    const keys = this.sent.get(id);
    // Inputs sent before it were answered before it: taken, or refused already.
    this.settledBefore(id + 1);
    if (this.since === null) this.since = nowMs;
    if (!this.refused.length) {                  // the first refusal of a round: back off
      this.retryAt = nowMs + this.backoff;
      this.backoff = Math.min(2 * this.backoff, RESEND_MAX_MS);
    }
    this.refused.push(keys);
    this.refusals += 1;
  }

  /** Drop what is held (the race is over, or we gave up) and any keys not sent yet;
   *  returns how many keys were held back by trouble (also added to `lost`). */
  end() {
    const dropped = this.since !== null
      ? this.refused.reduce((n, k) => n + k.length, 0) + this.later.length : 0;
    this.lost += dropped;
    this.later = "";
    this.refused = [];
    this.sent = new Map();
    this.probe = null;
    this.since = null;
    this.backoff = RESEND_FIRST_MS;
    return dropped;
  }
}
