// The ODBC client API the agent calls, forwarded to libodbc.so.2 opened on
// first use (client_libs/dynamic_library.hpp). Each forwarder has the
// header's signature, so the compiler checks it against the declaration.
#include "client_libs/libodbc.hpp"

#include <sql.h>
#include <sqlext.h>

// The functions the agent calls; a new call needs a line here.
#define OUTPOST_LIBODBC_FUNCTIONS(X) \
  X(SQLAllocHandle)                  \
  X(SQLCancel)                       \
  X(SQLCloseCursor)                  \
  X(SQLColAttribute)                 \
  X(SQLColumns)                      \
  X(SQLDescribeCol)                  \
  X(SQLDisconnect)                   \
  X(SQLDriverConnect)                \
  X(SQLEndTran)                      \
  X(SQLExecDirect)                   \
  X(SQLFetch)                        \
  X(SQLForeignKeys)                  \
  X(SQLFreeHandle)                   \
  X(SQLGetConnectAttr)               \
  X(SQLGetData)                      \
  X(SQLGetDiagRec)                   \
  X(SQLGetFunctions)                 \
  X(SQLGetInfo)                      \
  X(SQLNumResultCols)                \
  X(SQLPrimaryKeys)                  \
  X(SQLSetConnectAttr)               \
  X(SQLSetEnvAttr)                   \
  X(SQLSetStmtAttr)                  \
  X(SQLStatistics)                   \
  X(SQLTables)

