// Issue 31 item 7: a project of removals issues units of that mitigation type, and a reversal is
// recorded against it and remediated. Replayed on a real project of the shared data: KH005,
// "Prey Lang Wildlife Sanctuary - Stung Treng REDD+ project" (Cambodia; Ministry of Environment,
// Cambodia and Mitsui & Co., Ltd.; KH_AM004 Ver1.1; registered 9 June 2023). Its allocation,
// issuance and the reversal are made up for the test: none is public.
#include <gtest/gtest.h>

#include <string>

#include "report/aef_builder.h"
#include "report/regular_info.h"
#include "testing/test_util.h"
#include "unit/article6_fixture.h"

namespace registry {
namespace {

using service::Json;
using testing::TestRegistry;

Json V(int year, int64_t quantity) { return Json{{"vintage", year}, {"quantity", quantity}}; }

// Japan's JPN01 (account 1 its government holding, 3 its cancellation account) and Cambodia's
// KHM01 (accounts 8 holding, 9 cancellation) hosted here; the JPN-KHM approach with both Step 1s
// covering forestry; KH005 registered, of mitigation type "Emission reductions and removals" (the
// AEF's activity types have no REDD+: reduced deforestation and the enhancement of stocks are
// both) and KH004, a water utility's inverters, of emission reductions.
class Reversal : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::SetUpBasicRegistry(r);
    testing::LoadNomenclature(r);
    r.Ok("account.open", {{"registry", "MNG01"}, {"type", "cancellation"}, {"name", "mng can"}});
    r.Ok("party.add", {{"code", "KHM"}, {"name", "Cambodia"}});
    r.Ok("registry.add",
         {{"code", "KHM01"}, {"party", "KHM"}, {"name", "JCM Registry (Cambodia)"}});
    r.Ok("account.open", {{"registry", "KHM01"}, {"type", "government_holding"}, {"name", "gov"}});
    r.Ok("account.open", {{"registry", "KHM01"}, {"type", "cancellation"}, {"name", "cancel"}});
    r.Ok("ca.define", {{"key", "JPN-KHM"}, {"parties", {"JPN", "KHM"}}, {"ca_id", "CA0103"}});
    for (const auto& [party, registry] : {std::pair{"JPN", "JPN01"}, std::pair{"KHM", "KHM01"}}) {
      Json step1 = testing::Step1Args(party, registry);
      step1["key"] = "JPN-KHM";
      step1["sectors"] = {"Forestry and land use", "Energy generation"};
      step1["activity_types"] = {"Reforestation", "Energy Efficiency supply side"};
      r.Ok("ca.authorize", step1);
      r.Ok("report.initial.submit", {{"party", party}, {"ca", "JPN-KHM"}, {"date", "2025-09-01"}});
    }
    Json kh005 = testing::ProjectArgs("KH005");
    kh005["host_party"] = "KHM";
    kh005["title"] = "Prey Lang Wildlife Sanctuary - Stung Treng REDD+ project";
    kh005["methodology"] = "KH_AM004";
    kh005["methodology_version"] = "Ver1.1";
    kh005["sector"] = "Forestry and land use";
    kh005["activity_type"] = "Reforestation";
    kh005["mitigation_type"] = "Emission reductions and removals";
    kh005["participants"] = {"Ministry of Environment, Cambodia", "Mitsui & Co., Ltd."};
    kh005["allocation"] = {{"KHM", 50}, {"JPN", 50}};
    kh005["ca_key"] = "JPN-KHM";
    r.Ok("project.add", kh005);
    Json kh004 = kh005;
    kh004["ref"] = "KH004";
    kh004["title"] = "Energy Saving by Inverters for Distribution Pumps in Water Treatment Plant";
    kh004["sector"] = "Energy generation";
    kh004["activity_type"] = "Energy Efficiency supply side";
    kh004.erase("mitigation_type");
    r.Ok("project.add", kh004);
    for (const char* ref : {"KH005", "KH004"}) {
      r.Ok("project.transition", {{"ref", ref},
                                  {"to", "registration_requested"},
                                  {"jc_decision", "KH-JC-REQ"},
                                  {"date", "2023-05-01"}});
      r.Ok("project.transition", {{"ref", ref},
                                  {"to", "registered"},
                                  {"jc_decision", "KH-JC-REG"},
                                  {"date", "2023-06-09"}});
      for (const char* party : {"KHM", "JPN"}) {
        Json step2a = testing::Step2aArgs(party, ref);
        step2a["vintages"] = {V(2023, 10000)};
        r.Ok("authorization.add", step2a);
      }
    }
  }

