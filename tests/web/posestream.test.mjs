// Unit tests of web/posestream.js without a browser (node --test): the PSF1 header, the credit ledger, the
// reconnect backoff, and the client's answer handling over a fake WebSocket.
import assert from "node:assert/strict";
import test from "node:test";

import { backoffMs, connect, CreditLedger, encodeFrameHeader } from "../../web/posestream.js";

test("the PSF1 header is the magic, then sequence and timestamp as little-endian uint64", () => {
  const bytes = new Uint8Array(encodeFrameHeader(0x0102030405060708n, 1_375_000));
  // Worked by hand from docs/PROTOCOL.md's table.
  assert.deepEqual([...bytes], [
    0x50, 0x53, 0x46, 0x31,                          // "PSF1"
    0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,  // sequence, low byte first
    0x18, 0xfb, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00,  // 1375000 = 0x14FB18
  ]);
});

test("the header carries the largest allowed timestamp, 2^63 - 1", () => {
  const view = new DataView(encodeFrameHeader(0, 2n ** 63n - 1n));
  assert.equal(view.getBigUint64(12, true), 2n ** 63n - 1n);
});

test("the ledger gives out credits up to its capacity and refuses beyond", () => {
  const ledger = new CreditLedger(2);
  ledger.take(0, {});
  ledger.take(1, {});
  assert.equal(ledger.available, false);
  assert.throws(() => ledger.take(2, {}), /no credit for frame 2/);
});

test("a result or a dropped answer frees its frame's credit and returns what was stored", () => {
  const ledger = new CreditLedger(2);
  ledger.take(0, { captureMs: 10 });
  ledger.take(1, { captureMs: 20 });
  assert.deepEqual(ledger.answer({ type: "result", sequence: 1 }), [[1, { captureMs: 20 }]]);
  assert.deepEqual(ledger.answer({ type: "dropped", sequence: 0, reason: "superseded" }), [[0, { captureMs: 10 }]]);
  assert.equal(ledger.inFlight, 0);
});

test("a duplicate answer stands for an extra copy and frees nothing", () => {
  const ledger = new CreditLedger(1);
  ledger.take(5, {});
  assert.deepEqual(ledger.answer({ type: "dropped", sequence: 5, reason: "duplicate" }), []);
  assert.equal(ledger.inFlight, 1);
});

test("a lost range frees only the numbers this client sent", () => {
  const ledger = new CreditLedger(4);
  for (const sequence of [3, 7, 2000]) ledger.take(sequence, {});
  const freed = ledger.answer({ type: "dropped", sequence: 5, last_sequence: 1500, reason: "lost" });
  assert.deepEqual(freed.map(([sequence]) => sequence), [7]);
  assert.equal(ledger.inFlight, 2);
});

test("errors and hellos free no credit", () => {
  const ledger = new CreditLedger(1);
  ledger.take(0, {});
  assert.deepEqual(ledger.answer({ type: "error", code: "bad_config", sequence: 0 }), []);
  assert.deepEqual(ledger.answer({ type: "hello", session: "s1" }), []);
  assert.equal(ledger.inFlight, 1);
});

test("expire frees credits sent before the given time", () => {
  const ledger = new CreditLedger(3);
  ledger.take(0, { sentMs: 100 });
  ledger.take(1, { sentMs: 900 });
  assert.deepEqual(ledger.expire(500).map(([sequence]) => sequence), [0]);
  assert.equal(ledger.inFlight, 1);
});

test("backoff doubles from the initial delay up to the maximum, within +-25% jitter", () => {
  const low = () => 0;
  const high = () => 1;
  assert.equal(backoffMs(0, 500, 8000, low), 375);
  assert.equal(backoffMs(0, 500, 8000, high), 625);
  assert.equal(backoffMs(3, 500, 8000, () => 0.5), 4000);
  assert.equal(backoffMs(10, 500, 8000, () => 0.5), 8000);
  assert.equal(backoffMs(1000, 500, 8000, high), 10000);
});

// A WebSocket stand-in: records what the client sends; the test plays the server.
class FakeSocket {
  static instances = [];
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    FakeSocket.instances.push(this);
  }
  send(data) { this.sent.push(data); }
  close() { this.readyState = 3; }
  serverOpens(hello) {
    this.readyState = 1;
    this.onmessage({ data: JSON.stringify(hello) });
  }
  serverSends(message) { this.onmessage({ data: JSON.stringify(message) }); }
  serverCloses(code, reason) {
    this.readyState = 3;
    this.onclose({ code, reason });
  }
}

function openClient(options = {}) {
  FakeSocket.instances = [];
  const client = connect("ws://server/ws", { WebSocket: FakeSocket, statsIntervalMs: 60_000,
                                             reconnectInitialMs: 1, reconnectMaxMs: 2, ...options });
  return { client, socket: FakeSocket.instances[0] };
}

test("after the hello the client sends its config and reports the stream open", () => {
  const { client, socket } = openClient({ config: { pose: "lite", hands: "off" } });
  const states = [];
  client.on("status", ({ state }) => states.push(state));
  socket.serverOpens({ type: "hello", session: "s1", limits: {}, config: {} });
  assert.deepEqual(socket.sent.map((text) => JSON.parse(text)), [{ type: "config", pose: "lite", hands: "off" }]);
  assert.deepEqual(states, ["open"]);
  client.close();
});

