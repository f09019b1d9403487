// The original frontend in headless Chromium, cross-origin (issue 13): page.html, served by a second
// small HTTP server (another port: another origin), runs io(serverUrl) with socket.io-client's browser
// bundle, the fake camera drawn to a canvas and sent as JPEG data URLs; `posestream serve` admits only
// that page's origin (--allowed-origins). Checked: results arrive and are drawn (a screenshot); a page
// from an origin not admitted gets connect_error and no session, with default transports and websocket-only.
//   node browser.mjs --binary BUILD/posestream --make-y4m BUILD/tests/web/web_make_y4m --source-dir SRC --out-dir DIR
// Exit 77 (CTest's skip) when Chromium cannot be found; 1 on any failed check.
import { execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { check, findBrowser, goldenSequence, launchBrowser, log, openPage, parseArguments, runTest, SKIP, stopServer,
         WAIT_MS } from "../web/harness.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SCREENSHOT = "/tmp/socketio-page.png";
const RESULTS = 10;        // Results drawn before the allowed page counts as working.
const REFUSALS_MS = 3000;  // How long the refused page is watched: several reconnection attempts.

// A static server for page.html, page.js and the socket.io-client bundle on its own port (an origin).
function startPageServer(sourceDir) {
  const files = {
    "/": ["text/html", path.join(HERE, "page.html")],
    "/page.js": ["text/javascript", path.join(HERE, "page.js")],
    "/socket.io.min.js": ["text/javascript",
                          path.join(sourceDir, "tests/web/node_modules/socket.io-client/dist/socket.io.min.js")],
  };
  const server = http.createServer((request, response) => {
    const file = files[new URL(request.url, "http://x").pathname];
    if (!file) { response.writeHead(404).end(); return; }
    response.writeHead(200, { "content-type": file[0] }).end(readFileSync(file[1]));
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => {
    resolve({ server, origin: `http://127.0.0.1:${server.address().port}` });
  }));
}

// `posestream serve` on a free port admitting only `origin`; resolves with {server, url}.
function startPosestream(options, origin) {
  const models = process.env.POSESTREAM_MODELS || path.join(options["source-dir"], "models");
  const server = spawn(options.binary, ["serve", "--host", "127.0.0.1", "--port", "0", "--models", models,
                                        "--workers", "1", "--allowed-origins", origin],
                       { stdio: ["ignore", "pipe", "pipe"] });
  server.output = "";
  process.on("exit", () => server.kill("SIGKILL"));
  server.stderr.on("data", (chunk) => { server.output += chunk; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL in ${WAIT_MS} ms:\n${server.output}`)), WAIT_MS);
    server.stdout.on("data", (chunk) => {
      server.output += chunk;
      const match = /posestream: open (http:\/\/\S+\/)/.exec(server.output);
      if (match) { clearTimeout(timer); resolve({ server, url: match[1] }); }
    });
    server.on("exit", (code) => { clearTimeout(timer); reject(new Error(`the server exited ${code}:\n${server.output}`)); });
  });
}

async function checkAllowed(context, pageOrigin, url) {
  const page = await openPage(context);
  try {
    await page.goto(`${pageOrigin}/?server=${encodeURIComponent(url)}`);
    await page.waitForFunction((count) => {
      const state = globalThis.socketioPage;
      return state.drawn >= count && state.lastResult?.pose?.landmarks?.length === 33;
    }, RESULTS, { timeout: WAIT_MS });
    const state = await page.evaluate(() => globalThis.socketioPage);
    check(state.connected && state.hello !== null, `the page at ${pageOrigin} connected and got its hello`);
    check(state.connectErrors.length === 0, `no connect_error (${state.connectErrors.join(", ")})`);
    check(state.errors.length === 0, `no error events or page errors (${JSON.stringify(state.errors).slice(0, 200)})`);
    check(state.results >= RESULTS, `${state.results} results drawn (${state.dropped} dropped) of ${state.sent} frames sent`);
    check(state.transport === "websocket", `the page's client upgraded from polling to ${state.transport}`);
    const painted = await page.$eval("#view", (canvas) => {
      const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
      let green = 0;
      for (let index = 0; index < pixels.length; index += 4) {
        green += pixels[index] < 40 && pixels[index + 1] > 220 && pixels[index + 2] < 100 ? 1 : 0;
      }
      return green;
    });
    check(painted > 200, `landmark dots drawn on the page (${painted} dot pixels)`);
    await page.screenshot({ path: SCREENSHOT });
    log(`screenshot: ${SCREENSHOT}`);
  } catch (error) {
    log(`page console:\n${page.consoleLines.join("\n")}`);
    await page.screenshot({ path: SCREENSHOT }).catch(() => {});
    throw error;
  } finally {
    await page.close();
  }
}

async function checkRefused(context, pageOrigin, url, transports) {
  const page = await openPage(context);
  try {
    const query = transports ? `&transports=${transports}` : "";
    await page.goto(`${pageOrigin}/?server=${encodeURIComponent(url)}${query}`);
    await page.waitForFunction(() => globalThis.socketioPage?.connectErrors.length > 0, null, { timeout: WAIT_MS });
    await page.waitForTimeout(REFUSALS_MS);  // Its reconnection attempts, refused too (not a timed check).
    const state = await page.evaluate(() => globalThis.socketioPage);
    const mode = transports ?? "default transports";
    check(state.connectErrors.length > 0, `${mode}: a page at ${pageOrigin} gets connect_error ` +
                                          `(${state.connectErrors.length}x "${state.connectErrors[0]}")`);
    check(!state.connected && state.hello === null && state.results === 0,
          `${mode}: never connected, no hello, no results`);
  } finally {
    await page.close();
  }
}

async function run(options) {
  const browser = await findBrowser();
  if (!browser) return SKIP;
  if (!execFileSync(options.binary, ["serve", "--help"], { encoding: "utf8" }).includes("--allowed-origins")) {
    log(`SKIP: ${options.binary} serves no Socket.IO (no --allowed-origins in serve --help)`);
    return SKIP;
  }
  const { frames } = goldenSequence(options["source-dir"]);
  const y4m = path.join(options["out-dir"], "socketio_camera.y4m");
  execFileSync(options["make-y4m"], [y4m, "640", "480", ...frames], { stdio: "inherit" });
  const allowed = await startPageServer(options["source-dir"]);
  const refused = await startPageServer(options["source-dir"]);
  const { server, url } = await startPosestream(options, allowed.origin);
  log(`posestream at ${url} admits ${allowed.origin}; pages at ${allowed.origin} and ${refused.origin}`);
  const { context, close } = await launchBrowser(browser, y4m);
  try {
    await checkAllowed(context, allowed.origin, url);
    await checkRefused(context, refused.origin, url, undefined);
    await checkRefused(context, refused.origin, url, "websocket");
  } catch (error) {
    log(`server output (tail):\n${server.output.slice(-3000)}`);
    throw error;
  } finally {
    await close();
    await stopServer(server);
    allowed.server.close();
    refused.server.close();
  }
  return 0;
}

runTest("socketio_browser", () => run(parseArguments(process.argv.slice(2), ["binary", "make-y4m", "source-dir", "out-dir"])));
