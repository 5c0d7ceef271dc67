#pragma once

// Private to the conformance suite: one factory per target.

#include <memory>

#include "integration/conformance/conformance_target.hpp"

namespace outpost::test::conformance {

std::unique_ptr<Target> make_postgres_target();
std::unique_ptr<Target> make_odbc_postgres_target();
std::unique_ptr<Target> make_mysql_target();
std::unique_ptr<Target> make_sqlite_target();
std::unique_ptr<Target> make_odbc_sqlite_target();

}  // namespace outpost::test::conformance
