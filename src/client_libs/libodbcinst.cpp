// The ODBC installer client API the agent calls, forwarded to libodbcinst.so.2 opened on
// first use (client_libs/dynamic_library.hpp). Each forwarder has the
// header's signature, so the compiler checks it against the declaration.
#include "client_libs/libodbcinst.hpp"

#include <odbcinst.h>

// The functions the agent calls; a new call needs a line here.
#define OUTPOST_LIBODBCINST_FUNCTIONS(X) \
  X(SQLGetInstalledDrivers)              \
  X(SQLGetPrivateProfileString)

namespace outpost::client_libs {
namespace {

struct Api {
// NOLINTNEXTLINE(bugprone-macro-parentheses): `name` declares a member.
#define OUTPOST_POINTER(name) decltype(&::name) name = nullptr;
  OUTPOST_LIBODBCINST_FUNCTIONS(OUTPOST_POINTER)
#undef OUTPOST_POINTER
};

Api g_api;

const char* resolve(void* handle) {
#define OUTPOST_RESOLVE(name) \
  if (!resolve_symbol(handle, #name, g_api.name)) return #name;
  OUTPOST_LIBODBCINST_FUNCTIONS(OUTPOST_RESOLVE)
#undef OUTPOST_RESOLVE
  return nullptr;
}

const Api& api(const char* function) {
  if (libodbcinst().load() != nullptr) libodbcinst().unavailable(function);
  return g_api;
}

}  // namespace

DynamicLibrary& libodbcinst() {
  static DynamicLibrary library("ODBC installer", "libodbcinst.so.2", "libodbcinst2", &resolve);
  return library;
}

}  // namespace outpost::client_libs

using outpost::client_libs::api;

// Hidden: never exported from the executable, so in a binary that also links
// the real library (outpost-hub, tests) the library's own calls and an ODBC
// driver's stay inside it; only this binary's calls take the forwarders.
#pragma GCC visibility push(hidden)
extern "C" {

BOOL SQLGetInstalledDrivers(LPSTR lpszBuf, WORD cbBufMax, WORD* pcbBufOut) {
  return api("SQLGetInstalledDrivers").SQLGetInstalledDrivers(lpszBuf, cbBufMax, pcbBufOut);
}
int SQLGetPrivateProfileString(LPCSTR lpszSection, LPCSTR lpszEntry, LPCSTR lpszDefault,
                               LPSTR lpszRetBuffer, int cbRetBuffer, LPCSTR lpszFilename) {
  return api("SQLGetPrivateProfileString")
      .SQLGetPrivateProfileString(lpszSection, lpszEntry, lpszDefault, lpszRetBuffer, cbRetBuffer,
                                  lpszFilename);
}

}  // extern "C"
#pragma GCC visibility pop
