// The MariaDB client API the agent calls, forwarded to libmariadb.so.3 opened on
// first use (client_libs/dynamic_library.hpp). Each forwarder has the
// header's signature, so the compiler checks it against the declaration.
#include "client_libs/libmariadb.hpp"

#include <mysql.h>

// The functions the agent calls; a new call needs a line here.
#define OUTPOST_LIBMARIADB_FUNCTIONS(X) \
  X(mariadb_field_attr)                 \
  X(mysql_close)                        \
  X(mysql_errno)                        \
  X(mysql_error)                        \
  X(mysql_fetch_fields)                 \
  X(mysql_fetch_lengths)                \
  X(mysql_fetch_row)                    \
  X(mysql_field_count)                  \
  X(mysql_free_result)                  \
  X(mysql_get_server_info)              \
  X(mysql_get_socket)                   \
  X(mysql_get_ssl_cipher)               \
  X(mysql_init)                         \
  X(mysql_more_results)                 \
  X(mysql_next_result)                  \
  X(mysql_num_fields)                   \
  X(mysql_options)                      \
  X(mysql_options4)                     \
  X(mysql_ping)                         \
  X(mysql_query)                        \
  X(mysql_real_connect)                 \
  X(mysql_real_escape_string)           \
  X(mysql_real_query)                   \
  X(mysql_reset_connection)             \
  X(mysql_server_init)                  \
  X(mysql_set_local_infile_handler)     \
  X(mysql_ssl_set)                      \
  X(mysql_store_result)                 \
  X(mysql_thread_id)                    \
  X(mysql_use_result)

