// The SQLite client API the agent calls, forwarded to libsqlite3.so.0 opened on
// first use (client_libs/dynamic_library.hpp). Each forwarder has the
// header's signature, so the compiler checks it against the declaration.
#include "client_libs/libsqlite3.hpp"

#include <sqlite3.h>

#include <cstdarg>

// The functions the agent calls; a new call needs a line here.
#define OUTPOST_LIBSQLITE3_FUNCTIONS(X) \
  X(sqlite3_auto_extension)             \
  X(sqlite3_bind_parameter_count)       \
  X(sqlite3_bind_text)                  \
  X(sqlite3_busy_timeout)               \
  X(sqlite3_close_v2)                   \
  X(sqlite3_column_blob)                \
  X(sqlite3_column_bytes)               \
  X(sqlite3_column_count)               \
  X(sqlite3_column_decltype)            \
  X(sqlite3_column_double)              \
  X(sqlite3_column_int)                 \
  X(sqlite3_column_int64)               \
  X(sqlite3_column_name)                \
  X(sqlite3_column_text)                \
  X(sqlite3_column_type)                \
  X(sqlite3_db_config)                  \
  X(sqlite3_enable_load_extension)      \
  X(sqlite3_errmsg)                     \
  X(sqlite3_exec)                       \
  X(sqlite3_extended_result_codes)      \
  X(sqlite3_finalize)                   \
  X(sqlite3_free)                       \
  X(sqlite3_interrupt)                  \
  X(sqlite3_limit)                      \
  X(sqlite3_open_v2)                    \
  X(sqlite3_prepare_v2)                 \
  X(sqlite3_progress_handler)           \
  X(sqlite3_reset)                      \
  X(sqlite3_set_authorizer)             \
  X(sqlite3_step)                       \
  X(sqlite3_stmt_readonly)              \
  X(sqlite3_stricmp)                    \
  X(sqlite3_strnicmp)                   \
  X(sqlite3_system_errno)

