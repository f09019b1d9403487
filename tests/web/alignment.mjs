// Alignment test of the demo page (issue 17): is the skeleton drawn where the body is in the image on
// screen? The fake camera plays the whole golden sequence (a photo moved by a known affine per frame). At
// each draw the test takes the image on screen and finds which frame it is, takes the frame the page sent
// for that result off the WebSocket and finds which frame that is, and compares the drawn nose, wrists
// and hips with MediaPipe's landmarks of the source photo mapped through those frames' affines.
// The asserted figure is the page's error: the drawn dot's error with the model's own error on the frame
// it was sent taken out (see measure()), so the server's landmark accuracy neither passes nor fails it;
// the raw error (drawn to truth in the frame shown) and the model's are reported beside it.
// Synchronised view: median and p95 asserted; live view: measured and reported only.
//   node alignment.mjs --binary BUILD/posestream --make-y4m BUILD/tests/web/web_make_y4m --source-dir SRC
//                      --out-dir DIR [--assert-view live]
// --assert-view live asserts the bounds on the live view instead: it must fail (the skeleton trails the
// body there), which shows this test can. Exit 77 when Chromium cannot be found; 1 on any failed check.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";

import { check, findBrowser, goldenSequence, launchBrowser, log, openPage, parseArguments, runTest, sharedDir, SKIP,
         startServer, stopServer, WAIT_MS } from "./harness.mjs";
import { BLOCK, identify, installSampler, recordSentFrames, y4mSignatures } from "./screen.mjs";

const LANDMARKS = { 0: "nose", 15: "left wrist", 16: "right wrist", 23: "left hip", 24: "right hip" };
const MEDIAN_LIMIT_PX = 3;  // At the frames' 640x480 scale, as the issue asks.
const P95_LIMIT_PX = 6;
const SAMPLES = 120;        // Draws measured per view (about four seconds of results).
const SETTLE_DRAWS = 30;    // Draws let by after a settings change before measuring.
const MIN_MATCH = 0.9;      // Correlation with the best frame for the image on screen to count as that frame.
const MIN_DRAWN_SHARE = 0.8;  // Of the landmarks above over all samples: the skeleton must really be drawn.
const SELFIE_VIEW = true;   // The page mirrors what it shows (e2e.mjs checks that).

// Where each frame of the sequence has MediaPipe's landmarks of the source photo: truth[frame][index] =
// [x, y] in frame pixels (the affine file's convention: continuous coordinates, origin at the corner).
function groundTruth(sourceDir, sequence) {
  const affine = JSON.parse(readFileSync(path.join(sequence.sequences, `${sequence.name}.affine.json`), "utf8"));
  const photo = path.parse(affine.source).name;
  const file = path.join(sharedDir(sourceDir), "golden", "results", photo, "pose_full.json");
  const landmarks = JSON.parse(readFileSync(file, "utf8")).result.landmarks[0];
  const [sourceWidth, sourceHeight] = affine.source_size;
  const truth = affine.frames.map(({ matrix: [[a, b, tx], [c, d, ty]] }) => {
    const mapped = {};
    for (const index of Object.keys(LANDMARKS)) {
      const x = landmarks[index].x * sourceWidth;
      const y = landmarks[index].y * sourceHeight;
      mapped[index] = [a * x + b * y + tx, c * x + d * y + ty];
    }
    return mapped;
  });
  if (truth.length !== affine.num_frames) {
    throw new Error(`alignment: ${affine.num_frames} frames in the affine file, ${truth.length} affines`);
  }
  return { truth, photo, frameSize: affine.frame_size };
}

// The nearest-rank percentile of sorted values.
function percentile(sorted, fraction) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))];
}

function summary(errors) {
  const sorted = [...errors].sort((a, b) => a - b);
  return { median: percentile(sorted, 0.5), p95: percentile(sorted, 0.95), max: sorted[sorted.length - 1] };
}