  // One JC decision of 8,000 t of vintage 2023, 4,000 t per side: Cambodia's into KHM01
  // account 8, Japan's into JPN01 account 1.
  void IssueKh005() {
    Json args = {{"account", 8},
                 {"project", "KH005"},
                 {"jc_decision", "KH-JC9-2026"},
                 {"decision_date", "2026-02-10"},
                 {"monitoring_start", "2023-06-09"},
                 {"monitoring_end", "2023-12-31"},
                 {"total", 8000},
                 {"shares", {{"KHM", 4000}, {"JPN", 4000}}},
                 {"vintages", {V(2023, 4000)}}};
    r.Ok("issue.jcm", args);
    args["account"] = 1;
    r.Ok("issue.jcm", args);
  }

  Json Project(const std::string& ref) {
    auto tx = r.store->BeginRead();
    EXPECT_TRUE(tx.has_value());
    auto doc = (*tx)->GetDocument("project", ref);
    EXPECT_TRUE(doc.has_value() && doc->has_value());
    return doc && *doc ? Json::parse((*doc)->body) : Json::object();
  }

  // Rows of `party`'s AEF Actions of `year` as "type|subtype|quantity|mitigation type".
  std::vector<std::string> Actions(const std::string& party, int32_t year) {
    auto wb = report::BuildAef(*r.store, report::AefRequest{PartyCode{party}, year, "1.0", ""});
    EXPECT_TRUE(wb.has_value()) << (wb ? "" : wb.error().Message());
    std::vector<std::string> out;
    if (!wb) return out;
    for (const auto& row : wb->tables[report::kActions].rows) {
      std::string mitigation;
      for (const std::string& cell : row) {
        if (cell.find("removals") != std::string::npos || cell == "Removals") mitigation = cell;
      }
      out.push_back(row[1] + "|" + row[2] + "|" + row[15] + "|" + mitigation);
    }
    return out;
  }

  TestRegistry r;
};

TEST_F(Reversal, RemovalsAreIssuedReversedAndRemediatedByACancellationTheAefReports) {
  r.clock.Set("2026-02-20T09:00:00Z");
  IssueKh005();
  // Both sides' units carry the project's mitigation type into the AEF: Cambodia's first transfer
  // of Japan's side, Japan's acquisition.
  EXPECT_EQ(Actions("KHM", 2026),
            (std::vector<std::string>{
                "First transfer|First transfer to another Party|4000|Emission reductions and "
                "removals"}));
  EXPECT_EQ(Actions("JPN", 2026),
            (std::vector<std::string>{"Acquisition|NA|4000|Emission reductions and removals"}));

  // A fire in the sanctuary releases 1,500 t of what was credited.
  r.clock.Set("2026-06-01T09:00:00Z");
  const Json reversal =
      r.Ok("project.reversal", {{"project", "KH005"},
                                {"date", "2026-05-12"},
                                {"quantity", 1500},
                                {"cause", "Forest fire in the Stung Treng part"}});
  EXPECT_EQ(reversal["id"], 1);
  EXPECT_EQ(reversal["outstanding"], 1500);
  Json p = Project("KH005");
  ASSERT_EQ(p["reversals"].size(), 1u);
  EXPECT_EQ(p["reversals"][0]["quantity"], 1500);
  EXPECT_EQ(p["reversals"][0]["remediated"], 0);

  // Cambodia remediates it in two cancellations from its own holding; a third is refused.
  const Json first = r.Ok(
      "cancel", {{"from", 8}, {"quantity", 1000}, {"purpose", "other"}, {"reversal", "KH005/1"}});
  EXPECT_EQ(first["reversal"]["outstanding"], 500);
  r.Refused("cancel",
            {{"from", 8}, {"quantity", 501}, {"purpose", "other"}, {"reversal", "KH005/1"}},
            Check::kReversalOverRemediated);
  const Json second = r.Ok(
      "cancel", {{"from", 8}, {"quantity", 500}, {"purpose", "other"}, {"reversal", "KH005/1"}});
  EXPECT_EQ(second["reversal"]["outstanding"], 0);
  r.Refused("cancel", {{"from", 8}, {"quantity", 1}, {"purpose", "other"}, {"reversal", "KH005/1"}},
            Check::kReversalOverRemediated);
  p = Project("KH005");
  EXPECT_EQ(p["reversals"][0]["remediated"], 1500);
  ASSERT_EQ(p["reversals"][0]["remediations"].size(), 2u);
  EXPECT_EQ(p["reversals"][0]["remediations"][0]["quantity"], 1000);
  EXPECT_EQ(p["reversals"][0]["remediations"][0]["from"], 8);

  // Cambodia's AEF of 2026 reports the remediation as its "Other cancellations" of units it
  // never first transferred; Japan's is unchanged.
  EXPECT_EQ(Actions("KHM", 2026),
            (std::vector<std::string>{
                "First transfer|First transfer to another Party|4000|Emission reductions and "
                "removals",
                "Cancellation|Other cancellations|1000|Emission reductions and removals",
                "Cancellation|Other cancellations|500|Emission reductions and removals"}));
  EXPECT_EQ(Actions("JPN", 2026),
            (std::vector<std::string>{"Acquisition|NA|4000|Emission reductions and removals"}));

  // Cambodia's regular information of its BTR of 2028 (the AEFs of 2026 and 2027) reports the
  // reversal of the project it hosts and what is remediated; Japan's has none (it hosts none).
  for (const char* party : {"KHM", "JPN"}) {
    auto info = report::BuildRegularInformation(*r.store, {PartyCode{party}, 2028, true});
    ASSERT_TRUE(info.has_value()) << (info ? "" : info.error().Message());
    const auto& rows = info->tables[report::kRegularReversals].rows;
    if (std::string(party) == "JPN") {
      EXPECT_TRUE(rows.empty());
      continue;
    }
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0],
              (std::vector<std::string>{"2026", "KH005", "CA0103", "2026-05-12", "1500",
                                        "Forest fire in the Stung Treng part", "1500", "0"}));
  }
  testing::ExpectVerifies(r);
}

