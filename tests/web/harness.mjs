// What the browser tests (e2e.mjs, alignment.mjs) share: arguments and reporting, the golden sequence's
// files, the built `posestream serve` started and stopped, headless Chromium with a fake camera.
// Node 18 (Debian 12's) runs it: no newer language or library features.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export const SKIP = 77;          // CTest's SKIP_RETURN_CODE for these tests.
export const WAIT_MS = 120_000;  // Generous: CI runs on 2 shared cores and loads three models per worker.

let testName = "web";

export function log(message) { console.log(`${testName}: ${message}`); }

export function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
  log(`ok: ${message}`);
}

// "--name value" pairs; each of `required` must be there.
export function parseArguments(argv, required) {
  const options = {};
  for (let index = 0; index < argv.length; index += 2) options[argv[index].replace(/^--/, "")] = argv[index + 1];
  for (const name of required) {
    if (!options[name]) throw new Error(`${testName}: missing --${name}`);
  }
  return options;
}

// The shared folder beside the source tree (../shared), or $POSESTREAM_SHARED.
export function sharedDir(sourceDir) {
  return process.env.POSESTREAM_SHARED || path.join(sourceDir, "..", "shared");
}

// The golden sequence: its frames in order, and read(file) for its JSON files (MediaPipe's results).
export function goldenSequence(sourceDir) {
  const sequences = path.join(sharedDir(sourceDir), "golden", "sequences");
  const folder = readdirSync(sequences).filter((name) => name.startsWith("frames_seq_")).sort()[0];
  if (!folder) throw new Error(`${testName}: no frames_seq_* folder in ${sequences} (set POSESTREAM_SHARED)`);
  const name = folder.replace(/^frames_/, "");
  const frames = readdirSync(path.join(sequences, folder)).filter((file) => file.endsWith(".jpg")).sort()
                     .map((file) => path.join(sequences, folder, file));
  const read = (file) => JSON.parse(readFileSync(path.join(sequences, name, file), "utf8"));
  return { name, sequences, frames, read };
}

// Servers still running when the test exits (a failed check, a timeout) are killed with it.
const runningServers = new Set();
process.on("exit", () => { for (const server of runningServers) server.kill("SIGKILL"); });

// Starts `posestream serve` with web/ on `port` (0: any) and `extraArguments` (more flags); resolves with
// {server, url} once it prints its URL.
export function startServer(options, port, extraArguments = []) {
  const models = process.env.POSESTREAM_MODELS || path.join(options["source-dir"], "models");
  const server = spawn(options.binary, ["serve", "--host", "127.0.0.1", "--port", String(port), "--models", models,
                                        "--web", path.join(options["source-dir"], "web"), "--workers", "1",
                                        ...extraArguments],
                       { stdio: ["ignore", "pipe", "pipe"] });
  server.output = "";
  runningServers.add(server);
  server.on("exit", () => runningServers.delete(server));
  server.stderr.on("data", (chunk) => { server.output += chunk; });
  return new Promise((resolve, reject) => {
    const fail = (message) => { clearTimeout(timer); reject(new Error(`${testName}: ${message}`)); };
    const timer = setTimeout(() => fail(`the server printed no URL in ${WAIT_MS} ms:\n${server.output}`), WAIT_MS);
    server.stdout.on("data", (chunk) => {
      server.output += chunk;
      const match = /posestream: open (http:\/\/\S+\/)/.exec(server.output);
      if (match) { clearTimeout(timer); resolve({ server, url: match[1] }); }
    });
    server.on("exit", (code) => fail(`the server exited ${code}:\n${server.output}`));
    server.on("error", (error) => fail(`cannot start ${options.binary}: ${error.message}`));
  });
}

// Stops the server with SIGTERM (a graceful shutdown); logs its sessions' closing lines.
export async function stopServer(server) {
  const code = await new Promise((resolve) => {
    if (server.exitCode !== null) return resolve(server.exitCode);
    server.removeAllListeners("exit");
    server.on("exit", (exitCode) => { runningServers.delete(server); resolve(exitCode); });
    server.kill("SIGTERM");
  });
  log(`server stopped (exit ${code})`);
  for (const line of server.output.split("\n").filter((text) => / closed \(/.test(text))) log(`server: ${line}`);
  return code;
}

// Debian's Chromium (or $POSESTREAM_CHROMIUM) and playwright-core; null when Chromium is missing (a skip).
export async function findBrowser() {
  const executablePath = process.env.POSESTREAM_CHROMIUM || "/usr/bin/chromium";
  if (!existsSync(executablePath)) {
    log(`SKIP: Chromium not found at ${executablePath} (scripts/setup installs Debian's chromium)`);
    return null;
  }
  try {
    const { chromium } = await import("playwright-core");
    return { chromium, executablePath };
  } catch (error) {
    throw new Error(`${testName}: playwright-core is not installed in tests/web (run scripts/setup): ${error.message}`);
  }
}

// Headless Chromium whose fake camera plays `y4m` in a loop, in a fresh profile removed by close().
export async function launchBrowser({ chromium, executablePath }, y4m) {
  const userDataDir = mkdtempSync(path.join(tmpdir(), `posestream-${testName}-`));
  const args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                `--use-file-for-fake-video-capture=${y4m}`];
  const context = await chromium.launchPersistentContext(userDataDir, { executablePath, headless: true, args,
                                                                        viewport: { width: 1280, height: 760 } });
  const close = async () => {
    await context.close();
    rmSync(userDataDir, { recursive: true, force: true });
  };
  return { context, close };
}

// A page whose console lines and errors are kept, to print when a check fails.
export async function openPage(context) {
  const page = await context.newPage();
  page.consoleLines = [];
  page.on("console", (message) => page.consoleLines.push(`${message.type()}: ${message.text()}`));
  page.on("pageerror", (error) => page.consoleLines.push(`pageerror: ${error.message}`));
  return page;
}

// Runs a test's main: exit 0, SKIP, or 1 with the error.
export function runTest(name, main) {
  testName = name;
  main().then((code) => process.exit(code), (error) => {
    console.error(`${testName}: FAILED: ${error.stack ?? error}`);
    process.exit(1);
  });
}
