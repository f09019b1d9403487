// What the deployment test drives: posestream instances, HAProxy with deploy/haproxy.cfg, a test-time
// certificate and token, `posestream load` runs, /metrics and raw HTTP upgrades. Everything it starts
// is killed when the process exits, and its temp folder removed (kept after a failure).
// Node 18 (Debian 12's) runs it: no newer language or library features.
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

export const WAIT_MS = 120_000;  // Start-ups on 2 shared cores (three models per instance).

export function log(message) { console.log(`deploy: ${message}`); }

export function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
  log(`ok: ${message}`);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Every child still running when the test exits (a failed check, a timeout) is killed with it.
const children = new Set();
let scratch = null;
// The folder (logs of every instance and HAProxy) is kept after a failure, or with POSESTREAM_KEEP_LOGS=1.
process.on("exit", (code) => {
  for (const child of children) child.kill("SIGKILL");
  if (!scratch) return;
  if (code === 0 && !process.env.POSESTREAM_KEEP_LOGS) return rmSync(scratch, { recursive: true, force: true });
  console.log(`deploy: logs kept in ${scratch}`);
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(1));

// A unique folder for this run: certificate, token file, logs.
export function makeScratch() {
  scratch = mkdtempSync(path.join(tmpdir(), "posestream-deploy-"));
  return scratch;
}

// A port free right now on loopback.
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// A self-signed certificate for localhost and 127.0.0.1, its key, and HAProxy's PEM (both in one file).
export function makeCertificate(dir) {
  const cert = path.join(dir, "cert.pem");
  const key = path.join(dir, "key.pem");
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
                           "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
               { stdio: "ignore" });
  const pem = path.join(dir, "lb.pem");
  writeFileSync(pem, readFileSync(cert, "utf8") + readFileSync(key, "utf8"));
  return { cert, key, pem };
}

export function makeToken(dir) {
  const token = randomBytes(24).toString("hex");
  const file = path.join(dir, "tokens");
  writeFileSync(file, `# test token\n${token}\n`, { mode: 0o600 });
  return { token, file };
}

// A child whose output goes to `logFile`; `exited` resolves with its exit code (or signal name).
export function startLogged(command, args, logFile, env = process.env) {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], env });
  child.output = "";
  const keep = (chunk) => { child.output += chunk; };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  children.add(child);
  child.exited = new Promise((resolve) => child.on("exit", (code, signal) => {
    children.delete(child);
    writeFileSync(logFile, child.output);
    resolve(code ?? signal);
  }));
  return child;
}

// The HTTP status of GET http://127.0.0.1:port/path (https:// trusting `ca`, a PEM, when given), or 0
// when nothing answers.
export function httpStatus(port, route, ca = null) {
  return new Promise((resolve) => {
    const options = { host: "127.0.0.1", port, path: route, timeout: 5000, ...(ca ? { ca, servername: "localhost" } : {}) };
    const request = (ca ? https : http).get(options, (response) => {
      response.resume();
      response.on("end", () => resolve(response.statusCode));
    });
    request.on("timeout", () => request.destroy());
    request.on("error", () => resolve(0));
  });
}

export async function waitFor(what, predicate, timeoutMs = WAIT_MS, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

// `posestream serve` on loopback, one worker and one inference thread; resolves once /readyz is 200.
// `ca`: the instance serves TLS (--tls-cert) with a certificate this PEM signed.
export async function startInstance(options, dir, name, port, extra = [], ca = null) {
  const models = process.env.POSESTREAM_MODELS || path.join(options["source-dir"], "models");
  const args = ["serve", "--host", "127.0.0.1", "--port", String(port), "--models", models, "--workers", "1",
                "--inference-threads", "1", ...extra];
  const child = startLogged(options.binary, args, path.join(dir, `${name}.log`));
  child.name = name;
  child.port = port;
  await waitFor(`${name} /readyz on ${port}`, async () => {
    if (child.exitCode !== null) throw new Error(`${name} exited at start-up:\n${child.output}`);
    return (await httpStatus(port, "/readyz", ca)) === 200;
  });
  return child;
}

// HAProxy in the foreground (-db) with deploy/haproxy.cfg; resolves once the balancer answers /readyz.
export async function startBalancer(options, dir, env) {
  const config = path.join(options["source-dir"], "deploy", "haproxy.cfg");
  const child = startLogged("haproxy", ["-db", "-f", config], path.join(dir, "haproxy.log"), { ...process.env, ...env });
  const port = Number(env.POSESTREAM_LB_BIND.split(":").pop());
  await waitFor(`HAProxy on ${port}`, async () => {
    if (child.exitCode !== null) throw new Error(`haproxy exited at start-up:\n${child.output}`);
    return (await httpStatus(port, "/readyz")) === 200;
  });
  return child;
}

// One Prometheus sample's value from an instance's /metrics (with its token), or null.
export async function metric(port, name, token) {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  const text = await response.text();
  const line = text.split("\n").find((entry) => entry.startsWith(`${name} `));
  return line ? Number(line.split(" ")[1]) : null;
}

// `posestream load ... --json`; resolves with the parsed report (or throws with its output).
export function runLoad(options, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(options.binary, ["load", "--json", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    children.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => { stdout += chunk; });
    child.stderr.on("data", (chunk) => { stderr += chunk; });
    child.on("exit", (code) => {
      children.delete(child);
      try {
        const report = JSON.parse(stdout);
        report.exitCode = code;
        report.stderr = stderr;
        resolve(report);
      } catch {
        reject(new Error(`load printed no report (exit ${code}):\n${stdout}\n${stderr}`));
      }
    });
  });
}

// A WebSocket upgrade by hand on 127.0.0.1:port. Resolves with {status, socket} once the response
// head arrived; with 101 the socket stays open (and unread: it never answers the server's close).
export function upgrade(port, route, headers = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let head = "";
    socket.on("error", reject);
    socket.on("connect", () => {
      const lines = [`GET ${route} HTTP/1.1`, `Host: 127.0.0.1:${port}`, "Upgrade: websocket", "Connection: Upgrade",
                     `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}`, "Sec-WebSocket-Version: 13",
                     ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)];
      socket.write(lines.join("\r\n") + "\r\n\r\n");
    });
    const onData = (chunk) => {
      head += chunk.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      socket.off("data", onData);
      socket.pause();
      resolve({ status: Number(head.split(" ")[1]), socket });
    };
    socket.on("data", onData);
  });
}
