// TLS (--tls-cert, --tls-key): start-up errors naming the flag and file, then HTTPS and WSS on a real server
// with a certificate made at test time: probes, /v1/detect, a real frame, tokens, drain, plain HTTP refused.
#include <unistd.h>

#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <functional>

#include "server/server_test_support.h"
#include "server/tls_test_support.h"
#include "server/tls_context.h"

namespace posestream::server::testing {
namespace {

namespace ssl = net::ssl;

// A temporary directory with two certificates and their keys, removed with the object.
class TlsFiles {
 public:
  TlsFiles()
      : dir_(std::filesystem::temp_directory_path() /
             ("posestream-tls-" + std::to_string(::getpid()) + "-" + std::to_string(next_++))),
        pair_(self_signed("127.0.0.1")),
        other_(self_signed("other")) {
    std::filesystem::create_directories(dir_);
    std::ofstream(cert()) << pair_.cert;
    std::ofstream(key()) << pair_.key;
    std::ofstream(other_key()) << other_.key;
    std::ofstream(token_file()) << token() << "\n";
  }
  ~TlsFiles() { std::filesystem::remove_all(dir_); }

  std::filesystem::path cert() const { return dir_ / "cert.pem"; }
  std::filesystem::path key() const { return dir_ / "key.pem"; }
  std::filesystem::path other_key() const { return dir_ / "other-key.pem"; }
  std::filesystem::path token_file() const { return dir_ / "tokens"; }
  std::filesystem::path missing() const { return dir_ / "missing.pem"; }
  static std::string token() { return "tls-test-token-0123456789"; }
  const std::string& cert_pem() const { return pair_.cert; }

