// Access control: token files, the constant-time comparison, where a request's token is found, and the
// 401s of /ws, /v1/detect and /metrics on a real server (while /healthz, /readyz and files stay open).
#include <unistd.h>

#include <functional>

#include "server/access_tokens.h"
#include "server/server_test_support.h"

namespace posestream::server::testing {
namespace {

const std::string kToken = "correct-horse-battery-staple";
const std::string kOtherToken = "second-token-0123456789";
const std::string kMetricsToken = "metrics-scraper-token-42";
const std::string kWrongToken = "correct-horse-battery-stapler";

// A file in the test's own temporary directory, removed with the object.
class TempFile {
 public:
  explicit TempFile(const std::string& text)
      : path_(std::filesystem::temp_directory_path() /
              ("posestream-tokens-" + std::to_string(::getpid()) + "-" + std::to_string(next_++))) {
    std::ofstream(path_) << text;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  static inline int next_ = 0;
  std::filesystem::path path_;
};

std::string invalid_argument_message(const std::function<void()>& load) {
  try {
    load();
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  return "(no exception)";
}

TEST(AccessTokens, OneTokenPerLineWithBlankLinesAndCommentsIgnored) {
  const AccessTokens tokens =
      AccessTokens::parse("# deploy tokens\n\n  " + kToken + "  \r\n\t# old one removed\n" + kOtherToken, "test");
  EXPECT_EQ(tokens.size(), 2u);
  EXPECT_FALSE(tokens.open());
  EXPECT_TRUE(tokens.admits(kToken));
  EXPECT_TRUE(tokens.admits(kOtherToken));
  EXPECT_FALSE(tokens.admits(kWrongToken));
  EXPECT_FALSE(tokens.admits(std::string{}));
  EXPECT_FALSE(tokens.admits(std::nullopt));
  EXPECT_FALSE(tokens.admits("# deploy tokens"));
}

TEST(AccessTokens, NoFileMeansOpenAccess) {
  const AccessTokens tokens;
  EXPECT_TRUE(tokens.open());
  EXPECT_TRUE(tokens.admits(std::nullopt));
}

TEST(AccessTokens, LoadsAFile) {
  const TempFile file(kToken + "\n");
  EXPECT_TRUE(AccessTokens::load(file.path(), "--auth-token-file").admits(kToken));
}

TEST(AccessTokens, EmptyOrCommentOnlyFileIsAStartUpError) {
  const TempFile empty("");
  const std::string message = invalid_argument_message([&] { AccessTokens::load(empty.path(), "--auth-token-file"); });
  EXPECT_NE(message.find("--auth-token-file"), std::string::npos) << message;
  EXPECT_NE(message.find("no token"), std::string::npos) << message;
  const TempFile comments("# nothing yet\n\n");
  EXPECT_THROW(AccessTokens::load(comments.path(), "--auth-token-file"), std::invalid_argument);
}

TEST(AccessTokens, UnreadableFileIsAStartUpError) {
  const std::string message = invalid_argument_message(
      [] { AccessTokens::load("/nonexistent/posestream/tokens", "--metrics-token-file"); });
  EXPECT_NE(message.find("--metrics-token-file /nonexistent/posestream/tokens: cannot be read"), std::string::npos)
      << message;
  EXPECT_THROW(AccessTokens::load(std::filesystem::temp_directory_path(), "--auth-token-file"), std::invalid_argument);
}

TEST(AccessTokens, BadTokensNameTheLineButNeverTheToken) {
  const std::string message = invalid_argument_message([] { AccessTokens::parse("# c\nshort-secret\n", "tokens"); });
  EXPECT_NE(message.find("tokens: line 2"), std::string::npos) << message;
  EXPECT_EQ(message.find("short-secret"), std::string::npos) << message;
  EXPECT_THROW(AccessTokens::parse("has a space inside the token\n", "t"), std::invalid_argument);
  EXPECT_THROW(AccessTokens::parse(std::string(kMaxTokenBytes + 1, 'x'), "t"), std::invalid_argument);
  EXPECT_NO_THROW(AccessTokens::parse(std::string(kMinTokenBytes, 'x'), "t"));
}

TEST(ConstantTimeEqual, IsExactlyEquality) {
  EXPECT_TRUE(constant_time_equal(kToken, kToken));
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_FALSE(constant_time_equal(kToken, kWrongToken));         // A longer presented token.
  EXPECT_FALSE(constant_time_equal(kWrongToken, kToken));         // A shorter one.
  EXPECT_FALSE(constant_time_equal("", kToken));
  EXPECT_FALSE(constant_time_equal(kToken, ""));
  EXPECT_FALSE(constant_time_equal("abcdefgh", "abcdefgX"));      // Last byte differs.
  EXPECT_FALSE(constant_time_equal("Xbcdefgh", "abcdefgh"));      // First byte differs.
  EXPECT_FALSE(constant_time_equal("abababab", "abab"));          // The secret repeated (read cyclically).
  // Every single-bit change of every byte is told apart.
  for (std::size_t i = 0; i < kToken.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string changed = kToken;
      changed[i] = static_cast<char>(changed[i] ^ (1 << bit));
      EXPECT_FALSE(constant_time_equal(changed, kToken)) << i << " " << bit;
    }
  }
}

TEST(PresentedToken, FromTheBearerHeaderOrTheTokenQueryParameter) {
  EXPECT_EQ(presented_token("Bearer " + kToken, "/ws"), kToken);
  EXPECT_EQ(presented_token("bearer  " + kToken + " ", "/ws"), kToken);
  EXPECT_EQ(presented_token("", "/ws?token=" + kToken), kToken);
  EXPECT_EQ(presented_token("", "/v1/detect?pose=lite&token=a%2Bb%2fc+d&hands=off"), "a+b/c+d");
  EXPECT_EQ(presented_token("Bearer " + kToken, "/ws?token=other"), kToken);  // The header first.
  EXPECT_EQ(presented_token("Basic dXNlcjpwYXNz", "/ws?token=" + kToken), kToken);
  EXPECT_EQ(presented_token("", "/ws"), std::nullopt);
  EXPECT_EQ(presented_token("Basic dXNlcjpwYXNz", "/ws?tokens=x"), std::nullopt);
}

// A server with --auth-token-file (two tokens) and, when given, --metrics-token-file.
class AccessServer : public ::testing::Test {
 protected:
  void start(bool metrics_token) {
    ServerOptions options = test_options();
    options.auth_token_file = api_file_.path();
    if (metrics_token) options.metrics_token_file = metrics_file_.path();
    server_ = std::make_unique<RunningServer>(options);
  }
  std::uint16_t port() const { return server_->port(); }

