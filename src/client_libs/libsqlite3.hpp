#pragma once

#include "client_libs/dynamic_library.hpp"

namespace outpost::client_libs {

/// libsqlite3.so.0, opened on the first call of any forwarded function or of load().
/// Callers check `libsqlite3().load()` before their first call to report a
/// missing library as a job error rather than an exception.
DynamicLibrary& libsqlite3();

}  // namespace outpost::client_libs
