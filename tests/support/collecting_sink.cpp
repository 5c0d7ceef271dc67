#include "support/collecting_sink.hpp"

#include <netdb.h>
#include <sys/socket.h>

#include <stdexcept>

namespace outpost::test {

void CollectingSink::set_columns(std::vector<Column> columns) {
  columns_ = std::move(columns);
  ++set_columns_calls_;
}

RowWriter& CollectingSink::begin_row() {
  if (in_row_) throw std::logic_error("CollectingSink: begin_row() twice without end_row()");
  in_row_ = true;
  buffer_.clear();
  writer_.open();
  return writer_;
}

bool CollectingSink::end_row() {
  if (!in_row_) throw std::logic_error("CollectingSink: end_row() without begin_row()");
  in_row_ = false;
  writer_.close();
  if (options_.cancel != nullptr && options_.cancel->cancelled()) return false;
  if (options_.max_rows && count_ >= *options_.max_rows) {
    truncated_ = true;
    return false;
  }
  // Parse even when not keeping: every row must be one valid JSON array.
  if (options_.keep_rows) {
    auto row = nlohmann::json::parse(buffer_);
    if (!row.is_array()) throw std::logic_error("CollectingSink: a row is not a JSON array");
    rows_.push_back(std::move(row));
  } else if (buffer_.empty() || buffer_.front() != '[' || buffer_.back() != ']') {
    throw std::logic_error("CollectingSink: a row is not a JSON array: " + buffer_);
  }
  if (buffer_.find('\n') != std::string::npos) {
    throw std::logic_error("CollectingSink: a row spans lines (breaks NDJSON): " + buffer_);
  }
  if (options_.on_row) options_.on_row(buffer_);
  ++count_;
  bytes_ += buffer_.size();
  return true;
}

void set_params(Job& job, const nlohmann::json& params) {
  JobParams parsed;
  if (auto error = parse_job_params(job.type, params, parsed)) {
    throw std::invalid_argument(error->message);
  }
  job.query = std::move(parsed.query);
  job.metadata = std::move(parsed.metadata);
  job.freshness = std::move(parsed.freshness);
  job.volume = std::move(parsed.volume);
  job.profile = std::move(parsed.profile);
  job.query_log = std::move(parsed.query_log);
}

bool CollectingSink::add_table(const Table& table) {
  if (table.name.empty()) {
    throw std::logic_error("CollectingSink: a table has no name");
  }
  if (options_.cancel != nullptr && options_.cancel->cancelled()) return false;
  if (options_.max_rows && count_ >= *options_.max_rows) {
    truncated_ = true;
    return false;
  }
  tables_.push_back(to_json(table));
  ++count_;
  return true;
}

bool CollectingSink::add_record(const nlohmann::json& record) {
  if (!record.is_object()) throw std::logic_error("CollectingSink: a record is not an object");
  if (options_.cancel != nullptr && options_.cancel->cancelled()) return false;
  if (options_.max_rows && count_ >= *options_.max_rows) {
    truncated_ = true;
    return false;
  }
  records_.push_back(record);
  ++count_;
  return true;
}

const nlohmann::json* CollectingSink::table(std::string_view schema, std::string_view name) const {
  for (const auto& t : tables_) {
    if (t["schema"] == schema && t["name"] == name) return &t;
  }
  return nullptr;
}

int CollectingSink::column_index(std::string_view name) const {
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

ResolvedHost AllowingNetworkGuard::resolve(std::string_view host, std::uint16_t /*port*/) const {
  ++resolve_calls;
  ResolvedHost out;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  const std::string name(host);
  if (::getaddrinfo(name.c_str(), nullptr, &hints, &list) != 0) {
    out.error = JobError{ErrorCode::kUnreachable, "could not resolve \"" + name + "\"", true};
    return out;
  }
  for (auto* ai = list; ai != nullptr; ai = ai->ai_next) {
    char text[NI_MAXHOST];
    if (::getnameinfo(ai->ai_addr, ai->ai_addrlen, text, sizeof text, nullptr, 0, NI_NUMERICHOST) ==
        0) {
      bool seen = false;
      for (const auto& a : out.addresses) seen = seen || a == text;
      if (!seen) out.addresses.emplace_back(text);
    }
  }
  ::freeaddrinfo(list);
  return out;
}

std::optional<JobError> AllowingNetworkGuard::check_local_socket(std::string_view) const {
  return std::nullopt;
}

std::optional<JobError> AllowingNetworkGuard::check_dsn(std::string_view) const {
  return std::nullopt;
}

ResolvedHost DenyingNetworkGuard::resolve(std::string_view host, std::uint16_t port) const {
  ++resolve_calls;
  ResolvedHost out;
  out.error = JobError{ErrorCode::kEgressDenied,
                       "egress to " + std::string(host) + ":" + std::to_string(port) +
                           " is not allowed by --allow-hosts",
                       false};
  return out;
}

std::optional<JobError> DenyingNetworkGuard::check_local_socket(std::string_view path) const {
  return JobError{ErrorCode::kEgressDenied, "local socket " + std::string(path) + " is not allowed",
                  false};
}

std::optional<JobError> DenyingNetworkGuard::check_dsn(std::string_view name) const {
  return JobError{ErrorCode::kEgressDenied,
                  "data source name " + std::string(name) + " is not allowed", false};
}

}  // namespace outpost::test
