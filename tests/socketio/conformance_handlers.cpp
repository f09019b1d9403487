// The Socket.IO v5 suite's "/" and "/custom" namespaces, as its README's reference server defines them.
#include "socketio/conformance_handlers.h"

#include <utility>

namespace posestream::server::socketio::conformance {
namespace {

class SuiteHandler final : public SocketHandler {
 public:
  SuiteHandler(Socket socket, bool echoes) : socket_(std::move(socket)), echoes_(echoes) {}

  void on_connect(const Json& auth) override { socket_.emit("auth", Json::array({auth})); }

  void on_event(std::string_view event, Json args, Ack ack) override {
    if (!echoes_) return;
    if (event == "message") {
      socket_.emit("message-back", std::move(args));
    } else if (event == "message-with-ack") {
      ack(std::move(args));
    }
  }

 private:
  Socket socket_;
  bool echoes_;
};

SocketFactory suite_factory(bool echoes) {
  return [echoes](const ConnectRequest& request) -> ConnectResult {
    return std::make_unique<SuiteHandler>(request.socket, echoes);
  };
}

}  // namespace

std::shared_ptr<const Namespaces> make_namespaces() {
  return std::make_shared<const Namespaces>(Namespaces{
      {"/", suite_factory(/*echoes=*/true)},
      {"/custom", suite_factory(/*echoes=*/false)},
  });
}

Options suite_options() {
  Options options;
  options.connect_timeout = std::chrono::milliseconds{1000};
  return options;
}

}  // namespace posestream::server::socketio::conformance
