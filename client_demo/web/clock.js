// The server's clock as seen from this page, from the server_ms stamps it sends.
// A stamp is never later than the true server time at receipt, so the max of recent
// samples is the best (latency-free) estimate of the offset.
const SAMPLES = 50;
const offsets = [];             // samples of server clock - local clock (ms)

export function serverNow() {
  return Date.now() + (offsets.length ? Math.max(...offsets) : 0);
}

export function clockSample(serverMs) {
  if (typeof serverMs !== "number" || !isFinite(serverMs)) return;
  offsets.push(serverMs - Date.now());
  if (offsets.length > SAMPLES) offsets.shift();
}