namespace outpost::client_libs {
namespace {

struct Api {
// NOLINTNEXTLINE(bugprone-macro-parentheses): `name` declares a member.
#define OUTPOST_POINTER(name) decltype(&::name) name = nullptr;
  OUTPOST_LIBSQLITE3_FUNCTIONS(OUTPOST_POINTER)
#undef OUTPOST_POINTER
};

Api g_api;

const char* resolve(void* handle) {
#define OUTPOST_RESOLVE(name) \
  if (!resolve_symbol(handle, #name, g_api.name)) return #name;
  OUTPOST_LIBSQLITE3_FUNCTIONS(OUTPOST_RESOLVE)
#undef OUTPOST_RESOLVE
  return nullptr;
}

const Api& api(const char* function) {
  if (libsqlite3().load() != nullptr) libsqlite3().unavailable(function);
  return g_api;
}

}  // namespace

DynamicLibrary& libsqlite3() {
  static DynamicLibrary library("SQLite", "libsqlite3.so.0", "libsqlite3-0", &resolve);
  return library;
}

}  // namespace outpost::client_libs

using outpost::client_libs::api;

// Hidden: never exported from the executable, so in a binary that also links
// the real library (outpost-hub, tests) the library's own calls and an ODBC
// driver's stay inside it; only this binary's calls take the forwarders.
#pragma GCC visibility push(hidden)
extern "C" {

int sqlite3_auto_extension(void (*xEntryPoint)()) {
  return api("sqlite3_auto_extension").sqlite3_auto_extension(xEntryPoint);
}
int sqlite3_bind_parameter_count(sqlite3_stmt* a0) {
  return api("sqlite3_bind_parameter_count").sqlite3_bind_parameter_count(a0);
}
int sqlite3_bind_text(sqlite3_stmt* a0, int a1, const char* a2, int a3, void (*a4)(void*)) {
  return api("sqlite3_bind_text").sqlite3_bind_text(a0, a1, a2, a3, a4);
}
int sqlite3_busy_timeout(sqlite3* a0, int ms) {
  return api("sqlite3_busy_timeout").sqlite3_busy_timeout(a0, ms);
}
int sqlite3_close_v2(sqlite3* a0) {
  return api("sqlite3_close_v2").sqlite3_close_v2(a0);
}
const void* sqlite3_column_blob(sqlite3_stmt* a0, int iCol) {
  return api("sqlite3_column_blob").sqlite3_column_blob(a0, iCol);
}
int sqlite3_column_bytes(sqlite3_stmt* a0, int iCol) {
  return api("sqlite3_column_bytes").sqlite3_column_bytes(a0, iCol);
}
int sqlite3_column_count(sqlite3_stmt* pStmt) {
  return api("sqlite3_column_count").sqlite3_column_count(pStmt);
}
const char* sqlite3_column_decltype(sqlite3_stmt* a0, int a1) {
  return api("sqlite3_column_decltype").sqlite3_column_decltype(a0, a1);
}
double sqlite3_column_double(sqlite3_stmt* a0, int iCol) {
  return api("sqlite3_column_double").sqlite3_column_double(a0, iCol);
}
int sqlite3_column_int(sqlite3_stmt* a0, int iCol) {
  return api("sqlite3_column_int").sqlite3_column_int(a0, iCol);
}
sqlite3_int64 sqlite3_column_int64(sqlite3_stmt* a0, int iCol) {
  return api("sqlite3_column_int64").sqlite3_column_int64(a0, iCol);
}
const char* sqlite3_column_name(sqlite3_stmt* a0, int N) {
  return api("sqlite3_column_name").sqlite3_column_name(a0, N);
}
const unsigned char* sqlite3_column_text(sqlite3_stmt* a0, int iCol) {
  return api("sqlite3_column_text").sqlite3_column_text(a0, iCol);
}
int sqlite3_column_type(sqlite3_stmt* a0, int iCol) {
  return api("sqlite3_column_type").sqlite3_column_type(a0, iCol);
}
int sqlite3_enable_load_extension(sqlite3* db, int onoff) {
  return api("sqlite3_enable_load_extension").sqlite3_enable_load_extension(db, onoff);
}
const char* sqlite3_errmsg(sqlite3* a0) {
  return api("sqlite3_errmsg").sqlite3_errmsg(a0);
}
int sqlite3_exec(sqlite3* a0, const char* sql, int (*callback)(void*, int, char**, char**),
                 void* a3, char** errmsg) {
  return api("sqlite3_exec").sqlite3_exec(a0, sql, callback, a3, errmsg);
}
int sqlite3_extended_result_codes(sqlite3* a0, int onoff) {
  return api("sqlite3_extended_result_codes").sqlite3_extended_result_codes(a0, onoff);
}
int sqlite3_finalize(sqlite3_stmt* pStmt) {
  return api("sqlite3_finalize").sqlite3_finalize(pStmt);
}
void sqlite3_free(void* a0) {
  return api("sqlite3_free").sqlite3_free(a0);
}
void sqlite3_interrupt(sqlite3* a0) {
  return api("sqlite3_interrupt").sqlite3_interrupt(a0);
}
int sqlite3_limit(sqlite3* a0, int id, int newVal) {
  return api("sqlite3_limit").sqlite3_limit(a0, id, newVal);
}
int sqlite3_open_v2(const char* filename, sqlite3** ppDb, int flags, const char* zVfs) {
  return api("sqlite3_open_v2").sqlite3_open_v2(filename, ppDb, flags, zVfs);
}
int sqlite3_prepare_v2(sqlite3* db, const char* zSql, int nByte, sqlite3_stmt** ppStmt,
                       const char** pzTail) {
  return api("sqlite3_prepare_v2").sqlite3_prepare_v2(db, zSql, nByte, ppStmt, pzTail);
}
void sqlite3_progress_handler(sqlite3* a0, int a1, int (*a2)(void*), void* a3) {
  return api("sqlite3_progress_handler").sqlite3_progress_handler(a0, a1, a2, a3);
}
int sqlite3_reset(sqlite3_stmt* pStmt) {
  return api("sqlite3_reset").sqlite3_reset(pStmt);
}
int sqlite3_set_authorizer(sqlite3* a0,
                           int (*xAuth)(void*, int, const char*, const char*, const char*,
                                        const char*),
                           void* pUserData) {
  return api("sqlite3_set_authorizer").sqlite3_set_authorizer(a0, xAuth, pUserData);
}
int sqlite3_step(sqlite3_stmt* a0) {
  return api("sqlite3_step").sqlite3_step(a0);
}
int sqlite3_stmt_readonly(sqlite3_stmt* pStmt) {
  return api("sqlite3_stmt_readonly").sqlite3_stmt_readonly(pStmt);
}
int sqlite3_stricmp(const char* a0, const char* a1) {
  return api("sqlite3_stricmp").sqlite3_stricmp(a0, a1);
}
int sqlite3_strnicmp(const char* a0, const char* a1, int a2) {
  return api("sqlite3_strnicmp").sqlite3_strnicmp(a0, a1, a2);
}
int sqlite3_system_errno(sqlite3* a0) {
  return api("sqlite3_system_errno").sqlite3_system_errno(a0);
}

// Variadic: the arguments depend on the option (sqlite.org/c3ref/c_dbconfig_defensive.html).
int sqlite3_db_config(sqlite3* db, int op, ...) {
  const auto& fns = api("sqlite3_db_config");
  va_list args;
  va_start(args, op);
  int rc = SQLITE_MISUSE;
  switch (op) {
    case SQLITE_DBCONFIG_MAINDBNAME:
      rc = fns.sqlite3_db_config(db, op, va_arg(args, const char*));
      break;
    case SQLITE_DBCONFIG_LOOKASIDE: {
      void* buffer = va_arg(args, void*);
      const int size = va_arg(args, int);
      const int count = va_arg(args, int);
      rc = fns.sqlite3_db_config(db, op, buffer, size, count);
      break;
    }
    default: {  // every on/off option: (int value, int* now)
      const int value = va_arg(args, int);
      int* now = va_arg(args, int*);
      rc = fns.sqlite3_db_config(db, op, value, now);
      break;
    }
  }
  va_end(args);
  return rc;
}

}  // extern "C"
#pragma GCC visibility pop
