#include "mysql/mysql_connection.hpp"

#include "mysql/mysql_tls_probe.hpp"

#include <arpa/inet.h>
#include <mysql.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <utility>
#include <variant>
#include <vector>

namespace outpost::connectors::mysql {
namespace {

// Connector/C client error numbers (errmsg.h) used for classification.
constexpr unsigned kCrConnectionError = 2002;
constexpr unsigned kCrConnHostError = 2003;
constexpr unsigned kCrUnknownHost = 2005;
constexpr unsigned kCrServerGone = 2006;
constexpr unsigned kCrServerLost = 2013;
constexpr unsigned kCrSslConnectionError = 2026;
constexpr unsigned kCrUnknownError = 2000;
constexpr unsigned kCrNetPacketTooLarge = 2020;

// LOAD DATA LOCAL: the agent never sends a file. CLIENT_LOCAL_FILES is
// cleared (MYSQL_OPT_LOCAL_INFILE, read by Connector/C as an unsigned int),
// and should anything turn it back on, these handlers refuse every request
// without opening a file.
int refuse_infile_init(void** info, const char*, void*) {
  *info = nullptr;
  return 1;
}
int refuse_infile_read(void*, char*, unsigned int) {
  return -1;
}
void refuse_infile_end(void*) {}
int refuse_infile_error(void*, char* message, unsigned int size) {
  std::snprintf(message, size, "%s", kLocalInfileRefused);
  return static_cast<int>(kCrUnknownError);
}

bool is_network_error(unsigned code) {
  return code == kCrConnectionError || code == kCrConnHostError || code == kCrUnknownHost ||
         code == kCrServerGone || code == kCrServerLost;
}

// The address in its canonical binary form, so "::1" and "0:0::1" compare equal.
std::optional<std::vector<unsigned char>> address_bytes(const std::string& text) {
  std::array<unsigned char, sizeof(in6_addr)> buffer{};
  if (inet_pton(AF_INET, text.c_str(), buffer.data()) == 1) {
    return std::vector<unsigned char>(buffer.begin(), buffer.begin() + sizeof(in_addr));
  }
  if (inet_pton(AF_INET6, text.c_str(), buffer.data()) == 1) {
    return std::vector<unsigned char>(buffer.begin(), buffer.end());
  }
  return std::nullopt;
}

bool verifies_name(const MysqlConfig& config) {
  return config.ssl_mode == SslMode::kVerifyCa || config.ssl_mode == SslMode::kVerifyIdentity;
}

void apply_tls_options(MYSQL* handle, const MysqlConfig& config, const std::string& fingerprint) {
  const my_bool yes = 1;
  const char* ca = config.ssl_ca.empty() ? nullptr : config.ssl_ca.c_str();
  switch (config.ssl_mode) {
    case SslMode::kDisabled: return;
    case SslMode::kPreferred:
      // use_ssl without enforcement: Connector/C falls back to plain TCP when
      // the server does not offer TLS.
      mysql_ssl_set(handle, nullptr, nullptr, ca, nullptr, nullptr);
      return;
    case SslMode::kRequired:
      mysql_options(handle, MYSQL_OPT_SSL_ENFORCE, &yes);
      if (ca != nullptr) mysql_options(handle, MYSQL_OPT_SSL_CA, ca);
      return;
    case SslMode::kVerifyCa:
    case SslMode::kVerifyIdentity:
      // The numeric address is dialled: the chain is checked against ssl_ca
      // in the handshake, and the certificate must be the one the probe
      // verified against the host name (probe_certificate), checked before
      // any credential is sent. verify_ca is as strict as verify_identity.
      mysql_options(handle, MYSQL_OPT_SSL_ENFORCE, &yes);
      mysql_options(handle, MYSQL_OPT_SSL_CA, ca);
      mysql_options(handle, MARIADB_OPT_TLS_PEER_FP, fingerprint.c_str());
      return;
  }
}

// Dials `address` (numeric, already permitted by the egress policy), pinning
// `fingerprint` with certificate verification.
ConnectOutcome dial(const MysqlConfig& config, const std::string& address,
                    std::chrono::seconds timeout, const std::string& fingerprint) {
  MYSQL* handle = mysql_init(nullptr);
  if (handle == nullptr) {
    return {nullptr, JobError{ErrorCode::kInternal, "mysql_init failed (out of memory)", true}};
  }
  const auto timeout_s = static_cast<unsigned int>(timeout.count());
  // TCP always: Connector/C would take the name "localhost" as the local socket.
  const unsigned int protocol = MYSQL_PROTOCOL_TCP;
  mysql_options(handle, MYSQL_OPT_PROTOCOL, &protocol);
  mysql_options(handle, MYSQL_OPT_CONNECT_TIMEOUT, &timeout_s);
  mysql_options(handle, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  // LOAD DATA LOCAL would let any server the control plane names read
  // agent-side files (the token, /proc/self/environ). Connector/C reads this
  // option as an unsigned int: a 1-byte my_bool left it enabled.
  const unsigned int local_infile = 0;
  mysql_options(handle, MYSQL_OPT_LOCAL_INFILE, &local_infile);
  mysql_set_local_infile_handler(handle, refuse_infile_init, refuse_infile_read, refuse_infile_end,
                                 refuse_infile_error, nullptr);
  // One row packet is held whole in the client's network buffer: bound it so
  // a huge value fails before the buffer grows (class 8; README "Memory").
  const std::size_t max_packet = kMaxRowPacketBytes;
  mysql_options(handle, MYSQL_OPT_MAX_ALLOWED_PACKET, &max_packet);
  mysql_options4(handle, MYSQL_OPT_CONNECT_ATTR_ADD, "program_name", "outpost-agent");
  apply_tls_options(handle, config, fingerprint);

  const auto started = std::chrono::steady_clock::now();
  const char* database = config.database.empty() ? nullptr : config.database.c_str();
  if (mysql_real_connect(handle, address.c_str(), config.user.c_str(), config.password.c_str(),
                         database, config.port, nullptr, 0) == nullptr) {
    const unsigned code = mysql_errno(handle);
    const std::string message = mysql_error(handle);
    mysql_close(handle);
    auto error = classify_error(code, message);
    const auto elapsed = std::chrono::steady_clock::now() - started;
    if (is_network_error(code) && (elapsed + std::chrono::milliseconds(250) >= timeout ||
                                   message.find("(110)") != std::string::npos)) {
      error = JobError{ErrorCode::kTimeout,
                       "connecting to " + address + " timed out after " +
                           std::to_string(timeout.count()) + " s: " + message,
                       true};
    }
    return {nullptr, std::move(error)};
  }
  if (config.ssl_mode != SslMode::kDisabled && config.ssl_mode != SslMode::kPreferred &&
      mysql_get_ssl_cipher(handle) == nullptr) {
    // Connector/C 3.3 does not refuse a server without TLS under
    // MYSQL_OPT_SSL_ENFORCE alone (only with certificate verification), so
    // the plain session is refused here, before any statement is sent.
    mysql_close(handle);
    return {nullptr,
            JobError{ErrorCode::kTlsError,
                     "ssl_mode requires TLS but the server at " + address + " does not offer it",
                     false}};
  }
  return {std::make_unique<Connection>(handle, address), std::nullopt};
}

// Dials one permitted address; with certificate verification the probe
// checks the certificate against the host name first.
ConnectOutcome dial_address(const MysqlConfig& config, const std::string& address,
                            std::chrono::seconds timeout) {
  std::string fingerprint;
  if (verifies_name(config)) {
    auto probed = probe_certificate(address, config.port, config.host, config.ssl_ca, timeout);
    if (auto* error = std::get_if<JobError>(&probed)) return {nullptr, std::move(*error)};
    fingerprint = std::get<std::string>(probed);
  }
  return dial(config, address, timeout, fingerprint);
}

}  // namespace

Connection::Connection(st_mysql* handle, std::string address)
    : handle_(handle), address_(std::move(address)) {
  const char* info = mysql_get_server_info(handle_);
  mariadb_ = info != nullptr && std::strstr(info, "MariaDB") != nullptr;
}

Connection::~Connection() {
  mysql_close(handle_);
}

std::string Connection::server_version() const {
  std::string info = mysql_get_server_info(handle_);
  if (const auto dash = info.find('-'); dash != std::string::npos) info.resize(dash);
  return (mariadb_ ? "MariaDB " : "MySQL ") + info;
}

unsigned long Connection::thread_id() const {
  return mysql_thread_id(handle_);
}

std::optional<JobError> Connection::execute(std::string_view sql) {
  if (mysql_real_query(handle_, sql.data(), static_cast<unsigned long>(sql.size())) != 0) {
    return last_error();
  }
  // Drain whatever the statement returned so the session is ready again.
  do {
    if (MYSQL_RES* result = mysql_store_result(handle_); result != nullptr) {
      mysql_free_result(result);
    } else if (mysql_field_count(handle_) != 0) {
      return last_error();
    }
  } while (mysql_next_result(handle_) == 0);
  if (mysql_errno(handle_) != 0) return last_error();
  return std::nullopt;
}

void Connection::interrupt_socket() const noexcept {
  const auto fd = mysql_get_socket(handle_);
  if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
}

JobError Connection::last_error() const {
  const unsigned code = mysql_errno(handle_);
  // Connector/C 3.3 refuses a packet past max_allowed_packet (net_realloc
  // sets net.error = 1 and CR_NET_PACKET_TOO_LARGE) but then reports it as
  // CR_SERVER_LOST (ma_net_safe_read compares with the server's 1153); a
  // lost socket leaves net.error = 2. Report what happened.
  if (code == kCrServerLost && handle_->net.error == 1) {
    return classify_error(kCrNetPacketTooLarge, "packet larger than max_allowed_packet");
  }
  return classify_error(code, mysql_error(handle_));
}

bool is_local_infile_refusal(std::string_view message) {
  return message.find(kLocalInfileRefused) != std::string_view::npos ||
         message.find("Load data local infile forbidden") != std::string_view::npos;
}

// Over 60 lines: the table of server and client error codes is one switch,
// read and extended as one list.
JobError classify_error(unsigned int code, std::string_view message) {
  std::string text = "MySQL error " + std::to_string(code) + ": " + std::string(message);
  auto make = [&](ErrorCode c, bool retryable) { return JobError{c, std::move(text), retryable}; };
  switch (code) {
    case 1045:  // ER_ACCESS_DENIED_ERROR
    case 1698:  // ER_ACCESS_DENIED_NO_PASSWORD_ERROR
    case 1862:  // ER_MUST_CHANGE_PASSWORD_LOGIN
    case 1251:  // ER_NOT_SUPPORTED_AUTH_MODE
      return make(ErrorCode::kAuthFailed, false);
    case 1044:  // ER_DBACCESS_DENIED_ERROR
    case 1130:  // ER_HOST_NOT_PRIVILEGED
    case 1142:  // ER_TABLEACCESS_DENIED_ERROR
    case 1143:  // ER_COLUMNACCESS_DENIED_ERROR
    case 1227:  // ER_SPECIFIC_ACCESS_DENIED_ERROR
    case 1370:  // ER_PROCACCESS_DENIED_ERROR
    case 1095:  // ER_KILL_DENIED_ERROR
      return make(ErrorCode::kPermissionDenied, false);
    case 1792:  // ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION
    case 1290:  // ER_OPTION_PREVENTS_STATEMENT (--read-only server)
    case 1836:  // ER_READ_ONLY_MODE
      return make(ErrorCode::kReadOnlyViolation, false);
    case 1969:  // ER_STATEMENT_TIMEOUT (MariaDB max_statement_time)
    case 3024:  // ER_QUERY_TIMEOUT (MySQL max_execution_time)
    case 1205:  // ER_LOCK_WAIT_TIMEOUT
      return make(ErrorCode::kTimeout, true);
    case 1317:  // ER_QUERY_INTERRUPTED (KILL QUERY)
      return make(ErrorCode::kCancelled, false);
    case 1040:  // ER_CON_COUNT_ERROR
    case 1203:  // ER_TOO_MANY_USER_CONNECTIONS
    case 1053:  // ER_SERVER_SHUTDOWN
      return make(ErrorCode::kUnreachable, true);
    case 1049:  // ER_BAD_DB_ERROR: like the postgres connector, the target is not there
      return make(ErrorCode::kUnreachable, false);
    case 1213:  // ER_LOCK_DEADLOCK
      return make(ErrorCode::kQueryError, true);
    case kCrSslConnectionError: return make(ErrorCode::kTlsError, false);
    case kCrNetPacketTooLarge:
      return JobError{ErrorCode::kResultTooLarge,
                      "a row is larger than the connector's bound of " +
                          std::to_string(kMaxRowPacketBytes >> 20) +
                          " MiB per row packet (MySQL error 2020)",
                      false};
    case kCrUnknownError:
      if (is_local_infile_refusal(message)) {
        return JobError{ErrorCode::kPermissionDenied,
                        "the server asked for an agent-side file (LOAD DATA LOCAL); the agent "
                        "never sends files, and the session was closed",
                        false};
      }
      break;
    default: break;
  }
  if (is_network_error(code)) {
    if (message.find("SSL") != std::string_view::npos ||
        message.find("TLS") != std::string_view::npos) {
      return make(ErrorCode::kTlsError, false);
    }
    return make(ErrorCode::kUnreachable, true);
  }
  return make(ErrorCode::kQueryError, false);
}

ConnectOutcome connect_to_address(const MysqlConfig& config, const std::string& address,
                                  std::chrono::seconds timeout) {
  return dial_address(config, address, timeout);
}

bool address_permitted(const std::string& address, const ResolvedHost& resolved) {
  const auto bytes = address_bytes(address);
  if (!bytes) return false;
  for (const auto& allowed : resolved.addresses) {
    if (address_bytes(allowed) == bytes) return true;
  }
  return false;
}

ConnectOutcome connect(const MysqlConfig& config, const ResolvedHost& resolved) {
  if (resolved.error) return {nullptr, resolved.error};
  if (resolved.addresses.empty()) {
    return {nullptr,
            JobError{ErrorCode::kUnreachable, "host " + config.host + " has no address", true}};
  }

  ConnectOutcome last;
  for (const auto& address : resolved.addresses) {
    // Only addresses the egress policy permitted are ever dialled, in every
    // ssl_mode: Connector/C never resolves a name itself.
    last = dial_address(config, address, config.connect_timeout);
    if (last.connection) return last;
    // Try the next address only when this one could not be reached at all.
    if (last.error->code != ErrorCode::kUnreachable && last.error->code != ErrorCode::kTimeout) {
      break;
    }
  }
  return last;
}

}  // namespace outpost::connectors::mysql
