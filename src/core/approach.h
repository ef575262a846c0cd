// Cooperative approaches, their activities (JCM projects or another approach's) and issuance
// decisions as typed values, and the Article 6 rules over them (issue 27 item 10): who is a side
// of a project, the JCM's own rules (Japan and one partner, reference numbers, the Credit
// Allocation Form and each side's share of a JC decision), and the rules of every issuance of
// ITMOs (ARCHITECTURE decision 11: the host first-transfers). No I/O: the service reads the
// documents into these values, calls these functions and writes what they decide.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/authorization.h"
#include "core/checks.h"
#include "core/ids.h"
#include "core/model.h"
#include "core/result.h"

namespace registry {

// One Party's Step 1 of an approach (4/CMA.6 para 5), the fields the rules read.
struct Step1 {
  int64_t version = 1;
  std::string valid_to;                  // Element (c); "" when open-ended.
  std::string final_issuance_date;       // Element (c); "" when none.
  std::string final_use_or_cancel_date;  // Element (c); "" when none.
  std::string itmo_registry;             // Element (i), e.g. "JPN01".
};

struct CooperativeApproach {
  std::string key;    // The registry's document key, e.g. "JPN-MNG".
  std::string ca_id;  // "CA0042"; "" until the CARP assigns it.
  std::vector<PartyCode> parties;
  // The JCM (Japan and one partner, a Joint Committee) or another approach. Approaches written
  // before the distinction are the JCM's.
  bool jcm = true;
  std::map<std::string, Step1> step1;  // By Party code.

  bool IsParty(const PartyCode& party) const;
  const Step1* StepOneOf(const PartyCode& party) const;
};

// The version of `party`'s new Step 1 of `ca`: 1 when it has none; when it has one, only a new
// version that names the version in force (`replaces`) and gives a reason, and keeps the Party's
// ITMO registry (element (i)); never a silent overwrite (issue 27 item 4).
Result<int64_t, Refusal> NextStep1Version(const CooperativeApproach& ca, const PartyCode& party,
                                          std::optional<int64_t> replaces, bool has_reason,
                                          const std::string& itmo_registry);

// Refuses a new approach: fewer than two Parties, a Party named twice, or a JCM approach that is
// not Japan and one partner.
Status<Refusal> CheckNewApproach(const CooperativeApproach& ca);

// A mitigation activity: a JCM project or the activity of another approach.
struct Project {
  ProjectRef ref;
  PartyCode host;
  std::string state;   // R-JCM-04 states; another approach's activities are "registered".
  std::string ca_key;  // "" when it belongs to no approach yet (imported JCM projects).
  // The Credit Allocation Form's percent per side (JCM only); empty when none is recorded.
  std::map<std::string, int64_t> allocation;
};

// R-JCM-04: true for a state of the JCM's project cycle.
bool IsProjectState(const std::string& state);

// R-JCM-04: refuses a JC decision moving `project` to `to` that its cycle does not allow.
Status<Refusal> CheckTransition(const Project& project, const std::string& to);

// Step 2a is given at registration: refuses a project not (being) registered.
Status<Refusal> CheckStep2aState(const Project& project);

// The JCM's own part of a new project: a reference number like TH014 and, when given, the
// allocation of exactly the host and Japan, integers adding up to 100.
Status<Refusal> CheckJcmProject(const Project& project, bool allocation_given);

// Refuses a new activity of approach `ca` (not the JCM) that carries what only the JCM has (an
// allocation, a JC decision, a state of the JCM's cycle other than registered), or whose host is
// no Party of the approach.
Status<Refusal> CheckActivity(const Project& project, const CooperativeApproach& ca,
                              bool has_allocation, bool has_jc_decision);

// True when `party` is a side of `project` and may authorize it (Step 2a): its host, and in the
// JCM the sides of its allocation and Japan, under another approach the approach's Parties.
bool IsSideOf(const Project& project, const CooperativeApproach& ca, const PartyCode& party);

// A JCM side's share of a JC decision: within one point (or one tonne) of its allocation percent
// of `total` [D, R-JCM-07], the shares adding up to `total`, `side` among them, and its vintages
// adding up to its share.
Status<Refusal> CheckJcmShares(const Project& project, int64_t total,
                               const std::map<std::string, int64_t>& shares, const PartyCode& side,
                               int64_t vintage_total);

// One row of a project's Credit Allocation Form (R-JCM-08): an account of one side (a project
// participant's entity holding account or the side's government holding account) and its
// percent of every JC decision's total. The service fills in what it reads of the account.
struct AllocationRow {
  PartyCode side;
  int64_t account = 0;
  int64_t percent = 0;
  PartyCode account_party;  // The Party of the account's registry.
  AccountType account_type = AccountType::kGovernmentHolding;
  AccountStatus account_status = AccountStatus::kOpen;
  int64_t holder = 0;  // The account's entity; 0 for a government account.
};

struct AllocationForm {
  int64_t version = 0;  // 0: no form recorded.
  std::vector<AllocationRow> rows;
};

// Refuses a Credit Allocation Form for `project` (a JCM project with its allocation per side):
// no row, a side that is not one of the allocation's, a percent outside [1, 100], an account
// named twice, an account of another Party's registry, a retirement or cancellation account, a
// closed account, or a side whose rows do not add up to its percent of the allocation (every side
// of the allocation has rows).
Status<Refusal> CheckAllocationForm(const Project& project, const AllocationForm& form);

// What one account of a side receives of one vintage.
struct AllocatedQuantity {
  int64_t account = 0;
  int32_t vintage = 0;
  int64_t quantity = 0;
};

// Distributes `side`'s share of a JC decision, per vintage, over the side's rows of `form`, in
// proportion to their percents: each project participant's account receives its part rounded
// down to whole tonnes, and the side's government account (the first in the form; without one,
// the side's first row) receives what is left, so the side's tonnes are issued exactly. This is
// the rounding the real Mongolia decisions show between the sides (docs/article6.md,
// "Allocation"). Rows with nothing to receive are left out; the order is the form's, then the
// vintage's. `side` must have rows (CheckAllocationForm).
std::vector<AllocatedQuantity> DistributeShare(const AllocationForm& form, const PartyCode& side,
                                               const std::map<int32_t, int64_t>& vintages);

// A JC issuance decision as notified to both sides (R-JCM-09): recorded by the first side that
// issues it (its issuance_decision document, which keeps the total, the shares and the date) and
// compared with every later issuance against it.
struct JcDecision {
  std::string id;
  std::string date;
  int64_t total = 0;
  std::map<std::string, int64_t> shares;
};

// Refuses an issuance (or a notification) `request` of a JC decision that differs from the one
// `recorded` before: another total or shares (JCM-514), another date (JCM-102).
Status<Refusal> CheckSameDecision(const JcDecision& recorded, const JcDecision& request);

// One issuance decision into one registry: a JC decision for one side of a JCM project
// (issue.jcm) or another approach's issuance by its host's registry (issue.itmo).
struct IssuanceRequest {
  bool jcm = true;
  std::string id;    // The JC decision, or the approach's own issuance reference.
  std::string date;  // ISO date of the decision.
  std::optional<std::string> monitoring_start;
  std::optional<std::string> monitoring_end;
  std::map<int32_t, int64_t> vintages;
  PartyCode side;      // The Party of the registry issued into.
  int64_t holder = 0;  // The receiving account's entity; 0 for a government account.
  // The other receiving accounts' entities, when a Credit Allocation Form distributes the share.
  std::vector<int64_t> other_holders;
  // The journal entry that issued this decision to this side already; 0 when none did.
  int64_t issued_before = 0;

