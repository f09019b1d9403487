// socketio_conformance_server: the server the official Engine.IO v4 and Socket.IO v5 suites expect
// (SOCKETIO_FACTS.md section 3), built from posestream's own server code.
//
//   socketio_conformance_server --port P      (P = 0: any free port; the port is printed)
//
// One posestream server::Server per loopback address (127.0.0.1, and ::1 when it can be bound on the
// same port: Node 18 may resolve the suites' "localhost" to either), each with two Engine.IO endpoints:
//   /engine.io/  every message echoed, text as text, binary as binary (the Engine.IO suite's server);
//   /socket.io/  Socket.IO with the suite's "/" and "/custom" namespaces (tests/socketio/
//                conformance_handlers.h); every other namespace refused.
// Both with the suites' settings: ping 300 ms, timeout 200 ms, max payload 1000000, connect timeout
// 1000 ms, any origin. No model is loaded: no frame is ever run. Runs until SIGINT or SIGTERM.
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "server/engineio/engine_server.h"
#include "server/server.h"
#include "socketio/conformance_handlers.h"

namespace {

namespace server = posestream::server;
namespace engineio = posestream::server::engineio;
namespace socketio = posestream::server::socketio;

// The Engine.IO suite's server: `socket.on("data", (...a) => socket.send(...a))`.
class EchoHandler final : public engineio::SocketHandler {
 public:
  explicit EchoHandler(std::weak_ptr<engineio::Socket> socket) : socket_(std::move(socket)) {}
  void on_message(engineio::Message message) override {
    if (const auto socket = socket_.lock()) socket->send(std::move(message));
  }
  void on_close(std::string_view) override {}

 private:
  std::weak_ptr<engineio::Socket> socket_;  // The socket owns this handler (engineio.h).
};

// Both suites' Engine.IO settings (their READMEs: pingInterval 300, pingTimeout 200, maxPayload 1e6).
engineio::Options suite_engine_options(std::string path) {
  engineio::Options options;
  options.path = std::move(path);
  options.ping_interval = std::chrono::milliseconds{300};
  options.ping_timeout = std::chrono::milliseconds{200};
  options.max_payload = 1'000'000;
  return options;
}

server::ServerOptions server_options(std::string host, std::uint16_t port) {
  server::ServerOptions options;
  options.host = std::move(host);
  options.port = port;
  options.models_dir = POSESTREAM_SOURCE_DIR "/models";  // Never read: nothing is prewarmed or run.
  options.workers = 1;
  options.inference_threads = 1;
  options.prewarm = std::nullopt;  // No model loads at start-up.
  options.allowed_origins = {"*"};  // The suites' cors: {origin: "*"}.
  // /socket.io/ is the suite's here, not posestream streams (those would be skipped anyway, the path
  // being served: said, not left to the order of installation).
  options.socketio.enabled = false;
  // Short: the suites leave nothing worth waiting for at shutdown.
  options.drain_timeout = std::chrono::milliseconds{1000};
  return options;
}

// A Server on host:port with both suites' endpoints installed (not yet running).
std::unique_ptr<server::Server> make_server(const std::string& host, std::uint16_t port) {
  auto instance = std::make_unique<server::Server>(server_options(host, port));
  instance->add_engine_server(suite_engine_options("/engine.io/"),
                              [](std::shared_ptr<engineio::Socket> socket, const engineio::Handshake&) {
                                return std::make_unique<EchoHandler>(socket);
                              });
  return instance;
}

struct Arguments {
  std::uint16_t port = 3000;  // The suites' hard-coded URL is http://localhost:3000.
};

std::optional<Arguments> parse(int argc, char** argv) {
  Arguments arguments;
  for (int index = 1; index < argc; ++index) {
    const std::string_view flag = argv[index];
    if (flag == "--port" && index + 1 < argc) {
      char* end = nullptr;
      const unsigned long port = std::strtoul(argv[++index], &end, 10);
      if (*end != '\0' || port > 65535) return std::nullopt;
      arguments.port = static_cast<std::uint16_t>(port);
    } else {
      return std::nullopt;
    }
  }
  return arguments;
}

}  // namespace

int main(int argc, char** argv) {
  const std::optional<Arguments> arguments = parse(argc, argv);
  if (!arguments) {
    std::fprintf(stderr, "usage: socketio_conformance_server [--port P]  (P = 0: any free port)\n");
    return 2;
  }
  try {
    // The Socket.IO connect timeouts run on an io_context of their own, on its own thread: the Server
    // does not expose its io_context, and a timer only posts a close to its session's strand.
    boost::asio::io_context timers;
    auto work = boost::asio::make_work_guard(timers);
    std::thread timer_thread([&timers] { timers.run(); });
    const auto namespaces = socketio::conformance::make_namespaces();
    const auto install_socketio = [&](server::Server& instance) {
      instance.add_engine_server(suite_engine_options("/socket.io/"),
                                 socketio::make_handler_factory(namespaces, socketio::conformance::suite_options(),
                                                                timers.get_executor()));
    };

    auto primary = make_server("127.0.0.1", arguments->port);
    install_socketio(*primary);
    const std::uint16_t port = primary->port();
    // ::1 on the same port, when this machine has it; the suites work without it where localhost is
    // 127.0.0.1.
    std::unique_ptr<server::Server> secondary;
    try {
      secondary = make_server("::1", port);
      install_socketio(*secondary);
    } catch (const std::exception& error) {
      std::fprintf(stderr, "socketio_conformance_server: not on [::1]:%u (%s)\n", port, error.what());
      secondary.reset();
    }
    std::thread secondary_thread;
    if (secondary) secondary_thread = std::thread([&secondary] { secondary->run(); });
    std::printf("socketio_conformance_server: listening on 127.0.0.1:%u%s, paths /engine.io/ /socket.io/\n", port,
                secondary ? " and [::1]" : "");
    std::fflush(stdout);

    primary->run(/*handle_signals=*/true);  // Until SIGINT or SIGTERM.
    if (secondary) {
      secondary->stop();
      secondary_thread.join();
    }
    work.reset();
    timers.stop();
    timer_thread.join();
  } catch (const std::exception& error) {
    std::fprintf(stderr, "socketio_conformance_server: %s\n", error.what());
    return 1;
  }
  return 0;
}
