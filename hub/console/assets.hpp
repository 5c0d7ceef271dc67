#pragma once

#include <span>
#include <string_view>

namespace outpost::hub::console {

/// A file of hub/console/assets/, compiled into the binary by
/// embed_assets.cmake (the generated console_assets.cpp).
struct Asset {
  std::string_view path;  ///< relative to assets/, e.g. "app.js", "pages/jobs.js"
  std::string_view content_type;
  std::string_view body;
};

/// Every embedded asset, sorted by path.
std::span<const Asset> assets();

/// The asset at `path`, or nullptr.
const Asset* find_asset(std::string_view path);

}  // namespace outpost::hub::console
