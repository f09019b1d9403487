// Origin checks: parsing "scheme://host[:port]" and Host headers, same-origin and list matching, CORS.
#include "server/engineio/origin.h"

#include <algorithm>
#include <cctype>

namespace posestream::server::engineio {
namespace {

// Longest origin or Host considered: a real one is a host name (at most 253 characters) with a scheme
// and a port.
constexpr std::size_t kMaxOriginLength = 300;

struct Authority {
  std::string host;  // Lower case; an IPv6 literal keeps its brackets.
  std::string port;  // Digits, or empty when not given.
};

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool all_digits(std::string_view text) {
  return !text.empty() && text.size() <= 5 && std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

bool host_char(unsigned char c) { return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '[' || c == ']' || c == ':'; }

// "host", "host:port", "[::1]:port"; nullopt if malformed.
std::optional<Authority> parse_authority(std::string_view text) {
  if (text.empty() || text.size() > kMaxOriginLength) return std::nullopt;
  if (!std::all_of(text.begin(), text.end(), host_char)) return std::nullopt;
  Authority authority;
  const std::size_t bracket = text.rfind(']');
  const std::size_t colon = text.rfind(':');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    authority.port = std::string(text.substr(colon + 1));
    if (!all_digits(authority.port)) return std::nullopt;
    text = text.substr(0, colon);
  }
  if (text.empty()) return std::nullopt;
  authority.host = lower(text);
  return authority;
}

struct Origin {
  std::string scheme;
  Authority authority;  // Port filled in from the scheme when not given.
};

std::string default_port(std::string_view scheme) { return scheme == "https" || scheme == "wss" ? "443" : "80"; }

std::optional<Origin> parse_origin(std::string_view text) {
  if (text.size() > kMaxOriginLength) return std::nullopt;
  if (text.ends_with('/')) text.remove_suffix(1);
  const std::size_t separator = text.find("://");
  if (separator == std::string_view::npos || separator == 0) return std::nullopt;
  Origin origin{lower(text.substr(0, separator)), {}};
  if (!std::all_of(origin.scheme.begin(), origin.scheme.end(), [](unsigned char c) { return std::isalpha(c); })) {
    return std::nullopt;
  }
  std::optional<Authority> authority = parse_authority(text.substr(separator + 3));
  if (!authority) return std::nullopt;
  origin.authority = std::move(*authority);
  if (origin.authority.port.empty()) origin.authority.port = default_port(origin.scheme);
  return origin;
}

bool same_origin(const Origin& origin, std::string_view host_header) {
  const std::optional<Authority> host = parse_authority(host_header);
  if (!host) return false;
  // A Host without a port is on the scheme's default port (the page's scheme: the request's own is not
  // known here, and a page is same-origin only over the same scheme anyway).
  const std::string host_port = host->port.empty() ? default_port(origin.scheme) : host->port;
  return host->host == origin.authority.host && host_port == origin.authority.port;
}

bool listed(const Origin& origin, const std::vector<std::string>& allowed_origins) {
  return std::any_of(allowed_origins.begin(), allowed_origins.end(), [&](const std::string& entry) {
    const std::optional<Origin> allowed = parse_origin(entry);
    return allowed && allowed->scheme == origin.scheme && allowed->authority.host == origin.authority.host &&
           allowed->authority.port == origin.authority.port;
  });
}

}  // namespace

bool origin_allowed(std::optional<std::string_view> origin, std::string_view host,
                    const std::vector<std::string>& allowed_origins) {
  if (!origin) return true;
  if (std::find(allowed_origins.begin(), allowed_origins.end(), "*") != allowed_origins.end()) return true;
  const std::optional<Origin> parsed = parse_origin(*origin);  // "null" (sandboxed pages, files) fails here.
  if (!parsed) return false;
  return allowed_origins.empty() ? same_origin(*parsed, host) : listed(*parsed, allowed_origins);
}

std::optional<std::string> validate_allowed_origins(const std::vector<std::string>& allowed_origins) {
  for (const std::string& entry : allowed_origins) {
    if (entry != "*" && !parse_origin(entry)) {
      return "allowed_origins: '" + entry + "' is not \"*\" nor an origin \"scheme://host[:port]\"";
    }
  }
  return std::nullopt;
}

HeaderList cors_headers(std::optional<std::string_view> origin) {
  if (!origin) return {};
  return {{"Access-Control-Allow-Origin", std::string(*origin)},
          {"Access-Control-Allow-Credentials", "true"},
          {"Vary", "Origin"}};
}

}  // namespace posestream::server::engineio
