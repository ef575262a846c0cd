// Issue 31 item 6: an inconsistency the secretariat identified in Mongolia's AEF of 2026, on part
// of a Mongolian issuance (both sides' lots hosted here), holds exactly those units: their first
// transfer and their use are refused (JCM-524, naming the inconsistency), the others' allowed; a
// domestic transfer takes the hold along; once corrected the units move again and the next AEF
// (2027) carries the correction and its explanation. And the refusals of the two commands.
#include "service/inconsistency.h"

#include <gtest/gtest.h>

#include <string>

#include "testing/test_util.h"
#include "unit/article6_fixture.h"

namespace registry {
namespace {

using service::Json;
using testing::TestRegistry;

Json V(int year, int64_t quantity) { return Json{{"vintage", year}, {"quantity", quantity}}; }

class Inconsistency : public ::testing::Test {
 protected:
  // MN101's JC decision of 500 t: Mongolia's 100 t into MNG01 account 5 (serials 1-40 of 2021,
  // 41-100 of 2022), Japan's 400 t into JPN01 account 1 (1-160 of 2021, 161-400 of 2022), the
  // latter first transferred by Mongolia at issuance.
  void SetUp() override {
    testing::SetUpArticle6(r);
    for (const char* party : {"JPN", "MNG"}) {
      r.Ok("report.initial.submit", {{"party", party}, {"ca", "JPN-MNG"}, {"date", "2025-09-01"}});
      r.Ok("authorization.add", testing::Step2aArgs(party, "MN101"));
    }
    r.clock.Set("2026-02-10T09:00:00Z");
    Json mongolia = testing::IssueMngArgs("MN101", 500, {V(2021, 40), V(2022, 60)});
    Json japan = mongolia;
    japan["account"] = 1;
    japan["vintages"] = {V(2021, 160), V(2022, 240)};
    const Json mng_lots = r.Ok("issue.jcm", mongolia)["lots"];
    ASSERT_EQ(mng_lots[1]["first"], 41);
    ASSERT_EQ(mng_lots[1]["registry"], "MNG01");
    const Json jpn_lots = r.Ok("issue.jcm", japan)["lots"];
    ASSERT_EQ(jpn_lots[0]["first"], 1);
    ASSERT_EQ(jpn_lots[0]["registry"], "JPN01");
    r.clock.Set("2027-03-01T09:00:00Z");  // The AEF of 2026 was submitted and checked.
  }

  Json RecordArgs() {
    return {{"party", "MNG"},
            {"year", 2026},
            {"status", "Checked, inconsistencies identified"},
            {"units", {"MNG01:41-60", "JPN01:1-50"}},
            {"description", "Vintage of the block reported as 2021 in Table 3"},
            {"reference", "CARP notification 2027-02-20"}};
  }

  void ExpectRefusedUnchanged(const std::string& command, const Json& args, Check check,
                              const std::string& says = "") {
    const int64_t before = testing::JournalLength(*r.store);
    const service::Response response = r.Run(command, args);
    ASSERT_FALSE(response.ok()) << command << " " << args.dump() << " was accepted";
    ASSERT_TRUE(response.failure->refusal.has_value()) << response.failure->Message();
    EXPECT_EQ(response.failure->refusal->check, check) << response.failure->Message();
    if (!says.empty()) {
      EXPECT_NE(response.failure->Message().find(says), std::string::npos)
          << response.failure->Message();
    }
    EXPECT_EQ(testing::JournalLength(*r.store), before) << command;
  }

  // The Additional explanatory information of `party`'s Authorizations rows in its AEF of `year`.
  std::string AuthorizationNotes(const std::string& party, int32_t year) {
    std::string notes;
    const report::AefWorkbook wb = testing::AefOf(r, party, year);
    for (const auto& row : wb.tables[report::kAuthorizations].rows) {
      notes += row.back() + "\n";
    }
    return notes;
  }

