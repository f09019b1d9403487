// posestream browser client: camera frames out as PSF1 binary messages, answers in as events (docs/CLIENT.md).
// A dependency-free ES module; the protocol it speaks is docs/PROTOCOL.md.

import { FrameWatcher, grabFrame, JpegEncoder } from "./capture.js";
import { backoffMs, CreditLedger, encodeFrameHeader } from "./protocol.js";
import { DrawTimes, median, RateWindow } from "./timing.js";

export { backoffMs, CreditLedger, DrawTimes, encodeFrameHeader };

const DEFAULTS = {
  maxInFlight: 2,          // Frames sent and not yet answered; a slow server lowers the send rate.
  jpegQuality: 0.8,        // 0..1, as canvas.toBlob takes it.
  maxWidth: 640,           // Frames wider than this are scaled down before encoding (aspect kept).
  maxFps: 0,               // 0: as fast as the camera and the credits allow.
  keepFrames: false,       // Keep each frame in flight as an ImageBitmap; its result carries it as `frame`.
  config: null,            // A protocol config ({pose, hands, smoothing, drop_policy, num_poses, ...}) sent after every hello.
  statsIntervalMs: 1000,
  answerTimeoutMs: 10000,  // A credit unanswered this long is freed (reported dropped "timeout"); a safety net only.
  reconnectInitialMs: 500,
  reconnectMaxMs: 8000,
  token: null,             // Access token (serve --auth-token-file): sent as ?token=, never shown in messages.
  WebSocket: globalThis.WebSocket,  // Injectable for tests.
};

// Node.js 18 (Debian 12's, where the client's tests run) has EventTarget and Event but no CustomEvent.
const DetailEvent = globalThis.CustomEvent ??
  class extends Event { constructor(type, init = {}) { super(type, init); this.detail = init.detail ?? null; } };

export class PoseStreamClient extends EventTarget {
  constructor(url, options = {}) {
    super();
    this.url = url;
    this.options = { ...DEFAULTS, ...options };
    this.config = { ...(this.options.config ?? {}) };
    this.ledger = new CreditLedger(this.options.maxInFlight);
    this.encoder = new JpegEncoder();
    this.socket = null;
    this.state = "idle";  // connecting | open | reconnecting | closed
    this.hello = null;
    this.helloOnSocket = false;
    this.sequence = 0;
    this.lastTimestampMicros = 0n;
    this.lastSentMs = -Infinity;
    this.encoding = false;
    this.resetRequested = false;
    this.attempt = 0;
    this.reconnects = 0;
    this.video = null;
    this.watcher = null;
    this.freshFrame = false;  // The video has shown a frame not yet sent.
    this.newestFrameCaptureMs = null;  // Capture time of the newest camera frame seen (what a live view shows).
    this.shownFrame = null;  // The last result's frame; closed when the next result is emitted.
    this.resetCounters();
    this.reconnectTimer = null;
    if (options.source) this.setSource(options.source);
    this.statsTimer = setInterval(() => this.emitStats(), this.options.statsIntervalMs);
    this.open();
  }

  // Events: "status" {state, message}, "hello", "result", "dropped", "error" (server or connection),
  // "stats". on() returns a function that removes the listener.
  on(type, listener) {
    const wrapped = (event) => listener(event.detail);
    this.addEventListener(type, wrapped);
    return () => this.removeEventListener(type, wrapped);
  }

  // A <video> element or a MediaStream (wrapped in a hidden, muted <video>). null stops sending.
  setSource(source) {
    let polled = false;
    if (source && typeof MediaStream !== "undefined" && source instanceof MediaStream) {
      const video = document.createElement("video");
      Object.assign(video, { muted: true, playsInline: true, srcObject: source });
      video.play().catch((error) => this.emit("error", { code: "video_failed", message: String(error) }));
      source = video;
      polled = true;  // Not on the page: frame callbacks are not to be relied on.
    }
    this.watcher?.stop();
    this.video = source;
    this.freshFrame = false;
    this.watcher = source ? new FrameWatcher(source, polled, (captureMs) => this.onFrame(captureMs)) : null;
  }

  // A new camera frame is on the video: mark it fresh and send it if a credit allows. Sent at most once.
  onFrame(captureMs) {
    if (this.state === "closed") return;
    this.freshFrame = true;
    this.newestFrameCaptureMs = captureMs;
    this.pump();
  }

  // Changes any of {pose, hands, smoothing, drop_policy}; remembered and re-sent after a reconnect.
  configure(changes) {
    Object.assign(this.config, changes);
    this.sendText({ type: "config", ...changes });
  }

  // Client-side capture and encoding: {jpegQuality, maxWidth, maxFps, keepFrames}.
  setEncoding(changes) {
    for (const key of ["jpegQuality", "maxWidth", "maxFps", "keepFrames"]) {
      if (changes[key] !== undefined) this.options[key] = changes[key];
    }
  }

  // The server's stream starts over at sequence 0. Sent once every frame in flight is answered, so an
  // old frame's answer can never be taken for a new frame with the same number.
  reset() {
    this.resetRequested = true;
    this.pump();
  }

