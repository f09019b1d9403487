// The client's clocks, browser-free: rates over a sliding window, medians, and what was drawn when.
// Times are milliseconds on performance.now()'s clock. node --test runs this as it is.

// Events per second over a sliding window of event times.
export class RateWindow {
  constructor(windowMs) { this.windowMs = windowMs; this.times = []; }
  add(now) { this.times.push(now); this.trim(now); }
  trim(now) { while (this.times.length > 0 && this.times[0] < now - this.windowMs) this.times.shift(); }
  rate(now) { this.trim(now); return (this.times.length * 1000) / this.windowMs; }
}

// The middle value (the upper one of an even count), or null for none. Does not modify `values`.
export function median(values) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

// At most this many draws are kept between two stats events (a display's rate for a few seconds), so a
// page that never asks for stats does not grow without bound.
const MAX_DRAWS_KEPT = 600;

// Each drawn result's two figures, from which the HUD's come:
//   latency: capture of the image on screen -> the result drawn over it;
//   lag:     how much older the result's own frame is than that image (0 when the result is drawn over
//            its own frame, as the synchronised view does).
export class DrawTimes {
  constructor() { this.latencies = []; this.lags = []; }

  // `result.captureMs` is its frame's capture; `imageCaptureMs` that of the image the page shows under
  // it. Stores drawnMs and imageCaptureMs on the result (the per-result record embedding apps read).
  record(result, imageCaptureMs, drawnMs) {
    result.drawnMs = drawnMs;
    result.imageCaptureMs = imageCaptureMs;
    const latencyMs = drawnMs - imageCaptureMs;
    const lagMs = imageCaptureMs - result.captureMs;
    if (this.latencies.length < MAX_DRAWS_KEPT && Number.isFinite(latencyMs)) this.latencies.push(latencyMs);
    if (this.lags.length < MAX_DRAWS_KEPT && Number.isFinite(lagMs)) this.lags.push(lagMs);
    return { latencyMs, lagMs };
  }

  // The medians since the last clear(), null where nothing was drawn.
  summary() { return { drawnLatencyMs: median(this.latencies), skeletonLagMs: median(this.lags) }; }
  clear() { this.latencies = []; this.lags = []; }
}
