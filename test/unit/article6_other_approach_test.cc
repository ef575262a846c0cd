// Goal: a cooperative approach other than the JCM goes through the same Article 6 core (item 7 of
// issue 27). Two Parties, neither of them Japan: Thailand hosts an activity whose reference is
// not a JCM reference number; there is no Joint Committee and no allocation between sides. The
// host's registry issues the mitigation outcomes (issue.itmo), Thailand first transfers them to
// Switzerland by international transfer, and Switzerland uses them towards its NDC. Both Parties'
// AEF Actions rows, the cross-Party check both ways and both Parties' corresponding-adjustment
// flows are asserted, and verify passes.
//
// The flow is modelled on the first transfer under the Switzerland-Thailand implementing
// agreement (the Bangkok E-Bus Programme: 1,916 t of vintage 2022 transferred to Switzerland in
// January 2024); dates and account numbers here are illustrative.
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

// "date|type|subtype|first transferring Party|registry|quantity|vintage|transferring|acquiring|
// using".
std::vector<std::string> Actions(const report::AefWorkbook& wb) {
  std::vector<std::string> out;
  for (const auto& row : wb.tables[report::kActions].rows) {
    out.push_back(row[0] + "|" + row[1] + "|" + row[2] + "|" + row[5] + "|" + row[6] + "|" +
                  row[15] + "|" + row[18] + "|" + row[19] + "|" + row[20] + "|" + row[22]);
  }
  return out;
}

Json Step1(const std::string& party, const std::string& registry) {
  Json args = testing::Step1Args(party, registry);
  args["key"] = "CHE-THA";
  args["date"] = "2022-10-24";
  args["valid_from"] = "2022-10-24";
  args["regulatory_refs"] = {
      "Implementing Agreement to the Paris Agreement between Switzerland "
      "and Thailand, 24 October 2022"};
  args["underlying_registry_ids"] = Json::array();
  args["sectors"] = {"Transportation"};
  args["activity_types"] = {"Transport"};
  return args;
}

Json Step2a(const std::string& party) {
  return {{"party", party},
          {"project", "BKK-EBUS-1"},
          {"authorization_id", party + "-BKK-EBUS-1"},
          {"date", "2023-11-01"},
          {"purposes", "NDC"},
          {"vintages", {V(2022, 1916), V(2023, 5000)}},
          {"acquiring_parties", {"CHE"}},
          {"change_terms",
           {{"increase", true},
            {"decrease", true},
            {"revocation", true},
            {"false_information_exception", true}}}};
}

Json Issuance(const std::string& reference, int account) {
  return {{"account", account},
          {"project", "BKK-EBUS-1"},
          {"reference", reference},
          {"date", "2024-01-10"},
          {"monitoring_start", "2022-01-01"},
          {"monitoring_end", "2022-12-31"},
          {"vintages", {V(2022, 1916)}}};
}

