// The deployment test (issue 14): three `posestream serve` instances behind HAProxy (deploy/haproxy.cfg)
// on loopback; tokens, WSS through the balancer (and the server's own TLS when built), Socket.IO polling
// and its upgrade through the balancer (socketio_balancer.mjs), nine streams with `load --reconnect`, the
// spread, a SIGTERM drain and a kill -9. Exit 77 (CTest skip) without HAProxy.
//   node deploy.mjs --binary BIN --source-dir DIR
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import {
  check, freePort, httpStatus, log, makeCertificate, makeScratch, makeToken, metric, runLoad, sleep,
  startBalancer, startInstance, upgrade, waitFor,
} from "./cluster.mjs";
import { checkSocketIoThroughBalancer, servesSocketIo } from "./socketio_balancer.mjs";

const SKIP = 77;
const RECONNECT_BOUND_MS = 2000;  // The bound on a stream's gap after losing its instance.
const DRAIN_TIMEOUT_MS = 4000;    // Instances' --drain-timeout-ms (the held-open WebSocket waits it out).
const MAX_SESSIONS = 16;          // Instances' --max-sessions and HAProxy's maxconn: room for all nine.
// Nine streams at 5 FPS with the lite models: what 2 shared cores answer without falling far behind.
const STREAMS = 9;
const LOAD = ["--fps", "5", "--pose", "lite", "--hands", "lite", "--reconnect"];

function parseArguments(argv) {
  const options = {};
  for (let index = 0; index < argv.length; index += 2) options[argv[index].replace(/^--/, "")] = argv[index + 1];
  for (const name of ["binary", "source-dir"]) if (!options[name]) throw new Error(`deploy: missing --${name}`);
  return options;
}

