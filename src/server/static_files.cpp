// Static files: target-to-path mapping that cannot leave the web root, and content types by extension.
#include "server/static_files.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <system_error>

namespace posestream::server {
namespace {

// Longest target served; ours are short, and a bound keeps the checks below cheap.
constexpr std::size_t kMaxTargetBytes = 1024;

bool has_forbidden_character(std::string_view path) {
  return std::any_of(path.begin(), path.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7F || c == '%' || c == '\\';
  });
}

// The relative path the target names, or empty when any segment is not a plain name.
std::filesystem::path relative_path_of(std::string_view path) {
  std::filesystem::path relative;
  path.remove_prefix(1);  // The leading '/'.
  while (!path.empty()) {
    const std::size_t slash = path.find('/');
    const std::string_view segment = path.substr(0, slash);
    if (segment.empty() || segment.front() == '.') return {};
    relative /= std::string(segment);
    if (slash == std::string_view::npos) return relative;
    path.remove_prefix(slash + 1);
  }
  return relative / "index.html";  // The target ended with '/'.
}

bool is_inside(const std::filesystem::path& root, const std::filesystem::path& file) {
  const auto [root_end, file_end] = std::mismatch(root.begin(), root.end(), file.begin(), file.end());
  return root_end == root.end();
}

}  // namespace

std::optional<std::filesystem::path> resolve_static_path(const std::filesystem::path& root, std::string_view target) {
  if (target.size() > kMaxTargetBytes) return std::nullopt;
  target = target.substr(0, target.find_first_of("?#"));
  if (target.empty() || target.front() != '/' || has_forbidden_character(target)) return std::nullopt;
  const std::filesystem::path relative = target == "/" ? std::filesystem::path("index.html") : relative_path_of(target);
  if (relative.empty()) return std::nullopt;
  std::error_code error;
  const std::filesystem::path canonical_root = std::filesystem::canonical(root, error);
  if (error) return std::nullopt;
  const std::filesystem::path file = std::filesystem::canonical(canonical_root / relative, error);
  if (error || !is_inside(canonical_root, file) || !std::filesystem::is_regular_file(file, error)) return std::nullopt;
  return file;
}

std::string_view content_type_for(const std::filesystem::path& file) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"},        {".htm", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},    {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},          {".json", "application/json"},
      {".map", "application/json"},                 {".png", "image/png"},
      {".jpg", "image/jpeg"},                       {".jpeg", "image/jpeg"},
      {".svg", "image/svg+xml"},                    {".ico", "image/x-icon"},
      {".txt", "text/plain; charset=utf-8"},        {".wasm", "application/wasm"}};
  std::string extension = file.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const auto& [suffix, type] : kTypes) {
    if (extension == suffix) return type;
  }
  return "application/octet-stream";
}

}  // namespace posestream::server