// Switzerland and Thailand with their registries (accounts 1 THA01 government, 2 THA01
// retirement, 3 CHE01 government, 4 CHE01 retirement), Ghana (5 GHA01 government) as a Party
// outside the approach, the nomenclature, the approach CA0003 (not the JCM) with both Step 1s,
// both initial reports and the activity BKK-EBUS-1 hosted by Thailand.
void SetUpSwissThai(TestRegistry& r) {
  for (const auto& [code, name] :
       {std::pair{"CHE", "Switzerland"}, {"THA", "Thailand"}, {"GHA", "Ghana"}}) {
    r.Ok("party.add", {{"code", code}, {"name", name}});
    r.Ok("registry.add", {{"code", std::string(code) + "01"}, {"party", code}, {"name", name}});
  }
  r.Ok("account.open", {{"registry", "THA01"}, {"type", "government_holding"}, {"name", "TGO"}});
  r.Ok("account.open", {{"registry", "THA01"}, {"type", "retirement"}, {"name", "THA use"}});
  r.Ok("account.open", {{"registry", "CHE01"}, {"type", "government_holding"}, {"name", "FOEN"}});
  r.Ok("account.open", {{"registry", "CHE01"}, {"type", "retirement"}, {"name", "CHE use"}});
  r.Ok("account.open", {{"registry", "GHA01"}, {"type", "government_holding"}, {"name", "EPA"}});
  testing::LoadNomenclature(r);
  r.Ok("ca.define",
       {{"key", "CHE-THA"}, {"parties", {"CHE", "THA"}}, {"ca_id", "CA0003"}, {"jcm", false}});
  r.Ok("ca.authorize", Step1("THA", "THA01"));
  r.Ok("ca.authorize", Step1("CHE", "CHE01"));
  for (const char* party : {"CHE", "THA"}) {
    r.Ok("report.initial.submit", {{"party", party}, {"ca", "CHE-THA"}, {"date", "2023-12-01"}});
    r.Ok("ndc.configure",
         {{"party", party}, {"first_year", 2021}, {"last_year", 2030}, {"method", "trajectory"}});
  }
  r.Ok("project.add", {{"ref", "BKK-EBUS-1"},
                       {"host_party", "THA"},
                       {"title", "Bangkok E-Bus Programme"},
                       {"methodology", "Electrification of public bus transport"},
                       {"sector", "Transportation"},
                       {"activity_type", "Transport"},
                       {"participants", {"Energy Absolute", "KliK Foundation"}},
                       {"ca_key", "CHE-THA"}});
}

TEST(Article6OtherApproach, SwissThaiFlowBothAefsAndAdjustments) {
  TestRegistry r;
  SetUpSwissThai(r);
  r.Ok("authorization.add", Step2a("THA"));
  r.Ok("authorization.add", Step2a("CHE"));
  r.clock.Set("2024-01-10T09:00:00Z");
  const Json issued = r.Ok("issue.itmo", Issuance("TGO-EBUS-2022-1", 1));
  EXPECT_EQ(issued["first_transferring_party"], "THA");
  EXPECT_FALSE(issued.contains("acquiring_party"));
  // Not yet first transferred: Thailand may not use its own mitigation.
  r.Refused("retire", {{"from", 1}, {"to", 2}, {"quantity", 10}, {"use_year", 2024}},
            Check::kOwnOriginUse);
  // Ghana is no Party of the approach and Thailand's authorization names Switzerland only.
  r.Refused("transfer.international", {{"from", 1}, {"to", 5}, {"quantity", 10}},
            Check::kNotAuthorized);
  r.clock.Set("2024-01-15T09:00:00Z");
  const Json moved = r.Ok("transfer.international", {{"from", 1}, {"to", 3}, {"quantity", 1916}});
  EXPECT_EQ(moved["transferring_party"], "THA");
  EXPECT_EQ(moved["acquiring_party"], "CHE");
  EXPECT_TRUE(moved["parts"][0]["first_transfer"].get<bool>());
  r.clock.Set("2024-03-01T09:00:00Z");
  r.Ok("retire", {{"from", 3}, {"to", 4}, {"quantity", 1000}, {"use_year", 2024}});

  const auto tha = testing::AefOf(r, "THA", 2024);
  const auto che = testing::AefOf(r, "CHE", 2024);
  // The issuance into the host's own registry is no action: the first transfer is.
  EXPECT_EQ(Actions(tha),
            (std::vector<std::string>{
                "15/01/2024|First transfer|First transfer to another Party|THA|THA01|1916|2022|NA|"
                "CHE|NA",
            }));
  EXPECT_EQ(Actions(che), (std::vector<std::string>{
                              "15/01/2024|Acquisition|NA|THA|THA01|1916|2022|THA|NA|NA",
                              "01/03/2024|Use|NA|THA|THA01|1000|2022|NA|NA|CHE",
                          }));
  // The approach's CARP id is on every row (identifiers complete from issuance).
  for (const auto* wb : {&tha, &che}) {
    for (const auto& row : wb->tables[report::kActions].rows) EXPECT_EQ(row[3], "CA0003");
  }
  for (const auto& [ours, theirs] : {std::pair{&tha, &che}, std::pair{&che, &tha}}) {
    for (const auto& c : report::PreConsistencyChecks(*ours, theirs, 2021, 2030)) {
      EXPECT_NE(c.status, "Checked, inconsistencies identified")
          << c.item << " " << c.name << ": " << (c.problems.empty() ? "" : c.problems[0]);
    }
  }
  // Thailand adds what it first transferred, in the vintage year; Switzerland subtracts what it
  // used, not what it holds.
  EXPECT_EQ(testing::FlowTonnes(r, "THA"),
            (std::map<std::string, int64_t>{{"first transfer 2022", 1916}}));
  EXPECT_EQ(testing::FlowTonnes(r, "CHE"), (std::map<std::string, int64_t>{{"use 2022", 1000}}));
  testing::ExpectVerifies(r);
}

