#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "outpost/cancel.hpp"
#include "outpost/errors.hpp"
#include "outpost/job.hpp"
#include "outpost/result_sink.hpp"
#include "outpost/row_writer.hpp"

namespace outpost::runtime {

/// Outcome of uploading one part.
enum class UploadStatus {
  kOk,
  kTooLarge,  ///< 413: the streamer splits the part and tries again
  kStopped,   ///< 409/410/cancelled: stop producing, post nothing
  kFailed,    ///< retries exhausted (the lease would have expired)
};

/// Uploads one NDJSON part; blocks the calling (worker) thread until the
/// network thread has an answer. Implemented by the runtime; faked in tests.
class PartUploader {
 public:
  virtual ~PartUploader() = default;
  virtual UploadStatus upload(std::uint64_t seq, std::string ndjson) = 0;
};

struct StreamLimits {
  std::uint64_t max_part_bytes = 4 * 1024 * 1024;  ///< from connect
  std::uint64_t max_rows = 1'000'000;              ///< min(params.max_rows, --max-result-rows)
  std::uint64_t max_bytes = 256ull * 1024 * 1024;  ///< --max-result-bytes (NDJSON bytes)
};

/// The runtime's ResultSink: rows (query) or tables (metadata) become NDJSON
/// lines in one buffer. Small results stay inline; once the buffer would pass
/// max_part_bytes it is uploaded as part `seq` while the worker waits, so
/// memory stays at about one part whatever the result size.
///
/// Used from the connector's worker thread only; finish() after run() returns.
class PartStreamer final : public ResultSink {
 public:
  /// `progress`, when given, is kept equal to count() for other threads to read.
  PartStreamer(JobType type, StreamLimits limits, PartUploader& uploader, const CancelToken& cancel,
               std::atomic<std::uint64_t>* progress = nullptr);

  void set_columns(std::vector<Column> columns) override;
  RowWriter& begin_row() override;
  [[nodiscard]] bool end_row() override;
  [[nodiscard]] bool add_table(const nlohmann::json& table) override;
  [[nodiscard]] std::uint64_t count() const override { return count_; }

  struct Finished {
    nlohmann::json fields = nlohmann::json::object();  ///< merged into the result object
    std::uint64_t parts = 0;
    std::optional<JobError> error;  ///< an upload failed or a row could not fit a part
    bool stopped = false;           ///< 409/410 while uploading: post nothing
  };

  /// Uploads the last part (when parts were used) and returns what goes into
  /// the result: `columns`, `rows` or nothing, `row_count`, `truncated`, or
  /// for metadata `schemas` / `table_count`.
  Finished finish();

  [[nodiscard]] bool truncated() const noexcept { return truncated_; }
  [[nodiscard]] std::uint64_t bytes() const noexcept { return total_bytes_; }

 private:
  bool accept_line(std::string_view line);
  bool flush_part();
  UploadStatus upload_split(std::string_view body, int depth);
  bool halted() const noexcept { return stopped_ || error_.has_value() || cancel_.cancelled(); }

  JobType type_;
  StreamLimits limits_;
  PartUploader& uploader_;
  const CancelToken& cancel_;
  std::vector<Column> columns_;
  std::string row_;
  RowWriter writer_{row_};
  std::string buffer_;  ///< NDJSON lines not yet uploaded
  std::uint64_t next_seq_ = 0;
  std::uint64_t count_ = 0;
  std::atomic<std::uint64_t>* progress_;
  std::uint64_t total_bytes_ = 0;
  bool truncated_ = false;
  bool stopped_ = false;
  std::optional<JobError> error_;
};

}  // namespace outpost::runtime
