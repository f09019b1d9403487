// POST /v1/detect: one image through a one-frame stream session in static-image mode, answered as JSON.
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <charconv>
#include <exception>

#include "server/http_session.h"
#include "server/protocol.h"

namespace posestream::server {
namespace {

constexpr std::string_view kJson = "application/json";

// ?pose=lite|full|heavy|off&hands=lite|full|off&hands_from_pose=true|false&num_poses=N, as the WebSocket
// config names them. Empty on success, else what is wrong.
std::string read_query(std::string_view target, StreamSettings& settings) {
  const std::size_t question = target.find('?');
  if (question == std::string_view::npos) return {};
  std::string_view query = target.substr(question + 1);
  while (!query.empty()) {
    const std::string_view pair = query.substr(0, query.find('&'));
    query.remove_prefix(std::min(query.size(), pair.size() + 1));
    const std::size_t equals = pair.find('=');
    const std::string_view key = pair.substr(0, equals);
    const std::string_view value = equals == std::string_view::npos ? std::string_view{} : pair.substr(equals + 1);
    if (key == "token") continue;  // The access token, checked before the body was read (http_access.cpp).
    // The config parser is the one place that knows the names; a query is a config in other clothes.
    nlohmann::json config = {{"type", "config"}};
    int count = 0;
    const auto [end, parsed_count] = std::from_chars(value.data(), value.data() + value.size(), count);
    if (key == "hands_from_pose" && (value == "true" || value == "false")) {
      config[std::string(key)] = value == "true";
    } else if (key == "num_poses" && parsed_count == std::errc{} && end == value.data() + value.size()) {
      config[std::string(key)] = count;
    } else if (key == "num_poses") {
      config[std::string(key)] = std::string(value);  // Named by the parser.
    } else if (key == "pose" || key == "hands" || key == "hands_from_pose") {
      config[std::string(key)] = std::string(value);  // A bad hands_from_pose is named by the parser.
    } else {
      return "unknown query parameter '" + std::string(key.substr(0, 40)) + "'";
    }
    const ClientMessage parsed = parse_text_message(config.dump());
    if (const auto* bad = std::get_if<BadMessage>(&parsed)) return bad->message;
    settings.apply(std::get<ConfigMessage>(parsed));
  }
  return {};
}

}  // namespace

template <typename Stream>
void HttpSession<Stream>::start_detect(Request&& request) {
  const unsigned version = request.version();
  const bool keep_alive = request.keep_alive();
  StreamSettings settings;
  settings.hands_from_pose = false;  // As `posestream detect`: MediaPipe's HandLandmarker, the palm detector.
  settings.num_poses = context_.options.stream_defaults.num_poses;  // `serve --num-poses`, unless asked.
  std::string problem = read_query(request.target(), settings);
  if (problem.empty()) problem = check_settings(settings, context_.options.limits).value_or("");
  if (problem.empty()) problem = stream::validate(settings.stream_config()).value_or("");
  if (!problem.empty()) {
    send_text(version, keep_alive, http::status::bad_request, kJson, encode_error("bad_query", problem), "detect");
    return;
  }
  if (request.body().empty()) {
    send_text(version, keep_alive, http::status::bad_request, kJson,
              encode_error("no_image", "POST a JPEG or PNG image as the request body"), "detect");
    return;
  }
  if (context_.draining) {
    send_text(version, false, http::status::service_unavailable, kJson,
              encode_error("unavailable", "the server is shutting down"), "detect");
    return;
  }
  if (!ServerContext::try_reserve(context_.detect_requests, context_.options.limits.max_detect_requests)) {
    send_text(version, keep_alive, http::status::service_unavailable, kJson,
              encode_error("unavailable", "max_detect_requests images are already running"), "detect");
    return;
  }
  stream::SessionOptions options = context_.stream_session_options();
  options.config = settings.stream_config();
  options.config.static_image_mode = true;
  options.config.smoothing = false;
  auto sink = [weak = this->weak_from_this(), executor = strand_, version, keep_alive](stream::Answer&& answer) {
    net::post(executor, [weak, answer = std::move(answer), version, keep_alive]() mutable {
      if (const auto self = weak.lock()) self->on_detect_answer(std::move(answer), version, keep_alive);
    });
  };
  try {
    detect_ = context_.scheduler->open_session(options, std::move(sink));
  } catch (const std::exception& error) {
    spdlog::error("detect: cannot open a stream session: {}", error.what());
  }
  if (detect_ == nullptr) {
    context_.detect_requests.fetch_sub(1);
    send_text(version, false, http::status::service_unavailable, kJson,
              encode_error("unavailable", "no stream session available (server full or stopping)"), "detect");
    return;
  }
  pending_self_ = this->shared_from_this();
  const auto now = std::chrono::steady_clock::now();
  std::string& body = request.body();
  detect_->push(stream::FrameInput{0, 0, std::vector<std::uint8_t>(body.begin(), body.end()), now}, now);
}

template <typename Stream>
void HttpSession<Stream>::on_detect_answer(stream::Answer&& answer, unsigned version, bool keep_alive) {
  const std::shared_ptr<HttpSession> self = std::move(pending_self_);  // Released when this returns.
  detect_->close();
  detect_.reset();
  context_.detect_requests.fetch_sub(1);
  if (const auto* result = std::get_if<stream::ResultAnswer>(&answer)) {
    send_text(version, keep_alive, http::status::ok, kJson, encode_image_result(result->result), "detect");
    return;
  }
  const auto& dropped = std::get<stream::DroppedAnswer>(answer);
  if (dropped.reason == stream::DroppedReason::invalid) {
    send_text(version, keep_alive, http::status::unprocessable_entity, kJson,
              encode_error("invalid_image", dropped.message), "detect");
  } else {  // Superseded: the server stopped before the image ran.
    send_text(version, false, http::status::service_unavailable, kJson,
              encode_error("unavailable", std::string("image not run: ") + stream::to_string(dropped.reason)), "detect");
  }
}

// The members defined here, for both transports (the class itself is instantiated in http_session.cpp).
template void HttpSession<PlainStream>::start_detect(Request&&);
template void HttpSession<TlsStream>::start_detect(Request&&);
template void HttpSession<PlainStream>::on_detect_answer(stream::Answer&&, unsigned, bool);
template void HttpSession<TlsStream>::on_detect_answer(stream::Answer&&, unsigned, bool);

}  // namespace posestream::server