TEST(Article6OtherApproach, JcmRulesStayWithTheJcm) {
  TestRegistry r;
  SetUpSwissThai(r);
  r.Ok("authorization.add", Step2a("THA"));
  // A JCM approach is Japan and one partner.
  r.Refused("ca.define", {{"key", "X"}, {"parties", {"CHE", "THA"}}}, Check::kFieldInvalid);
  r.Refused("ca.define", {{"key", "X"}, {"parties", {"CHE", "CHE"}}, {"jcm", false}},
            Check::kFieldInvalid);
  // No allocation, no JC decision, no JCM project cycle for the activity of another approach.
  Json with_allocation = {{"ref", "BKK-EBUS-2"}, {"host_party", "THA"},
                          {"title", "t"},        {"methodology", "m"},
                          {"ca_key", "CHE-THA"}, {"allocation", {{"THA", 50}, {"CHE", 50}}}};
  r.Refused("project.add", with_allocation, Check::kFieldInvalid);
  Json hosted_elsewhere = with_allocation;
  hosted_elsewhere.erase("allocation");
  hosted_elsewhere["host_party"] = "GHA";
  r.Refused("project.add", hosted_elsewhere, Check::kNotAuthorized);
  r.Refused("project.transition",
            {{"ref", "BKK-EBUS-1"},
             {"to", "project_withdrawn"},
             {"jc_decision", "JC-1"},
             {"date", "2024-01-01"}},
            Check::kFieldInvalid);
  Json jcm_style = testing::IssueMngArgs("MN101", 10, {V(2022, 2)});
  jcm_style["project"] = "BKK-EBUS-1";
  jcm_style["account"] = 1;
  r.Refused("issue.jcm", jcm_style, Check::kFieldInvalid);
  // The host's registry issues; the acquiring Party's acquires by international transfer.
  r.Refused("issue.itmo", Issuance("TGO-EBUS-2022-1", 3), Check::kNotAuthorized);
  r.Ok("issue.itmo", Issuance("TGO-EBUS-2022-1", 1));
  r.Refused("issue.itmo", Issuance("TGO-EBUS-2022-1", 1), Check::kAlreadyExists);
  // Beyond what the host authorized for the vintage (1,916 t of 2022).
  r.Refused("issue.itmo", Issuance("TGO-EBUS-2022-2", 1), Check::kAuthorizedQuantityExceeded);
  testing::ExpectVerifies(r);
}

TEST(Article6OtherApproach, JcmProjectsAreIssuedOnJcDecisions) {
  TestRegistry r;
  testing::SetUpArticle6(r);  // MN101 under the JCM approach JPN-MNG.
  r.Ok("authorization.add", testing::Step2aArgs("MNG", "MN101"));
  r.Refused("issue.itmo",
            {{"account", 5},
             {"project", "MN101"},
             {"reference", "X-1"},
             {"date", "2026-01-10"},
             {"vintages", {V(2021, 10)}}},
            Check::kFieldInvalid);
  // A JCM project keeps its reference number.
  Json project = testing::ProjectArgs("MN-102");
  r.Refused("project.add", project, Check::kFieldInvalid);
}

}  // namespace
}  // namespace registry
