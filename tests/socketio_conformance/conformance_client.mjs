// What the conformance tests share: the conformance server started on a free port, a named-case runner,
// raw HTTP (fetch) and WebSocket (tests/web's `ws`) clients of Engine.IO. Node 18: no newer features.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";

// `ws` is installed in tests/web (a dependency of socket.io-client, pinned by its package-lock).
const require = createRequire(new URL("../web/package.json", import.meta.url));
const WebSocket = require("ws");

// The suites' settings the server runs with (SOCKETIO_FACTS.md 3).
export const PING_INTERVAL = 300;
export const PING_TIMEOUT = 200;
// A bound on waiting for something the server owes at once (a loaded 2-core machine): never asserted on,
// only turned into a failure when nothing came at all.
const WAIT_MS = 5000;

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function check(condition, message) {
  if (!condition) throw new Error(message);
}

export function checkEqual(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: got ${a}, expected ${e}`);
}

// Starts the conformance server on a free port; resolves with {process, port}.
export function startServer(binary) {
  const child = spawn(binary, ["--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stderr.on("data", (chunk) => { output += chunk; });
  process.on("exit", () => child.kill("SIGKILL"));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server printed no port:\n${output}`)), 30_000);
    child.stdout.on("data", (chunk) => {
      output += chunk;
      const match = /listening on 127\.0\.0\.1:(\d+)/.exec(output);
      if (match) { clearTimeout(timer); resolve({ process: child, port: Number(match[1]), output: () => output }); }
    });
    child.on("exit", (code) => { clearTimeout(timer); reject(new Error(`the server exited ${code}:\n${output}`)); });
  });
}

export async function stopServer(server) {
  if (server.process.exitCode !== null) throw new Error(`the server had exited ${server.process.exitCode}`);
  server.process.removeAllListeners("exit");
  const code = await new Promise((resolve) => { server.process.on("exit", resolve); server.process.kill("SIGINT"); });
  check(code === 0, `the server exited ${code} on SIGINT:\n${server.output()}`);
}

// Runs the named cases one after the other; prints each; resolves with the number that failed.
export async function runCases(title, cases) {
  let failed = 0;
  for (const [name, run] of cases) {
    try {
      await run();
      console.log(`ok    ${title}: ${name}`);
    } catch (error) {
      failed += 1;
      console.log(`FAIL  ${title}: ${name}: ${error.message}`);
    }
  }
  console.log(`${title}: ${cases.length - failed} of ${cases.length} passed`);
  return failed;
}

// An Engine.IO client of the server on 127.0.0.1:`port` at `path` ("/engine.io/", "/socket.io/").
export class Client {
  constructor(port, path) {
    this.http = `http://127.0.0.1:${port}${path}`;
    this.ws = `ws://127.0.0.1:${port}${path}`;
  }

  // One HTTP request; resolves with {status, body} (body as text). `signal` aborts it.
  async request(method, query, body, signal) {
    const response = await fetch(`${this.http}?${query}`, {
      method, body, signal, headers: body === undefined ? {} : { "content-type": "text/plain;charset=UTF-8" },
    });
    return { status: response.status, body: await response.text() };
  }

  poll(sid, extra = "") { return this.request("GET", `EIO=4&transport=polling&sid=${sid}${extra}`); }
  post(sid, body) { return this.request("POST", `EIO=4&transport=polling&sid=${sid}`, body); }

  // A polling handshake: the open packet's fields.
  async handshake() {
    const reply = await this.request("GET", "EIO=4&transport=polling");
    check(reply.status === 200 && reply.body.startsWith("0"), `handshake: ${reply.status} ${reply.body}`);
    return JSON.parse(reply.body.slice(1));
  }

  // A WebSocket at `query` (default: a new session); resolves once open, or with the socket closed.
  socket(query = "EIO=4&transport=websocket") {
    return Socket.open(`${this.ws}?${query}`);
  }
}

// A WebSocket whose messages are buffered as they come (none lost between awaits).
export class Socket {
  static open(url) {
    // A server that never answers the upgrade fails the case (error, then close) instead of hanging it.
    const socket = new Socket(new WebSocket(url, { handshakeTimeout: WAIT_MS }));
    return new Promise((resolve) => {
      socket.raw.on("open", () => resolve(socket));
      socket.raw.on("close", () => resolve(socket));
    });
  }

  constructor(raw) {
    this.raw = raw;
    this.messages = [];
    this.waiters = [];
    this.closed = false;
    raw.on("message", (data, isBinary) => {
      this.messages.push(isBinary ? { binary: true, data: [...data] } : { binary: false, data: data.toString() });
      this.wake();
    });
    raw.on("error", () => {});  // A refused upgrade emits error, then close.
    raw.on("close", () => { this.closed = true; this.wake(); });
  }

  wake() { for (const waiter of this.waiters.splice(0)) waiter(); }

  // Resolves when a message is buffered or the socket closed, or WAIT_MS passed.
  async wait() {
    if (this.messages.length || this.closed) return;
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, WAIT_MS);
      this.waiters.push(() => { clearTimeout(timer); resolve(); });
    });
  }

  // The next message (text as a string, binary as {binary, data: [bytes]}); fails on close or silence.
  async next() {
    await this.wait();
    const message = this.messages.shift();
    if (!message) throw new Error(this.closed ? "the WebSocket closed" : `no message in ${WAIT_MS} ms`);
    return message.binary ? message : message.data;
  }

  // The next text message other than a ping, answering pings with pongs (tests of something else).
  async nextSkippingPings() {
    for (;;) {
      const message = await this.next();
      if (message !== "2") return message;
      this.send("3");
    }
  }

  send(data) { this.raw.send(data); }

  // Resolves true once the server closed the socket, false if it is still open after `ms`.
  async closedWithin(ms) {
    const deadline = Date.now() + ms;
    while (!this.closed && Date.now() < deadline) {
      this.messages.length = 0;  // Pings and the like: not what is checked.
      await Promise.race([this.wait(), sleep(deadline - Date.now())]);
    }
    return this.closed;
  }

  close() { if (!this.closed) this.raw.terminate(); }
}

// The open packet's JSON of a WebSocket session (its first message).
export async function openPacket(socket) {
  const first = await socket.next();
  check(typeof first === "string" && first.startsWith("0"), `first message ${JSON.stringify(first)}, expected 0{...}`);
  return JSON.parse(first.slice(1));
}
