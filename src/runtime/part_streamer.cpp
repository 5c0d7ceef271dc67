#include "runtime/part_streamer.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <utility>

#include "common/sha256.hpp"

namespace outpost::runtime {
namespace {

using nlohmann::json;

// Splitting a part on 413 stops at this depth (2^12 pieces) or a single line.
constexpr int kMaxSplitDepth = 12;

}  // namespace

PartStreamer::PartStreamer(JobType type, StreamLimits limits, PartUploader& uploader,
                           const CancelToken& cancel, std::atomic<std::uint64_t>* progress)
    : type_(type), limits_(limits), uploader_(uploader), cancel_(cancel), progress_(progress) {
  limits_.max_part_bytes = std::max<std::uint64_t>(limits_.max_part_bytes, 1);
}

void PartStreamer::set_columns(std::vector<Column> columns) {
  columns_ = std::move(columns);
}

std::uint64_t PartStreamer::max_value_bytes() const {
  return total_bytes_ < limits_.max_bytes ? limits_.max_bytes - total_bytes_ : 0;
}

RowWriter& PartStreamer::begin_row() {
  row_.clear();
  // A row may take what is left of --max-result-bytes, and never more than
  // one part: a value past that is refused before it is converted.
  const std::uint64_t limit = std::min(max_value_bytes(), limits_.max_part_bytes);
  writer_.open(static_cast<std::size_t>(
      std::min<std::uint64_t>(limit, std::numeric_limits<std::size_t>::max())));
  return writer_;
}

bool PartStreamer::end_row() {
  writer_.close();
  if (writer_.over_limit()) {
    // Report it as the cap it hit: past the byte budget the result is cut
    // (truncated); within it, the row alone is larger than one part.
    const std::uint64_t left = limits_.max_bytes - std::min(total_bytes_, limits_.max_bytes);
    if (left <= limits_.max_part_bytes) {
      truncated_ = true;
      return false;
    }
    error_ = JobError{ErrorCode::kResultTooLarge,
                      "one row is larger than the control plane's max_part_bytes (" +
                          std::to_string(limits_.max_part_bytes) + ")",
                      false};
    return false;
  }
  if (!scrubber_.empty()) scrubber_.scrub_line(row_);
  return accept_line(row_);
}

bool PartStreamer::add_table(const Table& table) {
  json wire = to_json(table);
  // Every connector's tables get one: equal fingerprints, same schema.
  wire["fingerprint"] = "sha256:" + common::sha256_hex(fingerprint_text(table));
  std::string line = wire.dump(-1, ' ', false, json::error_handler_t::replace);
  if (!scrubber_.empty()) scrubber_.scrub_line(line);
  return accept_line(line);
}

bool PartStreamer::add_record(const json& record) {
  std::string line = record.dump(-1, ' ', false, json::error_handler_t::replace);
  if (!scrubber_.empty()) scrubber_.scrub_line(line);
  return accept_line(line);
}

bool PartStreamer::accept_line(std::string_view line) {
  if (halted()) return false;
  if (count_ >= limits_.max_rows || total_bytes_ + line.size() + 1 > limits_.max_bytes) {
    truncated_ = true;
    return false;
  }
  if (line.size() + 1 > limits_.max_part_bytes) {
    error_ = JobError{ErrorCode::kResultTooLarge,
                      "one " + std::string(type_ == JobType::kMetadata ? "table" : "row") + " of " +
                          std::to_string(line.size()) +
                          " bytes is larger than the control plane's max_part_bytes (" +
                          std::to_string(limits_.max_part_bytes) + ")",
                      false};
    return false;
  }
  if (buffer_.size() + line.size() + 1 > limits_.max_part_bytes && !flush_part()) return false;
  buffer_.append(line);
  buffer_.push_back('\n');
  ++count_;
  total_bytes_ += line.size() + 1;
  if (progress_ != nullptr) progress_->store(count_, std::memory_order_relaxed);
  return true;
}

PartStreamer::~PartStreamer() {
  if (in_flight_ && in_flight_->status.valid()) in_flight_->status.wait();
}

bool PartStreamer::flush_part() {
  if (buffer_.empty()) return true;
  if (!settle_in_flight() || halted()) return false;
  InFlight part;
  part.body = std::make_shared<const std::string>(std::exchange(buffer_, {}));
  buffer_.reserve(part.body->size());
  part.status = uploader_.upload_async(next_seq_, part.body);
  in_flight_ = std::move(part);
  return true;
}

bool PartStreamer::settle_in_flight() {
  if (!in_flight_) return true;
  InFlight part = std::move(*in_flight_);
  in_flight_.reset();
  UploadStatus status = part.status.get();
  if (status == UploadStatus::kOk) {
    ++next_seq_;
    return true;
  }
  if (status == UploadStatus::kTooLarge && !cancel_.cancelled()) {
    status = split_and_upload(*part.body, 0);
    if (status == UploadStatus::kOk) return true;
  }
  note_failure(status);
  return false;
}

void PartStreamer::note_failure(UploadStatus status) {
  if (status == UploadStatus::kStopped) {
    stopped_ = true;
  } else if (!error_) {
    error_ = JobError{ErrorCode::kUnreachable,
                      "result part " + std::to_string(next_seq_) +
                          " could not be uploaded before the lease expired",
                      true};
  }
}

UploadStatus PartStreamer::upload_split(std::string_view body, int depth) {
  if (cancel_.cancelled()) return UploadStatus::kStopped;
  const UploadStatus status = uploader_.upload(next_seq_, std::string(body));
  if (status == UploadStatus::kOk) {
    ++next_seq_;
    return status;
  }
  if (status != UploadStatus::kTooLarge) return status;
  return split_and_upload(body, depth);
}

UploadStatus PartStreamer::split_and_upload(std::string_view body, int depth) {
  // 413: cut at the line boundary nearest the middle and send both halves
  // under consecutive sequence numbers (the refused seq was never stored).
  const std::size_t mid = body.size() / 2;
  std::size_t cut = body.rfind('\n', mid);
  if (cut == std::string_view::npos || cut + 1 >= body.size()) cut = body.find('\n', mid);
  if (depth >= kMaxSplitDepth || cut == std::string_view::npos || cut + 1 >= body.size()) {
    error_ = JobError{ErrorCode::kResultTooLarge,
                      "the control plane refused a result part of " + std::to_string(body.size()) +
                          " bytes (413) and it cannot be split further",
                      false};
    return UploadStatus::kFailed;
  }
  const UploadStatus first = upload_split(body.substr(0, cut + 1), depth + 1);
  if (first != UploadStatus::kOk) return first;
  return upload_split(body.substr(cut + 1), depth + 1);
}

namespace {

// An inline query result: the buffer holds at most one part of NDJSON rows,
// joined here into one JSON array. Discarded when a connector wrote bad JSON.
json inline_rows(const std::string& buffer) {
  std::string text = "[";
  std::size_t start = 0;
  bool first = true;
  while (start < buffer.size()) {
    std::size_t end = buffer.find('\n', start);
    if (end == std::string::npos) end = buffer.size();
    if (!first) text.push_back(',');
    text.append(buffer, start, end - start);
    first = false;
    start = end + 1;
  }
  text.push_back(']');
  return json::parse(text, nullptr, false);
}

// An inline metadata result: the tables grouped by their "schema" field,
// keeping first-seen order.
json inline_schemas(const std::string& buffer) {
  json schemas = json::array();
  std::map<std::string, std::size_t> index;
  std::size_t start = 0;
  while (start < buffer.size()) {
    std::size_t end = buffer.find('\n', start);
    if (end == std::string::npos) end = buffer.size();
    json table = json::parse(buffer.substr(start, end - start), nullptr, false);
    start = end + 1;
    if (!table.is_object()) continue;
    std::string schema;
    if (auto it = table.find("schema"); it != table.end() && it->is_string()) {
      schema = it->get<std::string>();
      table.erase(it);
    }
    auto [pos, inserted] = index.emplace(schema, schemas.size());
    if (inserted) schemas.push_back({{"name", schema}, {"tables", json::array()}});
    schemas[pos->second]["tables"].push_back(std::move(table));
  }
  return schemas;
}

}  // namespace

PartStreamer::Finished PartStreamer::finish() {
  Finished out;
  settle_in_flight();
  const bool inline_result = next_seq_ == 0;
  if (!inline_result && !halted() && flush_part()) settle_in_flight();
  out.parts = next_seq_;
  out.error = error_;
  out.stopped = stopped_;
  if (type_ == JobType::kQueryLog) {
    if (inline_result) {
      json rows = inline_rows(buffer_);
      if (rows.is_discarded()) {
        out.error =
            JobError{ErrorCode::kInternal, "connector produced an invalid JSON record", false};
        rows = json::array();
      }
      out.fields["rows"] = std::move(rows);
    }
    out.fields["row_count"] = count_;
    out.fields["truncated"] = truncated_;
  } else if (type_ == JobType::kQuery) {
    json cols = json::array();
    for (const auto& c : columns_) cols.push_back({{"name", c.name}, {"type", c.type}});
    out.fields["columns"] = std::move(cols);
    if (inline_result) {
      json rows = inline_rows(buffer_);
      if (rows.is_discarded()) {
        out.error = JobError{ErrorCode::kInternal, "connector produced an invalid JSON row", false};
        rows = json::array();
      }
      out.fields["rows"] = std::move(rows);
    }
    out.fields["row_count"] = count_;
    out.fields["truncated"] = truncated_;
  } else if (type_ == JobType::kMetadata) {
    if (inline_result) {
      out.fields["schemas"] = inline_schemas(buffer_);
    } else {
      out.fields["table_count"] = count_;
    }
    if (truncated_) out.fields["truncated"] = true;
  }
  buffer_.clear();
  return out;
}

}  // namespace outpost::runtime
