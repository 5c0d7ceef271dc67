#include "odbc/odbc_catalog.hpp"

#include <odbcinst.h>

#include <array>
#include <mutex>

namespace outpost::connectors::odbc {
namespace {

// unixODBC's ini functions share state (the current config mode): one
// caller at a time.
std::mutex& ini_mutex() {
  static std::mutex m;
  return m;
}

// Splits a buffer of NUL-terminated strings ending in an empty one.
std::vector<std::string> split_list(const char* buffer, std::size_t size) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < size && buffer[i] != '\0') {
    std::string item(buffer + i);
    i += item.size() + 1;
    out.push_back(std::move(item));
  }
  return out;
}

std::string profile_string(const std::string& section, const char* key, const char* file) {
  std::array<char, 4096> buffer{};
  const int n = SQLGetPrivateProfileString(section.c_str(), key, "", buffer.data(),
                                           static_cast<int>(buffer.size()), file);
  if (n <= 0) return {};
  return std::string(buffer.data());
}

bool same_name(std::string_view a, std::string_view b) {
  return odbc_key(a) == odbc_key(b);
}

class SystemCatalog final : public DriverCatalog {
 public:
  [[nodiscard]] std::optional<DriverEntry> driver(std::string_view name) const override {
    std::lock_guard lock(ini_mutex());
    std::array<char, 16384> buffer{};
    WORD used = 0;
    if (!SQLGetInstalledDrivers(buffer.data(), static_cast<WORD>(buffer.size()), &used)) {
      return std::nullopt;
    }
    for (const auto& registered : split_list(buffer.data(), buffer.size())) {
      if (!same_name(registered, name)) continue;
      DriverEntry entry{registered, profile_string(registered, "Driver", "ODBCINST.INI"),
                        DriverKind::kOther};
      entry.kind = kind_of_library(entry.library);
      return entry;
    }
    return std::nullopt;
  }

  [[nodiscard]] std::optional<DsnEntry> dsn(std::string_view name) const override {
    std::lock_guard lock(ini_mutex());
    const std::string section(name);
    // With no key, unixODBC lists the section's keys.
    std::array<char, 16384> buffer{};
    const int n = SQLGetPrivateProfileString(section.c_str(), nullptr, "", buffer.data(),
                                             static_cast<int>(buffer.size()), "ODBC.INI");
    if (n <= 0) return std::nullopt;
    DsnEntry entry{section, {}, DriverKind::kOther, {}};
    for (const auto& key : split_list(buffer.data(), static_cast<std::size_t>(n) + 1)) {
      const auto value = profile_string(section, key.c_str(), "ODBC.INI");
      if (same_name(key, "driver")) {
        entry.driver = value;
      } else {
        entry.attributes.push_back({key, value, false});
      }
    }
    if (entry.driver.empty()) return std::nullopt;
    // Driver= in odbc.ini names a registered driver or (operator's choice) a library.
    std::string library = entry.driver;
    if (entry.driver.find('/') == std::string::npos) {
      std::array<char, 4096> lib{};
      if (SQLGetPrivateProfileString(entry.driver.c_str(), "Driver", "", lib.data(),
                                     static_cast<int>(lib.size()), "ODBCINST.INI") > 0) {
        library = lib.data();
      }
    }
    entry.kind = kind_of_library(library);
    return entry;
  }
};

}  // namespace

std::string_view to_string(DriverKind kind) noexcept {
  switch (kind) {
    case DriverKind::kPsqlOdbc: return "psqlODBC";
    case DriverKind::kSqliteOdbc: return "sqliteodbc";
    case DriverKind::kOther: return "other";
  }
  return "other";
}

DriverKind kind_of_library(std::string_view library) {
  const auto slash = library.rfind('/');
  const std::string base =
      odbc_key(slash == std::string_view::npos ? library : library.substr(slash + 1));
  if (base.starts_with("psqlodbc")) return DriverKind::kPsqlOdbc;
  if (base.starts_with("libsqlite3odbc")) return DriverKind::kSqliteOdbc;
  return DriverKind::kOther;
}

const DriverCatalog& system_catalog() {
  static const SystemCatalog catalog;
  return catalog;
}

}  // namespace outpost::connectors::odbc