test("answers become result and dropped events, counted by reason in the stats", () => {
  const { client, socket } = openClient();
  socket.serverOpens({ type: "hello", session: "s1" });
  client.ledger.take(0, { captureMs: performance.now(), sentMs: performance.now() });
  client.ledger.take(1, { captureMs: performance.now(), sentMs: performance.now() });
  const seen = [];
  client.on("result", (result) => seen.push(["result", result.sequence, typeof result.captureMs]));
  client.on("dropped", (answer) => seen.push(["dropped", answer.sequence, answer.reason]));
  socket.serverSends({ type: "dropped", sequence: 0, reason: "superseded" });
  socket.serverSends({ type: "result", sequence: 1, pose: null, hands: [], timing_ms: { total: 4 } });
  assert.deepEqual(seen, [["dropped", 0, "superseded"], ["result", 1, "number"]]);
  const stats = client.stats();
  assert.deepEqual(stats.dropped, { superseded: 1 });
  assert.equal(stats.inFlight, 0);
  assert.equal(stats.timingMs.total, 4);
  client.close();
});

test("a closed connection drops what was in flight and reconnects to a fresh stream", async () => {
  const { client, socket } = openClient();
  socket.serverOpens({ type: "hello", session: "s1" });
  client.sequence = 41;
  client.ledger.take(40, { captureMs: 0, sentMs: performance.now() });
  const dropped = [];
  client.on("dropped", (answer) => dropped.push([answer.sequence, answer.reason, answer.local]));
  socket.serverCloses(1001, "server shutting down");
  assert.deepEqual(dropped, [[40, "disconnected", true]]);
  assert.equal(client.state, "reconnecting");
  await new Promise((resolve) => setTimeout(resolve, 20));
  const second = FakeSocket.instances[1];
  assert.ok(second, "a second connection was opened");
  second.serverOpens({ type: "hello", session: "s2" });
  assert.equal(client.sequence, 0);
  assert.equal(client.reconnects, 1);
  client.close();
});

test("a reset waits until every frame in flight is answered", () => {
  const { client, socket } = openClient();
  socket.serverOpens({ type: "hello", session: "s1" });
  client.sequence = 8;
  client.ledger.take(7, { captureMs: 0, sentMs: performance.now() });
  client.reset();
  assert.deepEqual(socket.sent, []);
  socket.serverSends({ type: "result", sequence: 7, pose: null, hands: [] });
  assert.deepEqual(socket.sent.map((text) => JSON.parse(text)), [{ type: "reset" }]);
  assert.equal(client.sequence, 0);
  client.close();
});

// An ImageBitmap stand-in: all the client does with a kept frame is hand it over or close it.
class FakeBitmap {
  constructor(name) { this.name = name; this.closed = false; }
  close() { this.closed = true; }
}

test("a result carries its kept frame until the next result; answered-dropped frames are closed at once", () => {
  const { client, socket } = openClient({ maxInFlight: 3 });
  socket.serverOpens({ type: "hello", session: "s1" });
  const frames = [0, 1, 2].map((sequence) => new FakeBitmap(sequence));
  for (const sequence of [0, 1, 2]) client.ledger.take(sequence, { captureMs: 0, sentMs: 0, frame: frames[sequence] });
  const results = [];
  client.on("result", (result) => results.push(result));
  socket.serverSends({ type: "result", sequence: 0, pose: null, hands: [] });
  assert.equal(results[0].frame, frames[0]);
  assert.equal(frames[0].closed, false, "the newest result's frame is open for the page to draw");
  socket.serverSends({ type: "dropped", sequence: 1, reason: "superseded" });
  assert.equal(frames[1].closed, true, "a frame without a result is never shown: closed");
  socket.serverSends({ type: "result", sequence: 2, pose: null, hands: [] });
  assert.deepEqual(frames.map((frame) => frame.closed), [true, true, false]);
  client.close();
  assert.equal(frames[2].closed, true, "close() closes the last result's frame");
});

test("frames in flight on a lost connection are closed with their credits", () => {
  const { client, socket } = openClient();
  socket.serverOpens({ type: "hello", session: "s1" });
  const frame = new FakeBitmap(4);
  client.ledger.take(4, { captureMs: 0, sentMs: performance.now(), frame });
  socket.serverCloses(1006, "");
  assert.equal(frame.closed, true);
  client.close();
});

test("drawn(): over its own frame, latency is capture to drawn and the skeleton lag 0", () => {
  const { client } = openClient();
  const first = { sequence: 0, captureMs: 1000 };
  const second = { sequence: 1, captureMs: 1033 };
  assert.deepEqual(client.drawn(first, { drawnMs: 1080 }), { latencyMs: 80, lagMs: 0 });
  assert.deepEqual(client.drawn(second, { drawnMs: 1103 }), { latencyMs: 70, lagMs: 0 });
  assert.equal(first.drawnMs, 1080, "the draw time is kept on the result");
  const stats = client.stats();
  assert.equal(stats.drawnLatencyMs, 80, "the median (the upper of two)");
  assert.equal(stats.skeletonLagMs, 0);
  client.close();
});

test("drawn(): over a newer camera frame (the live view), the skeleton lags by the capture gap", () => {
  const { client } = openClient();
  const result = { sequence: 3, captureMs: 1000 };
  assert.deepEqual(client.drawn(result, { imageCaptureMs: 1066, drawnMs: 1080 }), { latencyMs: 14, lagMs: 66 });
  assert.equal(result.imageCaptureMs, 1066);
  client.emitStats();
  assert.equal(client.stats().drawnLatencyMs, null, "a stats event starts the next period's figures afresh");
  client.close();
});

test("each person id keeps one colour, and the first eight people get eight different ones", async () => {
  const { personColor, PERSON_COLORS } = await import("../../web/overlay.js");
  const colors = [1, 2, 3, 4, 5, 6, 7, 8].map(personColor);
  assert.equal(new Set(colors).size, 8);
  assert.equal(personColor(3), colors[2]);
  assert.equal(personColor(9), personColor(1));  // The palette wraps.
  assert.ok(PERSON_COLORS.includes(personColor(0)) && PERSON_COLORS.includes(personColor(-4)));
});
