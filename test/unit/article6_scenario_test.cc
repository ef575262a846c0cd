// Goal: each step of the three-step JCM authorization and each of its refusals, end to end through
// the service on a real SQLite file: Step 1 (cooperative approach), projects and their states,
// Step 2a, JCM issuance with Step 2b, first transfer, international transfer, retirement with
// both authorizations (R-AUTH-07), changes and revocation, the AEF mapping, and verify.
// Method: scripted scenarios on the Article 6 fixture; every refusal names its check.
#include <gtest/gtest.h>

#include <set>

#include "report/aef_builder.h"
#include "service/article6_aef.h"
#include "service/verify.h"
#include "storage/sqlite/sqlite_store.h"
#include "testing/test_util.h"
#include "unit/article6_fixture.h"

namespace registry {
namespace {

using service::Json;
using testing::TestRegistry;

Json V(int year, int64_t quantity) { return Json{{"vintage", year}, {"quantity", quantity}}; }

using testing::ExpectVerifies;

class Article6 : public ::testing::Test {
 protected:
  void SetUp() override { testing::SetUpArticle6(r); }
  TestRegistry r;
};

TEST_F(Article6, Step1CooperativeApproachHoldsEveryElementAndItsIdCanComeLater) {
  r.Ok("party.add", {{"code", "THA"}, {"name", "Thailand"}});
  r.Ok("ca.define", {{"key", "JPN-THA"}, {"parties", {"JPN", "THA"}}});
  Json thai = testing::Step1Args("JPN", "JPN01");
  thai["key"] = "JPN-THA";
  r.Ok("ca.authorize", thai);
  const Json ca = r.Ok("ca.assign_id", {{"key", "JPN-THA"}, {"ca_id", "CA0043"}});
  EXPECT_EQ(ca["ca_id"], "CA0043");
  for (const char* field : {"a_ca_id", "b_parties", "c_date", "d_first_transfer_definition", "e_purposes",
                            "f_regulatory_refs", "g_change_terms", "h_authorized_quantity",
                            "i_party_itmo_registry_id", "j_underlying_registry_ids", "k_vintage_from",
                            "l_metric", "m_sectors", "n_activity_types"}) {
    EXPECT_TRUE(ca["step1"]["JPN"].contains(field)) << field;
  }
  r.Refused("ca.assign_id", {{"key", "JPN-THA"}, {"ca_id", "CA0044"}}, Check::kAlreadyExists);
  r.Refused("ca.assign_id", {{"key", "JPN-MNG"}, {"ca_id", "X1"}}, Check::kFieldInvalid);
}

TEST_F(Article6, Step1Refusals) {
  // The fixture gave both Parties' Step 1 (version 1, NDC only). Nothing replaces one in silence:
  // a new version names the one it replaces and says why.
  Json issuance = testing::Step1Args("JPN", "JPN01", "NDC and OIMP");
  issuance["first_transfer_definition"] = "Issuance";
  r.Refused("ca.authorize", issuance, Check::kAlreadyExists);
  issuance["replaces_version"] = 2;
  issuance["reason"] = "OIMP added";
  r.Refused("ca.authorize", issuance, Check::kFieldInvalid);
  issuance["replaces_version"] = 1;
  Json early = issuance;
  early["vintage_from"] = 2020;
  r.Refused("ca.authorize", early, Check::kItmoVintageBefore2021);
  Json no_definition = issuance;
  no_definition.erase("first_transfer_definition");
  r.Refused("ca.authorize", no_definition, Check::kOimpWithoutFirstTransferDefinition);
  Json sector = issuance;
  sector["sectors"] = {"Energy"};
  r.Refused("ca.authorize", sector, Check::kFieldInvalid);
  Json registry = issuance;
  registry["party_itmo_registry_id"] = "JPN02";
  r.Refused("ca.authorize", registry, Check::kChangeNotAllowedByTerms);
  Json ca = r.Ok("ca.authorize", issuance);
  EXPECT_EQ(ca["step1"]["JPN"]["version"], 2);
  EXPECT_EQ(ca["step1"]["JPN"]["reason"], "OIMP added");
  // Once given, a Party's first-transfer definition is fixed for the approach.
  Json again = issuance;
  again["replaces_version"] = 2;
  again["valid_to"] = "2030-12-31";
  again["first_transfer_definition"] = "Use or cancellation";
  r.Refused("ca.authorize", again, Check::kConflictingFirstTransferDefinition);
  again["first_transfer_definition"] = "Issuance";
  ca = r.Ok("ca.authorize", again);
  EXPECT_EQ(ca["step1"]["JPN"]["version"], 3);
  EXPECT_EQ(ca["step1"]["JPN"]["c_valid_to"], "2030-12-31");
  // Each participating Party defines its own (4/CMA.6 para 15): Mongolia's differs from Japan's.
  Json use = testing::Step1Args("MNG", "MNG01", "NDC and OIMP");
  use["first_transfer_definition"] = "Use or cancellation";
  use["replaces_version"] = 1;
  use["reason"] = "OIMP added";
  ca = r.Ok("ca.authorize", use);
  EXPECT_EQ(ca["first_transfer_definitions"]["JPN"], "Issuance");
  EXPECT_EQ(ca["first_transfer_definitions"]["MNG"], "Use or cancellation");
  // The versions replaced stay in the document's history.
  auto tx = r.store->BeginRead();
  ASSERT_TRUE(tx.has_value());
  auto history = (*tx)->DocumentHistory("cooperative_approach", "JPN-MNG");
  ASSERT_TRUE(history.has_value());
  std::set<int> versions;
  for (const Document& d : *history) {
    const Json body = Json::parse(d.body);
    if (body["step1"].contains("JPN")) versions.insert(body["step1"]["JPN"].value("version", 1));
  }
  EXPECT_EQ(versions, (std::set<int>{1, 2, 3}));
}

TEST_F(Article6, ProjectStateMachineRecordsEachJcDecision) {
  r.Ok("project.add", testing::ProjectArgs("MN102"));
  r.Refused("project.transition", {{"ref", "MN102"}, {"to", "registered"}, {"jc_decision", "JC1"},
                                   {"date", "2025-01-01"}}, Check::kProjectStateTransition);
  r.Ok("project.transition", {{"ref", "MN102"}, {"to", "registration_requested"}, {"jc_decision", "JC1"},
                              {"date", "2025-01-01"}});
  const Json p = r.Ok("project.transition", {{"ref", "MN102"}, {"to", "registration_withdrawn"},
                                             {"jc_decision", "JC2"}, {"date", "2025-02-01"}});
  ASSERT_EQ(p["decisions"].size(), 2u);
  EXPECT_EQ(p["decisions"][1]["id"], "JC2");
  Json bad = testing::ProjectArgs("MN103");
  bad["allocation"] = {{"MNG", 30}, {"JPN", 80}};
  r.Refused("project.add", bad, Check::kAllocationMismatch);
  bad = testing::ProjectArgs("MN103");
  bad["activity_type"] = "Nuclear";
  r.Refused("project.add", bad, Check::kFieldInvalid);
  r.Refused("project.add", testing::ProjectArgs("MN101"), Check::kAlreadyExists);
}

TEST_F(Article6, Step2aRefusals) {
  Json early = testing::Step2aArgs("MNG", "MN101");
  early["vintages"] = {V(2020, 10)};
  r.Refused("authorization.add", early, Check::kItmoVintageBefore2021);
  r.Refused("authorization.add", testing::Step2aArgs("MNG", "MN101", "OIMP"),
            Check::kOimpWithoutFirstTransferDefinition);
  Json first = testing::Step2aArgs("MNG", "MN101", "NDC and OIMP");
  first["first_transfer_definition"] = "Issuance";
  r.Ok("authorization.add", first);
  r.Refused("authorization.add", first, Check::kAlreadyExists);
  r.Ok("project.add", testing::ProjectArgs("MN102"));  // In validation: no Step 2a yet.
  r.Refused("authorization.add", testing::Step2aArgs("MNG", "MN102"), Check::kProjectStateTransition);
  // Mongolia fixed "Issuance" for the approach: its next project cannot say otherwise; Japan,
  // another participating Party, defines its own (4/CMA.6 para 15).
  testing::RegisterProject(r, "MN103");
  Json second = testing::Step2aArgs("MNG", "MN103", "NDC and OIMP");
  second["first_transfer_definition"] = "Authorisation";
  r.Refused("authorization.add", second, Check::kConflictingFirstTransferDefinition);
  Json japan = testing::Step2aArgs("JPN", "MN101", "NDC and OIMP");
  japan["first_transfer_definition"] = "Authorisation";
  r.Ok("authorization.add", japan);
}

TEST_F(Article6, IssuanceStep2bVersionsAndQuantities) {
  const Json a = r.Ok("authorization.add", testing::Step2aArgs("MNG", "MN101"));
  EXPECT_EQ(a["version"], 1);
  // 2,000 t total: MNG 400 = 2020: 100 (JCM credit, not ITMO), 2021: 200, 2022: 100.
  const Json issued = r.Ok("issue.jcm", testing::IssueMngArgs("MN101", 2000, {V(2020, 100), V(2021, 200), V(2022, 100)}));
  ASSERT_EQ(issued["lots"].size(), 3u);
  EXPECT_FALSE(issued["lots"][0]["itmo"].get<bool>());
  EXPECT_TRUE(issued["lots"][1]["itmo"].get<bool>());
  EXPECT_EQ(issued["lots"][1]["authorization_version"], 2);  // Step 2b is version 2.
  EXPECT_EQ(issued["lots"][1]["purposes"], "NDC");
  EXPECT_FALSE(issued["lots"][1]["first_transferred"].get<bool>());  // NDC: at transfer.
  r.Refused("issue.jcm", testing::IssueMngArgs("MN101", 5000, {V(2021, 1000)}),
            Check::kAuthorizedQuantityExceeded);  // 1000 - 200 = 800 left.
  r.Refused("issue.jcm", testing::IssueMngArgs("MN101", 500, {V(2023, 100)}), Check::kVintageNotAuthorized);
  Json wrong = testing::IssueMngArgs("MN101", 1000, {V(2021, 200)});
  wrong["shares"] = {{"MNG", 500}, {"JPN", 500}};
  r.Refused("issue.jcm", wrong, Check::kAllocationMismatch);
  wrong["shares"] = {{"MNG", 211}, {"JPN", 789}};  // 21.1 %: more than one point off 20 %.
  r.Refused("issue.jcm", wrong, Check::kAllocationMismatch);
  r.Refused("issue.jcm", testing::IssueMngArgs("MN101", 1000, {V(2021, 150)}), Check::kIssuanceSplitMismatch);
  // A change raising 2021 (allowed by the terms) makes room.
  r.Ok("authorization.change", {{"party", "MNG"}, {"project", "MN101"}, {"effective_date", "2026-02-01"},
                                {"reason", "higher estimate"}, {"vintages", {V(2021, 2000), V(2022, 1000)}}});
  const Json more = r.Ok("issue.jcm", testing::IssueMngArgs("MN101", 5000, {V(2021, 1000)}));
  EXPECT_EQ(more["lots"][0]["authorization_version"], 4);
  ExpectVerifies(r);
}

TEST_F(Article6, OimpIssuanceDefinitionFirstTransfersAtIssuance) {
  Json oimp = testing::Step2aArgs("MNG", "MN101", "NDC and OIMP");
  oimp["first_transfer_definition"] = "Issuance";
  r.Ok("authorization.add", oimp);
  const Json issued = r.Ok("issue.jcm", testing::IssueMngArgs("MN101", 1000, {V(2021, 200)}));
  EXPECT_TRUE(issued["lots"][0]["first_transferred"].get<bool>());
  const auto actions = service::AefActionsFor("issue.jcm", {}, issued);
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].type, "First transfer");
  EXPECT_EQ(actions[0].subtype, "Issuance");
  // The state survives splits: a domestic transfer of part keeps it.
  r.Ok("account.open", {{"registry", "MNG01"}, {"type", "government_holding"}, {"name", "mng gov2"}});
  const Json moved = r.Ok("transfer", {{"from", 5}, {"to", 8}, {"quantity", 50}});
  EXPECT_TRUE(moved["blocks"][0]["first_transferred"].get<bool>());
}

