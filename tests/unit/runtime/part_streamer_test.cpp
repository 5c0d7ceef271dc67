#include "runtime/part_streamer.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <thread>

namespace outpost::runtime {
namespace {

using nlohmann::json;

/// Records parts; answers from a script (then kOk).
class RecordingUploader final : public PartUploader {
 public:
  UploadStatus upload(std::uint64_t seq, std::string ndjson) override {
    calls.emplace_back(seq, ndjson);
    if (!script.empty()) {
      const auto s = script.front();
      script.pop_front();
      if (s != UploadStatus::kOk) return s;
    }
    if (refuse_over > 0 && ndjson.size() > refuse_over) return UploadStatus::kTooLarge;
    parts.emplace_back(seq, std::move(ndjson));
    return UploadStatus::kOk;
  }
  std::vector<std::pair<std::uint64_t, std::string>> calls;
  std::vector<std::pair<std::uint64_t, std::string>> parts;
  std::deque<UploadStatus> script;
  std::size_t refuse_over = 0;
};

/// Uploads on a thread of its own, as the runtime's network thread does, so
/// the streamer's pipelining (produce part n+1 while part n is sent) runs for
/// real. Counts how many uploads were ever in flight at once.
class AsyncUploader final : public PartUploader {
 public:
  ~AsyncUploader() override {
    for (auto& t : threads_) t.join();
  }
  UploadStatus upload(std::uint64_t seq, std::string ndjson) override {
    return upload_async(seq, std::make_shared<const std::string>(std::move(ndjson))).get();
  }
  std::future<UploadStatus> upload_async(std::uint64_t seq,
                                         std::shared_ptr<const std::string> ndjson) override {
    auto promise = std::make_shared<std::promise<UploadStatus>>();
    auto future = promise->get_future();
    const int now = ++in_flight_;
    int seen = max_in_flight.load();
    while (now > seen && !max_in_flight.compare_exchange_weak(seen, now)) {
    }
    threads_.emplace_back([this, promise, seq, body = std::move(ndjson)]() mutable {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));  // a network round trip
      UploadStatus status = UploadStatus::kOk;
      {
        std::lock_guard lock(mu_);
        if (!script.empty()) {
          status = script.front();
          script.pop_front();
        } else if (refuse_over > 0 && body->size() > refuse_over) {
          status = UploadStatus::kTooLarge;
        } else {
          parts.emplace_back(seq, *body);
        }
        ++calls;
      }
      --in_flight_;
      promise->set_value(status);
    });
    return future;
  }

  std::vector<std::pair<std::uint64_t, std::string>> parts;
  std::deque<UploadStatus> script;
  std::size_t refuse_over = 0;
  int calls = 0;
  std::atomic<int> max_in_flight{0};

 private:
  std::mutex mu_;
  std::atomic<int> in_flight_{0};
  std::vector<std::thread> threads_;
};

bool write_row(PartStreamer& s, std::int64_t n, const std::string& text) {
  auto& w = s.begin_row();
  w.integer(n);
  w.string(text);
  return s.end_row();
}

TEST(PartStreamer, SmallResultIsInline) {
  RecordingUploader up;
  CancelToken cancel;
  PartStreamer s(JobType::kQuery, {}, up, cancel);
  s.set_columns({{"n", "int8"}, {"t", "text"}});
  ASSERT_TRUE(write_row(s, 1, "a"));
  ASSERT_TRUE(write_row(s, 2, "b\"c"));
  auto f = s.finish();
  EXPECT_TRUE(up.calls.empty());
  EXPECT_EQ(f.parts, 0u);
  EXPECT_FALSE(f.error);
  EXPECT_EQ(f.fields["rows"], json::parse(R"([[1,"a"],[2,"b\"c"]])"));
  EXPECT_EQ(f.fields["row_count"], 2);
  EXPECT_EQ(f.fields["truncated"], false);
  EXPECT_EQ(f.fields["columns"][1]["name"], "t");
}