function haveHaproxy() {
  try {
    execFileSync("haproxy", ["-v"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const image = (options) => `${options["source-dir"]}/tests/data/images/messi5.jpg`;

// Wrong or missing tokens through the balancer: 401, and no instance opens a session.
async function checkTokens(lbPort, instances, token) {
  const before = await Promise.all(instances.map((i) => metric(i.port, "posestream_sessions_total", token)));
  const cases = [["no token", "/ws", {}], ["a wrong Bearer token", "/ws", { Authorization: "Bearer not-the-token-0123456789" }],
                 ["a wrong ?token=", "/ws?token=not-the-token-0123456789", {}]];
  for (const [what, route, headers] of cases) {
    const { status, socket } = await upgrade(lbPort, route, headers);
    socket.destroy();
    check(status === 401, `an upgrade with ${what} through the balancer is refused with 401 (got ${status})`);
  }
  const after = await Promise.all(instances.map((i) => metric(i.port, "posestream_sessions_total", token)));
  check(JSON.stringify(before) === JSON.stringify(after), `no instance opened a session for them (sessions_total ${after})`);
}

// One short WSS stream; `extra` names how the certificate is trusted.
async function wssStream(options, url, tokenFile, extra) {
  return runLoad(options, ["--url", url, "--token-file", tokenFile, "--streams", "1", "--fps", "5", "--duration", "2",
                           "--pose", "lite", "--hands", "off", "--input", image(options), ...extra]);
}

async function checkWss(options, url, tokenFile, cert, what) {
  const trusted = await wssStream(options, url, tokenFile, ["--ca-file", cert]);
  const stream = trusted.per_stream[0];
  check(stream.error === "" && (stream.answers.result || 0) > 0 && stream.unanswered === 0,
        `WSS ${what}: results over TLS with the test's CA (${JSON.stringify(stream.answers)}, error '${stream.error}')`);
  const untrusted = await wssStream(options, url, tokenFile, []);
  check(untrusted.per_stream[0].error.includes("tls handshake"),
        `WSS ${what}: the self-signed certificate is refused against the system CAs ('${untrusted.per_stream[0].error}')`);
}

// The streams whose connection ended the way `ended` matches, with the connection that ended so.
function droppedBy(report, matches) {
  const found = [];
  report.per_stream.forEach((stream, index) => {
    stream.connections.forEach((connection, at) => {
      if (connection.dropped && matches(connection.ended)) found.push({ index, stream, connection, at });
    });
  });
  return found;
}

function gapSummary(gaps) {
  const sorted = [...gaps].sort((a, b) => a - b);
  const p50 = sorted.length ? sorted[Math.ceil(sorted.length / 2) - 1] : 0;
  return `p50 ${p50.toFixed(0)} ms, max ${(sorted[sorted.length - 1] || 0).toFixed(0)} ms over ${sorted.length}`;
}

function checkReconnected(drops, what) {
  for (const { index, stream, connection, at } of drops) {
    check(stream.connections.length > at + 1, `stream ${index} (${what}) continued on a new connection`);
    check(connection.gap_after_ms >= 0 && connection.gap_after_ms < RECONNECT_BOUND_MS,
          `stream ${index} (${what}): last answer before -> first answer after ${connection.gap_after_ms.toFixed(0)} ms ` +
          `(bound ${RECONNECT_BOUND_MS} ms)`);
  }
  log(`${what}: reconnect gap ${gapSummary(drops.map((drop) => drop.connection.gap_after_ms))}`);
}

async function main() {
  const options = parseArguments(process.argv.slice(2));
  if (!haveHaproxy()) {
    console.log("deploy: SKIP: haproxy not found (Debian: apt-get install haproxy; scripts/setup installs it)");
    process.exit(SKIP);
  }
  const dir = makeScratch();
  const { cert, key, pem } = makeCertificate(dir);
  const { token, file: tokenFile } = makeToken(dir);
  const ports = await Promise.all([1, 2, 3, 4, 5].map(() => freePort()));
  const serveFlags = ["--auth-token-file", tokenFile, "--metrics-token-file", tokenFile,
                      "--drain-timeout-ms", String(DRAIN_TIMEOUT_MS), "--max-sessions", String(MAX_SESSIONS)];
  const instances = [];
  for (let i = 0; i < 3; ++i) instances.push(await startInstance(options, dir, `instance${i + 1}`, ports[i], serveFlags));
  const [lbPort, lbTlsPort] = [ports[3], ports[4]];
  const balancer = await startBalancer(options, dir, {
    POSESTREAM_LB_BIND: `127.0.0.1:${lbPort}`, POSESTREAM_LB_TLS_BIND: `127.0.0.1:${lbTlsPort}`, POSESTREAM_LB_CERT: pem,
    POSESTREAM_SERVER_1: `127.0.0.1:${ports[0]}`, POSESTREAM_SERVER_2: `127.0.0.1:${ports[1]}`,
    POSESTREAM_SERVER_3: `127.0.0.1:${ports[2]}`, POSESTREAM_MAX_SESSIONS: String(MAX_SESSIONS),
  });
  log(`instances on ${ports.slice(0, 3).join(", ")}; HAProxy on ${lbPort} (WS) and ${lbTlsPort} (WSS)`);

  await checkTokens(lbPort, instances, token);
  await checkWss(options, `wss://localhost:${lbTlsPort}/ws`, tokenFile, cert, "through HAProxy's TLS");
  await checkServerTls(options, dir, tokenFile, cert, key, serveFlags);
  if (await servesSocketIo(instances[0].port, token)) {
    await checkSocketIoThroughBalancer(options["source-dir"], lbPort, token, image(options));
  } else {
    log("note: this build serves no Socket.IO at /socket.io/: Socket.IO through the balancer is not checked");
  }

  // Nine streams through the balancer for 24 s: spread, then a drain at 5 s and a kill -9 at 13 s.
  const loadDone = runLoad(options, ["--url", `ws://127.0.0.1:${lbPort}/ws`, "--token-file", tokenFile,
                                     "--streams", String(STREAMS), "--duration", "24", "--input", image(options), ...LOAD]);
  await sleep(3000);
  const open = await Promise.all(instances.map((i) => metric(i.port, "posestream_sessions", token)));
  check(open.reduce((a, b) => a + b, 0) === STREAMS && open.every((n) => n >= 2 && n <= 4),
        `the ${STREAMS} sessions spread 3 +- 1 per instance (${open.join(", ")})`);

  const [drained, killed, survivor] = instances;
  // A WebSocket that never answers the server's close keeps the drain going until its timeout, so its
  // readiness can be watched.
  const held = await upgrade(drained.port, "/ws", { Authorization: `Bearer ${token}` });
  check(held.status === 101, `a held-open WebSocket on ${drained.name} (status ${held.status})`);
  await sleep(2000);
  const drainedSessions = (await metric(drained.port, "posestream_sessions", token)) - 1;
  drained.kill("SIGTERM");
  await waitFor(`${drained.name} /readyz 503 after SIGTERM`, async () => (await httpStatus(drained.port, "/readyz")) === 503, 2000, 20);
  check(true, `${drained.name}'s /readyz is 503 while it drains`);
  const drainedExit = await drained.exited;
  held.socket.destroy();
  check(drainedExit === 0, `${drained.name} exited 0 after its drain (got ${drainedExit})`);

  await sleep(3000);
  const killedSessions = await metric(killed.port, "posestream_sessions", token);
  killed.kill("SIGKILL");
  await killed.exited;

  const report = await loadDone;
  log(`load: ${report.frames_sent} frames sent, answers ${JSON.stringify(report.answers)}, reconnects ${report.reconnects}`);
  for (const [index, stream] of report.per_stream.entries()) {
    check(stream.error === "" && stream.answered_twice === 0 && stream.unanswered === 0,
          `stream ${index}: no error, no frame answered twice, none unanswered at the end ` +
          `('${stream.error}', ${stream.answered_twice}, ${stream.unanswered})`);
  }
  const byDrain = droppedBy(report, (ended) => ended.startsWith("close 1012"));
  check(byDrain.length === drainedSessions, `${byDrain.length} streams closed with 1012 = ${drainedSessions} on ${drained.name}`);
  for (const { index, connection } of byDrain) {
    check(connection.unanswered === 0 && connection.answered === connection.frames_sent,
          `stream ${index}: every frame sent to the drained instance was answered (${connection.answered}/${connection.frames_sent})`);
  }
  checkReconnected(byDrain, "SIGTERM drain");
  const byKill = droppedBy(report, (ended) => !ended.startsWith("close "));
  check(byKill.length === killedSessions, `${byKill.length} streams dropped by the kill -9 = ${killedSessions} on ${killed.name}`);
  checkReconnected(byKill, "kill -9");
  for (const { index, stream, at } of byKill) {
    const after = stream.connections.slice(at + 1);
    check(after.every((c) => c.unanswered === 0 && c.answered === c.frames_sent),
          `stream ${index}: every frame sent after the reconnect was answered`);
  }
  const last = await metric(survivor.port, "posestream_sessions", token);
  check(last === 0, `${survivor.name} took every stream to the end (open sessions now ${last})`);
  balancer.kill("SIGTERM");
  survivor.kill("SIGTERM");
  await Promise.all([balancer.exited, survivor.exited]);
  log("PASS");
}

// The server's own TLS (`serve --tls-cert --tls-key`), when this build has it.
async function checkServerTls(options, dir, tokenFile, cert, key, serveFlags) {
  const help = execFileSync(options.binary, ["serve", "--help"], { encoding: "utf8" });
  if (!help.includes("--tls-cert")) {
    log("note: this build's `serve` has no --tls-cert: the server's own TLS is not checked");
    return;
  }
  const port = await freePort();
  const server = await startInstance(options, dir, "tls-instance", port, [...serveFlags, "--tls-cert", cert, "--tls-key", key],
                                     readFileSync(cert));
  try {
    await checkWss(options, `wss://localhost:${port}/ws`, tokenFile, cert, "with the server's own TLS");
  } finally {
    server.kill("SIGTERM");
    await server.exited;
  }
}

main().catch((error) => {
  console.error(`deploy: FAIL: ${error.message}`);
  process.exit(1);
});
