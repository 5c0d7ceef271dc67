#include "config/options_file.hpp"

#include <gtest/gtest.h>

namespace outpost::config {
namespace {

using Args = std::vector<std::string>;

Args split(std::string_view text) {
  std::string error;
  auto words = split_options_text(text, &error);
  EXPECT_TRUE(words.has_value()) << error;
  return words.value_or(Args{});
}

TEST(OptionsFile, SplitsOnBlanksAndNewLines) {
  EXPECT_EQ(split("--url https://x/api\n--token   abc\t--log-level\r\ndebug\n"),
            (Args{"--url", "https://x/api", "--token", "abc", "--log-level", "debug"}));
}

TEST(OptionsFile, QuotesGroupWords) {
  EXPECT_EQ(split("--token \"example-token\""), (Args{"--token", "example-token"}));
  EXPECT_EQ(split("--a 'two words' --b \"three more words\""),
            (Args{"--a", "two words", "--b", "three more words"}));
  EXPECT_EQ(split("--a pre'fix and'post"), (Args{"--a", "prefix andpost"}));
  EXPECT_EQ(split("--a \"\""), (Args{"--a", ""}));
  EXPECT_EQ(split("--a 'it\"s'"), (Args{"--a", "it\"s"}));
  EXPECT_EQ(split(R"(--a "say \"hi\" \\ ok")"), (Args{"--a", R"(say "hi" \ ok)"}));
  EXPECT_EQ(split(R"(--a 'back\slash')"), (Args{"--a", R"(back\slash)"}));
  EXPECT_EQ(split(R"(--a one\ word)"), (Args{"--a", "one word"}));
}

TEST(OptionsFile, HashStartsACommentLineOnly) {
  EXPECT_EQ(split("# the agent's options\n--url x\n   # indented comment\n--token a#b\n#last"),
            (Args{"--url", "x", "--token", "a#b"}));
}

TEST(OptionsFile, ToleratesByteOrderMarkAndCrLf) {
  EXPECT_EQ(split("\xEF\xBB\xBF--url x\r\n--token y\r\n"), (Args{"--url", "x", "--token", "y"}));
}

TEST(OptionsFile, UnterminatedQuoteNamesTheLine) {
  std::string error;
  EXPECT_FALSE(split_options_text("--url x\n--token \"abc\n", &error));
  EXPECT_NE(error.find("unterminated double quote on line 2"), std::string::npos) << error;
}

TEST(OptionsFile, ExpandsInPlaceSoLaterArgumentsWin) {
  MapEnvironment env;
  env.files["opts"] = "--log-level debug\n";
  std::string error;
  const auto args = expand_options_files({"--log-level", "warn", "@opts", "--x"}, env, &error);
  ASSERT_TRUE(args) << error;
  EXPECT_EQ(*args, (Args{"--log-level", "warn", "--log-level", "debug", "--x"}));
}

TEST(OptionsFile, NestedFilesAreExpanded) {
  MapEnvironment env;
  env.files["a.cmd"] = "--one 1 @b.cmd --three 3";
  env.files["conf/b.cmd"] = "--two 2";
  env.files["b.cmd"] = "@conf/b.cmd";
  std::string error;
  const auto args = expand_options_files({"@a.cmd"}, env, &error);
  ASSERT_TRUE(args) << error;
  EXPECT_EQ(*args, (Args{"--one", "1", "--two", "2", "--three", "3"}));
}

TEST(OptionsFile, CycleIsAClearError) {
  MapEnvironment env;
  env.files["a"] = "@b";
  env.files["b"] = "@./a";
  std::string error;
  EXPECT_FALSE(expand_options_files({"@a"}, env, &error));
  EXPECT_NE(error.find("options file cycle: a -> b -> a"), std::string::npos) << error;
}

TEST(OptionsFile, SelfInclusionIsACycle) {
  MapEnvironment env;
  env.files["self"] = "--x @self";
  std::string error;
  EXPECT_FALSE(expand_options_files({"@self"}, env, &error));
  EXPECT_NE(error.find("cycle"), std::string::npos) << error;
}

TEST(OptionsFile, DepthIsLimited) {
  MapEnvironment env;
  for (int i = 0; i < kMaxOptionsFileDepth + 2; ++i) {
    env.files["f" + std::to_string(i)] = "@f" + std::to_string(i + 1);
  }
  std::string error;
  EXPECT_FALSE(expand_options_files({"@f0"}, env, &error));
  EXPECT_NE(error.find("nested more than 8 levels"), std::string::npos) << error;
}

TEST(OptionsFile, MissingFileIsAClearError) {
  MapEnvironment env;
  std::string error;
  EXPECT_FALSE(expand_options_files({"--a", "@nowhere.cmd"}, env, &error));
  EXPECT_NE(error.find("cannot read options file 'nowhere.cmd': No such file or directory"),
            std::string::npos)
      << error;
}

TEST(OptionsFile, BadQuotingInsideAFileNamesTheFile) {
  MapEnvironment env;
  env.files["q"] = "--token 'abc";
  std::string error;
  EXPECT_FALSE(expand_options_files({"@q"}, env, &error));
  EXPECT_NE(error.find("options file 'q': unterminated single quote"), std::string::npos) << error;
}

TEST(OptionsFile, LoneAtSignIsAnOrdinaryArgument) {
  MapEnvironment env;
  std::string error;
  const auto args = expand_options_files({"@", "x@y"}, env, &error);
  ASSERT_TRUE(args) << error;
  EXPECT_EQ(*args, (Args{"@", "x@y"}));
}

}  // namespace
}  // namespace outpost::config
