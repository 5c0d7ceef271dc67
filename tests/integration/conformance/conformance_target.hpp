#pragma once

// The connector conformance suite's view of one database: how to reach it
// (a real throwaway server or file), and the SQL its dialect needs for the
// suite's cases. Every target holds the same fixture:
//   <schema>.items (id integer primary key, label text not null) with the
//   rows (1,'one'), (2,'two'), (3,'three'), and the view <schema>.items_view.
// A target starts its server on first use, once per test process (ctest runs
// each case in its own process); a server that cannot start throws, so the
// case fails, never skips.

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "outpost/connector.hpp"
#include "outpost/errors.hpp"
#include "outpost/policy.hpp"

namespace outpost::test::conformance {

/// A login (or file) that must fail, and the code it must fail with.
struct BadSource {
  nlohmann::json config;
  ErrorCode code;
};

class Target {
 public:
  virtual ~Target() = default;

  virtual Connector& connector() = 0;
  /// The source type jobs name ("postgres", "odbc", …).
  [[nodiscard]] virtual std::string source_type() const = 0;
  /// The operator's policy the target needs (e.g. --sqlite-dirs).
  virtual const OperatorPolicy& policy() = 0;
  /// The same policy with --allow-privileged-logins.
  virtual const OperatorPolicy& privileged_policy() = 0;

  /// A read-only login.
  virtual nlohmann::json reader() = 0;
  /// A login that may write to items: only the connector's read-only
  /// session stands between a job and a write (run with privileged_policy).
  virtual nlohmann::json writer() = 0;
  /// A login the database refuses (wrong password; a missing file).
  virtual BadSource bad_source() = 0;

  /// Where items lives, as metadata reports it.
  [[nodiscard]] virtual std::string schema() const = 0;
  /// Columns id (1..n) and label ('row <id>'), in id order.
  [[nodiscard]] virtual std::string series_sql(int n) const = 0;
  /// A statement that runs until it is stopped (or for minutes).
  [[nodiscard]] virtual std::string endless_sql() const = 0;
  /// Inserts one row into items.
  [[nodiscard]] virtual std::string insert_sql() const = 0;
  /// One row of common types and the JSON row protocol v1 §7.3 maps it to.
  [[nodiscard]] virtual std::string types_sql() const = 0;
  [[nodiscard]] virtual nlohmann::json types_row() const = 0;
};

/// The targets' names, as the suite instantiates them.
std::vector<std::string> target_names();

/// The target by name, made (and its server started) on first use.
Target& target(const std::string& name);

}  // namespace outpost::test::conformance
