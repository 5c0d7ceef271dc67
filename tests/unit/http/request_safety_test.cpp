// Issue 14 class 7: the HTTP client never puts CR, LF or NUL on the wire.
#include "http/message.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace outpost::http {
namespace {

Request good() {
  Request r;
  r.method = "POST";
  r.target = "/v1/agent/jobs/job_1/result";
  r.headers = {{"Authorization", "Bearer t"}, {"X-Lease-Token", "l_1"}};
  return r;
}

TEST(RequestSafety, AWellFormedRequestPasses) {
  EXPECT_FALSE(unsafe_request_field(good()));
  Request tab = good();
  tab.headers.push_back({"User-Agent", "a\tb \x80"});  // tabs and obs-text are legal
  EXPECT_FALSE(unsafe_request_field(tab));
}

TEST(RequestSafety, ControlCharactersAnywhereAreRefused) {
  for (const std::string& bad : std::vector<std::string>{"l\r\nX-Injected: 1", "l\nGET / HTTP/1.1",
                                                         std::string("l\0x", 3), "l\r", "l\x7f"}) {
    Request value = good();
    value.headers[1].value = bad;
    const auto why = unsafe_request_field(value);
    ASSERT_TRUE(why);
    EXPECT_NE(why->find("X-Lease-Token"), std::string::npos) << *why;
    EXPECT_EQ(why->find(bad), std::string::npos) << "the value is never quoted";

    Request target = good();
    target.target = "/v1/agent/jobs/" + bad + "/result";
    EXPECT_TRUE(unsafe_request_field(target));
  }
  Request name = good();
  name.headers.push_back({"X-A\r\nB", "v"});
  EXPECT_TRUE(unsafe_request_field(name));
  Request method = good();
  method.method = "GET /x HTTP/1.1\r\n";
  EXPECT_TRUE(unsafe_request_field(method));
  Request space = good();
  space.target = "/a b";
  EXPECT_TRUE(unsafe_request_field(space));
}

}  // namespace
}  // namespace outpost::http
