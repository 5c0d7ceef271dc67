// Secret references against the real environment and files, the redactor
// registration, and loading a sources file from disk.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include "observability/log.hpp"
#include "security/secrets.hpp"
#include "security/sources_file.hpp"
#include "support/process.hpp"

namespace outpost::security {
namespace {

using nlohmann::json;

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

class SecretsIntegration : public ::testing::Test {
 protected:
  void TearDown() override { ::unsetenv("OUTPOST_TEST_PGPASS"); }
  /// --secret-dirs = the test's directory, --secret-env = OUTPOST_TEST_*.
  SecretScope scope(bool operator_source = false) const {
    return {canonical_secret_dirs({dir_.path().string()}), {"OUTPOST_TEST_*"}, operator_source};
  }
  SecretResult resolve_secret_refs(const json& config, bool operator_source = false) const {
    return security::resolve_secret_refs(config, scope(operator_source));
  }
  test::TempDir dir_;
};

TEST_F(SecretsIntegration, EnvironmentReferenceResolvesAndIsRedacted) {
  ::setenv("OUTPOST_TEST_PGPASS", "env-Pa55word-7781", 1);
  const auto result =
      resolve_secret_refs({{"user", "observer"}, {"password", "${env:OUTPOST_TEST_PGPASS}"}});
  ASSERT_FALSE(result.error) << result.error->message;
  EXPECT_EQ(result.config["password"], "env-Pa55word-7781");
  const std::string line = obs::redact("auth with env-Pa55word-7781 failed");
  EXPECT_EQ(line.find("env-Pa55word-7781"), std::string::npos) << line;
}

TEST_F(SecretsIntegration, UnsetVariableFailsAsSecretUnresolved) {
  ::unsetenv("OUTPOST_TEST_PGPASS");
  const auto result = resolve_secret_refs({{"password", "${env:OUTPOST_TEST_PGPASS}"}});
  ASSERT_TRUE(result.error);
  EXPECT_EQ(result.error->code, ErrorCode::kSecretUnresolved);
  EXPECT_NE(result.error->message.find("${env:OUTPOST_TEST_PGPASS}"), std::string::npos);
}

TEST_F(SecretsIntegration, FileReferenceIsTrimmedAndRedacted) {
  const auto path = dir_.path() / "pg-password";
  write_file(path, "\n  file-Pa55word-9902 \r\n");
  const auto result =
      resolve_secret_refs({{"dsn", "postgres://u:${file:" + path.string() + "}@127.0.0.1/db"}});
  ASSERT_FALSE(result.error) << result.error->message;
  EXPECT_EQ(result.config["dsn"], "postgres://u:file-Pa55word-9902@127.0.0.1/db");
  EXPECT_EQ(obs::redact("x file-Pa55word-9902 y").find("file-Pa55word-9902"), std::string::npos);
}

TEST_F(SecretsIntegration, SymlinkedSecretLikeAKubernetesMount) {
  const auto real = dir_.path() / "..data";
  std::filesystem::create_directory(real);
  write_file(real / "token", "k8s-secret-value\n");
  std::filesystem::create_symlink(real / "token", dir_.path() / "token");
  const auto result =
      resolve_secret_refs({{"token", "${file:" + (dir_.path() / "token").string() + "}"}});
  ASSERT_FALSE(result.error) << result.error->message;
  EXPECT_EQ(result.config["token"], "k8s-secret-value");
}

TEST_F(SecretsIntegration, UnusableFilesFailNamingTheReference) {
  const auto missing = (dir_.path() / "missing").string();
  const auto fifo = (dir_.path() / "fifo").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const auto big = dir_.path() / "big";
  write_file(big, std::string(1024 * 1024 + 1, 'x'));
  const struct {
    std::string path;
    const char* reason;
  } cases[] = {{missing, "No such file"},
               {dir_.path().string(), "not a regular file"},
               {fifo, "not a regular file"},  // must not block waiting for a writer
               {big.string(), "larger than 1 MiB"}};
  for (const auto& c : cases) {
    const std::string ref = "${file:" + c.path + "}";
    const auto result = resolve_secret_refs({{"password", ref}});
    ASSERT_TRUE(result.error) << c.path;
    EXPECT_EQ(result.error->code, ErrorCode::kSecretUnresolved);
    EXPECT_NE(result.error->message.find(ref), std::string::npos) << result.error->message;
    EXPECT_NE(result.error->message.find(c.reason), std::string::npos) << result.error->message;
  }
}

TEST_F(SecretsIntegration, ProcSysAndProtectedFilesAreNeverRead) {
  const auto token = dir_.path() / "token";
  write_file(token, "protected-token-value\n");
  add_protected_secret_file(token.string());
  std::filesystem::create_symlink(token, dir_.path() / "link");
  std::filesystem::create_hard_link(token, dir_.path() / "hardlink");
  const struct {
    std::string path;
    const char* reason;
  } cases[] = {{"/proc/self/environ", "/proc and /sys"},
               {"/proc/self/cmdline", "/proc and /sys"},
               {"/sys/kernel/hostname", "/proc and /sys"},
               {token.string(), "own credentials"},
               {(dir_.path() / "link").string(), "own credentials"},
               {(dir_.path() / "hardlink").string(), "own credentials"}};
  for (const auto& c : cases) {
    if (!std::filesystem::exists(c.path)) continue;  // /sys may be absent in a sandbox
    const auto result = resolve_secret_refs({{"password", "${file:" + c.path + "}"}});
    ASSERT_TRUE(result.error) << c.path;
    EXPECT_EQ(result.error->code, ErrorCode::kSecretUnresolved);
    EXPECT_NE(result.error->message.find(c.reason), std::string::npos) << result.error->message;
  }
  // An ordinary file next to it is still fine.
  write_file(dir_.path() / "db-password", "db-Pa55word-4411\n");
  EXPECT_FALSE(
      resolve_secret_refs({{"password", "${file:" + (dir_.path() / "db-password").string() + "}"}})
          .error);
}

// Issue 14 class 5: only files under --secret-dirs, by their canonical path.
TEST_F(SecretsIntegration, FilesOutsideSecretDirsAreRefusedWhateverThePath) {
  test::TempDir outside;
  write_file(outside.path() / "secret", "outside-secret-3141\n");
  write_file(dir_.path() / "inside", "inside-secret-2718\n");
  std::filesystem::create_symlink(outside.path() / "secret", dir_.path() / "escape");
  std::filesystem::create_directory(dir_.path() / "sub");
  const std::string outside_file = (outside.path() / "secret").string();
  const std::string refs[] = {
      outside_file,
      (dir_.path() / "escape").string(),  // a link out of the dir
      (dir_.path() / "sub" / ".." / ".." / outside.path().filename() / "secret").string(),
      "/proc/self/root" + outside_file,  // the root link
      "/proc/self/cwd/../../../../../../.." + outside_file,
      (outside.path() / "missing").string(),  // existence not told
      (dir_.path() / ".." / outside.path().filename() / "missing").string(),
  };
  for (const auto& path : refs) {
    const auto result = resolve_secret_refs({{"password", "${file:" + path + "}"}});
    ASSERT_TRUE(result.error) << path;
    EXPECT_EQ(result.error->code, ErrorCode::kSecretUnresolved);
    EXPECT_TRUE(result.secrets.empty()) << path;
    EXPECT_NE(result.error->message.find("--secret-dirs"), std::string::npos)
        << path << ": " << result.error->message;
  }
  const auto inside =
      resolve_secret_refs({{"password", "${file:" + (dir_.path() / "inside").string() + "}"}});
  ASSERT_FALSE(inside.error) << inside.error->message;
  EXPECT_EQ(inside.config["password"], "inside-secret-2718");
  // The variants a server may truncate it to are handed back for the rows.
  EXPECT_NE(std::find(inside.secrets.begin(), inside.secrets.end(), "inside-secret-2718"),
            inside.secrets.end());
}

TEST_F(SecretsIntegration, UnlistedAndAgentVariablesAreRefused) {
  ::setenv("OUTPOST_OTHER_SECRET", "unlisted-secret-1618", 1);
  for (const char* name : {"OUTPOST_OTHER_SECRET", "AGENT_TOKEN", "HTTPS_PROXY", "PATH"}) {
    const auto result = resolve_secret_refs({{"password", std::string("${env:") + name + "}"}});
    ASSERT_TRUE(result.error) << name;
    EXPECT_EQ(result.error->code, ErrorCode::kSecretUnresolved);
  }
  ::unsetenv("OUTPOST_OTHER_SECRET");
}

TEST_F(SecretsIntegration, SourcesFileLoadsFromDiskAndResolvesPerJob) {
  const auto path = dir_.path() / "sources.yaml";
  write_file(path,
             "sources:\n"
             "  warehouse:\n"
             "    type: postgres\n"
             "    config:\n"
             "      host: 127.0.0.1\n"
             "      password: ${env:OUTPOST_TEST_PGPASS}\n");
  const auto file = SourcesFile::load(path.string());
  EXPECT_EQ(file->origin(), path.string());
  const auto source = file->find("warehouse");
  ASSERT_TRUE(source);
  ::setenv("OUTPOST_TEST_PGPASS", "first-value-1234", 1);
  EXPECT_EQ(resolve_secret_refs(source->config, true).config["password"], "first-value-1234");
  // A rotated secret is picked up by the next job without reloading the file.
  ::setenv("OUTPOST_TEST_PGPASS", "rotated-value-5678", 1);
  EXPECT_EQ(resolve_secret_refs(source->config, true).config["password"], "rotated-value-5678");
}

TEST_F(SecretsIntegration, SourcesFileLoadErrorsNameThePath) {
  const auto missing = (dir_.path() / "nope.yaml").string();
  try {
    SourcesFile::load(missing);
    FAIL() << "loaded a missing file";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(missing), std::string::npos) << e.what();
  }
  const auto bad = dir_.path() / "bad.yaml";
  write_file(bad, "sources:\n  a:\n    type: postgres\n    conifg: {}\n");
  try {
    SourcesFile::load(bad.string());
    FAIL() << "loaded a file with an unknown key";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(bad.string()), std::string::npos) << what;
    EXPECT_NE(what.find("line 4"), std::string::npos) << what;
    EXPECT_NE(what.find("conifg"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace outpost::security
