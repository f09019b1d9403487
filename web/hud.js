// The heads-up display: send and result rates, the latency of what is on screen and how far the skeleton
// trails the image, the server's stage timings, drops by reason.

const STAGES = ["queue", "decode", "pose", "hands", "total"];

function format(value, digits = 1) {
  return typeof value === "number" && Number.isFinite(value) ? value.toFixed(digits) : "–";
}

export class Hud {
  // `root` holds elements with data-hud="<field>" that this fills in.
  constructor(root) {
    this.root = root;
  }

  field(name) { return this.root.querySelector(`[data-hud="${name}"]`); }

  set(name, text, value) {
    const element = this.field(name);
    if (!element) return;
    element.textContent = text;
    if (value !== undefined) element.dataset.value = String(value);
  }

  setMs(name, value) { this.set(name, `${format(value, 0)} ms`, value); }

  // People in the result on screen: a result of several people lists them (num_poses > 1), a
  // single-person one has a pose or not.
  showPeople(result) {
    const count = result === null ? null : Array.isArray(result.people) ? result.people.length : result.pose ? 1 : 0;
    this.set("people", count === null ? "–" : String(count), count ?? "");
  }

  // Called with each of the client's stats events (once a second).
  update(stats) {
    this.set("fps-sent", format(stats.sentFps), stats.sentFps);
    this.set("fps-received", format(stats.resultFps), stats.resultFps);
    this.set("in-flight", String(stats.inFlight), stats.inFlight);
    // A second without results or draws keeps the last figures: a slow server still shows what it takes.
    if (stats.drawnLatencyMs !== null) this.setMs("latency", stats.drawnLatencyMs);
    if (stats.skeletonLagMs !== null) this.setMs("skeleton-lag", stats.skeletonLagMs);
    if (stats.timingMs) {
      for (const stage of STAGES) this.set(`timing-${stage}`, `${format(stats.timingMs[stage])} ms`, stats.timingMs[stage]);
    }
    const reasons = Object.entries(stats.dropped).filter(([, count]) => count > 0);
    const text = reasons.length === 0 ? "none" : reasons.map(([reason, count]) => `${reason} ${count}`).join(", ");
    this.set("dropped", text, stats.totals.dropped);
    this.set("totals", `${stats.totals.sent} sent, ${stats.totals.results} results`, stats.totals.results);
  }
}
