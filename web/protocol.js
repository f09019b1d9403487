// The protocol's pure parts for web/posestream.js: the PSF1 frame header, per-frame credits, reconnect backoff.
// No browser APIs here, so node --test runs them as they are (tests/web/posestream.test.mjs).

// The 20-byte PSF1 header: "PSF1", sequence (uint64 LE), capture timestamp in microseconds (uint64 LE).
export function encodeFrameHeader(sequence, timestampMicros) {
  const header = new ArrayBuffer(20);
  const view = new DataView(header);
  view.setUint32(0, 0x50534631);  // "PSF1", big-endian so the bytes read in order.
  view.setBigUint64(4, BigInt(sequence), true);
  view.setBigUint64(12, BigInt(timestampMicros), true);
  return header;
}

// One credit per frame sent, freed by that frame's answer. Only numbers this client sent are freed: a
// `lost` range may cover numbers it never sent, and a `duplicate` stands for an extra copy, not the frame.
export class CreditLedger {
  constructor(capacity) {
    this.capacity = capacity;
    this.pending = new Map();  // sequence -> what the caller stored at take()
  }
  get inFlight() { return this.pending.size; }
  get available() { return this.pending.size < this.capacity; }
  take(sequence, info) {
    if (!this.available) throw new Error(`CreditLedger: no credit for frame ${sequence} (${this.capacity} in flight)`);
    this.pending.set(sequence, info);
  }
  // Frees the credits an answer covers; returns [[sequence, info], ...] for the frames it answered.
  answer(message) {
    if (message.type !== "result" && message.type !== "dropped") return [];
    if (message.type === "dropped" && message.reason === "duplicate") return [];
    const first = message.sequence;
    const last = message.last_sequence ?? first;
    const freed = [];
    for (const [sequence, info] of this.pending) {
      if (sequence >= first && sequence <= last) freed.push([sequence, info]);
    }
    for (const [sequence] of freed) this.pending.delete(sequence);
    return freed;
  }
  // Frees every credit older than `before` (by info.sentMs); returns them.
  expire(before) {
    const expired = [...this.pending].filter(([, info]) => info.sentMs < before);
    for (const [sequence] of expired) this.pending.delete(sequence);
    return expired;
  }
  clear() {
    const all = [...this.pending];
    this.pending.clear();
    return all;
  }
}

// Delay before reconnect attempt `attempt` (0-based): doubling from initial up to max, with +-25% jitter
// so many clients restarted together do not knock together.
export function backoffMs(attempt, initialMs, maxMs, random = Math.random) {
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(base * (0.75 + 0.5 * random()));
}
