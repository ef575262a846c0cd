// Goal: the Credit Allocation Form (issue 31 item 1) on a real Mongolian project: MN003 with its
// three participants (Bridge LLC and Everyday Farm LLC in Mongolia, FARMDO CORPORATION in Japan)
// and Mongolia's government account. Its real JC decision of 8 February 2022 (7,084 t for
// Mongolia, 28,335 t for Japan, both pre-2021 JCM credits) is issued side by side on different
// days, each side's share distributed over its accounts of the form, the later side against the
// decision as the first notified it; then a decision of ITMO vintages (2021-2022) authorized by
// both Parties naming their entities, whose AEFs show Mongolia's first transfers to Japan and
// Japan's acquisitions and use; verify passes.
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

// Live tonnes per account.
std::map<int64_t, int64_t> Held(TestRegistry& r) {
  auto tx = r.store->BeginRead();
  EXPECT_TRUE(tx.has_value());
  std::map<int64_t, int64_t> out;
  auto live = (*tx)->LiveTonnesByAccount();
  EXPECT_TRUE(live.has_value());
  for (const auto& [account, tonnes] : *live) out[account.value] = tonnes;
  return out;
}

// Accounts: JPN01 1-4 and MNG01 5-7 (testing::SetUpArticle6), then Bridge LLC 8 and Everyday
// Farm LLC 9 in MNG01, FARMDO CORPORATION 10 in JPN01. Entities 1-3 in that order.
struct Mn003 {
  int64_t bridge = 0, everyday = 0, farmdo = 0;  // Entity ids.
};

Mn003 SetUpMn003(TestRegistry& r) {
  testing::SetUpArticle6(r);
  Mn003 e;
  e.bridge = r.Ok("entity.add", {{"name", "Bridge LLC"}, {"country", "MNG"}})["id"];
  e.everyday = r.Ok("entity.add", {{"name", "Everyday Farm LLC"}, {"country", "MNG"}})["id"];
  e.farmdo = r.Ok("entity.add", {{"name", "FARMDO CORPORATION"}, {"country", "JPN"}})["id"];
  EXPECT_EQ(r.Ok("account.open", {{"registry", "MNG01"},
                                  {"type", "entity_holding"},
                                  {"name", "Bridge LLC"},
                                  {"holder", e.bridge}})["id"],
            8);
  r.Ok("account.open", {{"registry", "MNG01"},
                        {"type", "entity_holding"},
                        {"name", "Everyday Farm LLC"},
                        {"holder", e.everyday}});
  r.Ok("account.open", {{"registry", "JPN01"},
                        {"type", "entity_holding"},
                        {"name", "FARMDO CORPORATION"},
                        {"holder", e.farmdo}});
  // The real project (projects.csv): registered 26 May 2017, MN_AM003 Ver2.0.
  Json project = testing::ProjectArgs("MN003");
  project["title"] =
      "Installation of 12.7 MW Solar Power Plant for Power Supply In Ulaanbaatar Suburb";
  project["methodology"] = "MN_AM003";
  project["methodology_version"] = "Ver2.0";
  project["participants"] = {"Bridge LLC", "Everyday Farm LLC", "FARMDO CORPORATION"};
  project["state"] = "registered";
  project["registration_date"] = "2017-05-26";
  r.Ok("project.add", project);
  return e;
}

// The form: Mongolia's 20 % as 10 % to its government account and 5 % to each Mongolian
// participant, Japan's 80 % to FARMDO (the percents within each side are an assumption: the
// forms are not public).
Json Form(Json accounts) { return Json{{"project", "MN003"}, {"accounts", std::move(accounts)}}; }
Json Row(const char* side, int64_t account, int64_t percent) {
  return Json{{"side", side}, {"account", account}, {"percent", percent}};
}
Json Mn003Form() {
  return Form({Row("MNG", 5, 10), Row("MNG", 8, 5), Row("MNG", 9, 5), Row("JPN", 10, 80)});
}

Json Decision2022(int64_t account, Json vintages) {
  return Json{{"account", account},
              {"project", "MN003"},
              {"jc_decision", "JC-MN003-2022-02-08"},
              {"decision_date", "2022-02-08"},
              {"monitoring_start", "2018-06-01"},
              {"monitoring_end", "2020-12-31"},
              {"total", 35419},
              {"shares", {{"MNG", 7084}, {"JPN", 28335}}},
              {"vintages", std::move(vintages)}};
}