namespace outpost::client_libs {
namespace {

struct Api {
// NOLINTNEXTLINE(bugprone-macro-parentheses): `name` declares a member.
#define OUTPOST_POINTER(name) decltype(&::name) name = nullptr;
  OUTPOST_LIBODBC_FUNCTIONS(OUTPOST_POINTER)
#undef OUTPOST_POINTER
};

Api g_api;

const char* resolve(void* handle) {
#define OUTPOST_RESOLVE(name) \
  if (!resolve_symbol(handle, #name, g_api.name)) return #name;
  OUTPOST_LIBODBC_FUNCTIONS(OUTPOST_RESOLVE)
#undef OUTPOST_RESOLVE
  return nullptr;
}

const Api& api(const char* function) {
  if (libodbc().load() != nullptr) libodbc().unavailable(function);
  return g_api;
}

}  // namespace

DynamicLibrary& libodbc() {
  static DynamicLibrary library("ODBC", "libodbc.so.2", "libodbc2", &resolve);
  return library;
}

}  // namespace outpost::client_libs

using outpost::client_libs::api;

// Hidden: never exported from the executable, so in a binary that also links
// the real library (outpost-hub, tests) the library's own calls and an ODBC
// driver's stay inside it; only this binary's calls take the forwarders.
#pragma GCC visibility push(hidden)
extern "C" {

SQLRETURN SQLAllocHandle(SQLSMALLINT HandleType, SQLHANDLE InputHandle, SQLHANDLE* OutputHandle) {
  return api("SQLAllocHandle").SQLAllocHandle(HandleType, InputHandle, OutputHandle);
}
SQLRETURN SQLCancel(SQLHSTMT StatementHandle) {
  return api("SQLCancel").SQLCancel(StatementHandle);
}
SQLRETURN SQLCloseCursor(SQLHSTMT StatementHandle) {
  return api("SQLCloseCursor").SQLCloseCursor(StatementHandle);
}
SQLRETURN SQLColAttribute(SQLHSTMT StatementHandle, SQLUSMALLINT ColumnNumber,
                          SQLUSMALLINT FieldIdentifier, SQLPOINTER CharacterAttribute,
                          SQLSMALLINT BufferLength, SQLSMALLINT* StringLength,
                          SQLLEN* NumericAttribute) {
  return api("SQLColAttribute")
      .SQLColAttribute(StatementHandle, ColumnNumber, FieldIdentifier, CharacterAttribute,
                       BufferLength, StringLength, NumericAttribute);
}
SQLRETURN SQLColumns(SQLHSTMT StatementHandle, SQLCHAR* CatalogName, SQLSMALLINT NameLength1,
                     SQLCHAR* SchemaName, SQLSMALLINT NameLength2, SQLCHAR* TableName,
                     SQLSMALLINT NameLength3, SQLCHAR* ColumnName, SQLSMALLINT NameLength4) {
  return api("SQLColumns")
      .SQLColumns(StatementHandle, CatalogName, NameLength1, SchemaName, NameLength2, TableName,
                  NameLength3, ColumnName, NameLength4);
}
SQLRETURN SQLDescribeCol(SQLHSTMT StatementHandle, SQLUSMALLINT ColumnNumber, SQLCHAR* ColumnName,
                         SQLSMALLINT BufferLength, SQLSMALLINT* NameLength, SQLSMALLINT* DataType,
                         SQLULEN* ColumnSize, SQLSMALLINT* DecimalDigits, SQLSMALLINT* Nullable) {
  return api("SQLDescribeCol")
      .SQLDescribeCol(StatementHandle, ColumnNumber, ColumnName, BufferLength, NameLength, DataType,
                      ColumnSize, DecimalDigits, Nullable);
}
SQLRETURN SQLDisconnect(SQLHDBC ConnectionHandle) {
  return api("SQLDisconnect").SQLDisconnect(ConnectionHandle);
}
SQLRETURN SQLDriverConnect(SQLHDBC hdbc, SQLHWND hwnd, SQLCHAR* szConnStrIn,
                           SQLSMALLINT cbConnStrIn, SQLCHAR* szConnStrOut,
                           SQLSMALLINT cbConnStrOutMax, SQLSMALLINT* pcbConnStrOut,
                           SQLUSMALLINT fDriverCompletion) {
  return api("SQLDriverConnect")
      .SQLDriverConnect(hdbc, hwnd, szConnStrIn, cbConnStrIn, szConnStrOut, cbConnStrOutMax,
                        pcbConnStrOut, fDriverCompletion);
}
SQLRETURN SQLEndTran(SQLSMALLINT HandleType, SQLHANDLE Handle, SQLSMALLINT CompletionType) {
  return api("SQLEndTran").SQLEndTran(HandleType, Handle, CompletionType);
}
SQLRETURN SQLExecDirect(SQLHSTMT StatementHandle, SQLCHAR* StatementText, SQLINTEGER TextLength) {
  return api("SQLExecDirect").SQLExecDirect(StatementHandle, StatementText, TextLength);
}
SQLRETURN SQLFetch(SQLHSTMT StatementHandle) {
  return api("SQLFetch").SQLFetch(StatementHandle);
}
SQLRETURN SQLForeignKeys(SQLHSTMT hstmt, SQLCHAR* szPkCatalogName, SQLSMALLINT cbPkCatalogName,
                         SQLCHAR* szPkSchemaName, SQLSMALLINT cbPkSchemaName,
                         SQLCHAR* szPkTableName, SQLSMALLINT cbPkTableName,
                         SQLCHAR* szFkCatalogName, SQLSMALLINT cbFkCatalogName,
                         SQLCHAR* szFkSchemaName, SQLSMALLINT cbFkSchemaName,
                         SQLCHAR* szFkTableName, SQLSMALLINT cbFkTableName) {
  return api("SQLForeignKeys")
      .SQLForeignKeys(hstmt, szPkCatalogName, cbPkCatalogName, szPkSchemaName, cbPkSchemaName,
                      szPkTableName, cbPkTableName, szFkCatalogName, cbFkCatalogName,
                      szFkSchemaName, cbFkSchemaName, szFkTableName, cbFkTableName);
}
SQLRETURN SQLFreeHandle(SQLSMALLINT HandleType, SQLHANDLE Handle) {
  return api("SQLFreeHandle").SQLFreeHandle(HandleType, Handle);
}
SQLRETURN SQLGetConnectAttr(SQLHDBC ConnectionHandle, SQLINTEGER Attribute, SQLPOINTER Value,
                            SQLINTEGER BufferLength, SQLINTEGER* StringLength) {
  return api("SQLGetConnectAttr")
      .SQLGetConnectAttr(ConnectionHandle, Attribute, Value, BufferLength, StringLength);
}
SQLRETURN SQLGetData(SQLHSTMT StatementHandle, SQLUSMALLINT ColumnNumber, SQLSMALLINT TargetType,
                     SQLPOINTER TargetValue, SQLLEN BufferLength, SQLLEN* StrLen_or_Ind) {
  return api("SQLGetData")
      .SQLGetData(StatementHandle, ColumnNumber, TargetType, TargetValue, BufferLength,
                  StrLen_or_Ind);
}
SQLRETURN SQLGetDiagRec(SQLSMALLINT HandleType, SQLHANDLE Handle, SQLSMALLINT RecNumber,
                        SQLCHAR* Sqlstate, SQLINTEGER* NativeError, SQLCHAR* MessageText,
                        SQLSMALLINT BufferLength, SQLSMALLINT* TextLength) {
  return api("SQLGetDiagRec")
      .SQLGetDiagRec(HandleType, Handle, RecNumber, Sqlstate, NativeError, MessageText,
                     BufferLength, TextLength);
}
SQLRETURN SQLGetFunctions(SQLHDBC ConnectionHandle, SQLUSMALLINT FunctionId,
                          SQLUSMALLINT* Supported) {
  return api("SQLGetFunctions").SQLGetFunctions(ConnectionHandle, FunctionId, Supported);
}
SQLRETURN SQLGetInfo(SQLHDBC ConnectionHandle, SQLUSMALLINT InfoType, SQLPOINTER InfoValue,
                     SQLSMALLINT BufferLength, SQLSMALLINT* StringLength) {
  return api("SQLGetInfo")
      .SQLGetInfo(ConnectionHandle, InfoType, InfoValue, BufferLength, StringLength);
}
SQLRETURN SQLNumResultCols(SQLHSTMT StatementHandle, SQLSMALLINT* ColumnCount) {
  return api("SQLNumResultCols").SQLNumResultCols(StatementHandle, ColumnCount);
}
SQLRETURN SQLPrimaryKeys(SQLHSTMT hstmt, SQLCHAR* szCatalogName, SQLSMALLINT cbCatalogName,
                         SQLCHAR* szSchemaName, SQLSMALLINT cbSchemaName, SQLCHAR* szTableName,
                         SQLSMALLINT cbTableName) {
  return api("SQLPrimaryKeys")
      .SQLPrimaryKeys(hstmt, szCatalogName, cbCatalogName, szSchemaName, cbSchemaName, szTableName,
                      cbTableName);
}
SQLRETURN SQLSetConnectAttr(SQLHDBC ConnectionHandle, SQLINTEGER Attribute, SQLPOINTER Value,
                            SQLINTEGER StringLength) {
  return api("SQLSetConnectAttr")
      .SQLSetConnectAttr(ConnectionHandle, Attribute, Value, StringLength);
}
SQLRETURN SQLSetEnvAttr(SQLHENV EnvironmentHandle, SQLINTEGER Attribute, SQLPOINTER Value,
                        SQLINTEGER StringLength) {
  return api("SQLSetEnvAttr").SQLSetEnvAttr(EnvironmentHandle, Attribute, Value, StringLength);
}
SQLRETURN SQLSetStmtAttr(SQLHSTMT StatementHandle, SQLINTEGER Attribute, SQLPOINTER Value,
                         SQLINTEGER StringLength) {
  return api("SQLSetStmtAttr").SQLSetStmtAttr(StatementHandle, Attribute, Value, StringLength);
}
SQLRETURN SQLStatistics(SQLHSTMT StatementHandle, SQLCHAR* CatalogName, SQLSMALLINT NameLength1,
                        SQLCHAR* SchemaName, SQLSMALLINT NameLength2, SQLCHAR* TableName,
                        SQLSMALLINT NameLength3, SQLUSMALLINT Unique, SQLUSMALLINT Reserved) {
  return api("SQLStatistics")
      .SQLStatistics(StatementHandle, CatalogName, NameLength1, SchemaName, NameLength2, TableName,
                     NameLength3, Unique, Reserved);
}
SQLRETURN SQLTables(SQLHSTMT StatementHandle, SQLCHAR* CatalogName, SQLSMALLINT NameLength1,
                    SQLCHAR* SchemaName, SQLSMALLINT NameLength2, SQLCHAR* TableName,
                    SQLSMALLINT NameLength3, SQLCHAR* TableType, SQLSMALLINT NameLength4) {
  return api("SQLTables")
      .SQLTables(StatementHandle, CatalogName, NameLength1, SchemaName, NameLength2, TableName,
                 NameLength3, TableType, NameLength4);
}

}  // extern "C"
#pragma GCC visibility pop