  sendPendingReset() {
    if (!this.resetRequested || this.ledger.inFlight > 0 || !this.sendText({ type: "reset" })) return;
    this.resetRequested = false;
    this.sequence = 0;
    this.lastTimestampMicros = 0n;
  }

  close() {
    this.state = "closed";
    clearInterval(this.statsTimer);
    clearTimeout(this.reconnectTimer);
    this.watcher?.stop();
    if (this.socket) this.socket.close(1000);
    this.forgetInFlight("closed");
    this.shownFrame?.close();
    this.shownFrame = null;
  }

  // The page drew `result` over an image captured at imageCaptureMs (default: the result's own frame, as
  // a synchronised view shows it; a live view passes newestFrameCaptureMs). Sets result.drawnMs and
  // result.imageCaptureMs, feeds the stats' drawnLatencyMs and skeletonLagMs; returns {latencyMs, lagMs}.
  drawn(result, { imageCaptureMs = result.captureMs, drawnMs = performance.now() } = {}) {
    return this.draws.record(result, imageCaptureMs, drawnMs);
  }

  resetCounters() {
    this.sent = new RateWindow(2000);
    this.received = new RateWindow(2000);
    this.latencies = [];  // capture -> answer, ms, since the last stats event
    this.draws = new DrawTimes();  // what drawn() was told since the last stats event
    this.timings = [];    // timing_ms of results since the last stats event
    this.dropped = {};    // reason -> count, since construction
    this.totals = { sent: 0, results: 0, dropped: 0 };
  }

  emit(type, detail) { this.dispatchEvent(new DetailEvent(type, { detail })); }

  setState(state, message) {
    this.state = state;
    this.emit("status", { state, message });
  }

  open() {
    this.setState(this.attempt === 0 ? "connecting" : "reconnecting", `connecting to ${this.url}`);
    let socket;
    try {
      socket = new this.options.WebSocket(urlWithToken(this.url, this.options.token));
    } catch (error) {
      this.emit("error", { code: "connect_failed", message: String(error.message ?? error) });
      this.scheduleReconnect();
      return;
    }
    socket.binaryType = "arraybuffer";
    this.helloOnSocket = false;
    socket.onmessage = (event) => this.onMessage(event.data);
    socket.onclose = (event) => this.onClose(socket, event);
    socket.onerror = () => {};  // Always followed by close, which says more.
    this.socket = socket;
  }

