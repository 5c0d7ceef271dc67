#pragma once

#include "client_libs/dynamic_library.hpp"

namespace outpost::client_libs {

/// libodbcinst.so.2, opened on the first call of any forwarded function or of load().
/// Callers check `libodbcinst().load()` before their first call to report a
/// missing library as a job error rather than an exception.
DynamicLibrary& libodbcinst();

}  // namespace outpost::client_libs
