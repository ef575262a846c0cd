// The portal's static files, embedded in the binary at build time (cmake/embed_web.cmake), so
// that the portal works offline and ships with `jcmreg serve`.
#pragma once

#include <span>
#include <string_view>

namespace registry::web {

struct WebAsset {
  std::string_view path;          // "/index.html"
  std::string_view content_type;  // "text/html; charset=utf-8"
  std::string_view body;
};

// Returns the asset served at `path` ("/" is "/index.html"), or nullptr.
const WebAsset* FindWebAsset(std::string_view path);

// Every asset (each file of src/web), to serve each at its path.
std::span<const WebAsset> WebAssets();

}  // namespace registry::web