  TestRegistry r;
};

TEST_F(Inconsistency, HoldsExactlyTheFlaggedUnitsUntilCorrectedThenTheNextAefSaysSo) {
  const Json recorded = r.Ok("inconsistency.record", RecordArgs());
  const int64_t id = recorded["id"].get<int64_t>();
  const std::string named = "inconsistency " + std::to_string(id);
  EXPECT_EQ(recorded["held_tonnes"], 70);  // 20 t in MNG01, 50 t in JPN01.
  EXPECT_EQ(recorded["projects"], Json::array({"MN101"}));
  ASSERT_EQ(recorded["blocks"].size(), 2u);
  for (const Json& b : recorded["blocks"]) EXPECT_EQ(b["held_inconsistent"], true);

  // Mongolia may not first transfer the held units to Japan, nor Japan use the held units it
  // acquired; the message names the inconsistency.
  ExpectRefusedUnchanged("transfer.international", {{"from", 5}, {"to", 1}, {"ranges", {"41-50"}}},
                         Check::kInconsistencyUnresolved, named);
  ExpectRefusedUnchanged("transfer.international", {{"from", 5}, {"to", 1}, {"ranges", {"55-70"}}},
                         Check::kInconsistencyUnresolved, "first transferred");
  ExpectRefusedUnchanged("retire", {{"from", 1}, {"ranges", {"1-10"}}, {"use_year", 2027}},
                         Check::kInconsistencyUnresolved, "used towards an NDC");
  // By quantity the lowest serials come first: the held ones.
  ExpectRefusedUnchanged("retire",
                         {{"from", 1}, {"quantity", 5}, {"vintage", 2021}, {"use_year", 2027}},
                         Check::kInconsistencyUnresolved, named);
  // The units around them move.
  r.Ok("transfer.international", {{"from", 5}, {"to", 1}, {"ranges", {"61-70"}}});
  r.Ok("transfer.international", {{"from", 5}, {"to", 1}, {"ranges", {"21-40"}}});
  r.Ok("retire", {{"from", 1}, {"ranges", {"51-60"}}, {"use_year", 2027}});
  // A domestic transfer is neither: the hold goes with the units.
  r.Ok("transfer", {{"from", 1}, {"to", 4}, {"ranges", {"1-5"}}});
  ExpectRefusedUnchanged("retire", {{"from", 4}, {"ranges", {"1-5"}}, {"use_year", 2027}},
                         Check::kInconsistencyUnresolved, named);

  // Corrected: every held unit is released and moves again.
  r.clock.Set("2027-05-10T09:00:00Z");
  const Json corrected = r.Ok(
      "inconsistency.correct",
      {{"party", "MNG"}, {"id", id}, {"explanation", "Table 3 resubmitted with vintage 2022"}});
  EXPECT_EQ(corrected["corrected"]["date"], "2027-05-10");
  int64_t released = 0;
  for (const Json& b : corrected["released"]) released += b["quantity"].get<int64_t>();
  EXPECT_EQ(released, 70);
  r.Ok("transfer.international", {{"from", 5}, {"to", 1}, {"ranges", {"41-50"}}});
  r.Ok("retire", {{"from", 1}, {"ranges", {"6-10"}}, {"use_year", 2027}});
  r.Ok("retire", {{"from", 4}, {"ranges", {"1-5"}}, {"use_year", 2027}});

  // The next AEF (2027) reports the correction and its explanation; the flagged one does not.
  const std::string next = AuthorizationNotes("MNG", 2027);
  EXPECT_NE(next.find("Inconsistency " + std::to_string(id) +
                      " in the AEF of 2026 "
                      "(\"Checked, inconsistencies identified\"; units MNG01:41-60, JPN01:1-50) "
                      "corrected on 2027-05-10: Table 3 resubmitted with vintage 2022"),
            std::string::npos)
      << next;
  EXPECT_EQ(AuthorizationNotes("MNG", 2026).find("Inconsistency"), std::string::npos);
  EXPECT_EQ(AuthorizationNotes("JPN", 2027).find("Inconsistency"), std::string::npos);
  testing::ExpectVerifies(r);
}

// Two open inconsistencies over the same units: correcting one keeps what the other holds.
TEST_F(Inconsistency, CorrectingOneKeepsWhatAnotherStillHolds) {
  const int64_t first = r.Ok("inconsistency.record", RecordArgs())["id"].get<int64_t>();
  Json review = RecordArgs();
  review["status"] = "Review finalized and significant inconsistencies identified";
  review["units"] = {"MNG01:55-65"};
  const int64_t second = r.Ok("inconsistency.record", review)["id"].get<int64_t>();
  r.Ok("inconsistency.correct",
       {{"party", "MNG"}, {"id", first}, {"explanation", "Table 3 resubmitted"}});
  r.Ok("transfer.international", {{"from", 5}, {"to", 1}, {"ranges", {"41-54"}}});
  ExpectRefusedUnchanged("transfer.international", {{"from", 5}, {"to", 1}, {"ranges", {"55-60"}}},
                         Check::kInconsistencyUnresolved,
                         "inconsistency " + std::to_string(second));
  r.Ok("retire", {{"from", 1}, {"ranges", {"1-50"}}, {"use_year", 2027}});
}

TEST_F(Inconsistency, RefusalsChangeNothing) {
  Json args = RecordArgs();
  args["status"] = "Checked, no inconsistencies identified";
  ExpectRefusedUnchanged("inconsistency.record", args, Check::kFieldInvalid,
                         "is not one that identifies an inconsistency");
  args = RecordArgs();
  args["units"] = {"MNG01-41-60"};
  ExpectRefusedUnchanged("inconsistency.record", args, Check::kFieldInvalid, "REGISTRY:first-last");
  args["units"] = {"MNG01:41-60", "MNG01:50-70"};
  ExpectRefusedUnchanged("inconsistency.record", args, Check::kFieldInvalid, "overlap");
  args["units"] = Json::array();
  ExpectRefusedUnchanged("inconsistency.record", args, Check::kFieldMissing, "units");
  args["units"] = {"MNG01:900-950"};
  ExpectRefusedUnchanged("inconsistency.record", args, Check::kSerialRangeNotHeld, "MNG01:900-950");
  args = RecordArgs();
  args["year"] = 2027;  // Not over yet: its AEF is not submitted.
  ExpectRefusedUnchanged("inconsistency.record", args, Check::kFieldInvalid, "after the year");
  args = RecordArgs();
  args["party"] = "THA";
  ExpectRefusedUnchanged("inconsistency.record", args, Check::kUnknownParty);

  const int64_t id = r.Ok("inconsistency.record", RecordArgs())["id"].get<int64_t>();
  ExpectRefusedUnchanged("inconsistency.correct",
                         {{"party", "JPN"}, {"id", id}, {"explanation", "fixed"}}, Check::kNotFound,
                         "JPN has no inconsistency");
  ExpectRefusedUnchanged("inconsistency.correct",
                         {{"party", "MNG"}, {"id", id + 100}, {"explanation", "fixed"}},
                         Check::kNotFound);
  ExpectRefusedUnchanged("inconsistency.correct",
                         {{"party", "MNG"}, {"id", id}, {"explanation", "  "}},
                         Check::kFieldInvalid, "blank");
  r.Ok("inconsistency.correct", {{"party", "MNG"}, {"id", id}, {"explanation", "fixed"}});
  ExpectRefusedUnchanged("inconsistency.correct",
                         {{"party", "MNG"}, {"id", id}, {"explanation", "again"}},
                         Check::kAlreadyExists, "corrected on 2027-03-01 already");
  // A block.hold (no inconsistency recorded) still refuses a use with JCM-517.
  r.Ok("block.hold", {{"account", 1}, {"ranges", {"100-110"}}, {"hold", true}});
  ExpectRefusedUnchanged("retire", {{"from", 1}, {"ranges", {"100-110"}}, {"use_year", 2027}},
                         Check::kBlockHeldInconsistent);
}

}  // namespace
}  // namespace registry
