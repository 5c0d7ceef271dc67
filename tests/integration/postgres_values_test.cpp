// PostgreSQL connector, class 8 of issue 14: write_value refuses a value that
// cannot fit the row before it converts it. Proven on the allocations it
// makes: this binary replaces operator new to record the largest request.
#include "postgres/pg_values.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

namespace {

std::atomic<bool> g_tracking{false};
std::atomic<std::size_t> g_largest{0};

}  // namespace

// The replacements pair malloc with free on purpose; g++ 12 at -O1 cannot see
// that operator new above is malloc, and warns.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t size) {
  if (g_tracking.load(std::memory_order_relaxed)) {
    std::size_t seen = g_largest.load();
    while (size > seen && !g_largest.compare_exchange_weak(seen, size)) {
    }
  }
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
#pragma GCC diagnostic pop

namespace outpost::connectors::postgres {
namespace {

constexpr std::size_t kValueBytes = 20u << 20;  // 20 MiB of text form
constexpr std::size_t kRowLimit = 64u << 10;    // the row may take 64 KiB

// The largest allocation write_value makes for `text` under the row limit.
std::size_t largest_allocation(ValueKind kind, const std::string& text, bool& over_limit) {
  std::string out;
  out.reserve(kRowLimit + 16);
  RowWriter row(out);
  row.open(kRowLimit);
  g_largest = 0;
  g_tracking = true;
  write_value(row, kind, text);
  g_tracking = false;
  over_limit = row.over_limit();
  return g_largest.load();
}

TEST(PostgresValueLimits, OversizedValuesAreRefusedBeforeAnyConversionCopy) {
  const std::string hex = "\\x" + std::string(kValueBytes, 'a');
  const std::string json = "[\"" + std::string(kValueBytes, 'j') + "\"]";
  const std::string text(kValueBytes, 't');
  for (auto [kind, value] : {std::pair<ValueKind, const std::string*>{ValueKind::kBytea, &hex},
                             {ValueKind::kJson, &json},
                             {ValueKind::kText, &text},
                             {ValueKind::kNumeric, &text},
                             {ValueKind::kDateTime, &text}}) {
    bool over = false;
    const auto largest = largest_allocation(kind, *value, over);
    EXPECT_TRUE(over) << static_cast<int>(kind);
    EXPECT_LT(largest, kRowLimit) << "kind " << static_cast<int>(kind) << " copied " << largest
                                  << " bytes of a value it then refused";
  }
}

TEST(PostgresValueLimits, ValuesThatFitAreStillWritten) {
  std::string out;
  RowWriter row(out);
  row.open(kRowLimit);
  write_value(row, ValueKind::kBytea, "\\x00ff10");
  write_value(row, ValueKind::kJson, "{\"a\": 1}");
  row.close();
  EXPECT_FALSE(row.over_limit());
  EXPECT_EQ(out, "[\"AP8Q\",{\"a\": 1}]");
  EXPECT_EQ(min_json_bytes(ValueKind::kBytea, 3002), 1000u);
  EXPECT_EQ(min_json_bytes(ValueKind::kText, 10), 10u);
}

}  // namespace
}  // namespace outpost::connectors::postgres
