// Draws one result's pose skeleton and hands on a canvas over the camera preview, mirrored like a selfie view.

// MediaPipe's pose and hand topologies (landmark index pairs).
const POSE_CONNECTIONS = [
  [0, 1], [1, 2], [2, 3], [3, 7], [0, 4], [4, 5], [5, 6], [6, 8], [9, 10],
  [11, 12], [11, 13], [13, 15], [15, 17], [15, 19], [15, 21], [17, 19],
  [12, 14], [14, 16], [16, 18], [16, 20], [16, 22], [18, 20],
  [11, 23], [12, 24], [23, 24], [23, 25], [24, 26], [25, 27], [26, 28],
  [27, 29], [28, 30], [29, 31], [30, 32], [27, 31], [28, 32],
];
const HAND_CONNECTIONS = [
  [0, 1], [1, 2], [2, 3], [3, 4], [0, 5], [5, 6], [6, 7], [7, 8], [5, 9], [9, 10], [10, 11], [11, 12],
  [9, 13], [13, 14], [14, 15], [15, 16], [13, 17], [0, 17], [17, 18], [18, 19], [19, 20],
];
// Pose landmarks on the body's left side are odd-numbered (1-3, 7, 9, 11, ...), its right side even.
const LEFT_COLOR = "#ff9f1c";
const RIGHT_COLOR = "#2ec4b6";
const CENTER_COLOR = "#ffffff";
const HAND_COLORS = { Left: "#ff4f79", Right: "#7b61ff" };
const MIN_VISIBILITY = 0.5;
// With several people (num_poses > 1) each person is drawn in one colour, picked by their id, so a
// person keeps their colour while tracked. Far apart on the hue circle, readable on dark and light video.
export const PERSON_COLORS = ["#ff9f1c", "#2ec4b6", "#ff4f79", "#7bd389", "#7b61ff", "#ffd23f", "#3a86ff", "#f15bb5"];

export function personColor(id) {
  const index = ((Number(id) - 1) % PERSON_COLORS.length + PERSON_COLORS.length) % PERSON_COLORS.length;
  return PERSON_COLORS[Number.isFinite(index) ? index : 0];
}

// A bone takes its side's colour; bones across the body (shoulders, hips, mouth, from the nose) are white.
function sideColor(a, b) {
  if (a % 2 === 1 && b % 2 === 1) return LEFT_COLOR;
  if (a % 2 === 0 && b % 2 === 0 && a !== 0 && b !== 0) return RIGHT_COLOR;
  return CENTER_COLOR;
}

export class Overlay {
  constructor(canvas, { mirrored = true } = {}) {
    this.canvas = canvas;
    this.context = canvas.getContext("2d");
    this.mirrored = mirrored;
    this.posePoints = {};  // landmark index -> [x, y] canvas pixels of each pose dot drawn last
    this.people = [];      // Several people: [{id, color, points: {index: [x, y]}}] of the last draw.
  }

  // Matches the canvas's pixels to its displayed size (sharp lines on high-DPI screens).
  fit() {
    const ratio = globalThis.devicePixelRatio || 1;
    const width = Math.round(this.canvas.clientWidth * ratio);
    const height = Math.round(this.canvas.clientHeight * ratio);
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
    this.scale = ratio;
  }

  // Normalized image coordinates -> canvas pixels; mirroring flips x only, so text stays readable.
  point(landmark) {
    const x = this.mirrored ? 1 - landmark[0] : landmark[0];
    return [x * this.canvas.width, landmark[1] * this.canvas.height];
  }

  clear() {
    this.fit();
    this.posePoints = {};
    this.people = [];
    this.context.clearRect(0, 0, this.canvas.width, this.canvas.height);
  }

  draw(result) {
    this.clear();
    if (result.pose) this.posePoints = this.drawPose(result.pose);
    for (const person of result.people ?? []) this.drawPerson(person);
    for (const hand of result.hands ?? []) this.drawHand(hand);
  }

  // One of several people: skeleton, hands and an id label, all in the person's colour.
  drawPerson(person) {
    const color = personColor(person.id);
    const points = this.drawPose(person.pose, color);
    for (const hand of person.hands ?? []) this.drawHand(hand, color);
    this.personLabel(person, color);
    this.people.push({ id: person.id, color, points });
  }

