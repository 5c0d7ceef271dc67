#include "client_libs/dynamic_library.hpp"

#include <dlfcn.h>

#include <utility>

namespace outpost::client_libs {

DynamicLibrary::DynamicLibrary(std::string_view display_name, std::string_view soname,
                               std::string_view package, Resolver resolve)
    : display_name_(display_name), soname_(soname), package_(package), resolve_(resolve) {}

const std::string* DynamicLibrary::load() noexcept {
  std::call_once(once_, [&] {
    // RTLD_LOCAL: the library's symbols stay out of the global scope, so a
    // driver loaded later (an ODBC driver, a libpq plugin) binds to its own
    // dependencies exactly as if the agent had never opened it. A driver that
    // depends on the same soname still shares this one copy.
    void* handle = ::dlopen(soname_.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* detail = ::dlerror();
      error_ = "the " + display_name_ + " client library " + soname_ +
               " is not installed: apt-get install " + package_ + " (" +
               (detail != nullptr ? detail : "dlopen failed") + ")";
      return;
    }
    if (const char* missing = resolve_(handle); missing != nullptr) {
      error_ = "the " + display_name_ + " client library " + soname_ + " lacks " + missing +
               ": install a newer " + package_;
      return;  // the handle stays open: the library may be in use by a driver
    }
    loaded_ = true;
  });
  return loaded_ ? nullptr : &error_;
}

void DynamicLibrary::override_soname_for_testing(std::string soname) {
  soname_ = std::move(soname);
}

void DynamicLibrary::unavailable(const char* function) const {
  throw ClientLibraryUnavailable(std::string(function) + ": " +
                                 (error_.empty() ? display_name_ + " is not loaded" : error_));
}

void* lookup_symbol(void* handle, const char* name) noexcept {
  // dlsym on a handle searches that library and its dependencies only, never
  // the executable, so it cannot return one of the agent's own forwarders.
  return ::dlsym(handle, name);
}

}  // namespace outpost::client_libs
