#pragma once

#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>

namespace outpost::client_libs {

/// Thrown by a forwarder whose library could not be loaded.
class ClientLibraryUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A database client library (libpq, libmariadb, libodbc, libsqlite3) opened
/// with dlopen on first use instead of being linked, so an idle agent maps
/// none of them (nor their GSSAPI/LDAP/TLS dependencies) until a source of
/// that type runs a job.
///
/// Each loader (libpq.cpp, …) defines the client API functions the agent
/// calls as `extern "C"` forwarders with the header's exact signature; each
/// forwarder calls a pointer resolved here once.
///
/// Thread safety: load() may be called from any thread; the library is opened
/// and every symbol resolved exactly once (std::call_once). Lifetime: the
/// library is never closed (its pointers live as long as the process).
class DynamicLibrary {
 public:
  /// Returns the name of the first symbol it could not resolve from `handle`
  /// into the loader's pointers, or nullptr when all were found.
  using Resolver = const char* (*)(void* handle);

  /// `soname` is what dlopen opens ("libpq.so.5"); `package` names the Debian
  /// package that ships it, for the error message ("libpq5").
  DynamicLibrary(std::string_view display_name, std::string_view soname, std::string_view package,
                 Resolver resolve);

  DynamicLibrary(const DynamicLibrary&) = delete;
  DynamicLibrary& operator=(const DynamicLibrary&) = delete;

  /// Opens the library and resolves its symbols (once). Returns nullptr when
  /// the library is usable, else the reason it is not, e.g. "the PostgreSQL
  /// client library libpq.so.5 is not installed: apt-get install libpq5 (…)".
  const std::string* load() noexcept;

  /// For tests only: opens `soname` instead of the real one. Must be called
  /// before the first load(); the agent never calls it.
  void override_soname_for_testing(std::string soname);

  /// Called by a forwarder reached while the library is not loaded (a caller
  /// that skipped its load() check): throws ClientLibraryUnavailable with the
  /// load error, which the job runner turns into a failed job.
  [[noreturn]] void unavailable(const char* function) const;

 private:
  std::once_flag once_;
  std::string display_name_;
  std::string soname_;
  std::string package_;
  Resolver resolve_;
  std::string error_;
  bool loaded_ = false;
};

/// dlsym(handle, name): searches that library and its dependencies only.
void* lookup_symbol(void* handle, const char* name) noexcept;

/// Reads a symbol from a dlopen handle into a typed function pointer; false
/// when the library lacks it.
template <typename Fn>
bool resolve_symbol(void* handle, const char* name, Fn& out) noexcept {
  void* address = lookup_symbol(handle, name);
  // POSIX guarantees a dlsym result converts to a function pointer.
  out = reinterpret_cast<Fn>(address);
  return address != nullptr;
}

}  // namespace outpost::client_libs