// Mongolia's Step 1 and Step 2a for OIMP only, its first transfer defined as `definition`.
void AuthorizeOimpOnly(TestRegistry& r, const std::string& definition) {
  Json step1 = testing::Step1Args("MNG", "MNG01", "NDC and OIMP");
  step1["first_transfer_definition"] = definition;
  step1["replaces_version"] = 1;
  step1["reason"] = "OIMP added";
  r.Ok("ca.authorize", step1);
  Json oimp = testing::Step2aArgs("MNG", "MN101", "OIMP");
  oimp["first_transfer_definition"] = definition;
  oimp["oimp_purpose"] = "CORSIA";
  r.Ok("authorization.add", oimp);
}

// Issue 27 item 6: units the host authorized for OIMP only may go to another Party's registry
// for that purpose; crossing registries is then not their first transfer (the OIMP definition
// fixes it: here at use or cancellation), and the acquiring Party cannot use them towards its
// NDC.
TEST_F(Article6, OimpOnlyUnitsCrossRegistriesWithoutBeingFirstTransferred) {
  AuthorizeOimpOnly(r, "Use or cancellation");
  r.Ok("issue.jcm", testing::IssueMngArgs("MN101", 1000, {V(2021, 200)}));
  const Json moved = r.Ok("transfer.international",
                          {{"from", 5}, {"to", 1}, {"quantity", 100}, {"vintage", 2021}});
  EXPECT_FALSE(moved["parts"][0]["first_transfer"].get<bool>());
  for (const Json& b : moved["blocks"]) EXPECT_FALSE(b["first_transferred"].get<bool>());
  const auto crossing = service::AefActionsFor("transfer.international", {}, moved);
  ASSERT_EQ(crossing.size(), 2u);
  EXPECT_EQ(crossing[0].type, "Transfer");
  EXPECT_EQ(crossing[1].type, "Acquisition");
  // Japan cannot use them towards its NDC; it cancels them for the OIMP, which is their first
  // transfer (by Mongolia, at cancellation).
  r.Refused("retire", {{"from", 1}, {"to", 2}, {"quantity", 10}, {"use_year", 2026}},
            Check::kNotFirstTransferredToUser);
  const Json cancelled =
      r.Ok("cancel", {{"from", 1}, {"to", 3}, {"quantity", 40}, {"purpose", "oimp"}});
  EXPECT_TRUE(cancelled["article6"][0]["first_transfer"].get<bool>());
  const auto actions = service::AefActionsFor("cancel", {{"purpose", "oimp"}}, cancelled);
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(actions[0].type + "/" + actions[0].subtype, "First transfer/Use or cancellation");
  EXPECT_EQ(actions[1].type, "Cancellation");
  ExpectVerifies(r);
}

