// Access tokens: the bearer tokens a token file grants, their constant-time check, and where a request carries one.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace posestream::server {

// Shortest token a file may hold: below this a token can be guessed by trying (16 random characters of
// base64 are 96 bits).
inline constexpr std::size_t kMinTokenBytes = 16;
// Longest: a token travels in a header (Beast's 8 KiB header limit) and in a URL.
inline constexpr std::size_t kMaxTokenBytes = 1024;

// True when `a` and `b` are equal. Its time depends on the lengths only, never on where the bytes
// differ: every byte of `presented` is compared, with no early exit, so that a client timing its
// attempts learns nothing about a secret's bytes.
bool constant_time_equal(std::string_view presented, std::string_view secret);

// The tokens of one token file. Empty: access is open (no file was given).
class AccessTokens {
 public:
  AccessTokens() = default;

  // Reads `path`: one token per line, surrounding spaces and tabs trimmed, blank lines and lines
  // starting with '#' ignored. Each token is printable ASCII without spaces, kMinTokenBytes to
  // kMaxTokenBytes long. Throws std::invalid_argument naming the file and the line (never the token)
  // when the file cannot be read, holds no token, or a line is not a usable token. `flag` names the
  // option in the message ("--auth-token-file").
  static AccessTokens load(const std::filesystem::path& path, std::string_view flag);
  // The same from text already read (for tests); `source` names it in messages.
  static AccessTokens parse(std::string_view text, const std::string& source);

  bool open() const noexcept { return tokens_.empty(); }
  std::size_t size() const noexcept { return tokens_.size(); }
  // True when access is open or `presented` is one of the tokens. Every token is compared (no early
  // exit), each in constant time.
  bool admits(const std::optional<std::string>& presented) const;

 private:
  std::vector<std::string> tokens_;
};

// The token a request carries: "Authorization: Bearer TOKEN" (scheme case-insensitive), else the
// `token` query parameter of `target`, percent-decoded (browsers cannot set headers on a WebSocket).
// nullopt when neither is there. `authorization` is the header's value, empty when absent.
std::optional<std::string> presented_token(std::string_view authorization, std::string_view target);

}  // namespace posestream::server
