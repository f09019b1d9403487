// The deployment test's Socket.IO part: real socket.io-client sessions through HAProxy, polling first and
// then upgraded to WebSocket, which works only if every request of a session reaches the instance that
// holds its sid (deploy/haproxy.cfg's cookie stickiness); and a session without the token is refused.
// Node 18 (Debian 12's) runs it: no newer language or library features.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

import { check, log } from "./cluster.mjs";

const require = createRequire(import.meta.url);
const FRAMES = 8;          // Per client, one every FRAME_GAP_MS: long enough for the upgrade to happen.
const FRAME_GAP_MS = 250;
const CLIENTS = 3;         // More sessions than one instance: requests of a session could go anywhere.
const ANSWER_WAIT_MS = 30_000;

function loadClient(sourceDir) {
  try {
    return require(`${sourceDir}/tests/web/node_modules/socket.io-client`);
  } catch {
    return null;  // scripts/setup installs it (tests/web's package-lock); without it there is nothing to run.
  }
}

// Whether the instances serve Socket.IO (a build before it answers 404 at /socket.io/).
export async function servesSocketIo(port, token) {
  const response = await fetch(`http://127.0.0.1:${port}/socket.io/?EIO=4&transport=polling`,
                               { headers: { Authorization: `Bearer ${token}` } });
  await response.arrayBuffer();
  return response.status === 200;
}

// One client: `frames` frames as data URLs, each answered once by `result` or `dropped`.
function runClient(io, url, token, imageUrl, name) {
  return new Promise((resolve, reject) => {
    const socket = io(url, { withCredentials: true, extraHeaders: { Authorization: `Bearer ${token}` },
                             reconnection: false });
    const answers = new Map();  // sequence -> count
    const problems = [];
    let sent = 0;
    let results = 0;
    const timer = setTimeout(() => finish(new Error(`${name}: ${answers.size}/${FRAMES} frames answered in time`)),
                             ANSWER_WAIT_MS);
    function finish(error) {
      clearTimeout(timer);
      const transport = socket.io.engine ? socket.io.engine.transport.name : "none";
      socket.disconnect();
      if (error) return reject(error);
      resolve({ answers, problems, results, transport });
    }
    function answered(kind, body) {
      const sequence = body && body.sequence;
      answers.set(sequence, (answers.get(sequence) || 0) + 1);
      if (kind === "result") ++results;
      if (answers.size === FRAMES) setTimeout(() => finish(null), 300);  // Room for a duplicate to show.
    }
    socket.on("result", (body) => answered("result", body));
    socket.on("dropped", (body) => answered("dropped", body));
    socket.on("error", (body) => problems.push(`error event ${JSON.stringify(body)}`));
    socket.on("connect_error", (error) => finish(new Error(`${name}: connect_error ${error.message}`)));
    socket.on("disconnect", (reason) => {
      if (answers.size < FRAMES) problems.push(`disconnect before the answers: ${reason}`);
    });
    socket.on("connect", () => {
      const send = () => {
        if (sent === FRAMES || !socket.connected) return;
        socket.emit("frame", { sequence: sent++, image: imageUrl });
        setTimeout(send, FRAME_GAP_MS);
      };
      send();
    });
  });
}

// A client without the token: refused before any session.
function refusedWithoutToken(io, url) {
  return new Promise((resolve) => {
    const socket = io(url, { reconnection: false, transports: ["polling"] });
    const timer = setTimeout(() => { socket.disconnect(); resolve("no answer"); }, 10_000);
    socket.on("connect", () => { clearTimeout(timer); socket.disconnect(); resolve("connected"); });
    socket.on("connect_error", (error) => { clearTimeout(timer); socket.disconnect(); resolve(error.message); });
  });
}

export async function checkSocketIoThroughBalancer(sourceDir, lbPort, token, imagePath) {
  const client = loadClient(sourceDir);
  check(client !== null, "socket.io-client is installed in tests/web/node_modules (scripts/setup)");
  const { io } = client;
  const url = `http://127.0.0.1:${lbPort}`;
  const imageUrl = `data:image/jpeg;base64,${readFileSync(imagePath).toString("base64")}`;
  const refusal = await refusedWithoutToken(io, url);
  check(refusal !== "connected" && refusal !== "no answer",
        `Socket.IO without the token through the balancer is refused (${refusal})`);
  const runs = await Promise.all(Array.from({ length: CLIENTS }, (_, index) =>
    runClient(io, url, token, imageUrl, `socket.io client ${index}`)));
  runs.forEach((run, index) => {
    const twice = [...run.answers.values()].filter((count) => count > 1).length;
    check(run.answers.size === FRAMES && twice === 0 && run.problems.length === 0,
          `socket.io client ${index} through HAProxy: ${run.answers.size}/${FRAMES} frames answered once, ` +
          `${run.results} results (${run.problems.join("; ") || "no error"})`);
    check(run.results > 0, `socket.io client ${index}: results came back`);
    check(run.transport === "websocket", `socket.io client ${index}: polling upgraded to WebSocket (now ${run.transport})`);
  });
  log(`Socket.IO through the balancer: ${CLIENTS} sessions, polling then WebSocket, every frame answered`);
}
