// The HTTP answers of Engine.IO long-polling, byte for byte as the reference server's (SOCKETIO_FACTS 1.3, 1.7).
#include "server/engineio/http_answers.h"

namespace posestream::server::engineio {
namespace {

Response answer(const ReplyTo& to, http::status status, std::string_view content_type, std::string body) {
  Response response{status, to.version};
  response.set(http::field::server, "posestream");
  if (!content_type.empty()) response.set(http::field::content_type, content_type);
  for (const auto& [name, value] : to.cors) response.set(name, value);
  response.keep_alive(to.keep_alive);
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

}  // namespace

std::string_view error_message(ErrorCode code) {
  switch (code) {
    case ErrorCode::unknown_transport: return "Transport unknown";
    case ErrorCode::unknown_sid: return "Session ID unknown";
    case ErrorCode::bad_handshake_method: return "Bad handshake method";
    case ErrorCode::bad_request: return "Bad request";
    case ErrorCode::forbidden: return "Forbidden";
    case ErrorCode::unsupported_protocol_version: return "Unsupported protocol version";
  }
  return "Bad request";
}

Response coded_error(const ReplyTo& to, ErrorCode code) {
  const http::status status = code == ErrorCode::forbidden ? http::status::forbidden : http::status::bad_request;
  std::string body = "{\"code\":" + std::to_string(static_cast<int>(code)) + ",\"message\":\"" +
                     std::string(error_message(code)) + "\"}";
  return answer(to, status, "application/json", std::move(body));
}

Response empty_answer(const ReplyTo& to, http::status status) { return answer(to, status, {}, {}); }

Response payload_answer(const ReplyTo& to, std::string body) {
  Response response = answer(to, http::status::ok, "text/plain; charset=UTF-8", std::move(body));
  response.set(http::field::cache_control, "no-store");
  return response;
}

Response ok_answer(const ReplyTo& to) {
  Response response = answer(to, http::status::ok, "text/html", "ok");
  response.set(http::field::cache_control, "no-store");
  return response;
}

Response preflight_answer(const ReplyTo& to, std::string_view requested_headers) {
  Response response = answer(to, http::status::no_content, {}, {});
  response.set(http::field::access_control_allow_methods, "GET,POST,OPTIONS");
  if (!requested_headers.empty()) {
    response.set(http::field::access_control_allow_headers, requested_headers);
    response.set(http::field::vary, to.cors.empty() ? "Access-Control-Request-Headers" : "Origin, Access-Control-Request-Headers");
  }
  return response;
}

}  // namespace posestream::server::engineio
