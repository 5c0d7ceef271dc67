// The --sources-file format, parsed from text (no files).
#include "security/sources_file.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace outpost::security {
namespace {

std::string parse_error(const std::string& text) {
  try {
    SourcesFile::parse(text, "/etc/outpost/sources.yaml");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  ADD_FAILURE() << "parsed without error:\n" << text;
  return {};
}

TEST(SourcesFile, ParsesYaml) {
  const auto file = SourcesFile::parse(R"(
version: 1
sources:
  warehouse:
    type: postgres
    description: the data warehouse
    config:
      host: db.internal
      port: 5432
      database: dw
      user: observer
      password: ${env:WAREHOUSE_PASSWORD}
      sslmode: require
      zero_padded: "0123"
      ratio: 0.5
      enabled: true
      nothing: ~
      hosts: [a, b]
  local:
    type: sqlite
    config: {path: /data/app.db}
)",
                                       "<test>");
  EXPECT_EQ(file->names(), (std::vector<std::string>{"local", "warehouse"}));
  const auto source = file->find("warehouse");
  ASSERT_TRUE(source);
  EXPECT_EQ(source->type, "postgres");
  EXPECT_EQ(source->name, "warehouse");
  EXPECT_EQ(source->ref, "warehouse");
  EXPECT_TRUE(source->id.empty());
  const auto& config = source->config;
  EXPECT_EQ(config["host"], "db.internal");
  EXPECT_EQ(config["port"], 5432);
  EXPECT_TRUE(config["port"].is_number_integer());
  EXPECT_EQ(config["password"], "${env:WAREHOUSE_PASSWORD}") << "references resolve per job";
  EXPECT_EQ(config["zero_padded"], "0123");
  EXPECT_DOUBLE_EQ(config["ratio"].get<double>(), 0.5);
  EXPECT_EQ(config["enabled"], true);
  EXPECT_TRUE(config["nothing"].is_null());
  EXPECT_EQ(config["hosts"], (nlohmann::json{"a", "b"}));
  EXPECT_EQ(file->find("local")->config["path"], "/data/app.db");
  EXPECT_FALSE(file->find("missing"));
  EXPECT_FALSE(file->find("Warehouse"));
}

TEST(SourcesFile, ParsesJson) {
  const auto file = SourcesFile::parse(
      R"({"sources": {"w": {"type": "postgres", "config": {"port": 5432, "password": "123"}}}})",
      "<test>");
  const auto source = file->find("w");
  ASSERT_TRUE(source);
  EXPECT_EQ(source->config["port"], 5432);
  EXPECT_EQ(source->config["password"], "123") << "a quoted JSON string stays a string";
}

TEST(SourcesFile, ConfigIsOptionalAndEmptySourcesAreFine) {
  EXPECT_EQ(SourcesFile::parse("sources:\n  a: {type: sqlite}\n", "<t>")->find("a")->config,
            nlohmann::json::object());
  EXPECT_TRUE(SourcesFile::parse("sources: {}\n", "<t>")->names().empty());
  EXPECT_TRUE(SourcesFile::parse("sources:\n", "<t>")->names().empty());
}

TEST(SourcesFile, NumbersFollowTheCoreSchema) {
  const auto config = SourcesFile::parse(R"(
sources:
  a:
    type: t
    config: {hex: 0x1F, oct: 0o17, neg: -42, big: 18446744073709551615, exp: 1e3, word: yes,
             half: .5, plus: +1.5, dotted: 1.2.3, inf: .inf, huge: 1e999, port: "5432"}
)",
                                         "<t>")
                          ->find("a")
                          ->config;
  EXPECT_EQ(config["hex"], 31);
  EXPECT_EQ(config["oct"], 15);
  EXPECT_EQ(config["neg"], -42);
  EXPECT_EQ(config["big"].get<std::uint64_t>(), 18446744073709551615ull);
  EXPECT_DOUBLE_EQ(config["exp"].get<double>(), 1000.0);
  EXPECT_EQ(config["word"], "yes") << "YAML 1.1 booleans are plain strings";
  EXPECT_DOUBLE_EQ(config["half"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(config["plus"].get<double>(), 1.5);
  EXPECT_EQ(config["dotted"], "1.2.3");
  EXPECT_EQ(config["inf"], ".inf");
  EXPECT_EQ(config["huge"], "1e999");
  EXPECT_EQ(config["port"], "5432");
}

TEST(SourcesFile, ErrorsNameTheFileAndLine) {
  const std::string error = parse_error("sources:\n  a:\n    type: postgres\n    hots: x\n");
  EXPECT_NE(error.find("/etc/outpost/sources.yaml"), std::string::npos) << error;
  EXPECT_NE(error.find("line 4"), std::string::npos) << error;
  EXPECT_NE(error.find("unknown key 'hots'"), std::string::npos) << error;
}

TEST(SourcesFile, RejectsMalformedFiles) {
  const struct {
    const char* text;
    const char* expect;
  } cases[] = {
      {"", "expected a mapping"},
      {"- a\n- b\n", "expected a mapping"},
      {"version: 1\n", "missing the 'sources'"},
      {"sources: []\n", "must be a mapping"},
      {"source: {}\n", "unknown key 'source'"},
      {"version: 2\nsources: {}\n", "unsupported version"},
      {"sources:\n  a: postgres\n", "must be a mapping"},
      {"sources:\n  a: {config: {}}\n", "needs a 'type'"},
      {"sources:\n  a: {type: ''}\n", "needs a 'type'"},
      {"sources:\n  a: {type: [x]}\n", "needs a 'type'"},
      {"sources:\n  a: {type: t, config: [1]}\n", "'config' must be a mapping"},
      {"sources:\n  a: {type: t, config: x}\n", "'config' must be a mapping"},
      {"sources:\n  a: {type: t, description: {}}\n", "'description' must be a string"},
      {"sources:\n  a: {type: t}\n  a: {type: u}\n", "duplicate source 'a'"},
      {"sources:\n  a: {type: t, type: u}\n", "duplicate key 'type'"},
      {"sources:\n  a: {type: t, config: {host: x, host: y}}\n", "duplicate key 'host'"},
      {"sources:\n  'bad name': {type: t}\n", "invalid source name"},
      {"sources:\n  a: {type: t, config: {password: '${env:UNCLOSED'}}\n", "unterminated"},
      {"sources:\n  a: {type: t, config: {password: '${file:rel}'}}\n", "absolute path"},
      {"sources:\n  a: {type: t, config: {x: !custom 1}}\n", "unsupported tag"},
      {"sources: {a: {type: t}\n", "line"},
      {"{\"sources\": {\"a\": {\"type\": \"t\"}}", "line"},
  };
  for (const auto& c : cases) {
    const std::string error = parse_error(c.text);
    EXPECT_NE(error.find(c.expect), std::string::npos) << c.text << " -> " << error;
    EXPECT_EQ(error.rfind("sources file /etc/outpost/sources.yaml:", 0), 0u) << error;
  }
}

TEST(SourcesFile, AliasBombIsBounded) {
  // Eight levels of ten aliases each would expand to 10^8 nodes.
  std::string anchors;
  for (char c = 'a'; c <= 'h'; ++c) {
    anchors += std::string("      ") + c + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) {
      anchors += (i ? ", " : "") + (c == 'a' ? std::string("x") : "*" + std::string(1, c - 1));
    }
    anchors += "]\n";
  }
  const std::string bomb = "sources:\n  s:\n    type: t\n    config:\n" + anchors;
  const std::string error = parse_error(bomb);
  EXPECT_NE(error.find("too many nodes"), std::string::npos) << error;
}

}  // namespace
}  // namespace outpost::security
