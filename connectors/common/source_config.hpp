#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace outpost::connectors::common {

/// Strict reader for a connector's `source.config` object: typed getters that
/// remember the first problem, and a check that refuses unknown keys (a typo
/// such as "passwrod" must fail the job as invalid_job, not be ignored).
///
/// Secret references (`${env:…}`) are resolved to strings before a connector
/// sees the config, so integer and boolean getters also accept their text form.
/// Error messages name the key, never its value (it may be a secret).
class ConfigReader {
 public:
  /// `what` prefixes messages, e.g. "postgres source config".
  ConfigReader(const nlohmann::json& config, std::string what);

  /// Records an error unless every key of the object is in `allowed`.
  void allow_only(std::initializer_list<std::string_view> allowed);

  [[nodiscard]] bool has(std::string_view key) const;
  /// A string value; a number is accepted and printed. nullopt when absent
  /// (or wrong type, which records an error).
  std::optional<std::string> string(std::string_view key);
  /// An integer in [min, max], given as a JSON integer or decimal text.
  std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max);
  /// true/false, or the text "true"/"false".
  std::optional<bool> boolean(std::string_view key);
  /// A string that must be one of `choices`.
  std::optional<std::string> choice(std::string_view key,
                                    std::initializer_list<std::string_view> choices);

  /// Records a caller-detected problem (first one wins).
  void fail(std::string message);
  [[nodiscard]] const std::optional<std::string>& error() const noexcept { return error_; }

 private:
  const nlohmann::json* find(std::string_view key) const;

  const nlohmann::json& config_;
  std::string what_;
  std::optional<std::string> error_;
};

/// A stable fingerprint of a source config (SHA-256 of its canonical JSON, hex)
/// used as a connection-pool key: two jobs share pooled connections only when
/// every setting, credentials included, is identical. The key holds no secret
/// in clear text.
std::string config_fingerprint(const nlohmann::json& config);

}  // namespace outpost::connectors::common
