// Goal: a Mongolia flow with both registries hosted here (issue 27's scenario tests): a JC
// decision over two vintages issues Mongolia's 20 % into MNG01 and Japan's 80 % into JPN01 (the
// host's first transfer to Japan at issuance), Mongolia then transfers part of its share to
// Japan, Japan uses some; both Parties' AEF Actions rows, the cross-Party check both ways and
// both Parties' corresponding-adjustment flows are asserted, and verify passes.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "testing/test_util.h"
#include "unit/article6_fixture.h"

namespace registry {
namespace {

using service::Json;
using testing::TestRegistry;

Json V(int year, int64_t quantity) { return Json{{"vintage", year}, {"quantity", quantity}}; }

// "type|subtype|first transferring Party|registry|quantity|vintage|transferring|acquiring|using".
std::vector<std::string> Actions(const report::AefWorkbook& wb) {
  std::vector<std::string> out;
  for (const auto& row : wb.tables[report::kActions].rows) {
    out.push_back(row[1] + "|" + row[2] + "|" + row[5] + "|" + row[6] + "|" + row[15] + "|" +
                  row[18] + "|" + row[19] + "|" + row[20] + "|" + row[22]);
  }
  return out;
}

TEST(Article6MongoliaFlow, BothRegistriesHereTwoVintagesBothAefsAndAdjustments) {
  TestRegistry r;
  testing::SetUpArticle6(r);  // JPN01 accounts 1-4, MNG01 5-7, CA0042, MN101 registered (20/80).
  for (const char* party : {"JPN", "MNG"}) {
    r.Ok("report.initial.submit", {{"party", party}, {"ca", "JPN-MNG"}, {"date", "2025-09-01"}});
    r.Ok("authorization.add", testing::Step2aArgs(party, "MN101"));
  }
  r.clock.Set("2026-02-10T09:00:00Z");
  // One JC decision of 500 t over 2021 and 2022: Mongolia's 100 t into MNG01, Japan's 400 t
  // into JPN01.
  Json mongolia = testing::IssueMngArgs("MN101", 500, {V(2021, 40), V(2022, 60)});
  Json japan = mongolia;
  japan["account"] = 1;
  japan["vintages"] = {V(2021, 160), V(2022, 240)};
  r.Ok("issue.jcm", mongolia);
  const Json to_japan = r.Ok("issue.jcm", japan);
  EXPECT_EQ(to_japan["first_transferring_party"], "MNG");
  EXPECT_EQ(to_japan["acquiring_party"], "JPN");
  // Mongolia transfers 30 t of its 2022 share to Japan; Japan uses 200 t of 2021 and 2022.
  r.Ok("transfer.international", {{"from", 5}, {"to", 1}, {"quantity", 30}, {"vintage", 2022}});
  r.Ok("retire", {{"from", 1}, {"quantity", 160}, {"vintage", 2021}, {"use_year", 2026}});
  r.Ok("retire", {{"from", 1}, {"quantity", 40}, {"vintage", 2022}, {"use_year", 2026}});
  // Mongolia may not use what it still holds of its own mitigation.
  r.Refused("retire", {{"from", 5}, {"quantity", 10}, {"vintage", 2021}, {"use_year", 2026}},
            Check::kOwnOriginUse);

  const auto mng = testing::AefOf(r, "MNG", 2026);
  const auto jpn = testing::AefOf(r, "JPN", 2026);
  // Mongolia reports its first transfers to Japan (two at issuance, one by transfer); Japan its
  // acquisitions from Mongolia and its uses.
  EXPECT_EQ(Actions(mng),
            (std::vector<std::string>{
                "First transfer|First transfer to another Party|MNG|JPN01|160|2021|NA|JPN|NA",
                "First transfer|First transfer to another Party|MNG|JPN01|240|2022|NA|JPN|NA",
                "First transfer|First transfer to another Party|MNG|MNG01|30|2022|NA|JPN|NA",
            }));
  EXPECT_EQ(Actions(jpn), (std::vector<std::string>{
                              "Acquisition|NA|MNG|JPN01|160|2021|MNG|NA|NA",
                              "Acquisition|NA|MNG|JPN01|240|2022|MNG|NA|NA",
                              "Acquisition|NA|MNG|MNG01|30|2022|MNG|NA|NA",
                              "Use|NA|MNG|JPN01|160|2021|NA|NA|JPN",
                              // The 40 t of 2022 are the 30 t issued in MNG01 (lower serials
                              // first) and 10 t of those issued in JPN01: two blocks, two IDs.
                              "Use|NA|MNG|MNG01|30|2022|NA|NA|JPN",
                              "Use|NA|MNG|JPN01|10|2022|NA|NA|JPN",
                          }));
  for (const auto& [ours, theirs] : {std::pair{&mng, &jpn}, std::pair{&jpn, &mng}}) {
    for (const auto& c : report::PreConsistencyChecks(*ours, theirs, 2021, 2030)) {
      EXPECT_NE(c.status, "Checked, inconsistencies identified")
          << c.item << " " << c.name << ": " << (c.problems.empty() ? "" : c.problems[0]);
    }
  }
  // Mongolia adds what it first transferred, in the vintage year; Japan subtracts what it used,
  // in the year of use; neither counts the other's side.
  EXPECT_EQ(
      testing::FlowTonnes(r, "MNG"),
      (std::map<std::string, int64_t>{{"first transfer 2021", 160}, {"first transfer 2022", 270}}));
  EXPECT_EQ(testing::FlowTonnes(r, "JPN"),
            (std::map<std::string, int64_t>{{"use 2021", 160}, {"use 2022", 40}}));
  testing::ExpectVerifies(r);
}

}  // namespace
}  // namespace registry
