#pragma once

#include <atomic>
#include <cstdint>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "observability/redaction.hpp"
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

/// Uploads one NDJSON part. Implemented by the runtime; faked in tests.
class PartUploader {
 public:
  virtual ~PartUploader() = default;
  /// Blocks the calling (worker) thread until the network thread has an answer.
  virtual UploadStatus upload(std::uint64_t seq, std::string ndjson) = 0;
  /// Starts the upload and returns at once, so the worker can produce the
  /// next part meanwhile. The part is shared with the streamer, which keeps
  /// it to split it on 413, so it is never copied. The default uploads
  /// synchronously.
  virtual std::future<UploadStatus> upload_async(std::uint64_t seq,
                                                 std::shared_ptr<const std::string> ndjson) {
    const std::shared_ptr<const std::string> part = std::move(ndjson);
    std::promise<UploadStatus> done;
    done.set_value(upload(seq, *part));
    return done.get_future();
  }
};

struct StreamLimits {
  std::uint64_t max_part_bytes = 4 * 1024 * 1024;  ///< from connect
  std::uint64_t max_rows = 1'000'000;              ///< min(params.max_rows, --max-result-rows)
  std::uint64_t max_bytes = 256ull * 1024 * 1024;  ///< --max-result-bytes (NDJSON bytes)
};

/// The runtime's ResultSink: rows (query) or tables (metadata) become NDJSON
/// lines in one buffer. Small results stay inline; once the buffer would pass
/// max_part_bytes it is uploaded as part `seq` while the worker fills the
/// next one. At most one part is in flight (parts arrive in order, and a 413
/// can still be split), so memory stays at about two parts whatever the
/// result size.
///
/// Used from the connector's worker thread only; finish() after run() returns.
class PartStreamer final : public ResultSink {
 public:
  /// `progress`, when given, is kept equal to count() for other threads to read.
  PartStreamer(JobType type, StreamLimits limits, PartUploader& uploader, const CancelToken& cancel,
               std::atomic<std::uint64_t>* progress = nullptr);

  /// The job's resolved secrets: every row and table line holding one is
  /// rewritten with it redacted before it is buffered (see ValueScrubber
  /// for the cost; nothing when the job resolved no secret).
  void set_scrubber(obs::ValueScrubber scrubber) { scrubber_ = std::move(scrubber); }

  void set_columns(std::vector<Column> columns) override;
  RowWriter& begin_row() override;
  [[nodiscard]] bool end_row() override;
  [[nodiscard]] bool add_table(const Table& table) override;
  [[nodiscard]] bool add_record(const nlohmann::json& record) override;
  [[nodiscard]] std::uint64_t count() const override { return count_; }
  [[nodiscard]] std::uint64_t max_value_bytes() const override;

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

  /// Waits for a part still in flight (a connector that threw mid-stream).
  ~PartStreamer() override;

  [[nodiscard]] bool truncated() const noexcept { return truncated_; }
  [[nodiscard]] std::uint64_t bytes() const noexcept { return total_bytes_; }

 private:
  bool accept_line(std::string_view line);
  /// Starts uploading the buffer (after the part in flight has landed).
  bool flush_part();
  /// Waits for the part in flight, if any; false when it failed or stopped.
  bool settle_in_flight();
  /// Records a failed or stopped upload of part next_seq_.
  void note_failure(UploadStatus status);
  /// Uploads `body` as part next_seq_, splitting it on 413.
  UploadStatus upload_split(std::string_view body, int depth);
  /// Splits a part the control plane refused (413) and uploads the halves.
  UploadStatus split_and_upload(std::string_view body, int depth);
  bool halted() const noexcept { return stopped_ || error_.has_value() || cancel_.cancelled(); }

  JobType type_;
  StreamLimits limits_;
  PartUploader& uploader_;
  const CancelToken& cancel_;
  std::vector<Column> columns_;
  std::string row_;
  RowWriter writer_{row_};
  std::string buffer_;  ///< NDJSON lines not yet uploaded
  struct InFlight {
    std::shared_ptr<const std::string>
        body;  ///< kept to split it should the control plane answer 413
    std::future<UploadStatus> status;
  };
  std::optional<InFlight> in_flight_;
  std::uint64_t next_seq_ = 0;
  std::uint64_t count_ = 0;
  std::atomic<std::uint64_t>* progress_;
  std::uint64_t total_bytes_ = 0;
  bool truncated_ = false;
  bool stopped_ = false;
  std::optional<JobError> error_;
  obs::ValueScrubber scrubber_;
};

}  // namespace outpost::runtime