 private:
  static inline int next_ = 0;
  std::filesystem::path dir_;
  PemPair pair_;
  PemPair other_;
};

std::string start_up_error(const std::function<void()>& start) {
  try {
    start();
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  return "(no std::invalid_argument)";
}

// A client context that trusts only the test's certificate.
std::unique_ptr<ssl::context> trusting(const std::string& cert_pem) {
  auto context = std::make_unique<ssl::context>(ssl::context::tls_client);
  context->add_certificate_authority(net::buffer(cert_pem));
  context->set_verify_mode(ssl::verify_peer);
  return context;
}

// One HTTPS request on its own connection (see http_request in server_test_support.h).
HttpReply https_request(std::uint16_t port, const std::string& cert_pem, http::verb verb, const std::string& target,
                        std::string body = {}, bool websocket_upgrade = false) {
  net::io_context io;
  const auto context = trusting(cert_pem);
  beast::ssl_stream<beast::tcp_stream> stream(io, *context);
  beast::get_lowest_layer(stream).connect({net::ip::make_address("127.0.0.1"), port});
  stream.handshake(ssl::stream_base::client);
  http::request<http::string_body> request{verb, target, 11};
  request.set(http::field::host, "127.0.0.1");
  if (websocket_upgrade) {
    request.set(http::field::connection, "Upgrade");
    request.set(http::field::upgrade, "websocket");
    request.set(http::field::sec_websocket_version, "13");
    request.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
  }
  request.body() = std::move(body);
  request.prepare_payload();
  http::write(stream, request);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(stream, buffer, response);
  return {response.result_int(), std::string(response[http::field::content_type]),
          std::string(response[http::field::content_length]), response.body(),
          std::string(response[http::field::www_authenticate])};
}

// A blocking WSS client whose reads give up after a timeout, as WsClient.
class WssClient {
 public:
  WssClient(std::uint16_t port, const std::string& cert_pem, const std::string& target = "/ws")
      : context_(trusting(cert_pem)), ws_(io_, *context_) {
    beast::get_lowest_layer(ws_).connect({net::ip::make_address("127.0.0.1"), port});
    ws_.next_layer().handshake(ssl::stream_base::client);
    ws_.handshake("127.0.0.1:" + std::to_string(port), target);
  }

  void send_text(const std::string& text) { write_text(ws_, text); }
  void send_binary(const Bytes& bytes) { write_binary(ws_, bytes); }
  // The next text message; nullopt when the connection closed (see close_code) or timed out.
  std::optional<json> read() {
    beast::flat_buffer buffer;
    const std::optional<beast::error_code> result = read_within(io_, ws_, buffer, kAnswerTimeout);
    if (!result) return std::nullopt;
    if (*result) {
      error_ = *result;
      return std::nullopt;
    }
    return json::parse(beast::buffers_to_string(buffer.data()));
  }
  std::optional<json> read_answer() {
    for (;;) {
      std::optional<json> message = read();
      if (!message || (*message)["type"] != "hello") return message;
    }
  }
  int close_code() const { return error_ == websocket::error::closed ? ws_.reason().code : 0; }

 private:
  net::io_context io_;
  std::unique_ptr<ssl::context> context_;
  websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws_;
  beast::error_code error_;
};

TEST(TlsContext, NoFilesMeansPlainAndAMatchingPairLoads) {
  const TlsFiles files;
  EXPECT_EQ(load_tls_context({}, {}), nullptr);
  EXPECT_NE(load_tls_context(files.cert(), files.key()), nullptr);
}

TEST(TlsContext, OnlyOneOfTheTwoFlagsIsAnError) {
  const TlsFiles files;
  const std::string cert_only = start_up_error([&] { load_tls_context(files.cert(), {}); });
  EXPECT_NE(cert_only.find("--tls-cert " + files.cert().string() + " is given without --tls-key"), std::string::npos)
      << cert_only;
  const std::string key_only = start_up_error([&] { load_tls_context({}, files.key()); });
  EXPECT_NE(key_only.find("--tls-key " + files.key().string() + " is given without --tls-cert"), std::string::npos)
      << key_only;
}

TEST(TlsContext, MissingFilesAreNamed) {
  const TlsFiles files;
  const std::string no_cert = start_up_error([&] { load_tls_context(files.missing(), files.key()); });
  EXPECT_NE(no_cert.find("--tls-cert " + files.missing().string() + ": no such file"), std::string::npos) << no_cert;
  const std::string no_key = start_up_error([&] { load_tls_context(files.cert(), files.missing()); });
  EXPECT_NE(no_key.find("--tls-key " + files.missing().string() + ": no such file"), std::string::npos) << no_key;
}

TEST(TlsContext, FilesThatAreNotPemAreNamed) {
  const TlsFiles files;
  // The token file is readable text, but neither a certificate nor a key.
  const std::string bad_key = start_up_error([&] { load_tls_context(files.cert(), files.token_file()); });
  EXPECT_NE(bad_key.find("--tls-key " + files.token_file().string() + ": not a usable PEM private key"),
            std::string::npos)
      << bad_key;
  const std::string bad_cert = start_up_error([&] { load_tls_context(files.token_file(), files.key()); });
  EXPECT_NE(bad_cert.find("--tls-cert " + files.token_file().string() + ": not a usable PEM certificate"),
            std::string::npos)
      << bad_cert;
}

TEST(TlsContext, AKeyOfAnotherCertificateIsAnError) {
  const TlsFiles files;
  const std::string message = start_up_error([&] { load_tls_context(files.cert(), files.other_key()); });
  EXPECT_NE(message.find("--tls-key " + files.other_key().string() + " does not match the certificate in --tls-cert " +
                         files.cert().string()),
            std::string::npos)
      << message;
}

// The TLS files are checked before any model loads: with no models at all, the error is still the TLS one.
TEST(TlsServer, BadTlsFilesStopTheServerBeforeItLoadsModels) {
  const TlsFiles files;
  ServerOptions options = test_options();
  options.models_dir = files.missing();
  options.prewarm = stream::StreamConfig{};
  options.tls_cert_file = files.cert();
  options.tls_key_file = files.other_key();
  const std::string message = start_up_error([&] { Server server(options); });
  EXPECT_NE(message.find("does not match the certificate"), std::string::npos) << message;
  options.tls_key_file.clear();
  EXPECT_NE(start_up_error([&] { Server server(options); }).find("without --tls-key"), std::string::npos);
}

ServerOptions tls_options(const TlsFiles& files) {
  ServerOptions options = test_options();
  options.tls_cert_file = files.cert();
  options.tls_key_file = files.key();
  return options;
}

TEST(TlsServer, HttpsServesProbesMetricsAndDetect) {
  const TlsFiles files;
  RunningServer server(tls_options(files));
  const HttpReply health = https_request(server.port(), files.cert_pem(), http::verb::get, "/healthz");
  EXPECT_EQ(health.status, 200u);
  EXPECT_EQ(json::parse(health.body)["status"], "ok");
  EXPECT_EQ(https_request(server.port(), files.cert_pem(), http::verb::get, "/readyz").status, 200u);
  const Bytes image = jpeg(32, 32);
  const HttpReply detect = https_request(server.port(), files.cert_pem(), http::verb::post,
                                         "/v1/detect?pose=off&hands=off", std::string(image.begin(), image.end()));
  EXPECT_EQ(detect.status, 200u) << detect.body;
  const HttpReply metrics = https_request(server.port(), files.cert_pem(), http::verb::get, "/metrics");
  EXPECT_NE(metrics.body.find("\nposestream_tls_handshake_failures_total 0"), std::string::npos);
}

TEST(TlsServer, WssRoundTripOfARealFrame) {
  const std::filesystem::path photo = posestream::testing::test_data_dir() / "images" / "messi5.jpg";
  if (!std::filesystem::exists(photo)) GTEST_SKIP() << "no " << photo;
  const TlsFiles files;
  RunningServer server(tls_options(files));
  WssClient client(server.port(), files.cert_pem());
  const std::optional<json> hello = client.read();
  ASSERT_TRUE(hello.has_value());
  EXPECT_EQ((*hello)["type"], "hello");
  client.send_text(R"({"type":"config","pose":"lite","hands":"off"})");
  client.send_binary(psf1(0, 1'000, read_bytes(photo)));
  const std::optional<json> answer = client.read_answer();
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ((*answer)["type"], "result") << answer->dump();
  EXPECT_EQ((*answer)["sequence"], 0);
  ASSERT_TRUE((*answer)["pose"].is_object()) << answer->dump();
  EXPECT_EQ((*answer)["pose"]["landmarks"].size(), 33u);
}

TEST(TlsServer, TokensAreCheckedOverTls) {
  const TlsFiles files;
  ServerOptions options = tls_options(files);
  options.auth_token_file = files.token_file();
  RunningServer server(options);
  const HttpReply refused = https_request(server.port(), files.cert_pem(), http::verb::get, "/ws", {}, true);
  EXPECT_EQ(refused.status, 401u);
  EXPECT_EQ(refused.www_authenticate, "Bearer");
  // Refused from its headers: the 1 MiB body behind them is read away through TLS, so the client, still
  // sending it, gets the 401 rather than a reset.
  const HttpReply detect = https_request(server.port(), files.cert_pem(), http::verb::post,
                                         "/v1/detect?pose=off&hands=off", std::string(std::size_t{1} << 20, 'x'));
  EXPECT_EQ(detect.status, 401u);
  EXPECT_EQ(https_request(server.port(), files.cert_pem(), http::verb::get, "/healthz").status, 200u);
  WssClient admitted(server.port(), files.cert_pem(), "/ws?token=" + TlsFiles::token());
  const std::optional<json> hello = admitted.read();
  ASSERT_TRUE(hello.has_value());
  EXPECT_EQ((*hello)["type"], "hello");
}

// Plain HTTP to the TLS port is never answered as HTTP: its handshake fails, is counted, and closes only
// that connection.
TEST(TlsServer, PlainHttpFailsWithoutHarmingTheNextTlsRequest) {
  const TlsFiles files;
  RunningServer server(tls_options(files));
  std::optional<HttpReply> plain;
  try {
    plain = http_request(server.port(), http::verb::get, "/healthz");
  } catch (const std::exception&) {
  }
  EXPECT_FALSE(plain.has_value()) << "answered over plain HTTP: " << plain->status;
  EXPECT_EQ(https_request(server.port(), files.cert_pem(), http::verb::get, "/healthz").status, 200u);
  const HttpReply metrics = https_request(server.port(), files.cert_pem(), http::verb::get, "/metrics");
  EXPECT_NE(metrics.body.find("\nposestream_tls_handshake_failures_total 1"), std::string::npos) << metrics.body;
}

// SIGTERM's drain over TLS: /readyz 503 over HTTPS, and the WSS client gets 1012 through the TLS session.
TEST(TlsServer, DrainClosesWssWith1012) {
  const TlsFiles files;
  ServerOptions options = tls_options(files);
  options.drain_timeout = std::chrono::milliseconds{120'000};
  options.limits.handshake_timeout = std::chrono::milliseconds{120'000};
  RunningServer server(options);
  WssClient client(server.port(), files.cert_pem());
  ASSERT_TRUE(client.read().has_value());
  server.drain();
  EXPECT_EQ(https_request(server.port(), files.cert_pem(), http::verb::get, "/readyz").status, 503u);
  EXPECT_FALSE(client.read().has_value());
  EXPECT_EQ(client.close_code(), 1012);
  server.join();
}

}  // namespace
}  // namespace posestream::server::testing