// Per landmark of each draw whose image on screen and whose frame on the wire are both identified, in
// frame pixels as the screen shows them (mirrored):
//   total: the dot drawn -> the truth in the frame shown (the measure: the model's error included);
//   model: the result's landmark -> the truth in the frame the server was sent (the model's error alone);
//   page:  total with the model's error vector taken out, (drawn - result) + (truth sent - truth shown):
//          0 when the page draws the result where it says, over the very frame it was computed on.
function measure(samples, y4m, truth) {
  const errors = { total: [], model: [], page: [] };
  const pageByLandmark = {};
  const figures = { samples: samples.length, identified: 0, unpainted: 0, sameFrame: 0 };
  const screen = ([x, y]) => [SELFIE_VIEW ? y4m.width - x : x, y];
  for (const sample of samples) {
    const shown = identify(sample, y4m.mirrored);
    const sent = sample.sent ? identify(sample.sent, y4m.plain) : { score: -1 };
    if (shown.score < MIN_MATCH || sent.score < MIN_MATCH) continue;
    figures.identified++;
    if (shown.frame === sent.frame) figures.sameFrame++;
    for (const index of Object.keys(LANDMARKS)) {
      const dot = sample.dots[index];
      if (!dot) continue;
      if (dot.alpha === 0) figures.unpainted++;
      const drawn = [(dot.x / sample.overlayWidth) * y4m.width, (dot.y / sample.overlayHeight) * y4m.height];
      const result = screen([sample.landmarks[index][0] * y4m.width, sample.landmarks[index][1] * y4m.height]);
      const truthShown = screen(truth[shown.frame][index]);
      const truthSent = screen(truth[sent.frame][index]);
      const distance = (v) => Math.hypot(v[0], v[1]);
      errors.total.push(distance([0, 1].map((i) => drawn[i] - truthShown[i])));
      errors.model.push(distance([0, 1].map((i) => result[i] - truthSent[i])));
      const page = distance([0, 1].map((i) => drawn[i] - result[i] + truthSent[i] - truthShown[i]));
      errors.page.push(page);
      (pageByLandmark[LANDMARKS[index]] ??= []).push(page);
    }
  }
  figures.count = errors.page.length;
  for (const [name, values] of Object.entries(errors)) figures[name] = summary(values);
  figures.pageMedians = Object.fromEntries(Object.entries(pageByLandmark).map(([name, values]) =>
      [name, Number(summary(values).median.toFixed(1))]));
  return figures;
}

// The JPEG the page sent for each sample's result, as block means (decoded in the page, as it went out).
async function attachSentFrames(page, samples, sentFrames) {
  for (const sample of samples) {
    const jpeg = sentFrames.get(sample.sequence);
    if (jpeg) sample.sent = await page.evaluate((base64) => globalThis.screenSampler.signatureOfJpeg(base64),
                                                jpeg.toString("base64"));
  }
}

async function waitForDraws(page, count) {
  const target = (await page.evaluate(() => globalThis.posestreamPage.drawn)) + count;
  await page.waitForFunction((drawn) => globalThis.posestreamPage.drawn >= drawn, target, { timeout: WAIT_MS });
}

async function collect(page) {
  return page.evaluate(([count, timeoutMs]) => Promise.race([
    globalThis.screenSampler.collect(count),
    new Promise((_, reject) => setTimeout(() => reject(new Error(`fewer than ${count} draws in ${timeoutMs} ms`)),
                                          timeoutMs)),
  ]), [SAMPLES, WAIT_MS]);
}

const px = ({ median, p95, max }) => `median ${median?.toFixed(1)} px, p95 ${p95?.toFixed(1)}, max ${max?.toFixed(1)}`;

