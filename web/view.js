// The demo page's two views and its draw loop (docs/CLIENT.md, "The two views").
//   sync (the default): each result is drawn over the very frame it was computed on, which the client
//     keeps as an ImageBitmap while the frame is in flight; image and skeleton always match, and the
//     picture is as late as the pipeline. Frames without a result are never shown.
//   live: the camera's newest frame (the <video> itself) with the newest result over it; the skeleton
//     trails the body by the pipeline's latency.
import { Overlay } from "./overlay.js";

export const VIEWS = ["sync", "live"];

export class StageView {
  // `stage` holds the <video>, the frame canvas and the overlay canvas; its data-view attribute picks
  // which image shows (style.css). `onDrawn({result, view, latencyMs, lagMs, points, people})` follows each draw
  // (people: each drawn person's {id, color, points} when the result lists several people).
  constructor({ stage, frameCanvas, overlayCanvas, client, onDrawn, view = "sync" }) {
    this.stage = stage;
    this.frameCanvas = frameCanvas;
    this.frameContext = frameCanvas.getContext("2d");
    this.overlay = new Overlay(overlayCanvas);
    this.client = client;
    this.onDrawn = onDrawn;
    this.latest = null;       // The newest result, or null when there is none to show (disconnected).
    this.drawnResult = null;  // The result on screen.
    this.setView(view);
  }

  setView(view) {
    if (!VIEWS.includes(view)) throw new Error(`StageView: unknown view "${view}"`);
    this.view = view;
    this.stage.dataset.view = view;
    this.client.setEncoding({ keepFrames: view === "sync" });
    this.clear();
  }

  show(result) { this.latest = result; }

  clear() {
    this.frameContext.clearRect(0, 0, this.frameCanvas.width, this.frameCanvas.height);
    this.overlay.clear();
    this.drawnResult = null;
  }

  // Draws the newest result once per display frame, so several results in one frame cost one draw.
  start() {
    const frame = () => {
      this.drawNewest();
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  }

  drawNewest() {
    const result = this.latest;
    if (result === this.drawnResult) return;
    if (result === null) this.clear();
    else if (this.view === "sync") this.drawSynchronised(result);
    else this.drawLive(result);
  }

  // A result without its frame (sent before this view was chosen) is not drawn: its skeleton would go
  // over another frame. The client closes a result's frame once a newer result arrives, and only the
  // newest is drawn, so the frame here is still open.
  drawSynchronised(result) {
    const frame = result.frame;
    if (!frame || frame.width === 0) return;
    if (this.frameCanvas.width !== frame.width) this.frameCanvas.width = frame.width;
    if (this.frameCanvas.height !== frame.height) this.frameCanvas.height = frame.height;
    this.frameContext.drawImage(frame, 0, 0);
    this.overlay.draw(result);
    this.finish(result, {});
  }

  // The image under the skeleton is the video's newest frame, not the result's.
  drawLive(result) {
    this.overlay.draw(result);
    this.finish(result, { imageCaptureMs: this.client.newestFrameCaptureMs ?? result.captureMs });
  }

  finish(result, times) {
    this.drawnResult = result;
    const { latencyMs, lagMs } = result.captureMs === undefined ? {} : this.client.drawn(result, times);
    this.onDrawn?.({ result, view: this.view, latencyMs, lagMs, points: this.overlay.posePoints,
                    people: this.overlay.people });
  }
}