TEST(PartStreamer, EmptyQueryHasEmptyRows) {
  RecordingUploader up;
  CancelToken cancel;
  PartStreamer s(JobType::kQuery, {}, up, cancel);
  auto f = s.finish();
  EXPECT_EQ(f.fields["rows"], json::array());
  EXPECT_EQ(f.fields["row_count"], 0);
}

TEST(PartStreamer, LargeResultGoesInPartsNoBiggerThanMaxPartBytes) {
  RecordingUploader up;
  CancelToken cancel;
  std::atomic<std::uint64_t> progress{0};
  StreamLimits limits{100, 1'000'000, 1'000'000};
  PartStreamer s(JobType::kQuery, limits, up, cancel, &progress);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(write_row(s, i, "row-" + std::to_string(i)));
  EXPECT_EQ(progress.load(), 50u);
  auto f = s.finish();
  ASSERT_FALSE(f.error);
  EXPECT_GT(f.parts, 1u);
  EXPECT_EQ(f.parts, up.parts.size());
  EXPECT_FALSE(f.fields.contains("rows"));
  EXPECT_EQ(f.fields["row_count"], 50);
  int expected = 0;
  for (std::size_t i = 0; i < up.parts.size(); ++i) {
    EXPECT_EQ(up.parts[i].first, i);
    EXPECT_LE(up.parts[i].second.size(), 100u);
    std::size_t start = 0;
    const auto& body = up.parts[i].second;
    while (start < body.size()) {
      auto end = body.find('\n', start);
      ASSERT_NE(end, std::string::npos) << "every line ends with a newline";
      auto row = json::parse(body.substr(start, end - start));
      EXPECT_EQ(row[0], expected++);
      start = end + 1;
    }
  }
  EXPECT_EQ(expected, 50);
}

TEST(PartStreamer, MaxRowsTruncates) {
  RecordingUploader up;
  CancelToken cancel;
  PartStreamer s(JobType::kQuery, {4096, 3, 1'000'000}, up, cancel);
  EXPECT_TRUE(write_row(s, 1, "a"));
  EXPECT_TRUE(write_row(s, 2, "a"));
  EXPECT_TRUE(write_row(s, 3, "a"));
  EXPECT_FALSE(write_row(s, 4, "a"));
  auto f = s.finish();
  EXPECT_EQ(f.fields["row_count"], 3);
  EXPECT_EQ(f.fields["truncated"], true);
  EXPECT_EQ(f.fields["rows"].size(), 3u);
}

TEST(PartStreamer, MaxBytesTruncates) {
  RecordingUploader up;
  CancelToken cancel;
  PartStreamer s(JobType::kQuery, {4096, 1000, 30}, up, cancel);
  EXPECT_TRUE(write_row(s, 1, "abcdefgh"));  // [1,"abcdefgh"]\n = 15 bytes
  EXPECT_TRUE(write_row(s, 2, "abcdefgh"));  // 30
  EXPECT_FALSE(write_row(s, 3, "abcdefgh"));
  auto f = s.finish();
  EXPECT_EQ(f.fields["row_count"], 2);
  EXPECT_EQ(f.fields["truncated"], true);
}

TEST(PartStreamer, ExactlyMaxRowsIsNotTruncated) {
  RecordingUploader up;
  CancelToken cancel;
  PartStreamer s(JobType::kQuery, {4096, 2, 1'000'000}, up, cancel);
  EXPECT_TRUE(write_row(s, 1, "a"));
  EXPECT_TRUE(write_row(s, 2, "a"));
  auto f = s.finish();
  EXPECT_EQ(f.fields["truncated"], false);
}

TEST(PartStreamer, CancelStopsTheProducer) {
  RecordingUploader up;
  CancelToken cancel;
  PartStreamer s(JobType::kQuery, {}, up, cancel);
  EXPECT_TRUE(write_row(s, 1, "a"));
  cancel.cancel(CancelReason::kRequested);
  EXPECT_FALSE(write_row(s, 2, "a"));
}

