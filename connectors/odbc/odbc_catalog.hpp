#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "outpost/conn_string.hpp"

namespace outpost::connectors::odbc {

/// Which driver a source uses, by the library its odbcinst.ini section names.
/// Each known driver has its own attribute allow-list (odbc_attributes.hpp).
enum class DriverKind {
  kPsqlOdbc,    ///< psqlodbcw.so / psqlodbca.so
  kSqliteOdbc,  ///< libsqlite3odbc*.so
  kOther,       ///< any other registered driver: a minimal generic allow-list
};

std::string_view to_string(DriverKind kind) noexcept;

/// A driver registered in odbcinst.ini.
struct DriverEntry {
  std::string name;     ///< the section name, as registered
  std::string library;  ///< its Driver= value (the shared object)
  DriverKind kind = DriverKind::kOther;
};

/// A data source defined in odbc.ini (user or system).
struct DsnEntry {
  std::string name;
  std::string driver;  ///< its Driver= value: a section name or a library
  DriverKind kind = DriverKind::kOther;
  std::vector<OdbcAttribute> attributes;  ///< every other key of its section
};

/// What is installed beside the agent. An interface so the config checks can
/// be tested without touching the host's ini files.
class DriverCatalog {
 public:
  virtual ~DriverCatalog() = default;
  /// The registered driver named `name` (case-insensitive), or nullopt.
  [[nodiscard]] virtual std::optional<DriverEntry> driver(std::string_view name) const = 0;
  /// The data source named `name`, or nullopt.
  [[nodiscard]] virtual std::optional<DsnEntry> dsn(std::string_view name) const = 0;
};

/// The kind of driver a library file is (by its base name).
DriverKind kind_of_library(std::string_view library);

/// The host's catalog through unixODBC (SQLGetInstalledDrivers and
/// SQLGetPrivateProfileString on odbcinst.ini / odbc.ini), read at each call.
/// Thread safe as far as unixODBC's ini functions are.
const DriverCatalog& system_catalog();

}  // namespace outpost::connectors::odbc