  TempFile api_file_{"# api\n" + kToken + "\n" + kOtherToken + "\n"};
  TempFile metrics_file_{kMetricsToken + "\n"};
  std::unique_ptr<RunningServer> server_;
};

TEST_F(AccessServer, WebSocketUpgradeWithoutTheRightTokenIs401) {
  start(false);
  const HttpReply none = http_request(port(), http::verb::get, "/ws", {}, true);
  EXPECT_EQ(none.status, 401u);
  EXPECT_EQ(none.www_authenticate, "Bearer");
  EXPECT_EQ(json::parse(none.body)["code"], "unauthorized");
  EXPECT_EQ(none.body.find(kToken), std::string::npos);
  EXPECT_EQ(http_request(port(), http::verb::get, "/ws", {}, true, "Bearer " + kWrongToken).status, 401u);
  EXPECT_EQ(http_request(port(), http::verb::get, "/ws?token=" + kWrongToken, {}, true).status, 401u);
  EXPECT_EQ(http_request(port(), http::verb::get, "/ws?token=", {}, true).status, 401u);
  // Nothing was opened for them.
  EXPECT_EQ(json::parse(http_request(port(), http::verb::get, "/healthz").body)["sessions"], 0);
}

TEST_F(AccessServer, WebSocketWithTheRightTokenInTheHeaderOrTheQueryIsServed) {
  start(false);
  WsClient by_header(port(), 0, "/ws", "Bearer " + kToken);
  EXPECT_EQ((*by_header.read())["type"], "hello");
  WsClient by_query(port(), 0, "/ws?token=" + kOtherToken);
  EXPECT_EQ((*by_query.read())["type"], "hello");
  by_query.send_text(kDecodeOnlyConfig);
  by_query.send_binary(psf1(0, 1, jpeg(32, 32)));
  EXPECT_EQ((*by_query.read_answer())["type"], "result");
}

TEST_F(AccessServer, DetectWithoutTheRightTokenIs401) {
  start(false);
  const std::string image = [] { const Bytes bytes = jpeg(32, 32); return std::string(bytes.begin(), bytes.end()); }();
  EXPECT_EQ(http_request(port(), http::verb::post, "/v1/detect?pose=off&hands=off", image).status, 401u);
  EXPECT_EQ(http_request(port(), http::verb::post, "/v1/detect", image, false, "Bearer " + kWrongToken).status, 401u);
  EXPECT_EQ(http_request(port(), http::verb::post, "/v1/detect?token=" + kWrongToken, image).status, 401u);
  const HttpReply by_header =
      http_request(port(), http::verb::post, "/v1/detect?pose=off&hands=off", image, false, "Bearer " + kToken);
  EXPECT_EQ(by_header.status, 200u) << by_header.body;
  const HttpReply by_query = http_request(port(), http::verb::post, "/v1/detect?pose=off&token=" + kToken + "&hands=off", image);
  EXPECT_EQ(by_query.status, 200u) << by_query.body;
}

// The 401 is decided from the headers: a request whose body never comes is still answered (were the
// body read first, the server would wait for it, and this read would give up after kAnswerTimeout).
TEST_F(AccessServer, DetectIsRefusedBeforeItsBodyIsRead) {
  start(false);
  net::io_context io;
  beast::tcp_stream stream(io);
  stream.connect({net::ip::make_address("127.0.0.1"), port()});
  const std::string head = "POST /v1/detect HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\n"
                           "Content-Length: 100000\r\n\r\n";
  net::write(stream, net::buffer(head));
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  std::optional<beast::error_code> result;
  http::async_read(stream, buffer, response, [&](beast::error_code error, std::size_t) { result = error; });
  io.run_for(kAnswerTimeout);
  ASSERT_TRUE(result.has_value()) << "no answer before the body";
  EXPECT_FALSE(*result) << result->message();
  EXPECT_EQ(response.result_int(), 401u);
}

TEST_F(AccessServer, ProbesAndFilesStayOpenAndMetricsIsOpenWithoutItsOwnToken) {
  start(false);
  EXPECT_EQ(http_request(port(), http::verb::get, "/healthz").status, 200u);
  EXPECT_EQ(http_request(port(), http::verb::get, "/readyz").status, 200u);
  EXPECT_EQ(http_request(port(), http::verb::get, "/").status, 200u);
  EXPECT_EQ(http_request(port(), http::verb::get, "/metrics").status, 200u);
}

TEST_F(AccessServer, MetricsWithItsOwnTokenFile) {
  start(true);
  EXPECT_EQ(http_request(port(), http::verb::get, "/metrics").status, 401u);
  EXPECT_EQ(http_request(port(), http::verb::get, "/metrics", {}, false, "Bearer " + kToken).status, 401u);
  const HttpReply scraped = http_request(port(), http::verb::get, "/metrics", {}, false, "Bearer " + kMetricsToken);
  EXPECT_EQ(scraped.status, 200u);
  EXPECT_NE(scraped.body.find("posestream_http_requests_total{code=\"401\",route=\"metrics\"} 2"), std::string::npos)
      << scraped.body.substr(0, 2000);
  // The metrics token is not an API token.
  EXPECT_EQ(http_request(port(), http::verb::get, "/ws", {}, true, "Bearer " + kMetricsToken).status, 401u);
}

TEST(AccessStartUp, AnUnreadableTokenFileStopsTheServerFromStarting) {
  ServerOptions options = test_options();
  options.auth_token_file = "/nonexistent/posestream/tokens";
  EXPECT_THROW(Server{options}, std::invalid_argument);
}

}  // namespace
}  // namespace posestream::server::testing
