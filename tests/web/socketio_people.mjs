// Several people over Socket.IO (issue 16): the real socket.io-client (tests/web's pinned copy) against the
// built `posestream serve`: config {num_poses: 4} then MediaPipe's multi-person frames give results with
// `people` (the body /ws sends, from the same encoder), ids kept, hands tied to their person; num_poses over
// the server's max_num_poses is refused with bad_config.
//   node socketio_people.mjs --binary BUILD/posestream --source-dir SRC
// Exit 77 (CTest's skip) without the multi-person frames; 1 on any failed check.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { check, log, parseArguments, runTest, sharedDir, SKIP, startServer, stopServer, WAIT_MS } from "./harness.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "node_modules", "package.json"));
const { io } = require("socket.io-client");

const FRAMES = 3;

function withTimeout(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timeout: ${what}`)), WAIT_MS); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function frameFile(sourceDir, index) {
  const name = `frame_${String(index).padStart(3, "0")}.jpg`;
  return path.join(sharedDir(sourceDir), "golden", "multi", "sequences", "frames_seq_aic_ff945ae2", name);
}

function checkPeople(answer, index) {
  check(answer.type === "result" && answer.pose === null && Array.isArray(answer.people),
        `frame ${index}: a result with people and pose null`);
  check(answer.people.length >= 2, `frame ${index}: ${answer.people.length} people`);
  for (const person of answer.people) {
    check(person.pose.landmarks.length === 33 && person.hands.every((hand) => hand.person === person.id),
          `frame ${index}: person ${person.id} has 33 landmarks and ${person.hands.length} hands naming them`);
  }
  check(answer.runs.pose_landmarks >= answer.people.length, `frame ${index}: runs ${JSON.stringify(answer.runs)}`);
  return answer.people.map((person) => person.id).join(",");
}

async function run(options) {
  if (!existsSync(frameFile(options["source-dir"], FRAMES - 1))) {
    log(`SKIP: no multi-person frames under ${sharedDir(options["source-dir"])} (set POSESTREAM_SHARED)`);
    return SKIP;
  }
  const { server, url } = await startServer(options, 0, ["--inference-threads", "1", "--max-num-poses", "4"]);
  const socket = io(url.replace(/\/$/, ""), { forceNew: true, reconnection: false, transports: ["websocket"] });
  try {
    const hello = await withTimeout(new Promise((resolve) => socket.once("hello", resolve)), "hello");
    check(hello.limits.max_num_poses === 4 && hello.config.num_poses === 1,
          `the hello says max_num_poses ${hello.limits.max_num_poses}, num_poses ${hello.config.num_poses}`);
    const refused = await withTimeout(socket.emitWithAck("config", { num_poses: 5 }), "refused config ack");
    check(refused?.code === "bad_config" && /max_num_poses 4/.test(refused.message),
          `num_poses 5 is refused: ${JSON.stringify(refused)}`);
    await withTimeout(socket.emitWithAck("config", { num_poses: 4, drop_policy: "all" }), "config ack");
    let firstIds = null;
    for (let index = 0; index < FRAMES; index++) {
      const image = `data:image/jpeg;base64,${readFileSync(frameFile(options["source-dir"], index)).toString("base64")}`;
      const answer = await withTimeout(socket.emitWithAck("frame", { sequence: index, image, timestamp: index * 33.3 }),
                                       `frame ${index}`);
      const ids = checkPeople(answer, index);
      firstIds ??= ids;
      check(ids === firstIds, `frame ${index}: the same ids ${ids}`);
    }
  } finally {
    socket.close();
    await stopServer(server);
  }
  return 0;
}

runTest("socketio_people", () => run(parseArguments(process.argv.slice(2), ["binary", "source-dir"])));