// Issue 27 item 6: a first transfer defined as "Authorization" happened when the host authorized
// the mitigation outcomes; the AEF reports it with the units and dates it at the authorization.
TEST_F(Article6, AuthorizationFirstTransferIsDatedAtTheAuthorization) {
  AuthorizeOimpOnly(r, "Authorisation");  // Step 2a dated 2025-06-01.
  r.Ok("report.initial.submit", {{"party", "MNG"}, {"ca", "JPN-MNG"}, {"date", "2025-09-01"}});
  r.clock.Set("2026-02-10T09:00:00Z");
  const Json issued = r.Ok("issue.jcm", testing::IssueMngArgs("MN101", 1000, {V(2021, 200)}));
  EXPECT_TRUE(issued["lots"][0]["first_transferred"].get<bool>());
  auto wb = report::BuildAef(*r.store, report::AefRequest{PartyCode{"MNG"}, 2026, "1.0", ""});
  ASSERT_TRUE(wb.has_value()) << wb.error().Message();
  const auto& rows = wb->tables[report::kActions].rows;
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][1] + "/" + rows[0][2], "First transfer/Authorization");
  EXPECT_EQ(rows[0][0], "01/06/2025");  // The AEF writes dates DD/MM/YYYY.
  EXPECT_EQ(rows[0][15], "200");
}

