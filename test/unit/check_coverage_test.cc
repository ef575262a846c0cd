// Goal: every check of the catalogue is raised by some test (issue 28 item 6). A check no test
// raises is either dead (a code users will never see, which the catalogue should not promise)
// or a rule nobody has seen refuse anything. A test "raises" a check when it names it in an
// assertion: `Check::kName` (service and core tests: Refused, ExpectRefusedUnchanged, EXPECT_EQ
// on a refusal) or its "snake_name" (HTTP tests: ExpectError). This file's own text is left out.
#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/checks.h"

namespace registry {
namespace {

// "itmo_vintage_before_2021" -> "kItmoVintageBefore2021", the enumerator's spelling.
std::string EnumeratorOf(std::string_view snake) {
  std::string out = "k";
  bool upper = true;
  for (const char c : snake) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  return out;
}

// The text of every test source except this one.
std::string TestSources() {
  namespace fs = std::filesystem;
  std::string all;
  const fs::path root = fs::path(JCM_SOURCE_DIR) / "test";
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    const fs::path& p = entry.path();
    if (!entry.is_regular_file() || p.filename() == "check_coverage_test.cc") continue;
    if (p.string().find("node_modules") != std::string::npos) continue;
    const std::string ext = p.extension().string();
    if (ext != ".cc" && ext != ".h" && ext != ".mjs") continue;
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    all += ss.str();
  }
  return all;
}

TEST(CheckCoverage, EveryCatalogueCheckIsRaisedByATest) {
  const std::string sources = TestSources();
  ASSERT_GT(sources.size(), 100000u) << "test sources not found under " << JCM_SOURCE_DIR;
  std::vector<std::string> unraised;
  for (const CheckInfo& info : CheckCatalogue()) {
    const std::string enumerator = "Check::" + EnumeratorOf(info.name);
    const std::string quoted = "\"" + std::string(info.name) + "\"";
    if (sources.find(enumerator) == std::string::npos &&
        sources.find(quoted) == std::string::npos) {
      unraised.push_back(std::string(info.name));
    }
  }
  EXPECT_TRUE(unraised.empty()) << "checks no test raises: " << ::testing::PrintToString(unraised);
}

// The spelling rule above must hold for the enumerators, or the test would look for names that
// do not exist and pass on their quoted names only.
TEST(CheckCoverage, EnumeratorSpellingFollowsTheName) {
  EXPECT_EQ(EnumeratorOf("itmo_vintage_before_2021"), "kItmoVintageBefore2021");
  EXPECT_EQ(EnumeratorOf("not_authorized"), "kNotAuthorized");
}

}  // namespace
}  // namespace registry
