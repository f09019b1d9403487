// The demo page: camera -> posestream client -> view (image and skeleton) and HUD, with the settings form
// wired to the stream and the view.
import { connect } from "./posestream.js";
import { Hud } from "./hud.js";
import { StageView } from "./view.js";

const page = {
  video: document.getElementById("camera"),
  view: null,  // A StageView once the client exists.
  hud: new Hud(document.getElementById("hud")),
  form: document.getElementById("controls"),
  status: document.getElementById("status"),
  message: document.getElementById("message"),
};

// What the page has seen, for people poking at it in the console and for the browser tests (which also
// listen to the "posestream:drawn" event dispatched on window after each draw).
const debug = { lastResult: null, results: 0, drawn: 0, lastDrawLatencyMs: null, errors: [], hellos: 0,
                answersSinceHello: [] };
globalThis.posestreamPage = debug;

function showMessage(text) {
  page.message.textContent = text;
  page.message.hidden = !text;
}

function serverUrl() {
  const override = new URLSearchParams(location.search).get("server");
  if (override) return override;
  return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/ws`;
}

// The server's access token (serve --auth-token-file), from the page's own address: ?token=TOKEN.
function accessToken() {
  return new URLSearchParams(location.search).get("token");
}

// ?num_poses=N in the page's address picks the People setting at start (a value the form lacks is added).
function applyNumPosesParameter() {
  const wanted = new URLSearchParams(location.search).get("num_poses");
  if (wanted === null) return;
  const select = page.form.elements.num_poses;
  if (![...select.options].some((option) => option.value === wanted)) select.add(new Option(wanted, wanted));
  select.value = wanted;
}

// People choices above the server's max_num_poses (in its hello) are greyed out: it would refuse them.
function limitNumPoses(maxNumPoses) {
  if (!Number.isInteger(maxNumPoses)) return;
  for (const option of page.form.elements.num_poses.options) option.disabled = Number(option.value) > maxNumPoses;
}

// The config message the settings form stands for. num_poses is an integer on the wire; a value the
// server refuses (over its max_num_poses) comes back as a bad_config error, shown on the page.
function configOfForm() {
  const form = page.form.elements;
  return { pose: form.pose.value, hands: form.hands.value, smoothing: form.smoothing.checked,
           num_poses: Number(form.num_poses.value) };
}

function encodingOfForm() {
  const form = page.form.elements;
  return { jpegQuality: Number(form.quality.value), maxWidth: Number(form.resolution.value) };
}

function cameraErrorText(error) {
  switch (error.name) {
    case "NotAllowedError":
    case "SecurityError":
      return "Camera access was refused. Allow the camera for this page (the icon in the address bar) and reload.";
    case "NotFoundError":
    case "OverconstrainedError":
      return "No camera was found. Connect one and reload.";
    case "NotReadableError":
      return "The camera is in use by another program (or the system blocked it). Close that program and reload.";
    default:
      return `The camera could not be opened: ${error.name}: ${error.message}`;
  }
}

async function openCamera() {
  if (!navigator.mediaDevices?.getUserMedia) {
    throw Object.assign(new Error("this page needs https or localhost to use a camera"), { name: "SecurityError" });
  }
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: false,
    video: { facingMode: "user", width: { ideal: 1280 }, height: { ideal: 720 } },
  });
  stream.getVideoTracks()[0]?.addEventListener("ended", () => {
    showMessage("The camera stopped (unplugged, or taken by another program). Reload to start it again.");
  });
  page.video.srcObject = stream;
  await page.video.play();
}

function wireClient(client) {
  client.on("status", ({ state, message }) => {
    page.status.textContent = message;
    page.status.dataset.state = state;
    if (state === "open") showMessage("");
  });
  client.on("error", (error) => {
    debug.errors.push(error);
    if (error.code === "disconnected") {
      showMessage(`${error.message}. Is \`posestream serve\` running? Retrying…`);
      debug.lastResult = null;
      page.view.show(null);
      page.hud.showPeople(null);
    } else {
      showMessage(`server said ${error.code}: ${error.message}`);
    }
  });
  client.on("hello", (hello) => {
    debug.hellos++;
    debug.answersSinceHello = [];
    limitNumPoses(hello.limits?.max_num_poses);
  });
  client.on("result", (result) => {
    debug.lastResult = result;
    page.view.show(result);
    page.hud.showPeople(result);
    debug.results++;
    if (debug.answersSinceHello.length < 1000) debug.answersSinceHello.push(result.sequence);
  });
  client.on("dropped", (answer) => {
    if (!answer.local && debug.answersSinceHello.length < 1000) debug.answersSinceHello.push(answer.sequence);
  });
  client.on("stats", (stats) => {
    page.hud.update(stats);
    debug.stats = stats;
  });
}

function wireForm(client) {
  page.form.addEventListener("change", (event) => {
    const name = event.target.name;
    if (["pose", "hands", "smoothing", "num_poses"].includes(name)) client.configure(configOfForm());
    else if (name === "view") page.view.setView(event.target.value);
    else client.setEncoding(encodingOfForm());
  });
  page.form.elements.quality.addEventListener("input", () => {
    page.form.elements.qualityValue.value = Number(page.form.elements.quality.value).toFixed(2);
  });
}

// Counts each draw and tells the browser tests what was drawn where (canvas pixels of the pose's dots).
function onDrawn(drawn) {
  debug.drawn++;
  if (drawn.latencyMs !== undefined) debug.lastDrawLatencyMs = drawn.latencyMs;
  globalThis.dispatchEvent(new CustomEvent("posestream:drawn", { detail: drawn }));
}

async function main() {
  applyNumPosesParameter();
  try {
    await openCamera();
  } catch (error) {
    page.status.textContent = "no camera";
    showMessage(cameraErrorText(error));
    debug.errors.push({ code: "camera", message: error.message });
    return;
  }
  const client = connect(serverUrl(), { source: page.video, maxInFlight: 2, config: configOfForm(),
                                        token: accessToken(), ...encodingOfForm() });
  debug.client = client;
  page.view = new StageView({ stage: document.getElementById("stage"), frameCanvas: document.getElementById("frame"),
                              overlayCanvas: document.getElementById("overlay"), client, onDrawn,
                              view: page.form.elements.view.value });
  wireClient(client);
  wireForm(client);
  page.view.start();
}

main();
