// The conformance tests' entry: starts socketio_conformance_server on a free port, runs one suite's
// named cases against it (engineio: SOCKETIO_FACTS.md 3.1 at /engine.io/; socketio: 3.2 at
// /socket.io/, its Engine.IO part and its Socket.IO cases), stops it; exit 1 naming each failed item.
//   node conformance.mjs --server BIN --suite engineio|socketio [--only TEXT]
import { runCases, startServer, stopServer } from "./conformance_client.mjs";
import { engineCases } from "./engineio_cases.mjs";
import { socketioCases } from "./socketio_cases.mjs";

const options = {};
for (let index = 2; index < process.argv.length; index += 2) options[process.argv[index].replace(/^--/, "")] = process.argv[index + 1];
if (!options.server || !["engineio", "socketio"].includes(options.suite)) {
  console.error("usage: node conformance.mjs --server BIN --suite engineio|socketio [--only TEXT]");
  process.exit(2);
}

const server = await startServer(options.server);
let cases = options.suite === "engineio"
  ? engineCases(server.port, "/engine.io/", { echo: true })
  : [...engineCases(server.port, "/socket.io/", { echo: false }), ...socketioCases(server.port)];
if (options.only) cases = cases.filter(([name]) => name.includes(options.only));
const failed = await runCases(`socketio_conformance_${options.suite}`, cases);
await stopServer(server);
process.exit(failed ? 1 : 0);