TEST_F(Article6, InternationalTransferThenRetirementNeedsBothAuthorizations) {
  r.Ok("authorization.add", testing::Step2aArgs("MNG", "MN101"));
  r.Ok("issue.jcm", testing::IssueMngArgs("MN101", 2000, {V(2020, 100), V(2021, 200), V(2022, 100)}));
  // Non-ITMO (2020) credits cannot go abroad.
  r.Refused("transfer.international", {{"from", 5}, {"to", 1}, {"quantity", 10}, {"vintage", 2020}},
            Check::kNotAuthorized);
  r.Refused("transfer", {{"from", 5}, {"to", 1}, {"quantity", 10}}, Check::kCrossRegistryTransfer);
  const Json t = r.Ok("transfer.international", {{"from", 5}, {"to", 1}, {"quantity", 150}, {"vintage", 2021}});
  ASSERT_EQ(t["blocks"].size(), 1u);
  EXPECT_TRUE(t["blocks"][0]["first_transferred"].get<bool>());
  const int64_t lot = t["blocks"][0]["lot"].get<int64_t>();
  const auto actions = service::AefActionsFor("transfer.international", {}, t);
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(actions[0].type, "First transfer");
  EXPECT_EQ(actions[0].acquiring_party, "JPN");
  EXPECT_EQ(actions[1].type, "Acquisition");
  EXPECT_EQ(actions[1].transferring_party, "MNG");
  EXPECT_EQ(actions[1].lot, lot);  // Same lot: the ITMO identifiers do not change.
  // Japan has not authorized: retirement towards Japan's NDC is refused (R-AUTH-07).
  r.Refused("retire", {{"from", 1}, {"quantity", 10}, {"use_year", 2025}},
            Check::kRetirementNeedsBothAuthorizations);
  r.Ok("authorization.add", testing::Step2aArgs("JPN", "MN101"));
  const Json ret = r.Ok("retire", {{"from", 1}, {"quantity", 10}, {"use_year", 2025}});
  const auto use = service::AefActionsFor("retire", {{"use_year", 2025}}, ret);
  ASSERT_EQ(use.size(), 1u);
  EXPECT_EQ(use[0].type, "Use");
  EXPECT_EQ(use[0].use_year, 2025);
  // Pre-2021 JCM credits are retired as JCM credits, without Article 6 checks.
  const Json jcm = r.Ok("retire", {{"from", 5}, {"quantity", 10}, {"vintage", 2020}, {"use_year", 2025}});
  EXPECT_TRUE(service::AefActionsFor("retire", {}, jcm).empty());
  ExpectVerifies(r);
}

