// Several people on the web page (issue 16): the built `posestream serve` and web/ in headless Chromium,
// whose fake camera plays MediaPipe's multi-person golden sequence; the page is opened with ?num_poses=4.
// Checks every person is drawn in their own colour, the HUD counts them, and one person draws as before.
//   node people.mjs --binary BUILD/posestream --make-y4m BUILD/tests/web/web_make_y4m --source-dir SRC --out-dir DIR
// Exit 77 (CTest's skip) when Chromium or the multi-person frames are missing; 1 on any failed check.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";

import { personColor } from "../../web/overlay.js";
import { check, findBrowser, launchBrowser, log, openPage, parseArguments, runTest, sharedDir, SKIP, startServer,
         stopServer, WAIT_MS } from "./harness.mjs";

const SEQUENCE = "frames_seq_aic_ff945ae2";
const LOOP_FRAMES = 30;  // One second at 30 fps, looped by Chromium.

function multiFrames(sourceDir) {
  const folder = path.join(sharedDir(sourceDir), "golden", "multi", "sequences", SEQUENCE);
  if (!existsSync(folder)) return [];
  return readdirSync(folder).filter((file) => file.endsWith(".jpg")).sort().slice(0, LOOP_FRAMES)
      .map((file) => path.join(folder, file));
}

// Keeps what the page reports after each draw (web/app.js dispatches "posestream:drawn").
function recordDraws() {
  globalThis.lastDrawn = null;
  globalThis.addEventListener("posestream:drawn", (event) => {
    const { result, people } = event.detail;
    globalThis.lastDrawn = { people, resultPeople: result.people ?? null, sequence: result.sequence };
  });
}

// The overlay's colour at each drawn person's shoulder dots (its centre is filled with the person's colour).
async function colorsAtPeople(page) {
  return page.evaluate(() => {
    const canvas = document.getElementById("overlay");
    const context = canvas.getContext("2d");
    const hex = ([r, g, b]) => `#${[r, g, b].map((v) => v.toString(16).padStart(2, "0")).join("")}`;
    return globalThis.lastDrawn.people.map(({ id, color, points }) => {
      const found = [11, 12, 0, 23, 24].filter((index) => points[index]).map((index) => {
        const [x, y] = points[index];
        return hex(context.getImageData(Math.round(x), Math.round(y), 1, 1).data);
      });
      return { id, color, found };
    });
  });
}

async function checkPeopleDrawn(page) {
  await page.waitForFunction(() => (globalThis.lastDrawn?.people?.length ?? 0) >= 2, null, { timeout: WAIT_MS });
  const drawn = await page.evaluate(() => globalThis.lastDrawn);
  const ids = drawn.resultPeople.map((person) => person.id);
  check(new Set(ids).size === ids.length && ids.length >= 2, `a result of ${ids.length} people, ids ${ids.join(", ")}`);
  check(drawn.people.length === ids.length, `every person is drawn (${drawn.people.length} of ${ids.length})`);
  for (const person of drawn.people) {
    check(person.color === personColor(person.id), `person ${person.id} is drawn in their colour ${person.color}`);
  }
  check(new Set(drawn.people.map((person) => person.color)).size === drawn.people.length,
        "no two people share a colour");
  // All of a person's body dots in one colour (a side-coloured skeleton would mix orange, teal and white);
  // one may be under another person's line.
  const colors = await colorsAtPeople(page);
  for (const { id, color, found } of colors) {
    const matching = found.filter((sampled) => sampled === color).length;
    check(found.length >= 3 && matching >= found.length - 1,
          `person ${id}'s dots are painted ${color} on the overlay (sampled ${found.join(" ")})`);
  }
  await page.waitForFunction(() => {
    const count = Number(document.querySelector('[data-hud="people"]').dataset.value);
    return count >= 2 && count === globalThis.posestreamPage.lastResult?.people?.length;
  }, null, { timeout: WAIT_MS });
  check(true, `the HUD counts ${await page.textContent('[data-hud="people"]')} people`);
}

// Back to one person with the form's control: results without a people list, drawn as before.
async function checkOnePerson(page) {
  await page.selectOption('select[name="num_poses"]', "1");
  await page.waitForFunction(() => {
    const result = globalThis.posestreamPage.lastResult;
    return result && result.people === undefined && result.pose?.landmarks?.length === 33 &&
           globalThis.lastDrawn?.people?.length === 0;
  }, null, { timeout: WAIT_MS });
  check(true, "num_poses 1 in the form gives single-person results, drawn without people");
  const count = await page.$eval('[data-hud="people"]', (element) => element.dataset.value);
  check(count === "1", `the HUD counts ${count} person`);
}

async function run(options) {
  const browser = await findBrowser();
  if (!browser) return SKIP;
  const frames = multiFrames(options["source-dir"]);
  if (frames.length === 0) {
    log(`SKIP: no ${SEQUENCE} frames under ${sharedDir(options["source-dir"])}/golden/multi (set POSESTREAM_SHARED)`);
    return SKIP;
  }
  const y4m = path.join(options["out-dir"], "fake_camera_people.y4m");
  execFileSync(options["make-y4m"], [y4m, "640", "480", ...frames], { stdio: "inherit" });
  const { server, url } = await startServer(options, 0);
  log(`server at ${url}; the fake camera plays ${frames.length} frames of ${SEQUENCE}`);
  const { context, close } = await launchBrowser(browser, y4m);
  const page = await openPage(context);
  await page.addInitScript(recordDraws);
  const screenshot = path.join(options["out-dir"], "people.png");
  try {
    await page.goto(`${url}?num_poses=4`);
    const selected = await page.$eval('select[name="num_poses"]', (select) => select.value);
    check(selected === "4", `?num_poses=4 selects 4 people in the form (${selected})`);
    await checkPeopleDrawn(page);
    await page.screenshot({ path: screenshot });
    log(`screenshot: ${screenshot}`);
    await checkOnePerson(page);
  } catch (error) {
    await page.screenshot({ path: path.join(options["out-dir"], "people-failure.png") }).catch(() => {});
    log(`page console:\n${page.consoleLines.join("\n")}\npeople: server output (tail):\n${server.output.slice(-3000)}`);
    throw error;
  } finally {
    await close();
    await stopServer(server);
  }
  return 0;
}

runTest("people", () => run(parseArguments(process.argv.slice(2), ["binary", "make-y4m", "source-dir", "out-dir"])));
