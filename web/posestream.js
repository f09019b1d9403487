// posestream browser client: camera frames out as PSF1 binary messages, answers in as events (docs/CLIENT.md).
// A dependency-free ES module; the protocol it speaks is docs/PROTOCOL.md.

import { backoffMs, CreditLedger, encodeFrameHeader } from "./protocol.js";

export { backoffMs, CreditLedger, encodeFrameHeader };

const DEFAULTS = {
  maxInFlight: 2,          // Frames sent and not yet answered; a slow server lowers the send rate.
  jpegQuality: 0.8,        // 0..1, as canvas.toBlob takes it.
  maxWidth: 640,           // Frames wider than this are scaled down before encoding (aspect kept).
  maxFps: 0,               // 0: as fast as the camera and the credits allow.
  config: null,            // A protocol config ({pose, hands, smoothing, drop_policy}) sent after every hello.
  statsIntervalMs: 1000,
  answerTimeoutMs: 10000,  // A credit unanswered this long is freed (reported dropped "timeout"); a safety net only.
  reconnectInitialMs: 500,
  reconnectMaxMs: 8000,
  WebSocket: globalThis.WebSocket,  // Injectable for tests.
};

// Frames per second over a sliding window of event times (ms).
class RateWindow {
  constructor(windowMs) { this.windowMs = windowMs; this.times = []; }
  add(now) { this.times.push(now); this.trim(now); }
  trim(now) { while (this.times.length > 0 && this.times[0] < now - this.windowMs) this.times.shift(); }
  rate(now) { this.trim(now); return (this.times.length * 1000) / this.windowMs; }
}

// Grabs the current video frame, scaled to at most maxWidth, as a JPEG Blob.
class JpegEncoder {
  constructor() { this.canvas = null; }
  async encode(video, maxWidth, quality) {
    const scale = Math.min(1, maxWidth / video.videoWidth);
    const width = Math.max(1, Math.round(video.videoWidth * scale));
    const height = Math.max(1, Math.round(video.videoHeight * scale));
    const canvas = this.canvasOf(width, height);
    canvas.getContext("2d").drawImage(video, 0, 0, width, height);
    if (canvas.convertToBlob) return canvas.convertToBlob({ type: "image/jpeg", quality });
    return new Promise((resolve, reject) => canvas.toBlob(
        (blob) => (blob ? resolve(blob) : reject(new Error("canvas.toBlob gave no JPEG"))), "image/jpeg", quality));
  }
  canvasOf(width, height) {
    if (!this.canvas) {
      this.canvas = typeof OffscreenCanvas !== "undefined" ? new OffscreenCanvas(width, height)
                                                           : document.createElement("canvas");
    }
    if (this.canvas.width !== width) this.canvas.width = width;
    if (this.canvas.height !== height) this.canvas.height = height;
    return this.canvas;
  }
}

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
    this.freshFrame = false;  // The video has shown a frame not yet sent.
    this.resetCounters();
    this.reconnectTimer = null;
    this.frameTimer = null;  // The frame poll, where there is no requestVideoFrameCallback.
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
    clearTimeout(this.frameTimer);
    this.video = source;
    this.freshFrame = false;
    this.watchFrames(source, polled);
  }
  // Changes any of {pose, hands, smoothing, drop_policy}; remembered and re-sent after a reconnect.
  configure(changes) {
    Object.assign(this.config, changes);
    this.sendText({ type: "config", ...changes });
  }

  // Client-side encoding: {jpegQuality, maxWidth, maxFps}.
  setEncoding(changes) {
    for (const key of ["jpegQuality", "maxWidth", "maxFps"]) {
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
    clearTimeout(this.frameTimer);
    if (this.socket) this.socket.close(1000);
    this.forgetInFlight("closed");
  }

  resetCounters() {
    this.sent = new RateWindow(2000);
    this.received = new RateWindow(2000);
    this.latencies = [];  // capture -> answer, ms, since the last stats event
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
      socket = new this.options.WebSocket(this.url);
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
    if (message.type === "result") {
      const info = freed.find(([sequence]) => sequence === message.sequence)?.[1];
      this.received.add(now);
      this.totals.results++;
      if (message.timing_ms) this.timings.push(message.timing_ms);
      const captureMs = info?.captureMs;
      if (captureMs !== undefined) this.latencies.push(now - captureMs);
      this.emit("result", { ...message, captureMs, receivedMs: now });
    } else {
      const count = message.last_sequence !== undefined ? Math.max(1, freed.length) : 1;
      this.countDropped(message.reason, count);
      this.emit("dropped", message);
    }
    this.pump();
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
    for (const [sequence] of this.ledger.clear()) {
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

  // Marks each new video frame fresh and calls pump(): per presented frame where the browser has
  // requestVideoFrameCallback, else at the camera's frame rate. A frame is sent at most once.
  watchFrames(video, polled) {
    if (!video) return;
    const track = video.srcObject?.getVideoTracks?.()[0];
    const intervalMs = 1000 / (track?.getSettings?.().frameRate || 30);
    const useCallback = !polled && typeof video.requestVideoFrameCallback === "function";
    const next = () => {
      if (this.video !== video || this.state === "closed") return;
      this.freshFrame = true;
      this.pump();
      if (useCallback) video.requestVideoFrameCallback(next);
      else this.frameTimer = setTimeout(next, intervalMs);
    };
    if (useCallback) video.requestVideoFrameCallback(next);
    else next();
  }

  // Sends the current frame if a credit, the connection and the frame-rate cap allow.
  pump() {
    const video = this.video;
    const now = performance.now();
    for (const [sequence] of this.ledger.expire(now - this.options.answerTimeoutMs)) {
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

  async sendFrame(video) {
    this.encoding = true;
    this.freshFrame = false;
    const captureMs = performance.now();
    const socket = this.socket;
    try {
      const jpeg = await this.encoder.encode(video, this.options.maxWidth, this.options.jpegQuality);
      if (socket !== this.socket || socket.readyState !== 1) return;  // Closed while encoding.
      // Capture time on the page's clock, in microseconds, kept strictly increasing as the protocol asks.
      let timestamp = BigInt(Math.round((performance.timeOrigin + captureMs) * 1000));
      if (timestamp <= this.lastTimestampMicros) timestamp = this.lastTimestampMicros + 1n;
      this.lastTimestampMicros = timestamp;
      const sequence = this.sequence++;
      this.ledger.take(sequence, { captureMs, sentMs: performance.now() });
      socket.send(new Blob([encodeFrameHeader(sequence, timestamp), jpeg]));
      this.lastSentMs = captureMs;
      this.sent.add(performance.now());
      this.totals.sent++;
    } finally {
      this.encoding = false;
    }
  }

  stats() {
    const now = performance.now();
    const sorted = [...this.latencies].sort((a, b) => a - b);
    return {
      state: this.state,
      sentFps: this.sent.rate(now),
      resultFps: this.received.rate(now),
      inFlight: this.ledger.inFlight,
      latencyMs: sorted.length > 0 ? sorted[Math.floor(sorted.length / 2)] : null,
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
    this.emit("stats", stats);
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

// Opens a stream to a posestream server: `url` is its WebSocket address (ws://host:port/ws).
export function connect(url, options = {}) {
  return new PoseStreamClient(url, options);
}