  // Above the head: the nose, or the highest visible landmark when the face is hidden (a raised hand
  // would take the label away from the body otherwise).
  personLabel(person, color) {
    const landmarks = person.pose.landmarks;
    const isVisible = (landmark) => landmark.length < 4 || landmark[3] >= MIN_VISIBILITY;
    const visible = landmarks.filter(isVisible);
    const highest = (visible.length > 0 ? visible : landmarks).reduce((a, b) => (b[1] < a[1] ? b : a));
    const top = isVisible(landmarks[0]) ? landmarks[0] : highest;
    const anchor = [top[0], Math.max(0, top[1] - 0.08)];
    this.label(anchor, `person ${person.id}`, color);
  }

  // `color`: one colour for the whole skeleton (a person among several); without it, left and right sides
  // in their own colours. Returns the canvas pixels of the dots drawn, by landmark index.
  drawPose(pose, color = null) {
    const visible = (landmark) => landmark.length < 4 || landmark[3] >= MIN_VISIBILITY;
    const lineWidth = 4 * this.scale;
    for (const [a, b] of POSE_CONNECTIONS) {
      const from = pose.landmarks[a];
      const to = pose.landmarks[b];
      if (!from || !to || !visible(from) || !visible(to)) continue;
      this.line(from, to, color ?? sideColor(a, b), lineWidth);
    }
    const points = {};
    pose.landmarks.forEach((landmark, index) => {
      if (!visible(landmark)) return;
      const side = index === 0 ? CENTER_COLOR : index % 2 === 1 ? LEFT_COLOR : RIGHT_COLOR;
      this.dot(landmark, 5 * this.scale, color ?? side);
      points[index] = this.point(landmark);
    });
    return points;
  }

  // `color`: the owning person's (several people); without it, the hand's side colour.
  drawHand(hand, color = null) {
    // The server's label names the person's own hand (it agrees with the pose's left and right sides on
    // the unmirrored frames the client sends), so the mirrored view needs no swap.
    const who = hand.handedness;
    color ??= HAND_COLORS[who] ?? CENTER_COLOR;
    for (const [a, b] of HAND_CONNECTIONS) this.line(hand.landmarks[a], hand.landmarks[b], color, 2.5 * this.scale);
    for (const landmark of hand.landmarks) this.dot(landmark, 3 * this.scale, color);
    this.label(hand.landmarks[0], `${who} hand ${Math.round(hand.score * 100)}%`, color);
  }

  line(from, to, color, width) {
    const context = this.context;
    const [x0, y0] = this.point(from);
    const [x1, y1] = this.point(to);
    context.strokeStyle = color;
    context.lineWidth = width;
    context.lineCap = "round";
    context.beginPath();
    context.moveTo(x0, y0);
    context.lineTo(x1, y1);
    context.stroke();
  }

  dot(landmark, radius, color) {
    const context = this.context;
    const [x, y] = this.point(landmark);
    context.fillStyle = color;
    context.strokeStyle = "#000000";
    context.lineWidth = this.scale;
    context.beginPath();
    context.arc(x, y, radius, 0, 2 * Math.PI);
    context.fill();
    context.stroke();
  }

  // Text is drawn in unmirrored canvas space at the mirrored position, so it reads left to right.
  label(landmark, text, color) {
    const context = this.context;
    const [x, y] = this.point(landmark);
    context.font = `${Math.round(14 * this.scale)}px system-ui, sans-serif`;
    const width = context.measureText(text).width;
    const padding = 4 * this.scale;
    const height = 18 * this.scale;
    const left = Math.min(Math.max(0, x - width / 2 - padding), this.canvas.width - width - 2 * padding);
    const top = Math.min(y + 8 * this.scale, this.canvas.height - height);
    context.fillStyle = "rgba(0, 0, 0, 0.65)";
    context.fillRect(left, top, width + 2 * padding, height);
    context.fillStyle = color;
    context.textBaseline = "middle";
    context.fillText(text, left + padding, top + height / 2);
  }
}
