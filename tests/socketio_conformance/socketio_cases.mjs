// The Socket.IO v5 obligations of SOCKETIO_FACTS.md 3.2 (connect, disconnect, message), one named case
// each, written from that list, against the suite's "/" and "/custom" namespaces at /socket.io/.
import { Client, check, checkEqual, openPacket } from "./conformance_client.mjs";

// A WebSocket session at /socket.io/, its open packet read.
async function session(client) {
  const socket = await client.socket();
  await openPacket(socket);
  return socket;
}

// The CONNECT answer `prefix{...}` whose JSON (from offset prefix.length) has exactly the key sid.
function checkConnected(frame, prefix, what) {
  check(typeof frame === "string" && frame.startsWith(`${prefix}{`), `${what}: ${JSON.stringify(frame)}, expected ${prefix}{...}`);
  const body = JSON.parse(frame.slice(prefix.length));
  checkEqual(Object.keys(body), ["sid"], `${what}: keys of the CONNECT answer`);
  check(typeof body.sid === "string", `${what}: sid ${JSON.stringify(body.sid)}`);
}

// Joins `/` (auth: the CONNECT payload text, "" for none) and reads the answer and the "auth" event.
async function join(socket, auth = "") {
  socket.send(`40${auth}`);
  checkConnected(await socket.nextSkippingPings(), "40", "CONNECT /");
  checkEqual(await socket.nextSkippingPings(), `42["auth",${auth || "{}"}]`, "the auth event");
}

// Sends `packet` and then its attachments; checks the answer and its attachments, in order.
async function exchange(socket, packet, attachments, expected, expectedAttachments) {
  socket.send(packet);
  for (const bytes of attachments) socket.send(Buffer.from(bytes));
  checkEqual(await socket.nextSkippingPings(), expected, "answer");
  for (const bytes of expectedAttachments) {
    checkEqual(await socket.nextSkippingPings(), { binary: true, data: bytes }, "attachment");
  }
}

async function closesOn(client, packet, joined) {
  const socket = await session(client);
  if (joined) await join(socket);
  socket.send(packet);
  check(await socket.closedWithin(5000), `the WebSocket is still open after ${packet}`);
}

const PLACEHOLDERS = '{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}';

export function socketioCases(port) {
  const client = new Client(port, "/socket.io/");
  const withSession = (run) => async () => {
    const socket = await session(client);
    try { await run(socket); } finally { socket.close(); }
  };
  return [
    ["3.2 connect: main namespace", withSession((socket) => join(socket))],
    ["3.2 connect: main namespace with auth", withSession((socket) => join(socket, '{"token":"123"}'))],
    ["3.2 connect: custom namespace", withSession(async (socket) => {
      socket.send("40/custom,");
      checkConnected(await socket.nextSkippingPings(), "40/custom,", "CONNECT /custom");
      checkEqual(await socket.nextSkippingPings(), '42/custom,["auth",{}]', "the auth event");
    })],
    ["3.2 connect: custom namespace with auth", withSession(async (socket) => {
      socket.send('40/custom,{"token":"abc"}');
      checkConnected(await socket.nextSkippingPings(), "40/custom,", "CONNECT /custom");
      checkEqual(await socket.nextSkippingPings(), '42/custom,["auth",{"token":"abc"}]', "the auth event");
    })],
    ["3.2 connect: unknown namespace refused", withSession(async (socket) => {
      socket.send("40/random");
      checkEqual(await socket.nextSkippingPings(), '44/random,{"message":"Invalid namespace"}', "answer to 40/random");
    })],
    ["3.2 connect: invalid handshake closes", () => closesOn(client, "4abc", false)],
    ["3.2 connect: no handshake closes (connect timeout or ping timeout)", async () => {
      const socket = await session(client);
      check(await socket.closedWithin(2000), "the WebSocket is open 2 s after a session that joined nothing");
    }],
    ["3.2 disconnect: from / (no answer; the session stays)", withSession(async (socket) => {
      await join(socket);
      socket.send("41");
      checkEqual(await socket.next(), "2", "the frame after 41 (the regular ping)");
    })],
    ["3.2 disconnect: from /custom, / still served", withSession(async (socket) => {
      await join(socket);
      checkEqual(await socket.next(), "2", "the first ping (left unanswered, as the suite)");
      socket.send("40/custom");
      checkConnected(await socket.next(), "40/custom,", "CONNECT /custom");
      checkEqual(await socket.next(), '42/custom,["auth",{}]', "the auth event");
      socket.send("41/custom");
      socket.send('42["message","message to main namespace"]');
      checkEqual(await socket.next(), '42["message-back","message to main namespace"]', "answer on /");
    })],
    ["3.2 message: event echoed as message-back", withSession(async (socket) => {
      await join(socket);
      await exchange(socket, '42["message",1,"2",{"3":[true]}]', [], '42["message-back",1,"2",{"3":[true]}]', []);
    })],
    ["3.2 message: binary event echoed with its attachments", withSession(async (socket) => {
      await join(socket);
      await exchange(socket, `452-["message",${PLACEHOLDERS}]`, [[1, 2, 3], [4, 5, 6]],
                     `452-["message-back",${PLACEHOLDERS}]`, [[1, 2, 3], [4, 5, 6]]);
    })],
    ["3.2 message: event with an ack acknowledged", withSession(async (socket) => {
      await join(socket);
      await exchange(socket, '42456["message-with-ack",1,"2",{"3":[false]}]', [], '43456[1,"2",{"3":[false]}]', []);
    })],
    ["3.2 message: binary event with an ack acknowledged with its attachments", withSession(async (socket) => {
      await join(socket);
      await exchange(socket, `452-789["message-with-ack",${PLACEHOLDERS}]`, [[1, 2, 3], [4, 5, 6]],
                     `462-789[${PLACEHOLDERS}]`, [[1, 2, 3], [4, 5, 6]]);
    })],
    ["3.2 message: 4abc closes", () => closesOn(client, "4abc", true)],
    ["3.2 message: 42{} (payload not an array) closes", () => closesOn(client, "42{}", true)],
    ["3.2 message: 42abc[...] (bad ack id) closes",
     () => closesOn(client, '42abc["message-with-ack",1,"2",{"3":[false]}]', true)],
  ];
}
