// Goal: the Article 6 rules of core/approach.h are typed functions over typed values, testable
// with no store and no JSON (issue 27 item 10): the issuance rules (the host first-transfers,
// the acquiring side's issuance as an international transfer, the quantity per vintage, Step 2b),
// the JCM's shares, Step 1 versions, the project cycle and the JCM's own shape.
#include "core/approach.h"

#include <gtest/gtest.h>

namespace registry {
namespace {

CooperativeApproach JpnMng() {
  CooperativeApproach ca;
  ca.key = "JPN-MNG";
  ca.ca_id = "CA0042";
  ca.parties = {PartyCode{"JPN"}, PartyCode{"MNG"}};
  ca.step1["JPN"] = Step1{1, "", "", "", "JPN01"};
  ca.step1["MNG"] = Step1{1, "", "", "", "MNG01"};
  return ca;
}

Project Mn101() {
  Project p;
  p.ref = ProjectRef{"MN101"};
  p.host = PartyCode{"MNG"};
  p.state = "registered";
  p.ca_key = "JPN-MNG";
  p.allocation = {{"MNG", 20}, {"JPN", 80}};
  return p;
}

Authorization Ndc(const std::string& party) {
  Authorization a;
  a.party = PartyCode{party};
  a.authorization_id = party + "-MN101-1";
  a.project = ProjectRef{"MN101"};
  a.purposes.ndc = true;
  a.authorized = {{2021, 1000}};
  return a;
}

IssuanceRequest Decision(const std::string& side, int64_t quantity) {
  IssuanceRequest r;
  r.id = "JC-1";
  r.date = "2026-01-10";
  r.side = PartyCode{side};
  r.vintages = {{2020, 5}, {2021, quantity}};
  return r;
}

// The check of a refused plan; kMalformedRequest (never raised by the rules) when it passed.
Check RefusalOf(const Result<IssuancePlan, Refusal>& r) {
  EXPECT_FALSE(r.has_value());
  return r.has_value() ? Check::kMalformedRequest : r.error().check;
}

TEST(PlanIssuance, TheAcquiringSidesShareIsTheHostsFirstTransferAndStep2bOfBoth) {
  const CooperativeApproach ca = JpnMng();
  std::optional<Authorization> host = Ndc("MNG");
  std::optional<Authorization> own = Ndc("JPN");
  const auto plan = PlanIssuance(Decision("JPN", 400), Mn101(), &ca, host, own);
  ASSERT_TRUE(plan.has_value()) << plan.error().message;
  EXPECT_TRUE(plan->international);
  ASSERT_EQ(plan->lots.size(), 2u);
  EXPECT_FALSE(plan->lots[0].itmo);  // 2020: a JCM credit, not an ITMO.
  EXPECT_TRUE(plan->lots[1].itmo);
  EXPECT_TRUE(plan->lots[1].first_transferred);  // Born first transferred, in JPN01.
  EXPECT_EQ(host->version, 2);                   // Step 2b of both Parties.
  EXPECT_EQ(own->version, 2);
  EXPECT_EQ(host->issued.at(2021), 400);
}

TEST(PlanIssuance, RefusesWhatTheRulesRefuse) {
  CooperativeApproach ca = JpnMng();
  std::optional<Authorization> host;
  std::optional<Authorization> own = Ndc("JPN");
  // Japan's authorization alone makes no ITMO: the host first-transfers.
  EXPECT_EQ(RefusalOf(PlanIssuance(Decision("JPN", 400), Mn101(), &ca, host, own)),
            Check::kNotAuthorized);
  host = Ndc("MNG");
  EXPECT_EQ(RefusalOf(PlanIssuance(Decision("JPN", 1001), Mn101(), &ca, host, own)),
            Check::kAuthorizedQuantityExceeded);
  IssuanceRequest twice = Decision("MNG", 10);
  twice.issued_before = 7;
  EXPECT_EQ(RefusalOf(PlanIssuance(twice, Mn101(), &ca, host, own)), Check::kAlreadyExists);
  IssuanceRequest outside = Decision("MNG", 10);
  outside.monitoring_start = "2021-01-01";
  outside.monitoring_end = "2021-12-31";
  EXPECT_EQ(RefusalOf(PlanIssuance(outside, Mn101(), &ca, host, own)), Check::kVintageOutOfRange);
  host->acquiring_parties = {PartyCode{"CHE"}};  // Japan not named: no issuance into JPN01.
  EXPECT_EQ(RefusalOf(PlanIssuance(Decision("JPN", 10), Mn101(), &ca, host, own)),
            Check::kNotAuthorized);
  host->acquiring_parties.clear();
  ca.step1["MNG"].final_issuance_date = "2025-12-31";
  EXPECT_EQ(RefusalOf(PlanIssuance(Decision("MNG", 10), Mn101(), &ca, host, own)),
            Check::kAuthorizationExpired);
  ca.step1["MNG"].final_issuance_date.clear();
  ca.ca_id.clear();
  EXPECT_EQ(RefusalOf(PlanIssuance(Decision("MNG", 10), Mn101(), &ca, host, own)),
            Check::kCaIdNotAssigned);
  EXPECT_EQ(host->version, 1);  // A refused plan changes no authorization's version.
}

TEST(JcmShares, EachSideWithinOnePointOfItsAllocation) {
  const Project p = Mn101();
  EXPECT_TRUE(CheckJcmShares(p, 322, {{"MNG", 66}, {"JPN", 256}}, PartyCode{"JPN"}, 256));
  EXPECT_EQ(
      CheckJcmShares(p, 1000, {{"MNG", 211}, {"JPN", 789}}, PartyCode{"JPN"}, 789).error().check,
      Check::kAllocationMismatch);
  EXPECT_EQ(
      CheckJcmShares(p, 1000, {{"MNG", 200}, {"JPN", 800}}, PartyCode{"JPN"}, 700).error().check,
      Check::kIssuanceSplitMismatch);
}

TEST(Step1Versions, ANewVersionNamesTheOneInForceAndKeepsTheRegistry) {
  const CooperativeApproach ca = JpnMng();
  EXPECT_EQ(NextStep1Version(ca, PartyCode{"JPN"}, std::nullopt, false, "JPN01").error().check,
            Check::kAlreadyExists);
  EXPECT_EQ(NextStep1Version(ca, PartyCode{"JPN"}, 2, true, "JPN01").error().check,
            Check::kFieldInvalid);
  EXPECT_EQ(NextStep1Version(ca, PartyCode{"JPN"}, 1, true, "JPN02").error().check,
            Check::kChangeNotAllowedByTerms);
  EXPECT_EQ(NextStep1Version(ca, PartyCode{"JPN"}, 1, true, "JPN01").value(), 2);
}

TEST(Projects, CycleSidesAndTheJcmsOwnShape) {
  Project p = Mn101();
  p.state = "validation";
  EXPECT_EQ(CheckTransition(p, "registered").error().check, Check::kProjectStateTransition);
  EXPECT_TRUE(CheckTransition(p, "registration_requested"));
  EXPECT_EQ(CheckStep2aState(p).error().check, Check::kProjectStateTransition);
  const CooperativeApproach ca = JpnMng();
  EXPECT_TRUE(IsSideOf(p, ca, PartyCode{"JPN"}));
  EXPECT_FALSE(IsSideOf(p, ca, PartyCode{"THA"}));
  EXPECT_TRUE(CheckJcmProject(p, false));  // An imported project: no allocation yet.
  p.host = PartyCode{"JPN"};               // Japan is a side of every JCM project, never its host.
  EXPECT_EQ(CheckJcmProject(p, false).error().check, Check::kAllocationMismatch);
  p.host = PartyCode{"MNG"};
  p.allocation = {{"MNG", 20}, {"JPN", 70}};
  EXPECT_EQ(CheckJcmProject(p, true).error().check, Check::kAllocationMismatch);
  p.ref = ProjectRef{"MN-101"};
  EXPECT_EQ(CheckJcmProject(p, true).error().check, Check::kFieldInvalid);
  CooperativeApproach other;
  other.key = "CHE-THA";
  other.jcm = false;
  other.parties = {PartyCode{"CHE"}, PartyCode{"THA"}};
  EXPECT_TRUE(CheckNewApproach(other));
  other.jcm = true;  // The JCM is Japan and one partner.
  EXPECT_EQ(CheckNewApproach(other).error().check, Check::kFieldInvalid);
}

}  // namespace
}  // namespace registry

