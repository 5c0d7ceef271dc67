#pragma once

#include "client_libs/dynamic_library.hpp"

namespace outpost::client_libs {

/// libodbc.so.2, opened on the first call of any forwarded function or of load().
/// Callers check `libodbc().load()` before their first call to report a
/// missing library as a job error rather than an exception.
DynamicLibrary& libodbc();

}  // namespace outpost::client_libs
