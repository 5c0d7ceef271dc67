#include "integration/conformance/target_registry.hpp"

#include <functional>
#include <map>
#include <stdexcept>

namespace outpost::test::conformance {
namespace {

// Enrolling a connector in the suite is one line here (and its target file).
const std::map<std::string, std::function<std::unique_ptr<Target>()>>& factories() {
  static const std::map<std::string, std::function<std::unique_ptr<Target>()>> map{
      {"postgres", make_postgres_target},       {"mysql", make_mysql_target},
      {"sqlite", make_sqlite_target},           {"odbc_postgres", make_odbc_postgres_target},
      {"odbc_sqlite", make_odbc_sqlite_target},
  };
  return map;
}

}  // namespace

std::vector<std::string> target_names() {
  std::vector<std::string> names;
  for (const auto& [name, make] : factories()) names.push_back(name);
  return names;
}

Target& target(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Target>> made;
  auto& slot = made[name];
  if (!slot) {
    auto it = factories().find(name);
    if (it == factories().end()) throw std::invalid_argument("no conformance target " + name);
    slot = it->second();
  }
  return *slot;
}

}  // namespace outpost::test::conformance
