#include "outpost/row_writer.hpp"

#include <sys/mman.h>

#include <cmath>
#include <limits>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace outpost {
namespace {

std::string row(void (*fill)(RowWriter&)) {
  std::string out;
  RowWriter w(out);
  w.open();
  fill(w);
  w.close();
  return out;
}

TEST(RowWriter, MapsScalarsPerProtocol) {
  const auto text = row([](RowWriter& w) {
    w.null_value();
    w.boolean(true);
    w.integer(42);
    w.integer(std::int64_t{1} << 60);
    w.unsigned_integer(18446744073709551615ull);
    w.number(1.5);
    w.decimal("12345678901234567890.5");
  });
  EXPECT_EQ(
      text,
      R"([null,true,42,"1152921504606846976","18446744073709551615",1.5,"12345678901234567890.5"])");
  EXPECT_TRUE(nlohmann::json::accept(text));
}

TEST(RowWriter, KeepsLargestSafeIntegerAsNumber) {
  const auto text = row([](RowWriter& w) {
    w.integer((std::int64_t{1} << 53) - 1);
    w.integer(-((std::int64_t{1} << 53) - 1));
    w.integer(std::int64_t{1} << 53);
  });
  EXPECT_EQ(text, R"([9007199254740991,-9007199254740991,"9007199254740992"])");
}

TEST(RowWriter, NonFiniteFloatsBecomeStrings) {
  const auto text = row([](RowWriter& w) {
    w.number(std::numeric_limits<double>::quiet_NaN());
    w.number(std::numeric_limits<double>::infinity());
    w.number(-std::numeric_limits<double>::infinity());
  });
  EXPECT_EQ(text, R"(["NaN","Infinity","-Infinity"])");
}

TEST(RowWriter, EscapesStringsAndReplacesInvalidUtf8) {
  const auto text = row([](RowWriter& w) {
    w.string("a\"b\\c\nd\te\x01");
    w.string("caf\xC3\xA9 \xE2\x82\xAC");
    w.string("bad\xFF\xC3");
  });
  const auto parsed = nlohmann::json::parse(text);
  EXPECT_EQ(parsed[0], "a\"b\\c\nd\te\x01");
  EXPECT_EQ(parsed[1], "caf\xC3\xA9 \xE2\x82\xAC");
  EXPECT_EQ(parsed[2], "bad\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(RowWriter, Base64EncodesBinary) {
  const auto text = row([](RowWriter& w) {
    w.binary("");
    w.binary("f");
    w.binary("fo");
    w.binary("foo");
    w.binary(std::string_view("\x00\xFF\x10", 3));
  });
  EXPECT_EQ(text, R"(["","Zg==","Zm8=","Zm9v","AP8Q"])");
}

TEST(RowWriter, RawJsonIsEmbeddedAsIs) {
  const auto text = row([](RowWriter& w) { w.raw_json(R"({"a":[1,2]})"); });
  EXPECT_EQ(nlohmann::json::parse(text)[0]["a"][1], 2);
}

// 200 MB of address space that faults on any access: a writer that so much as
// reads one byte of a value it refused crashes the test.
class Untouchable {
 public:
  static constexpr std::size_t kSize = 200u * 1024 * 1024;
  Untouchable() : p_(mmap(nullptr, kSize, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) {}
  ~Untouchable() {
    if (p_ != MAP_FAILED) munmap(p_, kSize);
  }
  Untouchable(const Untouchable&) = delete;
  Untouchable& operator=(const Untouchable&) = delete;
  [[nodiscard]] bool ok() const { return p_ != MAP_FAILED; }
  [[nodiscard]] std::string_view view() const { return {static_cast<const char*>(p_), kSize}; }

 private:
  void* p_;
};

constexpr std::size_t kMiB = 1024 * 1024;

TEST(RowWriterLimit, A200MBValueUnderA1MiBLimitIsNeverReadOrConverted) {
  Untouchable big;
  ASSERT_TRUE(big.ok());
  for (int kind = 0; kind < 3; ++kind) {
    std::string out;
    RowWriter w(out);
    w.open(kMiB);
    w.integer(1);
    if (kind == 0) w.string(big.view());
    if (kind == 1) w.binary(big.view());
    if (kind == 2) w.raw_json(big.view());
    w.string("after");  // the row is dropped: nothing more is converted
    w.close();
    EXPECT_TRUE(w.over_limit()) << kind;
    EXPECT_EQ(out, "[1,null,null]") << kind;
    EXPECT_LT(out.capacity(), kMiB) << kind;
  }
}

TEST(RowWriterLimit, ValuesWithinTheLimitAreUnchanged) {
  const std::string text(1000, 'x');
  const std::string bytes(999, '\x01');
  auto fill = [&](RowWriter& w) {
    w.string(text);
    w.binary(bytes);
    w.raw_json(R"({"a":1})");
    w.string("caf\xC3\xA9\n");
  };
  std::string unlimited;
  RowWriter a(unlimited);
  a.open();
  fill(a);
  a.close();
  std::string limited;
  RowWriter b(limited);
  b.open(unlimited.size());  // exactly enough
  fill(b);
  b.close();
  EXPECT_FALSE(b.over_limit());
  EXPECT_EQ(limited, unlimited);
}

TEST(RowWriterLimit, FitsCountsWhatTheRowHoldsAndRefusesOnceOver) {
  std::string out;
  RowWriter w(out);
  w.open(10);
  EXPECT_TRUE(w.fits(9));  // "[" already taken
  EXPECT_FALSE(w.fits(10));
  w.string("abcd");  // ["abcd" = 7 bytes
  EXPECT_TRUE(w.fits(3));
  EXPECT_FALSE(w.fits(4));
  w.value_too_large();
  EXPECT_TRUE(w.over_limit());
  EXPECT_FALSE(w.fits(0));
  w.close();
  EXPECT_EQ(out, R"(["abcd",null])");
  // open() starts a fresh row with a fresh limit.
  out.clear();
  w.open(100);
  EXPECT_FALSE(w.over_limit());
  EXPECT_TRUE(w.fits(50));
}

TEST(RowWriterLimit, Base64IsCountedAtItsEncodedSize) {
  std::string out;
  RowWriter w(out);
  w.open(1 + 2 + 8);  // "[" + quotes + 8 base64 chars = 6 raw bytes
  w.binary("abcdef");
  EXPECT_FALSE(w.over_limit());
  out.clear();
  w.open(1 + 2 + 7);
  w.binary("abcdef");
  EXPECT_TRUE(w.over_limit());
}

}  // namespace
}  // namespace outpost