  std::string Name() const;  // "JC decision X" or "issuance X", for messages.
};

// What an issuance issues: per vintage (quantity > 0), whether it is an ITMO and whether it is
// born first transferred.
struct IssuedLot {
  int32_t vintage = 0;
  int64_t quantity = 0;
  bool itmo = false;
  bool first_transferred = false;
};

struct IssuancePlan {
  std::vector<IssuedLot> lots;
  bool any_itmo = false;       // Step 2b versions are written for `host` (and `own`).
  bool international = false;  // Issued into another Party's registry than the host's.
};

// The rules of every issuance of ITMOs, whatever the approach: each decision once per side,
// vintages within the monitoring period, the host's Step 1 and Step 2a (the host first-
// transfers: ARCHITECTURE decision 11), for an issuance into the acquiring side's registry the
// host's authorization of NDC use naming that Party, the approach's CARP id, the receiving
// entity, the host's Step 1 timeframe, and the authorized quantity per vintage (both sides'
// issuances count against the host's). `host` and `own` (the side's, when it is not the host)
// are the authorizations in force, `ca` the project's approach (null when it has none). On
// success `host` and `own` hold their Step 2b versions (version + 1, dated at the decision,
// `issued` raised), to be saved when `any_itmo`.
Result<IssuancePlan, Refusal> PlanIssuance(const IssuanceRequest& request, const Project& project,
                                           const CooperativeApproach* ca,
                                           std::optional<Authorization>& host,
                                           std::optional<Authorization>& own);

// The final date for use or cancellation that `party`'s Step 1 of `ca` sets (element (c)); ""
// when none.
std::string FinalUseOrCancelDate(const CooperativeApproach& ca, const PartyCode& party);

}  // namespace registry
