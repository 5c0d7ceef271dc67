#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "outpost/job.hpp"

namespace outpost::security {

/// The operator's local sources (--sources-file), which jobs name with
/// `{"ref": NAME}` so the control plane never sees their connection details.
///
/// Format (YAML, or JSON since JSON is YAML):
///
///     version: 1                  # optional; only 1 exists
///     sources:
///       warehouse:                # name: letters, digits, '_', '-', '.'
///         type: postgres          # connector type, required
///         description: "DW"       # optional, for operators
///         config:                 # connector config, optional (default {})
///           host: db.internal
///           port: 5432
///           password: ${env:WAREHOUSE_PASSWORD}
///
/// Strict: unknown keys, duplicate keys, a missing `type`, a non-mapping
/// `config` and malformed secret references are errors naming the file and
/// line. Plain YAML scalars follow the YAML 1.2 core schema (5432 is a number,
/// true a boolean, ~ null); quote a value to keep it a string ("0123").
/// Secret references stay unresolved here; the runtime resolves them per job
/// with resolve_secret_refs(), so a rotated secret is picked up without reload.
///
/// Immutable once loaded; shared between jobs by shared_ptr, and replaced
/// wholesale on SIGHUP by the runtime (load() has no side effects).
class SourcesFile {
 public:
  /// Reads and parses `path`. Throws std::runtime_error whose message starts
  /// with "sources file <path>:" and says what is wrong and where.
  static std::shared_ptr<SourcesFile> load(const std::string& path);

  /// Parses YAML/JSON text; `origin` names it in errors (a path, or "<test>").
  static std::shared_ptr<SourcesFile> parse(std::string_view text, const std::string& origin);

  /// The source named `name` (case-sensitive), with `ref` and `name` set to it
  /// and `id` empty; nullopt when there is none.
  [[nodiscard]] std::optional<outpost::Source> find(std::string_view name) const;

  /// Every source name, sorted.
  [[nodiscard]] std::vector<std::string> names() const;

  /// Where it was loaded from.
  [[nodiscard]] const std::string& origin() const noexcept { return origin_; }

 private:
  static std::shared_ptr<SourcesFile> parse_yaml(std::string_view text, const std::string& origin);

  struct Entry {
    std::string type;
    std::string description;
    nlohmann::json config;
  };

  std::string origin_;
  std::map<std::string, Entry, std::less<>> sources_;
};

}  // namespace outpost::security