TEST_F(Reversal, RefusalsChangeNothing) {
  r.clock.Set("2026-06-01T09:00:00Z");
  const Json fire = {
      {"project", "KH005"}, {"date", "2026-05-12"}, {"quantity", 100}, {"cause", "Forest fire"}};
  // Nothing issued yet: nothing to reverse here.
  r.Refused("project.reversal", fire, Check::kReversalExceedsIssued);
  IssueKh005();
  Json bad = fire;
  bad["project"] = "KH004";
  r.Refused("project.reversal", bad, Check::kProjectNotRemovals);
  bad["project"] = "KH099";
  r.Refused("project.reversal", bad, Check::kUnknownProject);
  bad = fire;
  bad["quantity"] = 8001;
  r.Refused("project.reversal", bad, Check::kReversalExceedsIssued);
  bad["quantity"] = 0;
  r.Refused("project.reversal", bad, Check::kFieldInvalid);
  bad = fire;
  bad["date"] = "2023-06-08";  // The day before registration.
  r.Refused("project.reversal", bad, Check::kFieldInvalid);
  bad["date"] = "2026-06-02";  // Tomorrow.
  r.Refused("project.reversal", bad, Check::kFieldInvalid);
  bad["date"] = "2026-02-30";
  r.Refused("project.reversal", bad, Check::kFieldInvalid);
  bad = fire;
  bad.erase("cause");
  r.Refused("project.reversal", bad, Check::kFieldMissing);
  bad = fire;
  bad["cause"] = std::string(1025, 'x');
  r.Refused("project.reversal", bad, Check::kFieldInvalid);
  bad = fire;
  bad["note"] = "a field the command does not take";
  r.Refused("project.reversal", bad, Check::kUnknownField);

  // The whole issued quantity may reverse, over several reversals; not a tonne more.
  r.Ok("project.reversal", fire);
  Json rest = fire;
  rest["quantity"] = 7900;
  r.Ok("project.reversal", rest);
  rest["quantity"] = 1;
  r.Refused("project.reversal", rest, Check::kReversalExceedsIssued);

  // A cancellation names a reversal that exists, with purpose other.
  const Json cancel = {
      {"from", 8}, {"quantity", 10}, {"purpose", "other"}, {"reversal", "KH005/1"}};
  for (const char* name : {"KH005", "KH005/", "KH005/x", "KH005/0", "/1", "KH005/1234567"}) {
    Json c = cancel;
    c["reversal"] = name;
    r.Refused("cancel", c, Check::kFieldInvalid);
  }
  Json c = cancel;
  c["reversal"] = "KH005/3";
  r.Refused("cancel", c, Check::kFieldInvalid);
  c["reversal"] = "KH099/1";
  r.Refused("cancel", c, Check::kUnknownProject);
  c = cancel;
  c["purpose"] = "voluntary";
  r.Refused("cancel", c, Check::kFieldInvalid);
  r.Ok("cancel", cancel);
  testing::ExpectVerifies(r);
}

}  // namespace
}  // namespace registry