namespace outpost::client_libs {
namespace {

struct Api {
// NOLINTNEXTLINE(bugprone-macro-parentheses): `name` declares a member.
#define OUTPOST_POINTER(name) decltype(&::name) name = nullptr;
  OUTPOST_LIBMARIADB_FUNCTIONS(OUTPOST_POINTER)
#undef OUTPOST_POINTER
};

Api g_api;

const char* resolve(void* handle) {
#define OUTPOST_RESOLVE(name) \
  if (!resolve_symbol(handle, #name, g_api.name)) return #name;
  OUTPOST_LIBMARIADB_FUNCTIONS(OUTPOST_RESOLVE)
#undef OUTPOST_RESOLVE
  return nullptr;
}

const Api& api(const char* function) {
  if (libmariadb().load() != nullptr) libmariadb().unavailable(function);
  return g_api;
}

}  // namespace

DynamicLibrary& libmariadb() {
  static DynamicLibrary library("MariaDB", "libmariadb.so.3", "libmariadb3", &resolve);
  return library;
}

}  // namespace outpost::client_libs

using outpost::client_libs::api;

// Hidden: never exported from the executable, so in a binary that also links
// the real library (outpost-hub, tests) the library's own calls and an ODBC
// driver's stay inside it; only this binary's calls take the forwarders.
#pragma GCC visibility push(hidden)
extern "C" {

int mariadb_field_attr(MARIADB_CONST_STRING* attr, const MYSQL_FIELD* field,
                       enum mariadb_field_attr_t type) {
  return api("mariadb_field_attr").mariadb_field_attr(attr, field, type);
}
void mysql_close(MYSQL* sock) {
  return api("mysql_close").mysql_close(sock);
}
unsigned int mysql_errno(MYSQL* mysql) {
  return api("mysql_errno").mysql_errno(mysql);
}
const char* mysql_error(MYSQL* mysql) {
  return api("mysql_error").mysql_error(mysql);
}
MYSQL_FIELD* mysql_fetch_fields(MYSQL_RES* res) {
  return api("mysql_fetch_fields").mysql_fetch_fields(res);
}
unsigned long* mysql_fetch_lengths(MYSQL_RES* result) {
  return api("mysql_fetch_lengths").mysql_fetch_lengths(result);
}
MYSQL_ROW mysql_fetch_row(MYSQL_RES* result) {
  return api("mysql_fetch_row").mysql_fetch_row(result);
}
unsigned int mysql_field_count(MYSQL* mysql) {
  return api("mysql_field_count").mysql_field_count(mysql);
}
void mysql_free_result(MYSQL_RES* result) {
  return api("mysql_free_result").mysql_free_result(result);
}
char* mysql_get_server_info(MYSQL* mysql) {
  return api("mysql_get_server_info").mysql_get_server_info(mysql);
}
my_socket mysql_get_socket(MYSQL* mysql) {
  return api("mysql_get_socket").mysql_get_socket(mysql);
}
const char* mysql_get_ssl_cipher(MYSQL* mysql) {
  return api("mysql_get_ssl_cipher").mysql_get_ssl_cipher(mysql);
}
MYSQL* mysql_init(MYSQL* mysql) {
  return api("mysql_init").mysql_init(mysql);
}
my_bool mysql_more_results(MYSQL* mysql) {
  return api("mysql_more_results").mysql_more_results(mysql);
}
int mysql_next_result(MYSQL* mysql) {
  return api("mysql_next_result").mysql_next_result(mysql);
}
unsigned int mysql_num_fields(MYSQL_RES* res) {
  return api("mysql_num_fields").mysql_num_fields(res);
}
int mysql_options(MYSQL* mysql, enum mysql_option option, const void* arg) {
  return api("mysql_options").mysql_options(mysql, option, arg);
}
int mysql_options4(MYSQL* mysql, enum mysql_option option, const void* arg1, const void* arg2) {
  return api("mysql_options4").mysql_options4(mysql, option, arg1, arg2);
}
int mysql_ping(MYSQL* mysql) {
  return api("mysql_ping").mysql_ping(mysql);
}
int mysql_query(MYSQL* mysql, const char* q) {
  return api("mysql_query").mysql_query(mysql, q);
}
MYSQL* mysql_real_connect(MYSQL* mysql, const char* host, const char* user, const char* passwd,
                          const char* db, unsigned int port, const char* unix_socket,
                          unsigned long clientflag) {
  return api("mysql_real_connect")
      .mysql_real_connect(mysql, host, user, passwd, db, port, unix_socket, clientflag);
}
unsigned long mysql_real_escape_string(MYSQL* mysql, char* to, const char* from,
                                       unsigned long length) {
  return api("mysql_real_escape_string").mysql_real_escape_string(mysql, to, from, length);
}
int mysql_real_query(MYSQL* mysql, const char* q, unsigned long length) {
  return api("mysql_real_query").mysql_real_query(mysql, q, length);
}
int mysql_reset_connection(MYSQL* mysql) {
  return api("mysql_reset_connection").mysql_reset_connection(mysql);
}
int mysql_server_init(int argc, char** argv, char** groups) {
  return api("mysql_server_init").mysql_server_init(argc, argv, groups);
}
void mysql_set_local_infile_handler(MYSQL* mysql,
                                    int (*local_infile_init)(void**, const char*, void*),
                                    int (*local_infile_read)(void*, char*, unsigned int),
                                    void (*local_infile_end)(void*),
                                    int (*local_infile_error)(void*, char*, unsigned int),
                                    void* a5) {
  return api("mysql_set_local_infile_handler")
      .mysql_set_local_infile_handler(mysql, local_infile_init, local_infile_read, local_infile_end,
                                      local_infile_error, a5);
}
int mysql_ssl_set(MYSQL* mysql, const char* key, const char* cert, const char* ca,
                  const char* capath, const char* cipher) {
  return api("mysql_ssl_set").mysql_ssl_set(mysql, key, cert, ca, capath, cipher);
}
MYSQL_RES* mysql_store_result(MYSQL* mysql) {
  return api("mysql_store_result").mysql_store_result(mysql);
}
unsigned long mysql_thread_id(MYSQL* mysql) {
  return api("mysql_thread_id").mysql_thread_id(mysql);
}
MYSQL_RES* mysql_use_result(MYSQL* mysql) {
  return api("mysql_use_result").mysql_use_result(mysql);
}

}  // extern "C"
#pragma GCC visibility pop
