// The Engine.IO v4 obligations of SOCKETIO_FACTS.md 3.1 (items 1-24), one named case each, written from
// that list. At /engine.io/ (echo) all of them; at /socket.io/ (3.2) those without EIO messages, and the
// upgrade checked with a Socket.IO CONNECT instead of an echo.
import { Client, PING_INTERVAL, PING_TIMEOUT, check, checkEqual, openPacket, sleep } from "./conformance_client.mjs";

const OPEN_KEYS = ["maxPayload", "pingInterval", "pingTimeout", "sid", "upgrades"];

function checkOpen(open, upgrades, item) {
  checkEqual(Object.keys(open).sort(), OPEN_KEYS, `${item}: open packet keys`);
  check(typeof open.sid === "string" && open.sid.length > 0, `${item}: sid ${JSON.stringify(open.sid)}`);
  checkEqual([open.upgrades, open.pingInterval, open.pingTimeout, open.maxPayload],
             [upgrades, PING_INTERVAL, PING_TIMEOUT, 1000000], `${item}: upgrades, pingInterval, pingTimeout, maxPayload`);
}

async function checkStatus(promise, expected, what) {
  const reply = await promise;
  check(expected.includes(reply.status), `${what}: status ${reply.status} (body ${JSON.stringify(reply.body)}), expected ${expected}`);
  return reply;
}

// Polling session upgraded to a WebSocket (2probe, 3probe, then `afterProbe`, then 5).
async function upgrade(client, afterProbe = async () => {}) {
  const { sid } = await client.handshake();
  const socket = await client.socket(`EIO=4&transport=websocket&sid=${sid}`);
  socket.send("2probe");
  checkEqual(await socket.next(), "3probe", "answer to 2probe");
  await afterProbe(sid);
  socket.send("5");
  return { sid, socket };
}

// The upgraded session still works on its WebSocket: an echo (/engine.io/) or a Socket.IO CONNECT.
async function checkWorks(socket, echo, what) {
  if (echo) {
    socket.send("4hello");
    checkEqual(await socket.nextSkippingPings(), "4hello", `${what}: echo on the WebSocket`);
  } else {
    socket.send("40");
    const reply = await socket.nextSkippingPings();
    check(reply.startsWith("40{"), `${what}: CONNECT on the WebSocket answered ${JSON.stringify(reply)}`);
  }
}

export function engineCases(port, path, { echo }) {
  const client = new Client(port, path);
  const cases = [
    ["3.1 item 1: polling open packet", async () => checkOpen(await client.handshake(), ["websocket"], "item 1")],
    ["3.1 item 2: polling with a missing or bad EIO gets 400", async () => {
      await checkStatus(client.request("GET", "transport=polling"), [400], "no EIO");
      await checkStatus(client.request("GET", "EIO=abc&transport=polling"), [400], "EIO=abc");
    }],
    ["3.1 item 3: polling with a missing or bad transport gets 400", async () => {
      await checkStatus(client.request("GET", "EIO=4"), [400], "no transport");
      await checkStatus(client.request("GET", "EIO=4&transport=abc"), [400], "transport=abc");
    }],
    ["3.1 item 4: POST or PUT without a sid gets 400", async () => {
      await checkStatus(client.request("POST", "EIO=4&transport=polling", "4hello"), [400], "POST");
      await checkStatus(client.request("PUT", "EIO=4&transport=polling", "4hello"), [400], "PUT");
    }],
    ["3.1 item 5: WebSocket open packet", async () => {
      const socket = await client.socket();
      try { checkOpen(await openPacket(socket), [], "item 5"); } finally { socket.close(); }
    }],
    ["3.1 item 6: WebSocket with a missing or bad EIO or transport is closed", async () => {
      for (const query of ["transport=websocket", "EIO=abc&transport=websocket", "EIO=4", "EIO=4&transport=abc"]) {
        const socket = await client.socket(query);
        check(await socket.closedWithin(5000), `${query}: the WebSocket is still open`);
      }
    }],
  ];
  if (echo) cases.push(...messageCases(client));
  cases.push(...heartbeatCases(client), ...closeCases(client), ...upgradeCases(client, echo));
  return cases;
}