TEST(PartStreamer, StoppedUploadStopsAndIsReported) {
  RecordingUploader up;
  up.script = {UploadStatus::kStopped};
  CancelToken cancel;
  PartStreamer s(JobType::kQuery, {40, 1000, 100000}, up, cancel);
  bool ok = true;
  for (int i = 0; i < 20 && ok; ++i) ok = write_row(s, i, "xxxxxxxx");
  EXPECT_FALSE(ok);
  auto f = s.finish();
  EXPECT_TRUE(f.stopped);
  EXPECT_EQ(up.calls.size(), 1u);
}

TEST(PartStreamer, FailedUploadBecomesAnError) {
  RecordingUploader up;
  up.script = {UploadStatus::kFailed};
  CancelToken cancel;
  PartStreamer s(JobType::kQuery, {40, 1000, 100000}, up, cancel);
  bool ok = true;
  for (int i = 0; i < 20 && ok; ++i) ok = write_row(s, i, "xxxxxxxx");
  EXPECT_FALSE(ok);
  auto f = s.finish();
  ASSERT_TRUE(f.error);
  EXPECT_EQ(f.error->code, ErrorCode::kUnreachable);
}

// Every row arrives exactly once and in order, in parts numbered 0, 1, 2, …
void expect_rows_in_order(const std::vector<std::pair<std::uint64_t, std::string>>& parts,
                          int rows) {
  int expected = 0;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    EXPECT_EQ(parts[i].first, i);
    const auto& body = parts[i].second;
    for (std::size_t start = 0; start < body.size();) {
      const auto end = body.find('\n', start);
      EXPECT_EQ(json::parse(body.substr(start, end - start))[0], expected++);
      start = end + 1;
    }
  }
  EXPECT_EQ(expected, rows);
}

TEST(PartStreamer, TooLargePartIsSplitAndSequenceStaysDense) {
  RecordingUploader up;
  up.refuse_over = 40;  // the server takes at most 40 bytes
  CancelToken cancel;
  PartStreamer s(JobType::kQuery, {100, 1000, 100000}, up, cancel);
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(write_row(s, i, "xxxxxxxx"));
  auto f = s.finish();
  ASSERT_FALSE(f.error) << f.error->message;
  EXPECT_EQ(f.parts, up.parts.size());
  for (const auto& [seq, body] : up.parts) EXPECT_LE(body.size(), 40u) << "part " << seq;
  expect_rows_in_order(up.parts, 30);
}

TEST(PartStreamer, PipelinedUploadsKeepOrderWithOnePartInFlight) {
  AsyncUploader up;
  CancelToken cancel;
  PartStreamer s(JobType::kQuery, {100, 100000, 10000000}, up, cancel);
  for (int i = 0; i < 500; ++i) ASSERT_TRUE(write_row(s, i, "xxxxxxxx"));
  auto f = s.finish();
  ASSERT_FALSE(f.error) << f.error->message;
  EXPECT_EQ(f.parts, up.parts.size());
  EXPECT_GT(up.parts.size(), 50u);
  EXPECT_EQ(up.max_in_flight.load(), 1);
  EXPECT_EQ(f.fields["row_count"], 500);
  expect_rows_in_order(up.parts, 500);
}

TEST(PartStreamer, PipelinedTooLargePartIsSplit) {
  AsyncUploader up;
  up.refuse_over = 40;
  CancelToken cancel;
  PartStreamer s(JobType::kQuery, {100, 1000, 100000}, up, cancel);
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(write_row(s, i, "xxxxxxxx"));
  auto f = s.finish();
  ASSERT_FALSE(f.error) << f.error->message;
  EXPECT_EQ(f.parts, up.parts.size());
  EXPECT_EQ(up.max_in_flight.load(), 1);
  expect_rows_in_order(up.parts, 30);
}

TEST(PartStreamer, PipelinedStopEndsTheStreamAtTheNextPart) {
  AsyncUploader up;
  up.script = {UploadStatus::kStopped};
  CancelToken cancel;
  PartStreamer s(JobType::kQuery, {40, 100000, 10000000}, up, cancel);
  bool ok = true;
  int written = 0;
  for (; written < 1000 && ok; ++written) ok = write_row(s, written, "xxxxxxxx");
  EXPECT_FALSE(ok);
  EXPECT_LT(written, 20) << "the producer must stop once the refused part is known";
  auto f = s.finish();
  EXPECT_TRUE(f.stopped);
  EXPECT_EQ(up.calls, 1);
  EXPECT_TRUE(up.parts.empty());
}

