#include "http/tls.hpp"

#include <gtest/gtest.h>
#include <openssl/x509_vfy.h>

namespace outpost::http {
namespace {

TEST(DescribeVerifyFailure, SelfSignedPointsAtCaFile) {
  const std::string text = describe_verify_failure(X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, "h");
  EXPECT_EQ(text.rfind("certificate verify failed: self-signed certificate", 0), 0u) << text;
  EXPECT_NE(text.find("--ca-file"), std::string::npos) << text;
}

TEST(DescribeVerifyFailure, UnknownIssuerPointsAtCaFile) {
  const std::string text =
      describe_verify_failure(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, "h");
  EXPECT_NE(text.find("unable to get local issuer certificate"), std::string::npos) << text;
  EXPECT_NE(text.find("--ca-file"), std::string::npos) << text;
}

TEST(DescribeVerifyFailure, HostNameMismatchNamesTheHost) {
  const std::string text = describe_verify_failure(X509_V_ERR_HOSTNAME_MISMATCH, "cp.example.com");
  EXPECT_NE(text.find("hostname mismatch"), std::string::npos) << text;
  EXPECT_NE(text.find("'cp.example.com'"), std::string::npos) << text;
}

TEST(DescribeVerifyFailure, ExpiredAndNotYetValid) {
  EXPECT_NE(describe_verify_failure(X509_V_ERR_CERT_HAS_EXPIRED, "h").find("has expired"),
            std::string::npos);
  EXPECT_NE(describe_verify_failure(X509_V_ERR_CERT_NOT_YET_VALID, "h").find("clocks"),
            std::string::npos);
}

TEST(DescribeVerifyFailure, OtherCodesUseOpenSslText) {
  const std::string text = describe_verify_failure(X509_V_ERR_CERT_REVOKED, "h");
  EXPECT_EQ(text, "certificate verify failed: certificate revoked");
}

}  // namespace
}  // namespace outpost::http