// OIMP-only units going abroad: OimpOnlyUnitsCrossRegistriesWithoutBeingFirstTransferred (they
// were refused before issue 27 item 6).
TEST_F(Article6, OimpCancellationIsTheFirstTransferUnderUseOrCancellation) {
  Json oimp = testing::Step2aArgs("MNG", "MN101", "OIMP");
  oimp["first_transfer_definition"] = "Use or cancellation";
  r.Ok("authorization.add", oimp);
  r.Ok("issue.jcm", testing::IssueMngArgs("MN101", 1000, {V(2021, 200)}));
  // OIMP cancellation is the first transfer under "Use or cancellation".
  const Json c = r.Ok("cancel", {{"from", 5}, {"to", 7}, {"quantity", 10}, {"purpose", "oimp"}});
  EXPECT_TRUE(c["blocks"][0]["first_transferred"].get<bool>());
  const auto actions = service::AefActionsFor("cancel", {{"purpose", "oimp"}}, c);
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(actions[0].subtype, "Use or cancellation");
}

TEST_F(Article6, OmgeCancellationIsAFirstTransfer) {
  r.Ok("authorization.add", testing::Step2aArgs("MNG", "MN101"));
  r.Ok("issue.jcm", testing::IssueMngArgs("MN101", 1000, {V(2021, 200)}));
  const Json c = r.Ok("cancel", {{"from", 5}, {"to", 7}, {"quantity", 20}, {"purpose", "omge"}});
  EXPECT_TRUE(c["blocks"][0]["first_transferred"].get<bool>());
  const auto actions = service::AefActionsFor("cancel", {{"purpose", "omge"}}, c);
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(actions[0].type, "First transfer");
  EXPECT_EQ(actions[0].subtype, "Voluntary cancellation to deliver OMGE");
  EXPECT_EQ(actions[1].type, "Cancellation");
}

