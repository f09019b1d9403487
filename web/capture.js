// Camera frames for web/posestream.js: noticing each new frame and its capture time, copying it as an
// ImageBitmap when the page wants to show it later, and encoding it as a JPEG. Browser-only.

// A capture time older than this is taken for another clock's and ignored.
const MAX_FRAME_AGE_MS = 1000;

// The camera's own capture time from requestVideoFrameCallback's metadata where the browser gives one
// (Chromium does for cameras), else `now`: the moment the page learned of the frame.
function captureTimeOf(metadata, now) {
  const time = metadata?.captureTime;
  return Number.isFinite(time) && time <= now && time > now - MAX_FRAME_AGE_MS ? time : now;
}

// Calls onFrame(captureMs) once per new frame of `video`: per presented frame where the browser has
// requestVideoFrameCallback and `polled` is false, else at the camera track's frame rate.
export class FrameWatcher {
  constructor(video, polled, onFrame) {
    this.stopped = false;
    this.timer = null;
    const track = video.srcObject?.getVideoTracks?.()[0];
    const intervalMs = 1000 / (track?.getSettings?.().frameRate || 30);
    const useCallback = !polled && typeof video.requestVideoFrameCallback === "function";
    const next = (_, metadata) => {
      if (this.stopped) return;
      onFrame(captureTimeOf(metadata, performance.now()));
      if (useCallback) video.requestVideoFrameCallback(next);
      else this.timer = setTimeout(next, intervalMs);
    };
    if (useCallback) video.requestVideoFrameCallback(next);
    else next();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}

// The video's current frame: {image, width, height, bitmap}. With `keep`, image and bitmap are the same
// ImageBitmap, a copy the caller owns (and closes); else image is the video itself and bitmap null.
export async function grabFrame(video, keep) {
  if (!keep) return { image: video, width: video.videoWidth, height: video.videoHeight, bitmap: null };
  const bitmap = await createImageBitmap(video);
  return { image: bitmap, width: bitmap.width, height: bitmap.height, bitmap };
}

// A frame, scaled to at most maxWidth (aspect kept), as a JPEG Blob. Reuses one canvas.
export class JpegEncoder {
  constructor() { this.canvas = null; }

  async encode({ image, width: fullWidth, height: fullHeight }, maxWidth, quality) {
    const scale = Math.min(1, maxWidth / fullWidth);
    const width = Math.max(1, Math.round(fullWidth * scale));
    const height = Math.max(1, Math.round(fullHeight * scale));
    const canvas = this.canvasOf(width, height);
    canvas.getContext("2d").drawImage(image, 0, 0, width, height);
    if (canvas.convertToBlob) return canvas.convertToBlob({ type: "image/jpeg", quality });
    return new Promise((resolve, reject) => canvas.toBlob(
        (blob) => (blob ? resolve(blob) : reject(new Error("canvas.toBlob gave no JPEG"))), "image/jpeg", quality));
  }

  canvasOf(width, height) {
    if (!this.canvas) {
      this.canvas = typeof OffscreenCanvas !== "undefined" ? new OffscreenCanvas(width, height)
                                                           : document.createElement("canvas");
    }
    if (this.canvas.width !== width) this.canvas.width = width;
    if (this.canvas.height !== height) this.canvas.height = height;
    return this.canvas;
  }
}
