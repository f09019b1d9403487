// Access tokens: reading a token file, comparing in constant time, finding a request's token.
#include "server/access_tokens.h"

#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>

namespace posestream::server {
namespace {

std::string_view trimmed(std::string_view line) {
  const std::size_t first = line.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const std::size_t last = line.find_last_not_of(" \t\r");
  return line.substr(first, last - first + 1);
}

// Empty if `token` is usable; else why not (never the token itself: messages get logged).
std::string token_problem(std::string_view token) {
  if (token.size() < kMinTokenBytes) return "a token shorter than " + std::to_string(kMinTokenBytes) + " characters";
  if (token.size() > kMaxTokenBytes) return "a token longer than " + std::to_string(kMaxTokenBytes) + " characters";
  for (const char c : token) {
    if (c <= ' ' || c > '~') return "a character that is not printable ASCII or is a space";
  }
  return {};
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX decoded; '+' stays '+' (no token holds a space, and base64 tokens hold '+'). A malformed escape
// is kept as it is (it then matches no token).
std::string percent_decoded(std::string_view text) {
  std::string decoded;
  decoded.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      decoded.push_back(static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2])));
      i += 2;
    } else {
      decoded.push_back(text[i]);
    }
  }
  return decoded;
}

std::optional<std::string> query_token(std::string_view target) {
  const std::size_t question = target.find('?');
  if (question == std::string_view::npos) return std::nullopt;
  std::string_view query = target.substr(question + 1);
  while (!query.empty()) {
    const std::string_view pair = query.substr(0, query.find('&'));
    query.remove_prefix(std::min(query.size(), pair.size() + 1));
    if (pair.substr(0, 6) == "token=") return percent_decoded(pair.substr(6));
  }
  return std::nullopt;
}

bool iequals_ascii(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace

bool constant_time_equal(std::string_view presented, std::string_view secret) {
  // The lengths' difference is folded into the result rather than returned early; the loop runs over
  // the presented bytes (the client chose their number), reading the secret cyclically.
  std::size_t difference = presented.size() ^ secret.size();
  if (secret.empty()) return presented.empty();
  for (std::size_t i = 0; i < presented.size(); ++i) {
    difference |= static_cast<unsigned char>(presented[i]) ^ static_cast<unsigned char>(secret[i % secret.size()]);
  }
  return difference == 0;
}

AccessTokens AccessTokens::parse(std::string_view text, const std::string& source) {
  AccessTokens tokens;
  std::size_t line_number = 0;
  while (!text.empty()) {
    const std::string_view raw = text.substr(0, text.find('\n'));
    text.remove_prefix(std::min(text.size(), raw.size() + 1));
    ++line_number;
    const std::string_view line = trimmed(raw);
    if (line.empty() || line.front() == '#') continue;
    if (const std::string problem = token_problem(line); !problem.empty()) {
      throw std::invalid_argument(source + ": line " + std::to_string(line_number) + " holds " + problem);
    }
    tokens.tokens_.emplace_back(line);
  }
  if (tokens.tokens_.empty()) throw std::invalid_argument(source + ": no token (one per line; # starts a comment)");
  return tokens;
}

AccessTokens AccessTokens::load(const std::filesystem::path& path, std::string_view flag) {
  const std::string source = std::string(flag) + " " + path.string();
  std::ifstream file(path, std::ios::binary);
  if (!file || std::filesystem::is_directory(path)) throw std::invalid_argument(source + ": cannot be read");
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) throw std::invalid_argument(source + ": cannot be read");
  return parse(text.str(), source);
}

bool AccessTokens::admits(const std::optional<std::string>& presented) const {
  if (open()) return true;
  if (!presented) return false;
  bool admitted = false;
  for (const std::string& token : tokens_) admitted |= constant_time_equal(*presented, token);
  return admitted;
}

std::optional<std::string> presented_token(std::string_view authorization, std::string_view target) {
  const std::string_view value = trimmed(authorization);
  const std::size_t space = value.find(' ');
  if (space != std::string_view::npos && iequals_ascii(value.substr(0, space), "bearer")) {
    return std::string(trimmed(value.substr(space + 1)));
  }
  return query_token(target);
}

}  // namespace posestream::server