TEST_F(Article6, RevocationStopsOnlyBlocksNotYetFirstTransferred) {
  r.Ok("authorization.add", testing::Step2aArgs("MNG", "MN101"));
  r.Ok("authorization.add", testing::Step2aArgs("JPN", "MN101"));
  r.Ok("issue.jcm", testing::IssueMngArgs("MN101", 2000, {V(2021, 400)}));
  r.Ok("transfer.international", {{"from", 5}, {"to", 1}, {"quantity", 100}});
  r.Ok("authorization.change", {{"party", "MNG"}, {"project", "MN101"}, {"effective_date", "2026-03-01"},
                                {"reason", "revoked"}, {"revoke", true}});
  r.Refused("transfer.international", {{"from", 5}, {"to", 1}, {"quantity", 10}}, Check::kAuthorizationRevoked);
  r.Refused("issue.jcm", testing::IssueMngArgs("MN101", 500, {V(2021, 100)}), Check::kAuthorizationRevoked);
  r.Ok("retire", {{"from", 1}, {"quantity", 10}, {"use_year", 2025}});  // First transferred: untouched.
  r.Refused("authorization.change", {{"party", "MNG"}, {"project", "MN101"}, {"effective_date", "2026-03-02"},
                                     {"reason", "again"}, {"revoke", true}}, Check::kAuthorizationRevoked);
  ExpectVerifies(r);
}

TEST_F(Article6, FalseInformationExceptionOnlyWhenTheTermsSayAndExplicitly) {
  Json terms = testing::Step2aArgs("MNG", "MN101");
  terms["change_terms"]["false_information_exception"] = false;
  terms["change_terms"]["increase"] = false;
  r.Ok("authorization.add", terms);
  r.Ok("authorization.add", testing::Step2aArgs("JPN", "MN101"));
  r.Ok("issue.jcm", testing::IssueMngArgs("MN101", 2000, {V(2021, 400)}));
  r.Ok("transfer.international", {{"from", 5}, {"to", 1}, {"quantity", 100}});
  r.Refused("authorization.change", {{"party", "MNG"}, {"project", "MN101"}, {"effective_date", "2026-03-01"},
                                     {"reason", "more"}, {"vintages", {V(2021, 5000)}}},
            Check::kChangeNotAllowedByTerms);
  r.Refused("authorization.change", {{"party", "MNG"}, {"project", "MN101"}, {"effective_date", "2026-03-01"},
                                     {"reason", "fraud"}, {"revoke", true}, {"false_information_exception", true}},
            Check::kChangeNotAllowedByTerms);
  // With the exception stated in JPN's terms, it reaches the first-transferred block in JPN01.
  r.Ok("authorization.change", {{"party", "JPN"}, {"project", "MN101"}, {"effective_date", "2026-03-01"},
                                {"reason", "deliberately false monitoring report"}, {"revoke", true},
                                {"false_information_exception", true}});
  r.Refused("retire", {{"from", 1}, {"quantity", 10}, {"use_year", 2025}}, Check::kAuthorizationRevoked);
}