  onMessage(data) {
    if (typeof data !== "string") return;
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      this.emit("error", { code: "bad_answer", message: "the server sent text that is not JSON" });
      return;
    }
    if (message.type === "hello") this.onHello(message);
    else if (message.type === "result" || message.type === "dropped") this.onAnswer(message);
    else if (message.type === "error") this.emit("error", message);
  }

  onHello(message) {
    this.hello = message;
    this.helloOnSocket = true;
    this.attempt = 0;
    this.sequence = 0;  // A new connection is a new stream.
    this.lastTimestampMicros = 0n;
    this.resetRequested = false;
    if (Object.keys(this.config).length > 0) this.sendText({ type: "config", ...this.config });
    this.setState("open", `connected to ${this.url} (session ${message.session})`);
    this.emit("hello", message);
    this.pump();
  }

  onAnswer(message) {
    const now = performance.now();
    const freed = this.ledger.answer(message);
    const info = message.type === "result" ? freed.find(([sequence]) => sequence === message.sequence)?.[1] : undefined;
    closeFrames(freed, info?.frame);
    if (message.type === "result") {
      this.received.add(now);
      this.totals.results++;
      if (message.timing_ms) this.timings.push(message.timing_ms);
      const captureMs = info?.captureMs;
      if (captureMs !== undefined) this.latencies.push(now - captureMs);
      this.emitResult({ ...message, captureMs, receivedMs: now, frame: info?.frame ?? null });
    } else {
      const count = message.last_sequence !== undefined ? Math.max(1, freed.length) : 1;
      this.countDropped(message.reason, count);
      this.emit("dropped", message);
    }
    this.pump();
  }

  // A result's frame (an ImageBitmap, with keepFrames) stays open until the next result is emitted.
  emitResult(result) {
    const previous = this.shownFrame;
    this.shownFrame = result.frame;
    this.emit("result", result);
    if (previous && previous !== result.frame) previous.close();
  }

  countDropped(reason, count) {
    this.dropped[reason] = (this.dropped[reason] ?? 0) + count;
    this.totals.dropped += count;
  }

  onClose(socket, event) {
    if (socket !== this.socket) return;
    this.socket = null;
    this.forgetInFlight("disconnected");
    if (this.state === "closed") return;
    const reason = event.reason ? ` (${event.code} ${event.reason})` : ` (code ${event.code})`;
    const message = this.helloOnSocket ? `connection to ${this.url} closed${reason}`
                                       : `cannot reach the server at ${this.url}${reason}`;
    this.emit("error", { code: "disconnected", message });
    this.scheduleReconnect();
  }

  // Frames in flight on a closed connection will never be answered: report them dropped here.
  forgetInFlight(reason) {
    const forgotten = this.ledger.clear();
    closeFrames(forgotten);
    for (const [sequence] of forgotten) {
      this.countDropped(reason, 1);
      this.emit("dropped", { type: "dropped", sequence, reason, local: true });
    }
  }

  scheduleReconnect() {
    const delay = backoffMs(this.attempt++, this.options.reconnectInitialMs, this.options.reconnectMaxMs);
    this.setState("reconnecting", `no connection; retrying in ${(delay / 1000).toFixed(1)} s`);
    this.reconnectTimer = setTimeout(() => {
      if (this.state === "closed") return;
      this.reconnects++;
      this.open();
    }, delay);
  }

  sendText(message) {
    if (!this.socket || this.socket.readyState !== 1) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  // Sends the current frame if a credit, the connection and the frame-rate cap allow.
  pump() {
    const video = this.video;
    const now = performance.now();
    const expired = this.ledger.expire(now - this.options.answerTimeoutMs);
    closeFrames(expired);
    for (const [sequence] of expired) {
      this.countDropped("timeout", 1);
      this.emit("dropped", { type: "dropped", sequence, reason: "timeout", local: true });
    }
    if (this.state !== "open" || this.encoding) return;
    this.sendPendingReset();
    if (this.resetRequested || !this.ledger.available) return;
    if (!video || !this.freshFrame || video.readyState < 2 || !video.videoWidth) return;
    if (this.options.maxFps > 0 && now - this.lastSentMs < 1000 / this.options.maxFps) return;
    this.sendFrame(video).catch((error) => this.emit("error", { code: "encode_failed", message: String(error) }));
  }

  // Grabs the video's current frame (a copy kept with its credit, with keepFrames), encodes and sends it.
  // Its capture time is that of the newest frame the watcher saw: the frame grabbed, or at worst one
  // older, so the latency shown errs high, never low.
  async sendFrame(video) {
    this.encoding = true;
    this.freshFrame = false;
    const captureMs = this.newestFrameCaptureMs ?? performance.now();
    const socket = this.socket;
    let frame = null;
    try {
      frame = await grabFrame(video, this.options.keepFrames);
      const blob = await this.encoder.encode(frame, this.options.maxWidth, this.options.jpegQuality);
      const jpeg = await blob.arrayBuffer();
      if (socket !== this.socket || socket.readyState !== 1) return;  // Closed while encoding.
      // Capture time on the page's clock, in microseconds, kept strictly increasing as the protocol asks.
      let timestamp = BigInt(Math.round((performance.timeOrigin + captureMs) * 1000));
      if (timestamp <= this.lastTimestampMicros) timestamp = this.lastTimestampMicros + 1n;
      this.lastTimestampMicros = timestamp;
      const sequence = this.sequence++;
      this.ledger.take(sequence, { captureMs, sentMs: performance.now(), frame: frame.bitmap });
      frame = null;  // The ledger owns its bitmap now.
      // One buffer, not a Blob: DevTools (and so tests/web/alignment.mjs) see the frames sent as buffers.
      const message = new Uint8Array(20 + jpeg.byteLength);
      message.set(new Uint8Array(encodeFrameHeader(sequence, timestamp)), 0);
      message.set(new Uint8Array(jpeg), 20);
      socket.send(message);
      this.lastSentMs = captureMs;
      this.sent.add(performance.now());
      this.totals.sent++;
    } finally {
      frame?.bitmap?.close();
      this.encoding = false;
    }
  }

  stats() {
    const now = performance.now();
    return {
      state: this.state,
      sentFps: this.sent.rate(now),
      resultFps: this.received.rate(now),
      inFlight: this.ledger.inFlight,
      latencyMs: median(this.latencies),
      ...this.draws.summary(),
      timingMs: averageTimings(this.timings),
      dropped: { ...this.dropped },
      totals: { ...this.totals },
      reconnects: this.reconnects,
    };
  }

  emitStats() {
    const stats = this.stats();
    this.latencies = [];
    this.timings = [];
    this.draws.clear();
    this.emit("stats", stats);
  }
}

// Closes the kept frames of answered or forgotten credits ([[sequence, info], ...]), all but `keep`.
function closeFrames(entries, keep = null) {
  for (const [, info] of entries) {
    if (info?.frame && info.frame !== keep) info.frame.close();
  }
}

// The mean of each timing_ms field, or null without results.
function averageTimings(timings) {
  if (timings.length === 0) return null;
  const sums = {};
  for (const timing of timings) {
    for (const [stage, value] of Object.entries(timing)) sums[stage] = (sums[stage] ?? 0) + value;
  }
  for (const stage of Object.keys(sums)) sums[stage] /= timings.length;
  return sums;
}

// Browsers cannot set an Authorization header on a WebSocket: the token goes in the query.
function urlWithToken(url, token) {
  if (!token) return url;
  return `${url}${url.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}`;
}

// Opens a stream to a posestream server: `url` is its WebSocket address (ws://host:port/ws).
export function connect(url, options = {}) {
  return new PoseStreamClient(url, options);
}
