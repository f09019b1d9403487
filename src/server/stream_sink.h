// open_stream_session: a connection's stream::Session whose answers are posted to the connection's strand.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <exception>
#include <memory>
#include <string>

#include "server/server_context.h"

namespace posestream::server {

// Shared by the stream connections (/ws's WebSocketSession, Socket.IO's SocketIoStream). Workers call
// the sink; it only posts to `strand` and holds no strong reference, so the connection lives as long as
// its own pending operations, not as long as frames in flight; `on_answer` (a member of Owner, possibly
// private: the pointer is formed by the caller) then runs on the strand. Null, logged under `id`, when
// the Scheduler cannot open one (at its session limit, or stopping).
template <typename Owner>
std::shared_ptr<stream::Session> open_stream_session(ServerContext& context, const std::string& id,
                                                     std::weak_ptr<Owner> owner, net::any_io_executor strand,
                                                     void (Owner::*on_answer)(stream::Answer&&)) {
  auto sink = [owner, strand, on_answer](stream::Answer&& answer) {
    if (owner.expired()) return;
    net::post(strand, [owner, on_answer, answer = std::move(answer)]() mutable {
      if (const auto self = owner.lock()) ((*self).*on_answer)(std::move(answer));
    });
  };
  try {
    return context.scheduler->open_session(context.stream_session_options(), std::move(sink));
  } catch (const std::exception& error) {
    spdlog::error("{}: cannot open a stream session: {}", id, error.what());
    return nullptr;
  }
}

}  // namespace posestream::server
