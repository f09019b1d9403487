// What the demo page has on screen at each draw, for alignment.mjs: an in-page sampler that composes the
// stage's images as the screen shows them (CSS mirroring included) and reads the skeleton's dots as drawn;
// the frames the page sent, taken off the WebSocket; and the Node side that tells which frame of the fake
// camera's Y4M an image is.
import { readFileSync } from "node:fs";

export const BLOCK = 4;  // Images are compared as means of BLOCK x BLOCK pixel blocks (160x120 at 640x480).

// Runs in the page before its scripts (page.addInitScript). After each "posestream:drawn" event, while
// samples are wanted, records the stage's image (video and frame canvas, each drawn as CSS shows it,
// without the overlay) as block means, and the pose dots the overlay drew, with the overlay's alpha there.
export function installSampler(block) {
  const sampler = { wanted: 0, samples: [], done: null };
  globalThis.screenSampler = sampler;
  sampler.collect = (count) => new Promise((resolve) => {
    sampler.samples = [];
    sampler.wanted = count;
    sampler.done = resolve;
  });
  const shown = (element) => {
    const style = getComputedStyle(element);
    return style.display !== "none" && style.visibility !== "hidden" && Number(style.opacity) > 0;
  };
  const mirrored = (element) => {
    const match = /^matrix\(([^,]+),/.exec(getComputedStyle(element).transform);
    return match !== null && Number(match[1]) < 0;
  };
  const scratch = document.createElement("canvas");
  // The block means of a JPEG the page sent (base64), decoded by the browser as the server decodes it.
  sampler.signatureOfJpeg = async (base64) => {
    const bytes = Uint8Array.from(atob(base64), (character) => character.charCodeAt(0));
    const bitmap = await createImageBitmap(new Blob([bytes], { type: "image/jpeg" }));
    scratch.width = bitmap.width;
    scratch.height = bitmap.height;
    const context = scratch.getContext("2d", { willReadFrequently: true });
    context.drawImage(bitmap, 0, 0);
    return blockMeans(context.getImageData(0, 0, bitmap.width, bitmap.height).data, bitmap.width, bitmap.height);
  };
  // The screen's image at the video's own size, bottom layer first, as CSS lays the layers out.
  function composeScreen(stage, width, height) {
    scratch.width = width;
    scratch.height = height;
    const context = scratch.getContext("2d", { willReadFrequently: true });
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.fillStyle = "#000";
    context.fillRect(0, 0, width, height);
    for (const element of stage.querySelectorAll("video, canvas:not(#overlay)")) {
      if (!shown(element) || (element.width === 0 && element.videoWidth === 0)) continue;
      context.setTransform(mirrored(element) ? -1 : 1, 0, 0, 1, mirrored(element) ? width : 0, 0);
      context.drawImage(element, 0, 0, width, height);
    }
    return context.getImageData(0, 0, width, height).data;
  }
  function blockMeans(pixels, width, height) {
    const columns = Math.floor(width / block);
    const rows = Math.floor(height / block);
    const means = new Uint8Array(columns * rows);
    for (let row = 0; row < rows; row++) {
      for (let column = 0; column < columns; column++) {
        let sum = 0;
        for (let y = row * block; y < (row + 1) * block; y++) {
          for (let x = column * block; x < (column + 1) * block; x++) {
            const index = 4 * (y * width + x);
            sum += 0.299 * pixels[index] + 0.587 * pixels[index + 1] + 0.114 * pixels[index + 2];
          }
        }
        means[row * columns + column] = Math.round(sum / (block * block));
      }
    }
    return { columns, rows, gray: btoa(String.fromCharCode(...means)) };
  }
  function sample({ result, view, points }) {
    const stage = document.getElementById("stage");
    const video = stage.querySelector("video");
    const overlay = document.getElementById("overlay");
    const width = video.videoWidth;
    const height = video.videoHeight;
    const image = blockMeans(composeScreen(stage, width, height), width, height);
    const context = overlay.getContext("2d");
    const dots = {};
    for (const [index, [x, y]] of Object.entries(points)) {
      dots[index] = { x, y, alpha: context.getImageData(Math.floor(x), Math.floor(y), 1, 1).data[3] };
    }
    const landmarks = Object.fromEntries(Object.keys(points).map((index) => [index, result.pose.landmarks[index]]));
    return { sequence: result.sequence, view, width, height, overlayWidth: overlay.width,
             overlayHeight: overlay.height, dots, landmarks, ...image };
  }
  addEventListener("posestream:drawn", (event) => {
    if (sampler.samples.length >= sampler.wanted) return;
    sampler.samples.push(sample(event.detail));
    if (sampler.samples.length === sampler.wanted) sampler.done?.(sampler.samples);
  });
}

// The JPEGs of the PSF1 frames the page sends (sequence -> JPEG bytes), from its first WebSocket only
// (a reconnect would start the sequence numbers again).
export function recordSentFrames(page) {
  const sent = new Map();
  let socket = null;
  page.on("websocket", (webSocket) => {
    if (socket !== null) return;
    socket = webSocket;
    webSocket.on("framesent", ({ payload }) => {
      if (typeof payload === "string" || payload.length < 20 || payload.readUInt32BE(0) !== 0x50534631) return;
      sent.set(Number(payload.readBigUInt64LE(4)), payload.subarray(20));
    });
  });
  return sent;
}

// A block-mean image made zero-mean and unit-length, so comparing two is a dot product (normalized
// cross-correlation): insensitive to the camera path's contrast and brightness (Y4M's limited-range
// luma turned into RGB and back).
function normalized(values) {
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const centred = Float64Array.from(values, (value) => value - mean);
  const length = Math.sqrt(centred.reduce((sum, value) => sum + value * value, 0)) || 1;
  return centred.map((value) => value / length);
}

// The Y4M's frames as the screen (or, unmirrored, the wire) shows them: block means of each frame's luma,
// mirrored left to right when `mirrored` (the page's selfie view), normalized.
export function y4mSignatures(file, mirrored) {
  const bytes = readFileSync(file);
  const headerEnd = bytes.indexOf(0x0a);
  const header = bytes.subarray(0, headerEnd).toString("latin1");
  const width = Number(/ W(\d+)/.exec(header)[1]);
  const height = Number(/ H(\d+)/.exec(header)[1]);
  const frameBytes = (width * height * 3) / 2;  // 4:2:0
  const columns = Math.floor(width / BLOCK);
  const rows = Math.floor(height / BLOCK);
  const signatures = [];
  for (let offset = headerEnd + 1; offset < bytes.length; offset += "FRAME\n".length + frameBytes) {
    const luma = bytes.subarray(offset + "FRAME\n".length, offset + "FRAME\n".length + width * height);
    const means = new Float64Array(columns * rows);
    for (let y = 0; y < rows * BLOCK; y++) {
      for (let x = 0; x < columns * BLOCK; x++) {
        const column = Math.floor(x / BLOCK);
        means[Math.floor(y / BLOCK) * columns + (mirrored ? columns - 1 - column : column)] += luma[y * width + x];
      }
    }
    signatures.push(normalized(means));
  }
  return { width, height, columns, rows, signatures };
}

// Which frame the sample's image is: {frame, score, runnerUp} with the best and second-best correlation.
export function identify(sample, y4m) {
  if (sample.columns !== y4m.columns || sample.rows !== y4m.rows) {
    throw new Error(`screen: a ${sample.columns}x${sample.rows} sample against ${y4m.columns}x${y4m.rows} frames`);
  }
  const image = normalized(Buffer.from(sample.gray, "base64"));
  const correlation = (signature) => signature.reduce((sum, value, index) => sum + value * image[index], 0);
  const scores = y4m.signatures.map(correlation);
  const order = scores.map((score, frame) => [score, frame]).sort((a, b) => b[0] - a[0]);
  return { frame: order[0][1], score: order[0][0], runnerUp: order[1]?.[0] ?? -1 };
}