TEST(PartStreamer, ARowLargerThanAPartIsResultTooLarge) {
  RecordingUploader up;
  CancelToken cancel;
  PartStreamer s(JobType::kQuery, {20, 1000, 100000}, up, cancel);
  EXPECT_FALSE(write_row(s, 1, std::string(50, 'x')));
  auto f = s.finish();
  ASSERT_TRUE(f.error);
  EXPECT_EQ(f.error->code, ErrorCode::kResultTooLarge);
}

// Class 8 (issue 14): a value past the byte budget is refused before it is
// converted. The 200 MB value lives in PROT_NONE memory: reading any byte of
// it crashes the test.
class Untouchable200MB {
 public:
  static constexpr std::size_t kSize = 200u * 1024 * 1024;
  Untouchable200MB() : p_(mmap(nullptr, kSize, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) {}
  ~Untouchable200MB() {
    if (p_ != MAP_FAILED) munmap(p_, kSize);
  }
  Untouchable200MB(const Untouchable200MB&) = delete;
  Untouchable200MB& operator=(const Untouchable200MB&) = delete;
  [[nodiscard]] bool ok() const { return p_ != MAP_FAILED; }
  [[nodiscard]] std::string_view view() const { return {static_cast<const char*>(p_), kSize}; }

 private:
  void* p_;
};

constexpr std::uint64_t kMiB = 1024 * 1024;

TEST(PartStreamerBudget, A200MBValueUnderA1MiBBudgetIsDroppedAndTruncated) {
  Untouchable200MB big;
  ASSERT_TRUE(big.ok());
  for (const bool binary : {false, true}) {
    RecordingUploader up;
    CancelToken cancel;
    PartStreamer s(JobType::kQuery, {4 * kMiB, 1000, kMiB}, up, cancel);
    ASSERT_TRUE(write_row(s, 1, "small"));
    auto& w = s.begin_row();
    w.integer(2);
    if (binary) {
      w.binary(big.view());
    } else {
      w.string(big.view());
    }
    EXPECT_FALSE(s.end_row());
    auto f = s.finish();
    EXPECT_FALSE(f.error) << f.error->message;
    EXPECT_EQ(f.fields["truncated"], true);
    EXPECT_EQ(f.fields["row_count"], 1);
    EXPECT_EQ(f.fields["rows"], json::parse(R"([[1,"small"]])"));
    EXPECT_TRUE(up.calls.empty());
  }
}

TEST(PartStreamerBudget, ValuesWithinTheBudgetAreUnchanged) {
  RecordingUploader up;
  CancelToken cancel;
  PartStreamer s(JobType::kQuery, {4 * kMiB, 1000, kMiB}, up, cancel);
  const std::string text(600 * 1024, 'v');
  ASSERT_TRUE(write_row(s, 1, text));
  auto f = s.finish();
  EXPECT_FALSE(f.error);
  EXPECT_EQ(f.fields["truncated"], false);
  ASSERT_EQ(f.fields["rows"].size(), 1u);
  EXPECT_EQ(f.fields["rows"][0][1], text);
}

TEST(PartStreamerBudget, TheBudgetLeftShrinksWithEachRow) {
  RecordingUploader up;
  CancelToken cancel;
  PartStreamer s(JobType::kQuery, {4 * kMiB, 1000, kMiB}, up, cancel);
  EXPECT_EQ(s.max_value_bytes(), kMiB);
  const std::string text(600 * 1024, 'v');
  ASSERT_TRUE(write_row(s, 1, text));
  EXPECT_EQ(s.max_value_bytes(), kMiB - s.bytes());
  // The second 600 KiB value no longer fits what is left: dropped, truncated.
  EXPECT_FALSE(write_row(s, 2, text));
  auto f = s.finish();
  EXPECT_FALSE(f.error);
  EXPECT_EQ(f.fields["truncated"], true);
  EXPECT_EQ(f.fields["row_count"], 1);
}

TEST(PartStreamerBudget, OneRowLargerThanAPartWithinALargerBudgetIsResultTooLarge) {
  Untouchable200MB big;
  ASSERT_TRUE(big.ok());
  RecordingUploader up;
  CancelToken cancel;
  PartStreamer s(JobType::kQuery, {kMiB, 1000, 256 * kMiB}, up, cancel);
  EXPECT_EQ(s.max_value_bytes(), 256 * kMiB);  // the budget; the writer also knows the part
  auto& w = s.begin_row();
  w.string(big.view());
  EXPECT_FALSE(s.end_row());
  auto f = s.finish();
  ASSERT_TRUE(f.error);
  EXPECT_EQ(f.error->code, ErrorCode::kResultTooLarge);
  EXPECT_EQ(f.fields["row_count"], 0);
}

TEST(PartStreamerBudget, AValueTheConnectorDidNotFetchCountsAsTooLarge) {
  RecordingUploader up;
  CancelToken cancel;
  PartStreamer s(JobType::kQuery, {4 * kMiB, 1000, kMiB}, up, cancel);
  auto& w = s.begin_row();
  w.integer(1);
  ASSERT_FALSE(w.fits(200 * kMiB));
  w.value_too_large();
  EXPECT_FALSE(s.end_row());
  auto f = s.finish();
  EXPECT_FALSE(f.error);
  EXPECT_EQ(f.fields["truncated"], true);
  EXPECT_EQ(f.fields["row_count"], 0);
}

TEST(PartStreamer, MetadataInlineIsGroupedBySchema) {
  RecordingUploader up;
  CancelToken cancel;
  PartStreamer s(JobType::kMetadata, {}, up, cancel);
  ASSERT_TRUE(s.add_table(Table{"public", "a", "table", std::nullopt, {}}));
  ASSERT_TRUE(s.add_table(Table{"sales", "b", "view", std::nullopt, {}}));
  ASSERT_TRUE(s.add_table(Table{"public", "c", "table", std::nullopt, {}}));
  auto f = s.finish();
  const auto& schemas = f.fields["schemas"];
  ASSERT_EQ(schemas.size(), 2u);
  EXPECT_EQ(schemas[0]["name"], "public");
  ASSERT_EQ(schemas[0]["tables"].size(), 2u);
  EXPECT_EQ(schemas[0]["tables"][1]["name"], "c");
  EXPECT_FALSE(schemas[0]["tables"][0].contains("schema"));
  EXPECT_EQ(schemas[1]["tables"][0]["name"], "b");
  // Every table gets its schema fingerprint; a and c have the same shape.
  const auto fp = schemas[0]["tables"][0]["fingerprint"].get<std::string>();
  EXPECT_EQ(fp.rfind("sha256:", 0), 0u) << fp;
  EXPECT_EQ(fp.size(), 7u + 64u);
  EXPECT_EQ(schemas[0]["tables"][1]["fingerprint"], fp);
  EXPECT_NE(schemas[1]["tables"][0]["fingerprint"], fp);  // a view
}

TEST(PartStreamer, MetadataWithPartsHasTableCount) {
  RecordingUploader up;
  CancelToken cancel;
  PartStreamer s(JobType::kMetadata, {200, 1000, 100000}, up, cancel);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(
        s.add_table(Table{"public", "table_" + std::to_string(i), "table", std::nullopt, {}}));
  }
  auto f = s.finish();
  EXPECT_GT(f.parts, 1u);
  EXPECT_EQ(f.fields["table_count"], 10);
  EXPECT_FALSE(f.fields.contains("schemas"));
  auto first = json::parse(up.parts[0].second.substr(0, up.parts[0].second.find('\n')));
  EXPECT_EQ(first["schema"], "public");
}

}  // namespace
}  // namespace outpost::runtime