TEST(Article6Allocation, FormRefusesWhatIsNotAFormAndKeepsItsVersions) {
  TestRegistry r;
  SetUpMn003(r);
  // Mongolia's rows add up to 15 %, not 20 %.
  r.Refused("project.allocation_form",
            Form({Row("MNG", 5, 5), Row("MNG", 8, 5), Row("MNG", 9, 5), Row("JPN", 10, 85)}),
            Check::kAllocationMismatch);
  // Japan's share in a Mongolian account; a retirement account; an unknown account.
  r.Refused("project.allocation_form",
            Form({Row("MNG", 5, 10), Row("MNG", 8, 5), Row("MNG", 9, 5), Row("JPN", 6, 80)}),
            Check::kAllocationMismatch);
  r.Refused("project.allocation_form",
            Form({Row("MNG", 6, 10), Row("MNG", 8, 5), Row("MNG", 9, 5), Row("JPN", 10, 80)}),
            Check::kWrongDestinationType);
  r.Refused("project.allocation_form",
            Form({Row("MNG", 5, 10), Row("MNG", 8, 5), Row("MNG", 9, 5), Row("JPN", 99, 80)}),
            Check::kUnknownAccount);
  Json extra = Mn003Form();
  extra["accounts"][0]["holder"] = "Bridge";
  r.Refused("project.allocation_form", extra, Check::kUnknownField);
  r.Refused("project.allocation_form", Form(Json::array()), Check::kFieldMissing);
  const Json v1 = r.Ok("project.allocation_form", Mn003Form());
  EXPECT_EQ(v1["version"], 1);
  // A new version needs a reason; then issuances follow it.
  r.Refused("project.allocation_form", Mn003Form(), Check::kFieldMissing);
  Json v2 = Mn003Form();
  v2["reason"] = "Everyday Farm LLC leaves the project";
  v2["accounts"] = {Row("MNG", 5, 10), Row("MNG", 8, 10), Row("JPN", 10, 80)};
  EXPECT_EQ(r.Ok("project.allocation_form", v2)["version"], 2);
  const Json issued = r.Ok("issue.jcm", Decision2022(5, {V(2019, 7084)}));
  EXPECT_EQ(issued["allocation_form_version"], 2);
  EXPECT_EQ(issued["allocation"], (Json{{{"account", 5}, {"vintage", 2019}, {"quantity", 3542}},
                                        {{"account", 8}, {"vintage", 2019}, {"quantity", 3542}}}));
  testing::ExpectVerifies(r);
}

TEST(Article6Allocation, RealMn003DecisionIssuedSideBySideOverTheForm) {
  TestRegistry r;
  SetUpMn003(r);
  r.Ok("project.allocation_form", Mn003Form());
  // Japan issues first (24 February 2022 in the real table, Mongolia on the 22nd: any order).
  // The split of each side's share over 2018-2020 is an assumption (the table gives totals).
  r.clock.Set("2022-02-22T09:00:00Z");
  // Japan's share into Japan's government account: it is not in the form.
  r.Refused("issue.jcm", Decision2022(1, {V(2018, 5000), V(2019, 11700), V(2020, 11635)}),
            Check::kAllocationMismatch);
  const Json japan =
      r.Ok("issue.jcm", Decision2022(10, {V(2018, 5000), V(2019, 11700), V(2020, 11635)}));
  EXPECT_EQ(japan["allocation"].size(), 3u);
  for (const Json& lot : japan["lots"]) EXPECT_EQ(lot["account"], 10);
  EXPECT_EQ(Held(r)[10], 28335);
  // Mongolia's share is notified, not issued: a later issuance must be the same decision.
  Json other = Decision2022(5, {V(2018, 1250), V(2019, 2925), V(2020, 2909)});
  other["shares"] = {{"MNG", 7083}, {"JPN", 28336}};
  r.Refused("issue.jcm", other, Check::kIssuanceSplitMismatch);
  other = Decision2022(5, {V(2018, 1250), V(2019, 2925), V(2020, 2909)});
  other["decision_date"] = "2022-02-09";
  r.Refused("issue.jcm", other, Check::kFieldInvalid);
  r.clock.Set("2022-02-24T09:00:00Z");
  const Json mongolia =
      r.Ok("issue.jcm", Decision2022(5, {V(2018, 1250), V(2019, 2925), V(2020, 2909)}));
  // Each 5 % participant: a quarter of each vintage rounded down; the government the rest.
  EXPECT_EQ(mongolia["allocation"], (Json{{{"account", 5}, {"vintage", 2018}, {"quantity", 626}},
                                          {{"account", 5}, {"vintage", 2019}, {"quantity", 1463}},
                                          {{"account", 5}, {"vintage", 2020}, {"quantity", 1455}},
                                          {{"account", 8}, {"vintage", 2018}, {"quantity", 312}},
                                          {{"account", 8}, {"vintage", 2019}, {"quantity", 731}},
                                          {{"account", 8}, {"vintage", 2020}, {"quantity", 727}},
                                          {{"account", 9}, {"vintage", 2018}, {"quantity", 312}},
                                          {{"account", 9}, {"vintage", 2019}, {"quantity", 731}},
                                          {{"account", 9}, {"vintage", 2020}, {"quantity", 727}}}));
  const auto held = Held(r);
  EXPECT_EQ(held.at(5), 3544);
  EXPECT_EQ(held.at(8), 1770);
  EXPECT_EQ(held.at(9), 1770);
  EXPECT_EQ(held.at(5) + held.at(8) + held.at(9), 7084);
  // Pre-2021 vintages: JCM credits, not ITMOs.
  for (const Json& lot : mongolia["lots"]) EXPECT_FALSE(lot["itmo"].get<bool>());
  // Each side once.
  r.Refused("issue.jcm", Decision2022(8, {V(2018, 1250), V(2019, 2925), V(2020, 2909)}),
            Check::kAlreadyExists);
  testing::ExpectVerifies(r);
}

