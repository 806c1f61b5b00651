// The server's clock as seen from this page, estimated the way NTP does (the same rule as
// protocol/clocksync.py; tests/test_clocksync.py runs both on the same samples). A `ping`
// sent at local time `sent` is stamped `server_ms` by the server and its `pong` received
// at `received`: if both trips took as long, the stamp was made halfway, so
// offset = server_ms - (sent + received) / 2, wrong by at most half the difference of the
// two trips. The sample with the smallest round trip (least queueing) is trusted; only
// the last KEEP count, so a drifting clock or a changed path is followed.
// Until a ping came back, stamps seen on their own (`clockSample`) stand in: a stamp is
// never later than the server's time at receipt, so their largest offset is the best
// of them (half a round trip behind).
const KEEP = 32;
export const SYNC_PINGS = 5;     // pings sent one after another once welcomed

export class ClockSync {
  constructor(keep = KEEP) { this.keep = keep; this.samples = []; }   // [rtt, offset]

  sample(sentMs, serverMs, receivedMs) {
    if (![sentMs, serverMs, receivedMs].every(Number.isFinite)) return;
    const rtt = receivedMs - sentMs;
    if (rtt < 0) return;            // the local clock stepped back: nothing to learn
    this.samples.push([rtt, serverMs - (sentMs + receivedMs) / 2]);
    if (this.samples.length > this.keep) this.samples.shift();
  }

  best() {
    let best = null;
    for (const s of this.samples) if (!best || s[0] < best[0] || (s[0] === best[0] && s[1] < best[1])) best = s;
    return best;
  }

  get synced() { return this.samples.length > 0; }
  get offsetMs() { const b = this.best(); return b ? b[1] : 0; }
  get rttMs() { const b = this.best(); return b ? b[0] : null; }
  serverNow(localMs) { return localMs + this.offsetMs; }
}

const clock = new ClockSync();
const STAMPS = 50;
const stamps = [];               // one-way samples: server stamp - local clock (ms)

export function serverNow() {
  if (clock.synced) return clock.serverNow(Date.now());
  return Date.now() + (stamps.length ? Math.max(...stamps) : 0);
}

/** A ping's round trip: local send time, the pong's server_ms, local receive time. */
export function pingSample(sentMs, serverMs, receivedMs) {
  clock.sample(sentMs, serverMs, receivedMs);
}

/** A server stamp seen on its own (the fallback until a ping came back). */
export function clockSample(serverMs) {
  if (typeof serverMs !== "number" || !isFinite(serverMs)) return;
  stamps.push(serverMs - Date.now());
  if (stamps.length > STAMPS) stamps.shift();
}