namespace registry {
namespace {

// MN003's participants (Bridge LLC, Everyday Farm LLC; FARMDO CORPORATION) and Mongolia's
// government account; the percents within each side are an assumption (forms are not public).
AllocationForm Mn003Form() {
  AllocationForm form;
  form.version = 1;
  auto row = [](const char* side, int64_t account, int64_t percent, AccountType type) {
    AllocationRow r;
    r.side = PartyCode{side};
    r.account = account;
    r.percent = percent;
    r.account_party = PartyCode{side};
    r.account_type = type;
    return r;
  };
  form.rows = {row("MNG", 8, 5, AccountType::kEntityHolding),
               row("MNG", 5, 10, AccountType::kGovernmentHolding),
               row("MNG", 9, 5, AccountType::kEntityHolding),
               row("JPN", 10, 80, AccountType::kEntityHolding)};
  return form;
}

TEST(AllocationForm, EachSideAddsUpToItsPercentWithItsOwnHoldingAccounts) {
  const Project p = Mn101();
  EXPECT_TRUE(CheckAllocationForm(p, Mn003Form()));
  AllocationForm form = Mn003Form();
  form.rows[0].percent = 6;  // MNG's rows add up to 21.
  EXPECT_EQ(CheckAllocationForm(p, form).error().check, Check::kAllocationMismatch);
  EXPECT_NE(CheckAllocationForm(p, form).error().message.find("MNG's accounts add up to 21 %"),
            std::string::npos);
  form = Mn003Form();
  form.rows[3].account_party = PartyCode{"MNG"};  // Japan's share in a Mongolian account.
  EXPECT_EQ(CheckAllocationForm(p, form).error().check, Check::kAllocationMismatch);
  form = Mn003Form();
  form.rows[3].side = PartyCode{"THA"};
  EXPECT_EQ(CheckAllocationForm(p, form).error().check, Check::kAllocationMismatch);
  form = Mn003Form();
  form.rows[2].account = 8;  // Named twice.
  EXPECT_EQ(CheckAllocationForm(p, form).error().check, Check::kAllocationMismatch);
  form = Mn003Form();
  form.rows[0].percent = 0;
  EXPECT_EQ(CheckAllocationForm(p, form).error().check, Check::kAllocationMismatch);
  form = Mn003Form();
  form.rows[3].account_type = AccountType::kRetirement;
  EXPECT_EQ(CheckAllocationForm(p, form).error().check, Check::kWrongDestinationType);
  form = Mn003Form();
  form.rows[3].account_status = AccountStatus::kClosed;
  EXPECT_EQ(CheckAllocationForm(p, form).error().check, Check::kAccountClosed);
  form = Mn003Form();
  form.rows.pop_back();  // Japan's side has no account.
  EXPECT_EQ(CheckAllocationForm(p, form).error().check, Check::kAllocationMismatch);
  Project none = p;
  none.allocation.clear();
  EXPECT_EQ(CheckAllocationForm(none, Mn003Form()).error().check, Check::kAllocationMismatch);
  EXPECT_EQ(CheckAllocationForm(p, AllocationForm{}).error().check, Check::kFieldMissing);
}

std::vector<std::string> Text(const std::vector<AllocatedQuantity>& parts) {
  std::vector<std::string> out;
  for (const auto& a : parts) {
    out.push_back(std::to_string(a.account) + ":" + std::to_string(a.vintage) + ":" +
                  std::to_string(a.quantity));
  }
  return out;
}

TEST(AllocationForm, ParticipantsRoundDownAndTheGovernmentTakesTheRest) {
  const AllocationForm form = Mn003Form();
  // 7 t of Mongolia's 20 %: each 5 % participant gets floor(7 / 4) = 1, the government 5.
  EXPECT_EQ(Text(DistributeShare(form, PartyCode{"MNG"}, {{2021, 7}})),
            (std::vector<std::string>{"8:2021:1", "5:2021:5", "9:2021:1"}));
  // Per vintage, each rounded on its own; a participant with nothing is left out (MN005's
  // single tonne goes to the government).
  EXPECT_EQ(Text(DistributeShare(form, PartyCode{"MNG"}, {{2021, 1}, {2022, 10}})),
            (std::vector<std::string>{"8:2022:2", "5:2021:1", "5:2022:6", "9:2022:2"}));
  // Japan's side has one account: all of it.
  EXPECT_EQ(Text(DistributeShare(form, PartyCode{"JPN"}, {{2021, 28335}})),
            (std::vector<std::string>{"10:2021:28335"}));
  // Without a government account the side's first row takes the rest.
  AllocationForm no_gov = form;
  no_gov.rows[1].account_type = AccountType::kEntityHolding;
  EXPECT_EQ(Text(DistributeShare(no_gov, PartyCode{"MNG"}, {{2021, 7}})),
            (std::vector<std::string>{"8:2021:3", "5:2021:3", "9:2021:1"}));
  // The tonnes of a side are always issued exactly.
  for (int64_t q = 1; q < 500; ++q) {
    int64_t sum = 0;
    for (const auto& a : DistributeShare(form, PartyCode{"MNG"}, {{2021, q}})) sum += a.quantity;
    EXPECT_EQ(sum, q);
  }
}

// Issue 31 item 3: an entity uses (or cancels for OIMP) under its own Party's authorization
// when that Party authorized the project, else under the first transferring Party's.
TEST(AllocationForm, AnEntityActsUnderItsOwnPartysAuthorizationWhenThereIsOne) {
  Authorization host = Ndc("MNG");
  host.entities = {1, 2};
  Authorization own = Ndc("JPN");
  own.entities = {3};
  EXPECT_EQ(&EntityActsUnder(host, &own), &own);
  EXPECT_EQ(&EntityActsUnder(host, nullptr), &host);
  EXPECT_EQ(CheckEntity(EntityActsUnder(host, &own), 1, "use its ITMOs").error().check,
            Check::kEntityNotAuthorized);
  EXPECT_TRUE(CheckEntity(EntityActsUnder(host, &own), 3, "use its ITMOs"));
  EXPECT_TRUE(CheckEntity(EntityActsUnder(host, &own), 0, "use its ITMOs"));  // Government.
}

TEST(AllocationForm, ALaterSideIssuesTheDecisionAsNotified) {
  JcDecision recorded;
  recorded.id = "JC-MN006-2026-01-24";
  recorded.date = "2026-01-24";
  recorded.total = 30312;
  recorded.shares = {{"MNG", 6063}, {"JPN", 24249}};
  EXPECT_TRUE(CheckSameDecision(recorded, recorded));
  JcDecision other = recorded;
  other.shares["MNG"] = 6062;
  EXPECT_EQ(CheckSameDecision(recorded, other).error().check, Check::kIssuanceSplitMismatch);
  other = recorded;
  other.date = "2026-01-25";
  EXPECT_EQ(CheckSameDecision(recorded, other).error().check, Check::kFieldInvalid);
}

}  // namespace
}  // namespace registry