function messageCases(client) {
  const echoedByPolling = (body) => async () => {
    const { sid } = await client.handshake();
    const posted = await checkStatus(client.post(sid, body), [200], "POST");
    checkEqual(posted.body, "ok", "POST body");
    checkEqual((await checkStatus(client.poll(sid), [200], "GET")).body, body, "GET body");
  };
  const echoedByWebSocket = (data, expected) => async () => {
    const socket = await client.socket();
    try {
      await openPacket(socket);
      socket.send(data);
      checkEqual(await socket.nextSkippingPings(), expected, "echo");
    } finally { socket.close(); }
  };
  return [
    ["3.1 item 7: polling, one message echoed", echoedByPolling("4hello")],
    ["3.1 item 8: polling, three messages echoed in one GET", echoedByPolling("4test1\x1e4test2\x1e4test3")],
    ["3.1 item 9: polling, text and binary echoed as sent", echoedByPolling("4hello\x1ebAQIDBA==")],
    ["3.1 item 10: polling, an invalid packet closes the session", async () => {
      const { sid } = await client.handshake();
      const posted = await client.post(sid, "abc").catch(() => ({ status: 400, body: "(connection aborted)" }));
      check(posted.status === 400, `POST abc: status ${posted.status}`);
      await checkStatus(client.poll(sid), [400], "the next GET");
    }],
    ["3.1 item 11: overlapping GETs close the session", async () => {
      const { sid } = await client.handshake();
      const first = client.poll(sid);
      await sleep(5);
      await checkStatus(client.poll(sid, "&t=burst"), [400, 500], "the second GET");
      checkEqual((await checkStatus(first, [200], "the first GET")).body, "1", "the first GET's body");
      await checkStatus(client.poll(sid), [400], "a later GET");
    }],
    ["3.1 item 12: a cancelled GET closes the session", async () => {
      const { sid } = await client.handshake();
      const controller = new AbortController();
      const held = client.request("GET", `EIO=4&transport=polling&sid=${sid}`, undefined, controller.signal)
                       .catch(() => null);
      await sleep(5);
      controller.abort();
      check((await held) === null, "the held GET was answered before its cancellation");
      await checkStatus(client.poll(sid), [400], "the next GET");
    }],
    ["3.1 item 13: WebSocket text echoed", echoedByWebSocket("4hello", "4hello")],
    ["3.1 item 14: WebSocket binary echoed as binary", echoedByWebSocket(Buffer.from([1, 2, 3, 4]),
                                                                          { binary: true, data: [1, 2, 3, 4] })],
    ["3.1 item 15: WebSocket invalid packet closes it", async () => {
      const socket = await client.socket();
      await openPacket(socket);
      socket.send("abc");
      check(await socket.closedWithin(5000), "the WebSocket is still open");
    }],
  ];
}

function heartbeatCases(client) {
  return [
    ["3.1 item 16: polling pings, answered three times", async () => {
      const { sid } = await client.handshake();
      for (let round = 1; round <= 3; round += 1) {
        checkEqual((await checkStatus(client.poll(sid), [200], `GET ${round}`)).body, "2", `GET ${round}`);
        await checkStatus(client.post(sid, "3"), [200], `pong ${round}`);
      }
    }],
    ["3.1 item 17: polling ping timeout closes the session", async () => {
      const { sid } = await client.handshake();
      await sleep(PING_INTERVAL + PING_TIMEOUT);  // The suite's own sleep: the protocol's timing.
      await checkStatus(client.poll(sid), [400], "GET after pingInterval + pingTimeout");
    }],
    ["3.1 item 18: WebSocket pings, answered three times", async () => {
      const socket = await client.socket();
      try {
        await openPacket(socket);
        for (let round = 1; round <= 3; round += 1) {
          checkEqual(await socket.next(), "2", `message ${round}`);
          socket.send("3");
        }
      } finally { socket.close(); }
    }],
    ["3.1 item 19: WebSocket ping timeout closes it", async () => {
      const socket = await client.socket();
      await openPacket(socket);
      check(await socket.closedWithin(5000), "the WebSocket is open 5 s after pings went unanswered");
    }],
  ];
}

function closeCases(client) {
  return [
    ["3.1 item 20: polling close from the client", async () => {
      const { sid } = await client.handshake();
      const held = client.poll(sid);
      await sleep(5);  // The suite's order: the GET is held first (an order, not an asserted time).
      await checkStatus(client.post(sid, "1"), [200], "POST 1");
      checkEqual((await checkStatus(held, [200], "the held GET")).body, "6", "the held GET's body");
      await checkStatus(client.poll(sid), [400], "the next GET");
    }],
    ["3.1 item 21: WebSocket close from the client", async () => {
      const socket = await client.socket();
      await openPacket(socket);
      socket.send("1");
      check(await socket.closedWithin(5000), "the WebSocket is still open after 1");
    }],
  ];
}

function upgradeCases(client, echo) {
  return [
    ["3.1 item 22: upgrade (noop to the polling GET during it)", async () => {
      const { socket } = await upgrade(client, async (sid) => {
        if (!echo) return;  // 3.2: no noop check.
        checkEqual((await checkStatus(client.poll(sid), [200], "GET during the upgrade")).body, "6", "GET during the upgrade");
      });
      try { await checkWorks(socket, echo, "after 5"); } finally { socket.close(); }
    }],
    ["3.1 item 23: polling after the upgrade gets 400", async () => {
      const { sid, socket } = await upgrade(client);
      try {
        await sleep(5);  // Lets "5" be read before the GET (an order, not an asserted time).
        await checkStatus(client.poll(sid), [400], "GET after the upgrade");
        await checkWorks(socket, echo, "the WebSocket");
      } finally { socket.close(); }
    }],
    ["3.1 item 24: a second WebSocket after the upgrade is closed", async () => {
      const { sid, socket } = await upgrade(client);
      try {
        const second = await client.socket(`EIO=4&transport=websocket&sid=${sid}`);
        check(await second.closedWithin(5000), "the second WebSocket is still open");
        await checkWorks(socket, echo, "the first WebSocket");
      } finally { socket.close(); }
    }],
  ];
}
