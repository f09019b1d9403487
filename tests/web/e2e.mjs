// End-to-end test of the web client: the built `posestream serve` with web/, headless Chromium whose fake
// camera shows a golden frame, checked through the page's results (against MediaPipe's), overlay and HUD.
//   node e2e.mjs --binary BUILD/posestream --make-y4m BUILD/tests/web/web_make_y4m --source-dir SRC --out-dir DIR
// Exit 77 (CTest's skip) when Chromium cannot be found; 1 on any failed check.
import { execFileSync } from "node:child_process";
import path from "node:path";

import { check, findBrowser, goldenSequence, launchBrowser, log, openPage, parseArguments, runTest, SKIP, startServer,
         stopServer, WAIT_MS } from "./harness.mjs";

const FRAME_INDEX = 0;     // The golden frame the fake camera shows, held still so results line up with it.
const FRAME_REPEATS = 30;  // One second of it at 30 fps; Chromium loops the file.
const TOLERANCE = 0.05;    // Normalized distance from MediaPipe's landmark.

// Where the test's result must put each landmark: MediaPipe's own landmarks for the camera's frame.
function goldenLandmarks(golden, frameIndex) {
  const landmarks = golden.frames[frameIndex]?.result?.landmarks?.[0];
  if (!landmarks) throw new Error(`e2e: the golden sequence has no pose for frame ${frameIndex}`);
  return landmarks;
}

// MediaPipe's hands on the camera's frame: [{handedness, wrist: {x, y}}].
function goldenHands(goldenHandsFile, frameIndex) {
  const result = goldenHandsFile.frames[frameIndex]?.result ?? { landmarks: [], handedness: [] };
  return result.landmarks.map((landmarks, index) => ({ handedness: result.handedness[index][0].categoryName,
                                                       wrist: landmarks[0] }));
}

const hudValue = (page, name) => page.$eval(`[data-hud="${name}"]`, (element) => Number(element.dataset.value));

// Each hand MediaPipe found on the frame comes with 21 landmarks, its wrist near MediaPipe's, and the
// same handedness label (the one the overlay prints).
async function checkHands(page, expectedHands) {
  if (expectedHands.length === 0) return;
  await page.waitForFunction((count) => globalThis.posestreamPage.lastResult?.hands?.length >= count,
                             expectedHands.length, { timeout: WAIT_MS });
  const hands = await page.evaluate(() => globalThis.posestreamPage.lastResult.hands);
  for (const expected of expectedHands) {
    const match = hands.find((hand) => hand.landmarks.length === 21 &&
        Math.hypot(hand.landmarks[0][0] - expected.wrist.x, hand.landmarks[0][1] - expected.wrist.y) < TOLERANCE);
    check(match !== undefined, `a hand of 21 landmarks with its wrist near MediaPipe's (${expected.wrist.x.toFixed(3)}, ` +
                               `${expected.wrist.y.toFixed(3)})`);
    check(match.handedness === expected.handedness, `that hand is labelled "${match.handedness}" as MediaPipe's`);
  }
}

async function checkStreaming(page, expected, expectedHands) {
  await page.waitForFunction(() => {
    const state = globalThis.posestreamPage;
    return state && state.drawn > 0 && state.lastResult?.pose?.landmarks?.length === 33;
  }, null, { timeout: WAIT_MS });
  const result = await page.evaluate(() => globalThis.posestreamPage.lastResult);
  check(result.pose.landmarks.length === 33, `a result with a pose of 33 landmarks (sequence ${result.sequence})`);
  // Shoulders, elbows, wrists and hips where MediaPipe itself put them on this frame (loosely: this checks
  // the page and the wire, not the model's accuracy).
  for (const index of [11, 12, 13, 14, 15, 16, 23, 24]) {
    const [x, y] = result.pose.landmarks[index];
    const distance = Math.hypot(x - expected[index].x, y - expected[index].y);
    check(distance < TOLERANCE, `pose landmark ${index} at (${x.toFixed(3)}, ${y.toFixed(3)}), ` +
                                `${distance.toFixed(3)} from MediaPipe's`);
  }
  await checkHands(page, expectedHands);
  const painted = await page.$eval("#overlay", (canvas) => {
    const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let count = 0;
    for (let index = 3; index < pixels.length; index += 4) count += pixels[index] > 0 ? 1 : 0;
    return count;
  });
  check(painted > 500, `the overlay canvas is drawn on (${painted} painted pixels)`);
  // Mirrored like a selfie view: the left shoulder's dot is at 1 - x, and nothing is drawn at x.
  const [mirrored, unmirrored] = await page.$eval("#overlay", (canvas) => {
    const [x, y] = globalThis.posestreamPage.lastResult.pose.landmarks[11];
    const alphaAt = (u) => canvas.getContext("2d").getImageData(Math.round(u * canvas.width),
                                                                Math.round(y * canvas.height), 1, 1).data[3];
    return [alphaAt(1 - x), alphaAt(x)];
  });
  check(mirrored > 0 && unmirrored === 0,
        `the overlay is mirrored (alpha ${mirrored} at the mirrored shoulder, ${unmirrored} at the unmirrored one)`);
  await page.waitForFunction(() => {
    const value = (name) => Number(document.querySelector(`[data-hud="${name}"]`)?.dataset.value);
    return value("fps-sent") > 0 && value("fps-received") > 0 && value("latency") > 0;
  }, null, { timeout: WAIT_MS });
  const sent = await hudValue(page, "fps-sent");
  const received = await hudValue(page, "fps-received");
  const latency = await hudValue(page, "latency");
  check(sent > 0 && received > 0, `the HUD shows ${sent} fps sent, ${received} fps of results`);
  check(Number.isFinite(latency) && latency > 0, `the HUD shows an end-to-end latency of ${latency.toFixed(1)} ms`);
  const total = await hudValue(page, "timing-total");
  check(Number.isFinite(total) && total > 0, `the HUD shows the server's total stage time, ${total.toFixed(2)} ms`);
}

