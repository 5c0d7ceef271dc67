#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace outpost::config {

/// Parses a byte size: a whole or decimal number with an optional unit, e.g.
/// "1048576", "512KiB", "256MiB", "1.5GiB", "10MB", "64k".
///
/// Binary units KiB, MiB, GiB, TiB (and the short K, M, G, T, as in Docker)
/// are powers of 1024; decimal units kB/KB, MB, GB, TB are powers of 1000;
/// "B" or no unit is bytes. Units are case-insensitive.
/// Returns nullopt and sets `error` (one sentence with a fix) when invalid.
std::optional<std::uint64_t> parse_size(std::string_view text, std::string* error);

/// Formats a byte count with the largest binary unit that keeps it exact ("256MiB").
std::string format_size(std::uint64_t bytes);

}  // namespace outpost::config
