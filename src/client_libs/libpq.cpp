// The PostgreSQL client API the agent calls, forwarded to libpq.so.5 opened on
// first use (client_libs/dynamic_library.hpp). Each forwarder has the
// header's signature, so the compiler checks it against the declaration.
#include "client_libs/libpq.hpp"

#include <libpq-fe.h>

// The functions the agent calls; a new call needs a line here.
#define OUTPOST_LIBPQ_FUNCTIONS(X) \
  X(PQcancel)                      \
  X(PQclear)                       \
  X(PQcmdStatus)                   \
  X(PQconnectPoll)                 \
  X(PQconnectStartParams)          \
  X(PQconninfoFree)                \
  X(PQconninfoParse)               \
  X(PQconsumeInput)                \
  X(PQdb)                          \
  X(PQenterPipelineMode)           \
  X(PQerrorMessage)                \
  X(PQexitPipelineMode)            \
  X(PQfinish)                      \
  X(PQfname)                       \
  X(PQfreeCancel)                  \
  X(PQfreemem)                     \
  X(PQftype)                       \
  X(PQgetCancel)                   \
  X(PQgetCopyData)                 \
  X(PQgetResult)                   \
  X(PQgetisnull)                   \
  X(PQgetlength)                   \
  X(PQgetvalue)                    \
  X(PQisBusy)                      \
  X(PQmakeEmptyPGresult)           \
  X(PQnfields)                     \
  X(PQnparams)                     \
  X(PQntuples)                     \
  X(PQpipelineSync)                \
  X(PQresultErrorField)            \
  X(PQresultErrorMessage)          \
  X(PQresultStatus)                \
  X(PQsendDescribePrepared)        \
  X(PQsendPrepare)                 \
  X(PQsendQuery)                   \
  X(PQsendQueryParams)             \
  X(PQsetNoticeProcessor)          \
  X(PQsetSingleRowMode)            \
  X(PQsocket)                      \
  X(PQstatus)                      \
  X(PQtransactionStatus)