TEST_F(Article6, LowerQuantityLowersWhatMayStillBeIssued) {
  r.Ok("authorization.add", testing::Step2aArgs("MNG", "MN101"));
  r.Ok("issue.jcm", testing::IssueMngArgs("MN101", 2000, {V(2021, 400)}));
  r.Ok("authorization.change", {{"party", "MNG"}, {"project", "MN101"}, {"effective_date", "2026-03-01"},
                                {"reason", "lower"}, {"vintages", {V(2021, 500), V(2022, 1000)}}});
  r.Refused("issue.jcm", testing::IssueMngArgs("MN101", 1000, {V(2021, 200)}), Check::kAuthorizedQuantityExceeded);
  r.Ok("issue.jcm", testing::IssueMngArgs("MN101", 500, {V(2021, 100)}));
}

// Element (c): the Party's Step 1 timeframe bounds what may still happen. A JC decision after
// the final issuance date issues no ITMOs (pre-2021 JCM credits are not ITMOs and still issue);
// after the final date for use or cancellation (judged by the command's time) no ITMO of that
// Party is retired or cancelled, while domestic transfers go on. A new Step 1 version moving the
// date lets issuance resume. Changes cannot take effect before the version they change.
TEST_F(Article6, Step1TimeframeBoundsIssuanceAndUseAndChangesFollowInTime) {
  Json step1 = testing::Step1Args("MNG", "MNG01");
  step1["final_issuance_date"] = "2026-01-09";
  step1["final_use_or_cancel_date"] = "2026-06-30";
  step1["replaces_version"] = 1;  // The fixture's, without dates.
  step1["reason"] = "final dates set";
  r.Ok("ca.authorize", step1);
  r.Ok("authorization.add", testing::Step2aArgs("MNG", "MN101"));
  r.Refused("issue.jcm", testing::IssueMngArgs("MN101", 1000, {V(2021, 200)}), Check::kAuthorizationExpired);
  r.Ok("issue.jcm", testing::IssueMngArgs("MN101", 500, {V(2020, 100)}));  // JCM credits only.
  step1["final_issuance_date"] = "2026-12-31";
  step1["replaces_version"] = 2;
  r.Ok("ca.authorize", step1);
  r.Ok("issue.jcm", testing::IssueMngArgs("MN101", 1000, {V(2021, 200)}));
  // Mongolia never uses its own ITMOs towards its own NDC (they never left it).
  r.Refused("retire", {{"from", 5}, {"quantity", 5}, {"vintage", 2021}, {"use_year", 2025}},
            Check::kOwnOriginUse);
  r.Ok("authorization.add", testing::Step2aArgs("JPN", "MN101"));
  r.Ok("transfer.international", {{"from", 5}, {"to", 1}, {"quantity", 100}, {"vintage", 2021}});
  r.Ok("retire", {{"from", 1}, {"quantity", 5}, {"use_year", 2025}});  // On 2026-01-01.
  r.clock.Set("2026-07-01T00:00:00Z");  // The day after the final date for use or cancellation.
  // What Mongolia still holds is no longer cancelled...
  r.Refused("cancel", {{"from", 5}, {"quantity", 10}, {"vintage", 2021}, {"purpose", "omge"}},
            Check::kAuthorizationExpired);
  // ... but Japan uses what it acquired before: first transferred, beyond the host's date.
  r.Ok("retire", {{"from", 1}, {"quantity", 10}, {"use_year", 2026}});
  r.Ok("retire", {{"from", 5}, {"quantity", 10}, {"vintage", 2020}, {"use_year", 2025}});
  r.Ok("account.open", {{"registry", "MNG01"}, {"type", "government_holding"}, {"name", "mng gov2"}});
  r.Ok("transfer", {{"from", 5}, {"to", 8}, {"quantity", 50}, {"vintage", 2021}});
  // The Step 2b above is dated 2026-01-10: a change cannot take effect before it.
  r.Refused("authorization.change", {{"party", "MNG"}, {"project", "MN101"}, {"effective_date", "2025-12-31"},
                                     {"reason", "backdated"}, {"vintages", {V(2021, 900)}}},
            Check::kFieldInvalid);
  r.Ok("authorization.change", {{"party", "MNG"}, {"project", "MN101"}, {"effective_date", "2026-01-10"},
                                {"reason", "same day"}, {"vintages", {V(2021, 900)}}});
  ExpectVerifies(r);
}

}  // namespace
}  // namespace registry
