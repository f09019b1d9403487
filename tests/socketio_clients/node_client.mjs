// The real socket.io-client 4.8.x (tests/web's pinned copy) against the built `posestream serve`: the golden
// sequence over Socket.IO (polling then upgrade, and WebSocket only; data URLs and binary attachments;
// events and acks) must be answered once per frame with the landmarks /ws answers for the same frames.
// Node 18 (Debian 12's) runs it: no newer language or library features.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { check, goldenSequence, log, parseArguments, runTest, startServer, stopServer, WAIT_MS } from "../web/harness.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "..", "web", "node_modules", "package.json"));
const { io } = require("socket.io-client");
const WebSocket = require("ws");

// The frontend under test listens for this name: the server must be told (--socketio-result-event).
const RESULT_EVENT = "pose_result";
const IN_FLIGHT = 4;       // Frames sent ahead of their answers (drop policy all: none is dropped).
const FRAME_MS = 1000 / 30;  // Capture timestamps of a 30 FPS camera, the same on every transport.
const TOLERANCE = 1e-6;

const options = parseArguments(process.argv.slice(2), ["binary", "source-dir"]);

// `posestream serve` on a free port, one worker and no inference pool (the same arithmetic every run).
async function startPosestream() {
  const { server, url } = await startServer(options, 0, ["--inference-threads", "1",
                                                         "--socketio-result-event", RESULT_EVENT]);
  return { server, url: url.replace(/\/$/, "") };
}

function withTimeout(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timeout: ${what}`)), WAIT_MS); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Sends frames 0..n-1 through send(i) with at most IN_FLIGHT unanswered; resolves with answers by sequence
// once every frame has one. answer(sequence, body) is what the transport calls per answer.
function pump(count, send) {
  const answers = new Map();
  let next = 0;
  let resolveAll;
  const done = new Promise((resolve) => { resolveAll = resolve; });
  const fill = () => { while (next < count && next - answers.size < IN_FLIGHT) send(next++); };
  const answer = (sequence, body) => {
    if (answers.has(sequence)) throw new Error(`frame ${sequence} answered twice`);
    answers.set(sequence, body);
    if (answers.size === count) resolveAll(answers); else fill();
  };
  return { answer, start: () => { fill(); return done; } };
}

// The reference: the same frames over /ws as JSON text frames with data URLs.
async function answersOverWs(url, frames) {
  const socket = new WebSocket(url.replace(/^http/, "ws") + "/ws");
  await withTimeout(new Promise((resolve, reject) => { socket.on("open", resolve); socket.on("error", reject); }), "/ws open");
  socket.send(JSON.stringify({ type: "config", drop_policy: "all" }));
  const run = pump(frames.length, (i) => socket.send(JSON.stringify({
    sequence: i, timestamp: i * FRAME_MS, image: "data:image/jpeg;base64," + frames[i].toString("base64") })));
  socket.on("message", (data) => {
    const body = JSON.parse(data.toString());
    if (body.type === "result" || body.type === "dropped") run.answer(body.sequence, body);
  });
  const answers = await withTimeout(run.start(), "/ws answers");
  socket.close();
  return answers;
}

function connect(url, transports) {
  const socket = io(url, { forceNew: true, reconnection: false, ...(transports ? { transports } : {}) });
  const hello = new Promise((resolve, reject) => {
    socket.once("hello", resolve);
    socket.once("connect_error", reject);
  });
  return { socket, hello: withTimeout(hello, "hello") };
}

// One Socket.IO run: `image` makes a frame's image (a data URL string or a Buffer); `ack`: answers
// come back as each frame's ack instead of events.
async function answersOverSocketIo(url, frames, { transports, image, ack }) {
  const { socket, hello } = connect(url, transports);
  const greeting = await hello;
  check(greeting.type === "hello" && greeting.config.drop_policy === "latest", `hello ${greeting.session}`);
  await withTimeout(socket.emitWithAck("config", { drop_policy: "all" }), "config ack");
  const run = pump(frames.length, (i) => {
    const frame = { sequence: i, timestamp: i * FRAME_MS, image: image(frames[i]) };
    if (ack) socket.emit("frame", frame, (body) => run.answer(body.sequence, body));
    else socket.emit("frame", frame);
  });
  // An answer in the wrong form fails the run at once rather than by the timeout.
  let unexpected;
  const broken = new Promise((_, reject) => { unexpected = (what) => reject(new Error(what)); });
  const events = (body) => (ack ? unexpected(`${body.type} ${body.sequence} as an event, not its ack`)
                                : run.answer(body.sequence, body));
  socket.on(RESULT_EVENT, events);
  socket.on("dropped", events);
  socket.on("result", () => unexpected("a 'result' event: the result event setting was ignored"));
  const answers = await withTimeout(Promise.race([run.start(), broken]), "Socket.IO answers");
  const transport = socket.io.engine.transport.name;
  socket.disconnect();
  return { answers, transport };
}

// Numbers within TOLERANCE, everything else equal; returns the first difference's path, or "".
function difference(a, b, where) {
  if (typeof a === "number" && typeof b === "number") return Math.abs(a - b) <= TOLERANCE ? "" : `${where}: ${a} vs ${b}`;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return a === b ? "" : `${where}: ${a} vs ${b}`;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) {
    const found = difference(a[key], b[key], `${where}.${key}`);
    if (found) return found;
  }
  return "";
}

// The comparison means something only if the sequence has bodies and hands to compare.
function checkReference(reference) {
  const results = [...reference.values()].filter((body) => body.type === "result");
  const poses = results.filter((body) => body.pose !== null).length;
  const hands = results.filter((body) => body.hands.length > 0).length;
  check(results.length === reference.size && poses >= reference.size / 2 && hands >= reference.size / 2,
        `/ws: ${results.length} results, ${poses} with a pose, ${hands} with hands`);
}

function compare(name, answers, reference) {
  check(answers.size === reference.size, `${name}: ${answers.size} frames answered, once each`);
  let results = 0;
  for (const [sequence, expected] of reference) {
    const got = answers.get(sequence);
    check(got !== undefined && got.type === expected.type, `${name}: frame ${sequence} answered ${got?.type}`);
    if (got.type !== "result") continue;
    ++results;
    const found = difference({ pose: got.pose, hands: got.hands, image: got.image, timestamp_us: got.timestamp_us },
                             { pose: expected.pose, hands: expected.hands, image: expected.image,
                               timestamp_us: expected.timestamp_us }, `frame ${sequence}`);
    if (found) throw new Error(`${name}: landmarks differ from /ws: ${found}`);
  }
  check(results === reference.size, `${name}: ${results} results, pose and hands equal to /ws's within ${TOLERANCE}`);
}