namespace outpost::client_libs {
namespace {

struct Api {
// NOLINTNEXTLINE(bugprone-macro-parentheses): `name` declares a member.
#define OUTPOST_POINTER(name) decltype(&::name) name = nullptr;
  OUTPOST_LIBPQ_FUNCTIONS(OUTPOST_POINTER)
#undef OUTPOST_POINTER
};

Api g_api;

const char* resolve(void* handle) {
#define OUTPOST_RESOLVE(name) \
  if (!resolve_symbol(handle, #name, g_api.name)) return #name;
  OUTPOST_LIBPQ_FUNCTIONS(OUTPOST_RESOLVE)
#undef OUTPOST_RESOLVE
  return nullptr;
}

const Api& api(const char* function) {
  if (libpq().load() != nullptr) libpq().unavailable(function);
  return g_api;
}

}  // namespace

DynamicLibrary& libpq() {
  static DynamicLibrary library("PostgreSQL", "libpq.so.5", "libpq5", &resolve);
  return library;
}

}  // namespace outpost::client_libs

using outpost::client_libs::api;

// Hidden: never exported from the executable, so in a binary that also links
// the real library (outpost-hub, tests) the library's own calls and an ODBC
// driver's stay inside it; only this binary's calls take the forwarders.
#pragma GCC visibility push(hidden)
extern "C" {

int PQcancel(PGcancel* cancel, char* errbuf, int errbufsize) {
  return api("PQcancel").PQcancel(cancel, errbuf, errbufsize);
}
void PQclear(PGresult* res) {
  return api("PQclear").PQclear(res);
}
char* PQcmdStatus(PGresult* res) {
  return api("PQcmdStatus").PQcmdStatus(res);
}
PostgresPollingStatusType PQconnectPoll(PGconn* conn) {
  return api("PQconnectPoll").PQconnectPoll(conn);
}
PGconn* PQconnectStartParams(const char* const* keywords, const char* const* values,
                             int expand_dbname) {
  return api("PQconnectStartParams").PQconnectStartParams(keywords, values, expand_dbname);
}
void PQconninfoFree(PQconninfoOption* connOptions) {
  return api("PQconninfoFree").PQconninfoFree(connOptions);
}
PQconninfoOption* PQconninfoParse(const char* conninfo, char** errmsg) {
  return api("PQconninfoParse").PQconninfoParse(conninfo, errmsg);
}
int PQconsumeInput(PGconn* conn) {
  return api("PQconsumeInput").PQconsumeInput(conn);
}
char* PQdb(const PGconn* conn) {
  return api("PQdb").PQdb(conn);
}
int PQenterPipelineMode(PGconn* conn) {
  return api("PQenterPipelineMode").PQenterPipelineMode(conn);
}
char* PQerrorMessage(const PGconn* conn) {
  return api("PQerrorMessage").PQerrorMessage(conn);
}
int PQexitPipelineMode(PGconn* conn) {
  return api("PQexitPipelineMode").PQexitPipelineMode(conn);
}
void PQfinish(PGconn* conn) {
  return api("PQfinish").PQfinish(conn);
}
char* PQfname(const PGresult* res, int field_num) {
  return api("PQfname").PQfname(res, field_num);
}
void PQfreeCancel(PGcancel* cancel) {
  return api("PQfreeCancel").PQfreeCancel(cancel);
}
void PQfreemem(void* ptr) {
  return api("PQfreemem").PQfreemem(ptr);
}
Oid PQftype(const PGresult* res, int field_num) {
  return api("PQftype").PQftype(res, field_num);
}
PGcancel* PQgetCancel(PGconn* conn) {
  return api("PQgetCancel").PQgetCancel(conn);
}
int PQgetCopyData(PGconn* conn, char** buffer, int async) {
  return api("PQgetCopyData").PQgetCopyData(conn, buffer, async);
}
PGresult* PQgetResult(PGconn* conn) {
  return api("PQgetResult").PQgetResult(conn);
}
int PQgetisnull(const PGresult* res, int tup_num, int field_num) {
  return api("PQgetisnull").PQgetisnull(res, tup_num, field_num);
}
int PQgetlength(const PGresult* res, int tup_num, int field_num) {
  return api("PQgetlength").PQgetlength(res, tup_num, field_num);
}
char* PQgetvalue(const PGresult* res, int tup_num, int field_num) {
  return api("PQgetvalue").PQgetvalue(res, tup_num, field_num);
}
int PQisBusy(PGconn* conn) {
  return api("PQisBusy").PQisBusy(conn);
}
PGresult* PQmakeEmptyPGresult(PGconn* conn, ExecStatusType status) {
  return api("PQmakeEmptyPGresult").PQmakeEmptyPGresult(conn, status);
}
int PQnfields(const PGresult* res) {
  return api("PQnfields").PQnfields(res);
}
int PQnparams(const PGresult* res) {
  return api("PQnparams").PQnparams(res);
}
int PQntuples(const PGresult* res) {
  return api("PQntuples").PQntuples(res);
}
int PQpipelineSync(PGconn* conn) {
  return api("PQpipelineSync").PQpipelineSync(conn);
}
char* PQresultErrorField(const PGresult* res, int fieldcode) {
  return api("PQresultErrorField").PQresultErrorField(res, fieldcode);
}
char* PQresultErrorMessage(const PGresult* res) {
  return api("PQresultErrorMessage").PQresultErrorMessage(res);
}
ExecStatusType PQresultStatus(const PGresult* res) {
  return api("PQresultStatus").PQresultStatus(res);
}
int PQsendDescribePrepared(PGconn* conn, const char* stmt) {
  return api("PQsendDescribePrepared").PQsendDescribePrepared(conn, stmt);
}
int PQsendPrepare(PGconn* conn, const char* stmtName, const char* query, int nParams,
                  const Oid* paramTypes) {
  return api("PQsendPrepare").PQsendPrepare(conn, stmtName, query, nParams, paramTypes);
}
int PQsendQuery(PGconn* conn, const char* query) {
  return api("PQsendQuery").PQsendQuery(conn, query);
}
int PQsendQueryParams(PGconn* conn, const char* command, int nParams, const Oid* paramTypes,
                      const char* const* paramValues, const int* paramLengths,
                      const int* paramFormats, int resultFormat) {
  return api("PQsendQueryParams")
      .PQsendQueryParams(conn, command, nParams, paramTypes, paramValues, paramLengths,
                         paramFormats, resultFormat);
}
PQnoticeProcessor PQsetNoticeProcessor(PGconn* conn, PQnoticeProcessor proc, void* arg) {
  return api("PQsetNoticeProcessor").PQsetNoticeProcessor(conn, proc, arg);
}
int PQsetSingleRowMode(PGconn* conn) {
  return api("PQsetSingleRowMode").PQsetSingleRowMode(conn);
}
int PQsocket(const PGconn* conn) {
  return api("PQsocket").PQsocket(conn);
}
ConnStatusType PQstatus(const PGconn* conn) {
  return api("PQstatus").PQstatus(conn);
}
PGTransactionStatusType PQtransactionStatus(const PGconn* conn) {
  return api("PQtransactionStatus").PQtransactionStatus(conn);
}

}  // extern "C"
#pragma GCC visibility pop
