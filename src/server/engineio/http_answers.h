// The HTTP answers of Engine.IO long-polling: payloads, "ok", preflights and the reference's errors.
#pragma once

#include <boost/beast/http.hpp>

#include <functional>
#include <string>
#include <string_view>

#include "server/engineio/origin.h"

namespace posestream::server::engineio {

namespace http = boost::beast::http;

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;
// Receives the one answer to a polling request. Called exactly once per request that returned a
// PollAbort (engine_server.h) unless that abort was called first; may be called from any thread.
using Respond = std::function<void(Response)>;

// What every answer to one request shares: the request's HTTP version and keep-alive, and the CORS
// headers its origin earns (origin.h: none without an Origin).
struct ReplyTo {
  unsigned version = 11;
  bool keep_alive = true;
  HeaderList cors;
};

// The reference's error codes (SOCKETIO_FACTS.md 1.7): 400 with {"code":N,"message":"..."} as
// application/json, except forbidden, which is 403.
enum class ErrorCode { unknown_transport = 0, unknown_sid = 1, bad_handshake_method = 2, bad_request = 3,
                       forbidden = 4, unsupported_protocol_version = 5 };

std::string_view error_message(ErrorCode code);
Response coded_error(const ReplyTo& to, ErrorCode code);
// An answer with an empty body: 400 (overlapping GETs, octet-stream POST), 413 (POST over maxPayload),
// 500 (another method with a sid), 503 (max_sessions).
Response empty_answer(const ReplyTo& to, http::status status);
// 200, text/plain; charset=UTF-8, cache-control: no-store: a GET's payload (also the handshake).
Response payload_answer(const ReplyTo& to, std::string body);
// 200, text/html, "ok": a POST taken.
Response ok_answer(const ReplyTo& to);
// 204 to an OPTIONS preflight: the methods the layer answers and the headers the page asked for.
Response preflight_answer(const ReplyTo& to, std::string_view requested_headers);

}  // namespace posestream::server::engineio
