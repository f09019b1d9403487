// Static files for the web client: request targets mapped to files under one root, and their types.
#pragma once

#include <filesystem>
#include <optional>
#include <string_view>

namespace posestream::server {

// Maps an HTTP request target ("/", "/app.js?v=2") to a regular file under `root`, or nullopt (404).
// Only plain paths are served: each segment non-empty and not starting with '.', so "..", "." and hidden
// files are out; no '%' escapes, backslashes or control characters; and after following symlinks the
// file must still be under `root`. "/" and paths ending in '/' mean that directory's index.html.
std::optional<std::filesystem::path> resolve_static_path(const std::filesystem::path& root, std::string_view target);

// The Content-Type for a file name's extension (html, js, mjs, css, json, png, jpg, svg, ico, txt,
// wasm, map); application/octet-stream for anything else.
std::string_view content_type_for(const std::filesystem::path& file);

}  // namespace posestream::server
