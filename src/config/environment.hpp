#pragma once

#include <map>
#include <optional>
#include <string>

namespace outpost::config {

/// The content of a file, or why it could not be read.
struct FileRead {
  std::optional<std::string> content;
  std::string error;  ///< e.g. "No such file or directory" when content is empty
};

/// Everything configuration parsing reads from outside the process: environment
/// variables and files (options files, the token file, certificates). Tests substitute
/// MapEnvironment so that parsing does no real I/O.
class Environment {
 public:
  virtual ~Environment() = default;

  /// The value of variable `name`, or nullopt when it is not set.
  [[nodiscard]] virtual std::optional<std::string> variable(const std::string& name) const = 0;
  /// Reads a whole file; relative paths are relative to the working directory.
  [[nodiscard]] virtual FileRead read_file(const std::string& path) const = 0;
  /// A key that is equal for two paths naming the same file (cycle detection).
  [[nodiscard]] virtual std::string identity(const std::string& path) const = 0;
};

/// The real process: getenv and the file system.
class ProcessEnvironment final : public Environment {
 public:
  [[nodiscard]] std::optional<std::string> variable(const std::string& name) const override;
  [[nodiscard]] FileRead read_file(const std::string& path) const override;
  [[nodiscard]] std::string identity(const std::string& path) const override;
};

/// An in-memory environment for tests and for embedding: variables and files
/// are plain maps; relative file names are looked up as given.
class MapEnvironment final : public Environment {
 public:
  std::map<std::string, std::string> variables;
  std::map<std::string, std::string> files;

  [[nodiscard]] std::optional<std::string> variable(const std::string& name) const override;
  [[nodiscard]] FileRead read_file(const std::string& path) const override;
  [[nodiscard]] std::string identity(const std::string& path) const override;
};

}  // namespace outpost::config
