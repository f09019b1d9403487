// One paced Socket.IO camera for scripts/bench-socketio: the real socket.io-client (tests/web's pinned
// copy) sends `frame` events at a fixed rate and reports latency percentiles as `posestream load` does
// (send -> answer received), so polling, which `load` does not speak, is measured by the real client.
// Usage: node socketio-load.mjs --url http://HOST:PORT --frames DIR --fps 30 --duration 20
//        [--transports polling|websocket|polling,websocket] [--image binary|dataurl]
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "..", "..", "tests", "web", "node_modules", "package.json"));
const { io } = require("socket.io-client");

function parse(argv) {
  const options = { fps: 30, duration: 20, transports: "polling", image: "binary" };
  for (let i = 0; i < argv.length; i += 2) options[argv[i].replace(/^--/, "")] = argv[i + 1];
  for (const name of ["url", "frames"]) if (!options[name]) throw new Error(`--${name} is required`);
  return options;
}

function percentile(values, fraction) {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil(fraction * sorted.length))) - 1];
}

const options = parse(process.argv.slice(2));
const files = readdirSync(options.frames).filter((name) => /\.(jpe?g|png)$/i.test(name)).sort();
const frames = files.map((name) => readFileSync(path.join(options.frames, name)));
const dataUrls = frames.map((bytes) => "data:image/jpeg;base64," + bytes.toString("base64"));
const socket = io(options.url, { transports: options.transports.split(","), reconnection: false });
const sentAt = new Map();
const counts = { sent: 0, result: 0, dropped: 0, error: 0, twice: 0 };
const latencies = [];
let upgraded = false;

function answered(kind, body) {
  const sequence = body.sequence;
  const last = body.last_sequence ?? sequence;
  for (let s = sequence; s <= last; ++s) {
    if (!sentAt.has(s)) { ++counts.twice; continue; }
    if (kind === "result") latencies.push(performance.now() - sentAt.get(s));
    sentAt.delete(s);
    ++counts[kind];
  }
}

socket.on("result", (body) => answered("result", body));
socket.on("dropped", (body) => answered("dropped", body));
socket.on("error", () => ++counts.error);
socket.on("connect_error", (error) => { console.error(`connect_error: ${error.message}`); process.exit(1); });
socket.io.engine.on("upgrade", () => { upgraded = true; });

socket.once("hello", () => {
  const periodMs = 1000 / Number(options.fps);
  const start = performance.now();
  let sequence = 0;
  // Paced by the clock, not by setInterval's drift: frame i goes at start + i * period.
  const tick = () => {
    const now = performance.now();
    if (now - start >= Number(options.duration) * 1000) return finish();
    const i = sequence++;
    const image = options.image === "dataurl" ? dataUrls[i % frames.length] : frames[i % frames.length];
    sentAt.set(i, performance.now());
    ++counts.sent;
    socket.emit("frame", { sequence: i, timestamp: i * periodMs, image });
    setTimeout(tick, Math.max(0, start + sequence * periodMs - performance.now()));
  };
  tick();
});

function finish() {
  const deadline = performance.now() + 5000;
  const wait = () => {
    if (sentAt.size > 0 && performance.now() < deadline) return setTimeout(wait, 20);
    const transportAtEnd = socket.io.engine?.transport?.name ?? "closed";
    socket.close();
    console.log(JSON.stringify({
      transports: options.transports, image: options.image, transport_at_end: transportAtEnd,
      upgraded, ...counts, unanswered: sentAt.size,
      latency_ms: { p50: percentile(latencies, 0.5), p90: percentile(latencies, 0.9), p99: percentile(latencies, 0.99),
                    max: percentile(latencies, 1) },
    }));
  };
  wait();
}
