// Engine.IO over HTTP long-polling against a real server: SOCKETIO_FACTS.md 3.1 items 1-4, 7-12, 16, 17,
// 20, and the reference's other answers (413, 500, octet-stream), packets per poll, origins and CORS.
#include <nlohmann/json.hpp>

#include <future>

#include "engineio/engineio_test_support.h"

namespace posestream::server::engineio::testing {
namespace {

using nlohmann::json;

std::string error_body(int code, const std::string& message) {
  return "{\"code\":" + std::to_string(code) + ",\"message\":\"" + message + "\"}";
}

TEST(EngineIoPolling, Item1HandshakeAnswersTheOpenPacketWithExactlyTheReferenceKeys) {
  EchoServer server;
  const Reply reply = get(server.port(), "EIO=4&transport=polling&t=N8hyd6w");
  ASSERT_EQ(reply.result_int(), 200u);
  EXPECT_EQ(reply[http::field::content_type], "text/plain; charset=UTF-8");
  EXPECT_EQ(reply[http::field::cache_control], "no-store");
  ASSERT_EQ(reply.body().front(), '0');
  const json open = json::parse(reply.body().substr(1));
  EXPECT_EQ(open.size(), 5u) << reply.body();
  ASSERT_TRUE(open.contains("sid") && open["sid"].is_string());
  const std::string sid = open["sid"];
  EXPECT_EQ(sid.size(), 20u);
  // Byte for byte, in the reference's key order.
  EXPECT_EQ(reply.body(), "0{\"sid\":\"" + sid +
                              "\",\"upgrades\":[\"websocket\"],\"pingInterval\":300,\"pingTimeout\":200,\"maxPayload\":1000000}");
  EXPECT_NE(open_polling(server.port()), sid);
}

TEST(EngineIoPolling, Items2To4BadHandshakesGetTheReferenceErrors) {
  EchoServer server;
  const auto expect_error = [&](http::verb verb, const std::string& query, int code, const std::string& message) {
    const Reply reply = request(server.port(), verb, kPath + "?" + query);
    EXPECT_EQ(reply.result_int(), 400u) << query;
    EXPECT_EQ(reply[http::field::content_type], "application/json") << query;
    EXPECT_EQ(reply.body(), error_body(code, message)) << query;
  };
  expect_error(http::verb::get, "transport=polling", 5, "Unsupported protocol version");
  expect_error(http::verb::get, "EIO=abc&transport=polling", 5, "Unsupported protocol version");
  expect_error(http::verb::get, "EIO=3&transport=polling", 5, "Unsupported protocol version");
  expect_error(http::verb::get, "EIO=4", 0, "Transport unknown");
  expect_error(http::verb::get, "EIO=4&transport=abc", 0, "Transport unknown");
  expect_error(http::verb::post, "EIO=4&transport=polling", 2, "Bad handshake method");
  expect_error(http::verb::put, "EIO=4&transport=polling", 2, "Bad handshake method");
  expect_error(http::verb::get, "EIO=4&transport=polling&sid=nosuchsession", 1, "Session ID unknown");
  expect_error(http::verb::post, "EIO=4&transport=polling&sid=nosuchsession", 1, "Session ID unknown");
  expect_error(http::verb::get, "EIO=4&transport=websocket", 3, "Bad request");  // No Upgrade header.
  EXPECT_EQ(server.engine().session_count(), 0u);
}

TEST(EngineIoPolling, Items7To9MessagesAreEchoedInOneGet) {
  EchoServer server(calm_options());
  const std::string sid = open_polling(server.port());
  ASSERT_FALSE(sid.empty());
  Reply posted = post(server.port(), polling(sid), "4hello", {{http::field::content_type, "text/plain;charset=UTF-8"}});
  EXPECT_EQ(posted.result_int(), 200u);
  EXPECT_EQ(posted.body(), "ok");
  EXPECT_EQ(posted[http::field::content_type], "text/html");
  EXPECT_EQ(get(server.port(), polling(sid)).body(), "4hello");

  const std::string several = "4test1\x1e" "4test2\x1e" "4test3";
  EXPECT_EQ(post(server.port(), polling(sid), several).body(), "ok");
  EXPECT_EQ(get(server.port(), polling(sid)).body(), several);

  const std::string binary = "4hello\x1e" "bAQIDBA==";
  EXPECT_EQ(post(server.port(), polling(sid), binary).body(), "ok");
  EXPECT_EQ(get(server.port(), polling(sid)).body(), binary);
}

TEST(EngineIoPolling, Item10AnInvalidPacketClosesTheSession) {
  EchoServer server(calm_options());
  const std::string sid = open_polling(server.port());
  EXPECT_EQ(post(server.port(), polling(sid), "abc").result_int(), 400u);
  EXPECT_EQ(get(server.port(), polling(sid)).result_int(), 400u);
  EXPECT_TRUE(eventually([&] { return server.closes() == std::vector<std::string>{"parse error"}; }));
}

TEST(EngineIoPolling, Item11AnOverlappingGetEndsTheSession) {
  EchoServer server(calm_options());
  const std::string sid = open_polling(server.port());
  auto first = std::async(std::launch::async, [&] { return get(server.port(), polling(sid)); });
  std::this_thread::sleep_for(50ms);  // The first is held by then (nothing to send before the ping).
  const Reply second = get(server.port(), polling(sid) + "&t=burst");
  EXPECT_EQ(second.result_int(), 400u);
  EXPECT_EQ(second.body(), "");
  const Reply held = first.get();
  EXPECT_EQ(held.result_int(), 200u);
  EXPECT_EQ(held.body(), "1");
  EXPECT_EQ(get(server.port(), polling(sid)).result_int(), 400u);
}

// With a ping interval far beyond the wait, only the cancelled GET can have closed the session.
TEST(EngineIoPolling, Item12AGetCancelledByTheClientClosesTheSession) {
  EchoServer server(calm_options());
  const std::string sid = open_polling(server.port());
  {
    net::io_context io;
    beast::tcp_stream stream(io);
    stream.connect({net::ip::make_address("127.0.0.1"), server.port()});
    http::request<http::empty_body> held{http::verb::get, kPath + "?" + polling(sid), 11};
    held.set(http::field::host, "127.0.0.1");
    http::write(stream, held);
    std::this_thread::sleep_for(50ms);
  }  // The connection closes here.
  EXPECT_TRUE(eventually([&] { return server.engine().session_count() == 0; }, 5s));
  EXPECT_EQ(get(server.port(), polling(sid)).result_int(), 400u);
  EXPECT_EQ(server.closes(), std::vector<std::string>{"transport error"});
}

TEST(EngineIoPolling, Item16TheServerPingsAndPongsKeepTheSession) {
  EchoServer server;
  const std::string sid = open_polling(server.port());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(get(server.port(), polling(sid)).body(), "2") << "ping " << i;
    EXPECT_EQ(post(server.port(), polling(sid), "3").body(), "ok") << "pong " << i;
  }
  EXPECT_TRUE(server.closes().empty());
}

// The ping goes out at 300 ms with no GET held, and the session is gone at 500 ms (the suite's sleep).
TEST(EngineIoPolling, Item17WithoutAPongTheSessionTimesOut) {
  EchoServer server;
  const std::string sid = open_polling(server.port());
  std::this_thread::sleep_for(kPingInterval + kPingTimeout);
  const Reply late = get(server.port(), polling(sid));
  EXPECT_EQ(late.result_int(), 400u) << late.body();
  EXPECT_EQ(server.closes(), std::vector<std::string>{"ping timeout"});
}

TEST(EngineIoPolling, Item20AClientCloseAnswersTheHeldGetWithANoop) {
  EchoServer server(calm_options());
  const std::string sid = open_polling(server.port());
  auto held = std::async(std::launch::async, [&] { return get(server.port(), polling(sid)); });
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(post(server.port(), polling(sid), "1").result_int(), 200u);
  const Reply answered = held.get();
  EXPECT_EQ(answered.result_int(), 200u);
  EXPECT_EQ(answered.body(), "6");
  EXPECT_EQ(get(server.port(), polling(sid)).result_int(), 400u);
  EXPECT_EQ(server.closes(), std::vector<std::string>{"client close"});
}

TEST(EngineIoPolling, AServerCloseSendsACloseToTheNextGet) {
  EchoServer server(calm_options());
  const std::string sid = open_polling(server.port());
  EXPECT_EQ(post(server.port(), polling(sid), "4bye").body(), "ok");
  ASSERT_TRUE(eventually([&] { return server.engine().session_count() == 1; }));
  server.engine().close_all("shutting down");
  EXPECT_EQ(get(server.port(), polling(sid)).body(), "4bye\x1e" "1");
  EXPECT_EQ(get(server.port(), polling(sid)).result_int(), 400u);
  EXPECT_EQ(server.closes(), std::vector<std::string>{"shutting down"});
}

TEST(EngineIoPolling, AGetCarriesAtMostSixteenPackets) {
  EchoServer server(calm_options());
  const std::string sid = open_polling(server.port());
  std::string twenty;
  for (int i = 0; i < 20; ++i) twenty += (i ? "\x1e" : "") + std::string("4m") + std::to_string(i);
  EXPECT_EQ(post(server.port(), polling(sid), twenty).body(), "ok");
  std::string first_sixteen;
  for (int i = 0; i < 16; ++i) first_sixteen += (i ? "\x1e" : "") + std::string("4m") + std::to_string(i);
  EXPECT_EQ(get(server.port(), polling(sid)).body(), first_sixteen);
  EXPECT_EQ(get(server.port(), polling(sid)).body(), "4m16\x1e" "4m17\x1e" "4m18\x1e" "4m19");
}

TEST(EngineIoPolling, ThePayloadLimitAndOtherMethodsGetTheReferenceAnswers) {
  Options options = calm_options();
  options.max_payload = 1000;
  EchoServer server(options);
  const std::string sid = open_polling(server.port());
  const Reply large = post(server.port(), polling(sid), "4" + std::string(2000, 'x'));
  EXPECT_EQ(large.result_int(), 413u);
  EXPECT_EQ(large.body(), "");
  EXPECT_EQ(request(server.port(), http::verb::put, kPath + "?" + polling(sid)).result_int(), 500u);
  EXPECT_EQ(post(server.port(), polling(sid), "4ok").body(), "ok");  // Neither closed the session.
  const Reply octets = post(server.port(), polling(sid), "4x", {{http::field::content_type, "application/octet-stream"}});
  EXPECT_EQ(octets.result_int(), 400u);
  EXPECT_EQ(get(server.port(), polling(sid)).result_int(), 400u);
}

TEST(EngineIoPolling, SameOriginOnlyByDefaultWithCorsForAdmittedOrigins) {
  EchoServer server(calm_options(), /*allowed_origins=*/{});
  const std::string own = "http://127.0.0.1:" + std::to_string(server.port());
  const Reply refused = get(server.port(), "EIO=4&transport=polling", {{http::field::origin, "http://evil.example"}});
  EXPECT_EQ(refused.result_int(), 403u);
  EXPECT_EQ(refused.body(), error_body(4, "Forbidden"));
  EXPECT_EQ(server.engine().session_count(), 0u);

  const Reply admitted = get(server.port(), "EIO=4&transport=polling", {{http::field::origin, own}});
  EXPECT_EQ(admitted.result_int(), 200u);
  EXPECT_EQ(admitted[http::field::access_control_allow_origin], own);
  EXPECT_EQ(admitted[http::field::access_control_allow_credentials], "true");
  EXPECT_EQ(admitted[http::field::vary], "Origin");

  const Reply preflight = request(server.port(), http::verb::options, kPath + "?EIO=4&transport=polling", {},
                                  {{http::field::origin, own}, {http::field::access_control_request_headers, "x-token"}});
  EXPECT_EQ(preflight.result_int(), 204u);
  EXPECT_EQ(preflight[http::field::access_control_allow_origin], own);
  EXPECT_EQ(preflight[http::field::access_control_allow_headers], "x-token");

  const Reply anonymous = get(server.port(), "EIO=4&transport=polling");  // No Origin: not a browser.
  EXPECT_EQ(anonymous.result_int(), 200u);
  EXPECT_EQ(anonymous[http::field::access_control_allow_origin], "");
}

TEST(EngineIoPolling, WsUpgradesFromAForeignOriginAreRefused) {
  EchoServer server(calm_options(), /*allowed_origins=*/{"http://page.example"});
  const Headers upgrade = {{http::field::connection, "Upgrade"}, {http::field::upgrade, "websocket"},
                           {http::field::sec_websocket_version, "13"},
                           {http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ=="}};
  Headers foreign = upgrade;
  foreign.emplace_back(http::field::origin, "http://evil.example");
  const Reply ws = request(server.port(), http::verb::get, "/ws", {}, foreign);
  EXPECT_EQ(ws.result_int(), 403u);
  EXPECT_NE(ws.body().find("\"forbidden\""), std::string::npos) << ws.body();
  const Reply engine = request(server.port(), http::verb::get, kPath + "?EIO=4&transport=websocket", {}, foreign);
  EXPECT_EQ(engine.result_int(), 403u);
  EXPECT_EQ(engine.body(), error_body(4, "Forbidden"));
  Headers listed = upgrade;
  listed.emplace_back(http::field::origin, "http://page.example");
  EXPECT_EQ(request(server.port(), http::verb::get, kPath + "?EIO=4&transport=websocket", {}, listed).result_int(), 101u);
}

}  // namespace
}  // namespace posestream::server::engineio::testing
