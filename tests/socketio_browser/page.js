// The original frontend's loop (issue 13): io(serverUrl), the camera drawn to a canvas every 100 ms and
// sent as emit('frame', {image: canvas.toDataURL('image/jpeg'), sequence}), each result drawn over the
// frame it answers. What the test reads is in globalThis.socketioPage.
const params = new URLSearchParams(location.search);
const state = globalThis.socketioPage = {
  connected: false, connectErrors: [], hello: null, sent: 0, results: 0, dropped: 0, errors: [],
  lastResult: null, drawn: 0, transport: null,
};
const status = document.getElementById("status");
const video = document.getElementById("video");
const capture = document.getElementById("capture");
const view = document.getElementById("view");
const sentFrames = new Map();  // sequence -> ImageBitmap of the frame sent, until its answer.

function show(text) { status.textContent = text; }

function dot(context, x, y, color) {
  context.fillStyle = color;
  context.beginPath();
  context.arc(x * view.width, y * view.height, 4, 0, 2 * Math.PI);
  context.fill();
}

function draw(result) {
  const bitmap = sentFrames.get(result.sequence);
  const context = view.getContext("2d");
  if (bitmap) context.drawImage(bitmap, 0, 0, view.width, view.height);
  for (const [x, y] of result.pose?.landmarks ?? []) dot(context, x, y, "#00ff40");
  for (const hand of result.hands ?? []) for (const [x, y] of hand.landmarks) dot(context, x, y, "#ff3030");
  state.drawn += 1;
}

// Frames older than the one answered are answered already (answers come in order): let them go.
function release(sequence) {
  for (const [key, bitmap] of sentFrames) {
    if (key > sequence) break;
    bitmap.close();
    sentFrames.delete(key);
  }
}

async function main() {
  const camera = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
  video.srcObject = camera;
  await video.play();
  capture.width = video.videoWidth;
  capture.height = video.videoHeight;
  const options = params.get("transports") ? { transports: params.get("transports").split(",") } : {};
  const socket = io(params.get("server"), options);
  socket.on("connect", () => { state.connected = true; show("connected"); });
  socket.on("connect_error", (error) => { state.connectErrors.push(error.message); show(`connect_error: ${error.message}`); });
  socket.on("hello", (hello) => { state.hello = hello; });
  socket.on("result", (result) => {
    state.results += 1;
    state.lastResult = result;
    state.transport = socket.io.engine.transport.name;
    draw(result);
    release(result.sequence);
    show(`result ${result.sequence}: ${result.pose ? "pose" : "no pose"}, ${(result.hands ?? []).length} hands`);
  });
  socket.on("dropped", (answer) => { state.dropped += 1; release(answer.sequence); });
  socket.on("error", (answer) => { state.errors.push(answer); });
  let sequence = 0;
  setInterval(async () => {
    if (!socket.connected) return;
    capture.getContext("2d").drawImage(video, 0, 0);
    const frame = sequence++;
    // Sent at once (in sequence order); its picture is kept for drawing its answer over it.
    socket.emit("frame", { image: capture.toDataURL("image/jpeg"), sequence: frame });
    state.sent += 1;
    const bitmap = await createImageBitmap(capture);
    if (frame > (state.lastResult?.sequence ?? -1)) sentFrames.set(frame, bitmap); else bitmap.close();
  }, 100);
}

main().catch((error) => { state.errors.push(String(error)); show(`error: ${error}`); });