TEST(Article6Allocation, ItmoDecisionOverTheFormBothAefs) {
  TestRegistry r;
  const Mn003 e = SetUpMn003(r);
  r.Ok("project.allocation_form", Mn003Form());
  for (const char* party : {"JPN", "MNG"}) {
    r.Ok("report.initial.submit", {{"party", party}, {"ca", "JPN-MNG"}, {"date", "2025-09-01"}});
  }
  // Mongolia authorizes its participants, Japan FARMDO (4/CMA.6 para 3).
  Json mng = testing::Step2aArgs("MNG", "MN003");
  mng["entities"] = {e.bridge};
  r.Ok("authorization.add", mng);
  Json jpn = testing::Step2aArgs("JPN", "MN003");
  jpn["entities"] = {e.farmdo};
  r.Ok("authorization.add", jpn);
  r.clock.Set("2026-02-10T09:00:00Z");
  Json decision = {{"account", 5},
                   {"project", "MN003"},
                   {"jc_decision", "JC-MN003-2026"},
                   {"decision_date", "2026-01-24"},
                   {"monitoring_start", "2021-01-01"},
                   {"monitoring_end", "2022-12-31"},
                   {"total", 1000},
                   {"shares", {{"MNG", 200}, {"JPN", 800}}},
                   {"vintages", {V(2021, 90), V(2022, 110)}}};
  // Everyday Farm LLC is not among the entities Mongolia authorizes: its part cannot be issued
  // as ITMOs, so nothing is.
  r.Refused("issue.jcm", decision, Check::kEntityNotAuthorized);
  // A new version of the form gives Everyday Farm's part to Mongolia's government.
  Json v2 = Form({Row("MNG", 5, 15), Row("MNG", 8, 5), Row("JPN", 10, 80)});
  v2["reason"] = "Everyday Farm LLC not authorized by Mongolia";
  r.Ok("project.allocation_form", v2);
  const Json to_mng = r.Ok("issue.jcm", decision);
  EXPECT_EQ(to_mng["allocation"], (Json{{{"account", 5}, {"vintage", 2021}, {"quantity", 68}},
                                        {{"account", 5}, {"vintage", 2022}, {"quantity", 83}},
                                        {{"account", 8}, {"vintage", 2021}, {"quantity", 22}},
                                        {{"account", 8}, {"vintage", 2022}, {"quantity", 27}}}));
  decision["account"] = 10;
  decision["vintages"] = {V(2021, 360), V(2022, 440)};
  const Json to_jpn = r.Ok("issue.jcm", decision);
  EXPECT_EQ(to_jpn["acquiring_party"], "JPN");
  for (const Json& lot : to_jpn["lots"]) {
    EXPECT_TRUE(lot["itmo"].get<bool>());
    EXPECT_TRUE(lot["first_transferred"].get<bool>());
  }
  // FARMDO uses 300 t of 2021 towards Japan's NDC.
  r.Ok("retire", {{"from", 10}, {"quantity", 300}, {"vintage", 2021}, {"use_year", 2026}});

  const auto mng_aef = testing::AefOf(r, "MNG", 2026);
  const auto jpn_aef = testing::AefOf(r, "JPN", 2026);
  std::map<std::string, int64_t> mng_rows, jpn_rows;
  for (const auto& row : mng_aef.tables[report::kActions].rows)
    mng_rows[row[1] + " " + row[18]] += std::stoll(row[15]);
  for (const auto& row : jpn_aef.tables[report::kActions].rows)
    jpn_rows[row[1] + " " + row[18]] += std::stoll(row[15]);
  // Mongolia's share stays with its holders (not first transferred); Japan's is Mongolia's
  // first transfer and Japan's acquisition.
  EXPECT_EQ(mng_rows, (std::map<std::string, int64_t>{{"First transfer 2021", 360},
                                                      {"First transfer 2022", 440}}));
  EXPECT_EQ(jpn_rows,
            (std::map<std::string, int64_t>{
                {"Acquisition 2021", 360}, {"Acquisition 2022", 440}, {"Use 2021", 300}}));
  for (const auto& [ours, theirs] :
       {std::pair{&mng_aef, &jpn_aef}, std::pair{&jpn_aef, &mng_aef}}) {
    for (const auto& c : report::PreConsistencyChecks(*ours, theirs, 2021, 2030)) {
      EXPECT_NE(c.status, "Checked, inconsistencies identified")
          << c.item << " " << c.name << ": " << (c.problems.empty() ? "" : c.problems[0]);
    }
  }
  testing::ExpectVerifies(r);
}