// The pose control maps to the protocol's config: with pose off, results come without a pose.
async function checkControls(page) {
  await page.selectOption('select[name="pose"]', "off");
  await page.waitForFunction(() => globalThis.posestreamPage.lastResult?.pose === null, null, { timeout: WAIT_MS });
  check(true, "pose 'off' in the form gives results with pose null");
  await page.selectOption('select[name="pose"]', "full");
  await page.waitForFunction(() => globalThis.posestreamPage.lastResult?.pose?.landmarks?.length === 33, null,
                             { timeout: WAIT_MS });
  check(true, "pose 'full' again gives 33 landmarks");
}

// The server goes away: the page says so; it comes back on the same port: the client reconnects, and
// its new stream starts again at sequence 0.
async function checkReconnect(page, options, server, port) {
  await stopServer(server);
  await page.waitForFunction(() => /posestream serve/.test(document.getElementById("message").textContent), null,
                             { timeout: WAIT_MS });
  check(true, `with the server stopped the page says: "${await page.textContent("#message")}"`);
  const restarted = await startServer(options, port);
  await page.waitForFunction(() => {
    const state = globalThis.posestreamPage;
    return state.hellos >= 2 && state.answersSinceHello.length > 0 && state.lastResult?.pose;
  }, null, { timeout: WAIT_MS });
  const answered = await page.evaluate(() => globalThis.posestreamPage.answersSinceHello);
  check(Math.min(...answered) === 0, `after reconnecting, answers come for a fresh sequence from 0 (${answered.join(" ")})`);
  return restarted.server;
}

async function checkCameraRefused(context, url) {
  const page = await context.newPage();
  await page.addInitScript(() => {
    navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException("Permission denied", "NotAllowedError"));
  });
  await page.goto(url);
  await page.waitForFunction(() => !document.getElementById("message").hidden, null, { timeout: WAIT_MS });
  const text = await page.textContent("#message");
  check(/refused/.test(text), `with the camera refused the page says: "${text}"`);
  await page.close();
}

async function run(options) {
  const browser = await findBrowser();
  if (!browser) return SKIP;
  const { name, frames, read } = goldenSequence(options["source-dir"]);
  const y4m = path.join(options["out-dir"], "fake_camera.y4m");
  const still = Array(FRAME_REPEATS).fill(frames[FRAME_INDEX]);
  execFileSync(options["make-y4m"], [y4m, "640", "480", ...still], { stdio: "inherit" });
  let { server, url } = await startServer(options, 0);
  const port = Number(new URL(url).port);
  log(`server at ${url}; the fake camera shows ${path.basename(frames[FRAME_INDEX])} of ${name}`);
  const { context, close } = await launchBrowser(browser, y4m);
  const page = await openPage(context);
  const screenshot = path.join(options["out-dir"], "e2e.png");
  try {
    await page.goto(url);
    await checkStreaming(page, goldenLandmarks(read("pose_full_video.json"), FRAME_INDEX),
                         goldenHands(read("hand_full_video.json"), FRAME_INDEX));
    await page.screenshot({ path: screenshot });
    log(`screenshot: ${screenshot}`);
    await checkControls(page);
    server = await checkReconnect(page, options, server, port);
    await checkCameraRefused(context, url);
  } catch (error) {
    await page.screenshot({ path: path.join(options["out-dir"], "e2e-failure.png") }).catch(() => {});
    log(`page console:\n${page.consoleLines.join("\n")}\ne2e: server output (tail):\n${server.output.slice(-3000)}`);
    throw error;
  } finally {
    const stats = await page.evaluate(() => globalThis.posestreamPage?.stats).catch(() => undefined);
    if (stats) log(`client: ${JSON.stringify(stats.totals)}, dropped ${JSON.stringify(stats.dropped)}`);
    await close();
    await stopServer(server);
  }
  return 0;
}

runTest("e2e", () => run(parseArguments(process.argv.slice(2), ["binary", "make-y4m", "source-dir", "out-dir"])));
