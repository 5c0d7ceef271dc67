#pragma once

#include "client_libs/dynamic_library.hpp"

namespace outpost::client_libs {

/// libmariadb.so.3, opened on the first call of any forwarded function or of load().
/// Callers check `libmariadb().load()` before their first call to report a
/// missing library as a job error rather than an exception.
DynamicLibrary& libmariadb();

}  // namespace outpost::client_libs