// Switches the page to `view`, lets it settle, measures SAMPLES draws; saves a screenshot.
async function measureView(page, view, { y4m, truth, sentFrames }, screenshot) {
  await page.selectOption('select[name="view"]', view);
  await waitForDraws(page, SETTLE_DRAWS);
  const samples = await collect(page);
  const hud = await page.evaluate(() => globalThis.posestreamPage.stats);
  await page.screenshot({ path: screenshot });
  await attachSentFrames(page, samples, sentFrames);
  const figures = measure(samples, y4m, truth);
  log(`${view} view: ${figures.count} landmarks in ${figures.identified}/${figures.samples} identified draws, ` +
      `${figures.sameFrame} drawn over the frame they were computed on; screenshot ${screenshot}`);
  log(`${view} view: the page's error: ${px(figures.page)} (medians ${JSON.stringify(figures.pageMedians)})`);
  log(`${view} view: drawn to the truth in the frame shown: ${px(figures.total)}`);
  log(`${view} view: the model alone (its result to the truth in the frame it was sent): ${px(figures.model)}`);
  log(`${view} view: the HUD says latency ${hud?.drawnLatencyMs?.toFixed(0)} ms, ` +
      `skeleton lag ${hud?.skeletonLagMs?.toFixed(0)} ms`);
  return figures;
}

function assertAligned(view, figures) {
  const { identified, samples, count, unpainted } = figures;
  check(identified >= 0.9 * samples,
        `${view} view: the image on screen and the frame sent are known frames in ${identified} of ${samples} draws`);
  const expected = identified * Object.keys(LANDMARKS).length;
  check(count >= MIN_DRAWN_SHARE * expected, `${view} view: ${count} of ${expected} landmarks drawn`);
  check(unpainted === 0, `${view} view: the overlay is painted at every dot it reports (${unpainted} not)`);
  const { median, p95 } = figures.page;
  check(median <= MEDIAN_LIMIT_PX,
        `${view} view: the page's median error ${median.toFixed(2)} px <= ${MEDIAN_LIMIT_PX}`);
  check(p95 <= P95_LIMIT_PX, `${view} view: the page's p95 error ${p95.toFixed(2)} px <= ${P95_LIMIT_PX}`);
}

async function run(options) {
  const browser = await findBrowser();
  if (!browser) return SKIP;
  const asserted = options["assert-view"] ?? "sync";
  const sequence = goldenSequence(options["source-dir"]);
  const { truth, photo } = groundTruth(options["source-dir"], sequence);
  const y4mFile = path.join(options["out-dir"], "moving_camera.y4m");
  execFileSync(options["make-y4m"], [y4mFile, "640", "480", ...sequence.frames], { stdio: "inherit" });
  const y4m = { mirrored: y4mSignatures(y4mFile, SELFIE_VIEW), plain: y4mSignatures(y4mFile, false) };
  Object.assign(y4m, { width: y4m.plain.width, height: y4m.plain.height });
  check(y4m.plain.signatures.length === truth.length,
        `the moving camera plays the ${truth.length} frames of ${sequence.name} (${photo} moved by known affines)`);
  const { server, url } = await startServer(options, 0);
  const { context, close } = await launchBrowser(browser, y4mFile);
  const page = await openPage(context);
  const sentFrames = recordSentFrames(page);
  try {
    await page.addInitScript(installSampler, BLOCK);
    await page.goto(url);
    // Hands off: fewer model runs on CI's two cores. Smoothing off: the filter's own lag on a moving body
    // is the server's business, not the page's (MediaPipe's smoothed VIDEO results miss this sequence's
    // truth by a median 4.7 px).
    await page.selectOption('select[name="hands"]', "off");
    await page.setChecked('input[name="smoothing"]', false);
    const known = { y4m, truth, sentFrames };
    const sync = await measureView(page, "sync", known, path.join(options["out-dir"], "alignment.png"));
    const live = await measureView(page, "live", known, path.join(options["out-dir"], "alignment-live.png"));
    assertAligned(asserted, asserted === "live" ? live : sync);
  } catch (error) {
    log(`page console:\n${page.consoleLines.join("\n")}\nserver output (tail):\n${server.output.slice(-3000)}`);
    throw error;
  } finally {
    await close();
    await stopServer(server);
  }
  return 0;
}

runTest("alignment", () => run(parseArguments(process.argv.slice(2), ["binary", "make-y4m", "source-dir", "out-dir"])));