async function badInput(url) {
  const { socket, hello } = connect(url, ["websocket"]);
  await hello;
  const errors = [];
  socket.on("error", (body) => errors.push(body));
  socket.emit("bogus", 1);
  socket.emit("frame", { image: "AAAA" });
  const acked = await withTimeout(socket.emitWithAck("frame", { sequence: "x", image: "AAAA" }), "error ack");
  check(acked.type === "error" && acked.code === "bad_sequence", `a bad sequence with an ack: ack ${acked.code}`);
  const invalid = await withTimeout(socket.emitWithAck("frame", { sequence: 0, image: "not base64!" }), "invalid ack");
  check(invalid.type === "dropped" && invalid.reason === "invalid", "a bad image: dropped invalid, by ack");
  check(errors.length === 2 && errors[0].code === "unknown_event" && errors[1].code === "bad_sequence",
        `unknown event and a frame without sequence: error events ${errors.map((e) => e.code)}`);
  socket.disconnect();
}

async function metric(url, name) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split("\n").find((row) => row.startsWith(name));
  return line ? Number(line.split(" ").pop()) : NaN;
}

// The serve flags' wiring: --socketio off leaves /socket.io/ unserved; --allowed-origins governs /ws too.
async function servedFlags() {
  const { server, url } = await startServer(options, 0, ["--socketio", "off",
                                                         "--allowed-origins", "http://front.example,http://b.example"]);
  const polling = await fetch(`${url}socket.io/?EIO=4&transport=polling`);
  check(polling.status === 404, `--socketio off: /socket.io/ answers ${polling.status}`);
  const upgrade = (origin) => new Promise((resolve) => {
    const socket = new WebSocket(url.replace(/^http/, "ws") + "ws", { origin });
    socket.on("open", () => { socket.close(); resolve("open"); });
    socket.on("unexpected-response", (_, response) => resolve(String(response.statusCode)));
    socket.on("error", () => resolve("error"));
  });
  check(await upgrade("http://b.example") === "open", "--allowed-origins: a listed origin upgrades /ws");
  check(await upgrade("http://evil.example") === "403", "--allowed-origins: another origin gets 403 at /ws");
  await stopServer(server);
}

runTest("socketio_node_client", async () => {
  const golden = goldenSequence(options["source-dir"]);
  const frames = golden.frames.map((file) => readFileSync(file));
  const { server, url } = await startPosestream();
  log(`server at ${url}; ${frames.length} frames of ${golden.name}`);
  const wsStarted = Date.now();
  const reference = await answersOverWs(url, frames);
  log(`/ws, data URLs: ${Date.now() - wsStarted} ms`);
  checkReference(reference);
  const dataUrl = (bytes) => "data:image/jpeg;base64," + bytes.toString("base64");
  const buffer = (bytes) => bytes;
  const runs = [
    ["polling+upgrade, data URLs", { transports: undefined, image: dataUrl }],
    ["polling+upgrade, binary", { transports: undefined, image: buffer }],
    ["websocket, data URLs", { transports: ["websocket"], image: dataUrl }],
    ["websocket, binary", { transports: ["websocket"], image: buffer }],
    ["websocket, binary, acks", { transports: ["websocket"], image: buffer, ack: true }],
    ["polling only, data URLs, acks", { transports: ["polling"], image: dataUrl, ack: true }],
  ];
  for (const [name, run] of runs) {
    const started = Date.now();
    const { answers, transport } = await answersOverSocketIo(url, frames, run);
    log(`${name}: ${Date.now() - started} ms, ended on ${transport}`);
    compare(name, answers, reference);
  }
  check(await metric(url, "posestream_socketio_upgrades_total") >= 2, "upgrades counted in /metrics");
  await badInput(url);
  await stopServer(server);
  await servedFlags();
  return 0;
});
