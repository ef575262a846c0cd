// Goal: service::ParseRequestJson reads what nlohmann::json::parse reads, and refuses with JCM-100
// malformed_request, naming the problem, what nlohmann takes and a request must not have (issue
// #33, "Also seen": duplicate keys, an escaped NUL, a BOM) and what it refuses anyway (bad JSON,
// bad UTF-8). Method: one case per problem, in strings, keys and between tokens, at the top level
// and nested; and `jcmreg exec` run on a few of them, which must refuse them too.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>
#include <utility>

#include "core/limits.h"
#include "service/json_text.h"
#include "testing/test_util.h"

namespace registry {
namespace {

using service::Json;
using service::ParseRequestJson;

// Asserts that `text` is refused with JCM-100 and a message holding `problem`.
void ExpectMalformed(const std::string& text, const std::string& problem) {
  const auto parsed = ParseRequestJson(text);
  ASSERT_FALSE(parsed.has_value()) << "accepted: " << text;
  EXPECT_EQ(parsed.error().check, Check::kMalformedRequest) << text;
  EXPECT_NE(parsed.error().message.find(problem), std::string::npos)
      << "'" << problem << "' not in: " << parsed.error().message;
}

TEST(ParseRequestJson, ReadsWhatNlohmannReads) {
  for (const char* text :
       {R"({"from":1,"to":4,"ranges":["1-10"],"project":"MN004"})", R"({})", R"([])", "null",
        "  {\"a\" : [1, -2, 3.5, 1e3, true, false, null, {\"b\": {}}]}\n",
        R"({"name":"caf\u00e9 \ud83d\ude00 \u65e5\u672c","emoji":"😀"})",
        R"({"big":18446744073709551615,"neg":-9223372036854775808})",
        R"({"a":{"x":1},"b":{"x":2}})"}) {
    const auto parsed = ParseRequestJson(text);
    ASSERT_TRUE(parsed.has_value()) << text << ": " << parsed.error().message;
    EXPECT_EQ(*parsed, Json::parse(text)) << text;
  }
}

TEST(ParseRequestJson, RefusesInvalidJson) {
  for (const char* text :
       {"", "   ", "{", R"({"a":1,})", R"({"a" 1})", "garbage", R"({"a":1} {"b":2})", R"({'a':1})",
        R"({"a":01})", "{\"a\":\"line\nbreak\"}", R"({"a":"\x41"})", "[1,2", R"({"a":NaN})",
        "/* c */ {}"}) {
    ExpectMalformed(text, "not valid JSON");
  }
}

TEST(ParseRequestJson, RefusesDuplicateKeysNamingThem) {
  ExpectMalformed(R"({"from":1,"to":4,"from":2})", "the key 'from' appears twice");
  ExpectMalformed(R"({"args":{"vintages":[{"vintage":2021,"vintage":2022}]}})",
                  "the key 'vintage' appears twice");
  // Equal once the escape is read: "\u0061" is "a".
  ExpectMalformed(R"({"a":1,"\u0061":2})", "the key 'a' appears twice");
  // Equal names in different objects are fine.
  EXPECT_TRUE(ParseRequestJson(R"({"a":{"k":1},"b":[{"k":1},{"k":2}]})").has_value());
}

TEST(ParseRequestJson, RefusesNulCharacters) {
  ExpectMalformed(R"({"name":"Cam\u0000bodia"})", "a string holds a NUL character");
  ExpectMalformed(R"({"a\u0000b":1})", "a key holds a NUL character");
  ExpectMalformed(R"({"list":["ok",["\u0000"]]})", "NUL");
  ExpectMalformed(std::string("{\"name\":\"a\0b\"}", 14), "NUL character at byte 10");
  ExpectMalformed(std::string("{}\0", 3), "NUL character at byte 2");
}

TEST(ParseRequestJson, RefusesAByteOrderMark) {
  ExpectMalformed("\xEF\xBB\xBF{\"a\":1}", "byte order mark");
  EXPECT_TRUE(nlohmann::json::accept("\xEF\xBB\xBF{\"a\":1}"));  // Why the check is ours.
}

TEST(ParseRequestJson, RefusesInvalidUtf8AnywhereNamingTheByte) {
  const std::pair<std::string, std::string> cases[] = {
      {"{\"a\":\"\xC3\x28\"}", "byte 6 (0xC3)"},          // Lead byte without its follower.
      {"{\"a\":\"\xC0\xAF\"}", "byte 6 (0xC0)"},          // Overlong '/'.
      {"{\"a\":\"\xE0\x80\xAF\"}", "byte 6 (0xE0)"},      // Overlong, three bytes.
      {"{\"a\":\"\xED\xA0\x80\"}", "byte 6 (0xED)"},      // A UTF-16 surrogate.
      {"{\"a\":\"\xF4\x90\x80\x80\"}", "byte 6 (0xF4)"},  // Above U+10FFFF.
      {"{\"a\":\"\xE2\x82\"}", "byte 6 (0xE2)"},          // Cut short.
      {"{\"a\":\"\x80\"}", "byte 6 (0x80)"},              // A lone continuation byte.
      {"{\"a\":\"\xFF\"}", "byte 6 (0xFF)"},
      {"{\"\xC3\x28\":1}", "byte 2 (0xC3)"},  // In a key.
      {"{\"a\":1}\xC3", "byte 7 (0xC3)"},     // Between tokens, cut short.
      {"\xFE\xFF{}", "byte 0 (0xFE)"},
  };
  for (const auto& [text, where] : cases) {
    ExpectMalformed(text, "not valid UTF-8: " + where);
  }
  // Every well-formed length, including the edges of the ranges checked.
  EXPECT_TRUE(ParseRequestJson("{\"a\":\"\x7F \xC2\x80 \xDF\xBF \xE0\xA0\x80 \xED\x9F\xBF "
                               "\xEE\x80\x80 \xF0\x90\x80\x80 \xF4\x8F\xBF\xBF\"}")
                  .has_value());
}

TEST(ParseRequestJson, RefusesNestingDeeperThanTheLimit) {
  const auto nested = [](size_t depth) {
    std::string text;
    for (size_t i = 0; i < depth; ++i) text += i % 2 == 0 ? "{\"a\":" : "[";
    text += "1";
    for (size_t i = depth; i > 0; --i) text += (i - 1) % 2 == 0 ? "}" : "]";
    return text;
  };
  const auto deepest = ParseRequestJson(nested(kJsonDepthMax));
  ASSERT_TRUE(deepest.has_value()) << deepest.error().message;
  EXPECT_EQ(*deepest, Json::parse(nested(kJsonDepthMax)));
  ExpectMalformed(nested(kJsonDepthMax + 1), "nest more than 64 deep");
  ExpectMalformed(std::string(100000, '['), "nest more than 64 deep");
}

// `jcmreg exec TYPE JSON` reads its JSON with ParseRequestJson: it refuses what the parser refuses,
// with the check's code, and runs nothing.
TEST(ParseRequestJson, JcmregExecRefusesTheSame) {
  testing::TempDir dir;
  const std::string db = dir.path() + "/r.db";
  const auto run = [&db](const std::string& args) {
    const std::string command = std::string(JCMREG_BINARY) + " --db '" + db + "' " + args + " 2>&1";
    FILE* pipe = popen(command.c_str(), "r");
    EXPECT_NE(pipe, nullptr);
    std::string output;
    char buf[4096];
    size_t n = 0;
    while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) output.append(buf, n);
    const int status = pclose(pipe);
    return std::pair{WEXITSTATUS(status), output};
  };
  ASSERT_EQ(run("init").first, 0);
  for (const std::string& bad :
       {std::string(R"('{"code":"KHM","name":"Cambodia","code":"LAO"}')"),
        std::string(R"('{"code":"KHM","name":"Cam\u0000bodia"}')"),
        std::string(R"sh("$(printf '\357\273\277{"code":"KHM","name":"Cambodia"}')")sh")}) {
    const auto [code, output] = run("exec party.add " + bad);
    EXPECT_EQ(code, 2) << bad << ": " << output;
    EXPECT_NE(output.find("JCM-100 malformed_request"), std::string::npos) << output;
  }
  const auto [code, output] = run(R"(exec party.add '{"code":"KHM","name":"Cambodia"}')");
  EXPECT_EQ(code, 0) << output;
}

}  // namespace
}  // namespace registry