// Issue 31 item 3: an entity acts under an authorization that names it, where the
// authorization names any (4/CMA.6 para 3): already at issuance (the form's accounts above), at a
// first transfer by international transfer or by OMGE or OIMP cancellation; now also when it uses
// ITMOs towards an NDC and when it cancels them for OIMP, under its own Party's authorization.
TEST(Article6Allocation, EntitiesUseOnlyUnderAnAuthorizationNamingThem) {
  TestRegistry r;
  const Mn003 e = SetUpMn003(r);
  r.Ok("project.allocation_form", Mn003Form());
  for (const char* party : {"JPN", "MNG"}) {
    r.Ok("report.initial.submit", {{"party", party}, {"ca", "JPN-MNG"}, {"date", "2025-09-01"}});
  }
  // Mongolia authorizes NDC use and OIMP (CORSIA), first transferred at use or cancellation for
  // the OIMP, at the international transfer for NDC use (the earlier: para 12).
  Json step1 = testing::Step1Args("MNG", "MNG01", "NDC and OIMP");
  step1["first_transfer_definition"] = "Use or cancellation";
  step1["replaces_version"] = 1;
  step1["reason"] = "OIMP added";
  r.Ok("ca.authorize", step1);
  Json mng = testing::Step2aArgs("MNG", "MN003", "NDC and OIMP");
  mng["first_transfer_definition"] = "Use or cancellation";
  mng["oimp_purpose"] = "CORSIA";
  mng["entities"] = {e.bridge, e.everyday};
  r.Ok("authorization.add", mng);
  Json jpn = testing::Step2aArgs("JPN", "MN003");
  jpn["entities"] = {e.farmdo};
  r.Ok("authorization.add", jpn);
  // A Japanese buyer Japan's authorization does not name.
  const int64_t buyer = r.Ok("entity.add", {{"name", "Buyer K.K."}, {"country", "JPN"}})["id"];
  const int64_t buyer_account = r.Ok("account.open", {{"registry", "JPN01"},
                                                      {"type", "entity_holding"},
                                                      {"name", "Buyer K.K."},
                                                      {"holder", buyer}})["id"];
  r.clock.Set("2026-02-10T09:00:00Z");
  r.Ok("issue.jcm", {{"account", 10},
                     {"project", "MN003"},
                     {"jc_decision", "JC-MN003-2026"},
                     {"decision_date", "2026-01-24"},
                     {"monitoring_start", "2021-01-01"},
                     {"monitoring_end", "2021-12-31"},
                     {"total", 1000},
                     {"shares", {{"MNG", 200}, {"JPN", 800}}},
                     {"vintages", {V(2021, 800)}}});
  // A domestic transfer is no act under an authorization (R-JCM-13); the buyer's use is.
  r.Ok("transfer", {{"from", 10}, {"to", buyer_account}, {"quantity", 100}});
  r.Refused("retire", {{"from", buyer_account}, {"quantity", 10}, {"use_year", 2026}},
            Check::kEntityNotAuthorized);
  // FARMDO, named, uses; the government account is the Party's own.
  r.Ok("retire", {{"from", 10}, {"quantity", 10}, {"use_year", 2026}});
  // Units already first transferred (to Japan, at issuance) cancelled for the OIMP: the
  // buyer's use for that purpose, under Japan's authorization, which does not name it.
  r.Refused("cancel", {{"from", buyer_account}, {"to", 3}, {"quantity", 10}, {"purpose", "oimp"}},
            Check::kEntityNotAuthorized);
  r.Ok("cancel", {{"from", 10}, {"to", 3}, {"quantity", 10}, {"purpose", "oimp"}});
  // Any other cancellation is no act under an authorization.
  r.Ok("cancel", {{"from", buyer_account}, {"to", 3}, {"quantity", 10}, {"purpose", "voluntary"}});
  r.Ok("transfer", {{"from", buyer_account}, {"to", 1}, {"quantity", 90}});
  r.Ok("retire", {{"from", 1}, {"quantity", 10}, {"use_year", 2026}});
  testing::ExpectVerifies(r);
}

}  // namespace
}  // namespace registry
