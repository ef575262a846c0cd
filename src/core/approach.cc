// Cooperative approaches, activities and issuance decisions; see approach.h.
#include "core/approach.h"

#include <algorithm>

#include "core/assert.h"

namespace registry {
namespace {

Refusal Refuse(Check check, std::string message) { return Refusal{check, std::move(message)}; }

// Propagates a refusal out of a function returning Result<T, Refusal>.
#define RETURN_IF_REFUSED(expr)              \
  do {                                       \
    if (auto status_ = (expr); !status_) {   \
      return Fail(Refusal(status_.error())); \
    }                                        \
  } while (false)

// True when `share` is within one percentage point (or one tonne) of `percent` of `total`. The
// Credit Allocation Form allocates per project participant and account and each part is rounded
// to whole tonnes, so a side's total can differ from its percent by a little: the real Mongolia
// decisions show 256 of 322 (79.5 %) and 110 of 139 (79.1 %) for an 80 % side [D, R-JCM-07].
// A tiny decision rounds to whole tonnes too: MN005's single tonne went to the 20 % side.
bool ShareFits(int64_t total, int64_t percent, int64_t share) {
  const int64_t gap = share * 100 - total * percent;
  const int64_t slack = std::max<int64_t>(total, 100);  // One point, or one tonne.
  return gap <= slack && gap >= -slack;
}

Status<Refusal> CheckMonitoringPeriod(const IssuanceRequest& r) {
  if (!r.monitoring_start || !r.monitoring_end) return {};
  const std::string& start = *r.monitoring_start;
  const std::string& end = *r.monitoring_end;
  if (end < start) {
    return Fail(Refuse(Check::kFieldInvalid,
                       "monitoring_end " + end + " is before monitoring_start " + start));
  }
  // Each vintage is a calendar year of the monitoring period (dates are checked ISO dates).
  const int first_year = std::stoi(start.substr(0, 4));
  const int last_year = std::stoi(end.substr(0, 4));
  for (const auto& [year, quantity] : r.vintages) {
    if (year < first_year || year > last_year) {
      return Fail(Refuse(Check::kVintageOutOfRange, "vintage " + std::to_string(year) +
                                                        " is outside the monitoring period " +
                                                        start + " to " + end));
    }
  }
  return {};
}

// The host's approach, Step 1 and timeframe for an issuance of its ITMOs.
Status<Refusal> CheckApproachForItmos(const IssuanceRequest& r, const Project& project,
                                      const CooperativeApproach* ca) {
  if (ca == nullptr) {
    return Fail(Refuse(Check::kNotAuthorized,
                       "project " + project.ref.value + " belongs to no cooperative approach"));
  }
  if (ca->ca_id.empty()) {
    return Fail(Refuse(Check::kCaIdNotAssigned,
                       "approach " + ca->key +
                           " has no CARP identifier yet (ca.assign_id): ITMOs issued now "
                           "would carry incomplete identifiers"));
  }
  const Step1* step1 = ca->StepOneOf(project.host);
  if (step1 == nullptr) {
    return Fail(Refuse(Check::kNotAuthorized, project.host.value +
                                                  " has not authorized the cooperative approach " +
                                                  ca->key + " (Step 1)"));
  }
  // Element (c): the host's Step 1 timeframe bounds the issuance of its ITMOs.
  for (const auto& [limit, what] :
       {std::pair{&step1->valid_to, "end of validity"},
        std::pair{&step1->final_issuance_date, "final issuance date"}}) {
    if (!limit->empty() && r.date > *limit) {
      return Fail(Refuse(Check::kAuthorizationExpired,
                         r.Name() + " of " + r.date + " is after " + project.host.value + "'s " +
                             what + " " + *limit + " for approach " + ca->key + " (element (c))"));
    }
  }
  return {};
}

// The version Step 2b writes: the same authorization, dated at the decision.
void NextVersion(Authorization& a, const std::string& date) {
  a.version += 1;
  a.date = date;
  a.effective_date = date;
}

}  // namespace

bool CooperativeApproach::IsParty(const PartyCode& party) const {
  return std::find(parties.begin(), parties.end(), party) != parties.end();
}

const Step1* CooperativeApproach::StepOneOf(const PartyCode& party) const {
  const auto it = step1.find(party.value);
  return it == step1.end() ? nullptr : &it->second;
}

Result<int64_t, Refusal> NextStep1Version(const CooperativeApproach& ca, const PartyCode& party,
                                          std::optional<int64_t> replaces, bool has_reason,
                                          const std::string& itmo_registry) {
  const Step1* previous = ca.StepOneOf(party);
  if (previous == nullptr) {
    if (replaces) {
      return Fail(Refuse(Check::kFieldInvalid, party.value + " has no Step 1 of approach " +
                                                   ca.key + " to replace (replaces_version)"));
    }
    return int64_t{1};
  }
  const std::string current = std::to_string(previous->version);
  if (!replaces || !has_reason) {
    return Fail(Refuse(Check::kAlreadyExists, party.value + " has authorized approach " + ca.key +
                                                  " already (Step 1 version " + current +
                                                  "); a new version gives replaces_version " +
                                                  current + " and a reason"));
  }
  if (*replaces != previous->version) {
    return Fail(Refuse(Check::kFieldInvalid, "replaces_version " + std::to_string(*replaces) +
                                                 " is not the version in force (" + current + ")"));
  }
  if (previous->itmo_registry != itmo_registry) {
    return Fail(Refuse(Check::kChangeNotAllowedByTerms,
                       party.value + "'s ITMO registry under approach " + ca.key + " is " +
                           previous->itmo_registry + "; a new version of its Step 1 keeps it"));
  }
  return previous->version + 1;
}

namespace {

// R-JCM-04 project states and the JC-decided transitions between them.
const std::map<std::string, std::vector<std::string>>& ProjectTransitions() {
  static const auto* t = new std::map<std::string, std::vector<std::string>>{
      {"pin_submitted", {"pin_no_objection"}},
      {"pin_no_objection", {"pdd_published"}},
      {"pdd_published", {"validation"}},
      {"validation", {"registration_requested", "registration_withdrawn"}},
      {"registration_requested", {"registered", "registration_withdrawn"}},
      {"registered", {"project_withdrawn"}},
      {"registration_withdrawn", {}},
      {"project_withdrawn", {}},
  };
  return *t;
}

}  // namespace

bool IsProjectState(const std::string& state) { return ProjectTransitions().count(state) > 0; }

Status<Refusal> CheckTransition(const Project& project, const std::string& to) {
  const auto from = ProjectTransitions().find(project.state);
  if (from == ProjectTransitions().end() ||
      std::find(from->second.begin(), from->second.end(), to) == from->second.end()) {
    return Fail(Refuse(Check::kProjectStateTransition, "project " + project.ref.value +
                                                           " cannot go from " + project.state +
                                                           " to " + to + " (R-JCM-04)"));
  }
  return {};
}

Status<Refusal> CheckStep2aState(const Project& project) {
  if (project.state != "registration_requested" && project.state != "registered") {
    return Fail(Refuse(
        Check::kProjectStateTransition,
        "Step 2a is given at registration; project " + project.ref.value + " is " + project.state));
  }
  return {};
}

Status<Refusal> CheckNewApproach(const CooperativeApproach& ca) {
  if (ca.parties.size() < 2) {
    return Fail(Refuse(Check::kFieldInvalid, "a cooperative approach has at least two Parties"));
  }
  for (size_t i = 0; i < ca.parties.size(); ++i) {
    if (std::find(ca.parties.begin(), ca.parties.begin() + i, ca.parties[i]) !=
        ca.parties.begin() + i) {
      return Fail(Refuse(Check::kFieldInvalid, "Party " + ca.parties[i].value + " is named twice"));
    }
  }
  // The JCM is Japan's bilateral mechanism: each of its approaches is Japan and one partner
  // (MOEJ 2025, Step 1: the Memorandum of Cooperation with each partner country).
  if (ca.jcm && (ca.parties.size() != 2 || !ca.IsParty(PartyCode{"JPN"}))) {
    return Fail(Refuse(Check::kFieldInvalid,
                       "a JCM approach is Japan and one partner country; an approach between "
                       "other Parties is defined with jcm false"));
  }
  return {};
}

Status<Refusal> CheckJcmProject(const Project& project, bool allocation_given) {
  if (!ParseProjectRef(project.ref.value)) {
    return Fail(Refuse(Check::kFieldInvalid,
                       "project '" + project.ref.value +
                           "' is not a JCM reference number like TH014 (an activity of another "
                           "approach names that approach)"));
  }
  const std::string& host = project.host.value;
  // Japan is a side of every JCM project, never its host.
  if (host == "JPN") {
    return Fail(
        Refuse(Check::kAllocationMismatch, "Japan is a side of every JCM project, never its host"));
  }
  // A project imported from the public lists may have no allocation yet: issue.jcm refuses it
  // until one is recorded.
  if (!allocation_given) return {};
  const auto& allocation = project.allocation;
  if (allocation.size() != 2) {
    return Fail(Refuse(Check::kFieldMissing,
                       "field 'allocation' must give the percent of both sides, e.g. "
                       "{\"MNG\":20,\"JPN\":80}"));
  }
  int64_t percent_total = 0;
  for (const auto& [party, percent] : allocation) {
    if (party != host && party != "JPN") {
      return Fail(Refuse(Check::kAllocationMismatch,
                         "allocation names " + party + ", not " + host + " or JPN"));
    }
    if (percent < 0 || percent > 100) {
      return Fail(
          Refuse(Check::kAllocationMismatch, "allocation percents are integers in [0, 100]"));
    }
    percent_total += percent;
  }
  if (percent_total != 100) {
    return Fail(Refuse(Check::kAllocationMismatch,
                       "the allocation of both sides must add up to 100 %, it adds up to " +
                           std::to_string(percent_total)));
  }
  return {};
}

Status<Refusal> CheckActivity(const Project& project, const CooperativeApproach& ca,
                              bool has_allocation, bool has_jc_decision) {
  REGISTRY_ASSERT(!ca.jcm);
  if (has_allocation || has_jc_decision) {
    return Fail(Refuse(Check::kFieldInvalid,
                       std::string(has_allocation ? "an allocation" : "a JC decision") +
                           " is the JCM's; approach " + ca.key + " is not the JCM"));
  }
  if (project.state != "registered") {
    return Fail(Refuse(Check::kFieldInvalid,
                       "an activity of approach " + ca.key +
                           " is recorded as registered: the JCM's project cycle is not its own"));
  }
  return {};
}

bool IsSideOf(const Project& project, const CooperativeApproach& ca, const PartyCode& party) {
  if (party == project.host) return true;
  if (!ca.jcm) return ca.IsParty(party);
  return project.allocation.count(party.value) > 0 || party.value == "JPN";
}

Status<Refusal> CheckJcmShares(const Project& project, int64_t total,
                               const std::map<std::string, int64_t>& shares, const PartyCode& side,
                               int64_t vintage_total) {
  int64_t shares_total = 0;
  for (const auto& [party, share] : shares) {
    const auto percent = project.allocation.find(party);
    if (percent == project.allocation.end() || share < 0) {
      return Fail(Refuse(Check::kAllocationMismatch,
                         "share of '" + party + "' is not a side of " + project.ref.value));
    }
    if (!ShareFits(total, percent->second, share)) {
      return Fail(Refuse(Check::kAllocationMismatch, party + "'s share " + std::to_string(share) +
                                                         " of " + std::to_string(total) +
                                                         " is not its " +
                                                         std::to_string(percent->second) +
                                                         " % from the Credit Allocation Form"));
    }
    shares_total += share;
  }
  if (shares_total != total) {
    return Fail(Refuse(Check::kIssuanceSplitMismatch,
                       "the shares add up to " + std::to_string(shares_total) + ", not the total " +
                           std::to_string(total)));
  }
  const auto own = shares.find(side.value);
  if (own == shares.end()) {
    return Fail(Refuse(Check::kAllocationMismatch,
                       side.value + "'s registry is no side of " + project.ref.value));
  }
  if (vintage_total != own->second) {
    return Fail(Refuse(Check::kIssuanceSplitMismatch,
                       "the vintages add up to " + std::to_string(vintage_total) + ", not " +
                           side.value + "'s share " + std::to_string(own->second)));
  }
  return {};
}

Status<Refusal> CheckAllocationForm(const Project& project, const AllocationForm& form) {
  const std::string& ref = project.ref.value;
  if (project.allocation.empty()) {
    return Fail(Refuse(Check::kAllocationMismatch,
                       "project " + ref +
                           " has no allocation per side recorded: its Credit Allocation Form "
                           "distributes each side's percent over that side's accounts"));
  }
  if (form.rows.empty()) {
    return Fail(Refuse(Check::kFieldMissing, "field 'accounts' must name at least one account"));
  }
  std::map<std::string, int64_t> per_side;
  std::vector<int64_t> seen;
  for (const AllocationRow& row : form.rows) {
    const std::string account = "account " + std::to_string(row.account);
    if (project.allocation.count(row.side.value) == 0) {
      return Fail(Refuse(
          Check::kAllocationMismatch, account + " is given to " + row.side.value +
                                          ", which is no side of " + ref +
                                          " (its allocation names " +
                                          [&] {
                                            std::string sides;
                                            for (const auto& [p, _] : project.allocation)
                                              sides += (sides.empty() ? "" : " and ") + p;
                                            return sides;
                                          }() +
                                          ")"));
    }
    if (row.percent < 1 || row.percent > 100) {
      return Fail(Refuse(Check::kAllocationMismatch, account + "'s percent " +
                                                         std::to_string(row.percent) +
                                                         " is not a whole number in [1, 100]"));
    }
    if (std::find(seen.begin(), seen.end(), row.account) != seen.end()) {
      return Fail(Refuse(Check::kAllocationMismatch, account + " is named twice in the form"));
    }
    seen.push_back(row.account);
    if (row.account_party != row.side) {
      return Fail(Refuse(Check::kAllocationMismatch,
                         account + " is in a registry of " + row.account_party.value + ", not of " +
                             row.side.value + ": a side's share is issued into its own registry"));
    }
    if (IsTerminal(row.account_type)) {
      return Fail(Refuse(Check::kWrongDestinationType,
                         account + " is a " + std::string(ToString(row.account_type)) +
                             " account: a JC decision issues into holding accounts"));
    }
    if (row.account_status == AccountStatus::kClosed) {
      return Fail(Refuse(Check::kAccountClosed, account + " is closed"));
    }
    per_side[row.side.value] += row.percent;
  }
  for (const auto& [side, percent] : project.allocation) {
    const int64_t given = per_side.count(side) ? per_side[side] : 0;
    if (given != percent) {
      return Fail(Refuse(Check::kAllocationMismatch,
                         side + "'s accounts add up to " + std::to_string(given) + " %, not its " +
                             std::to_string(percent) + " % of " + ref + "'s allocation"));
    }
  }
  return {};
}

std::vector<AllocatedQuantity> DistributeShare(const AllocationForm& form, const PartyCode& side,
                                               const std::map<int32_t, int64_t>& vintages) {
  std::vector<const AllocationRow*> rows;
  int64_t side_percent = 0;
  for (const AllocationRow& row : form.rows) {
    if (row.side != side) continue;
    rows.push_back(&row);
    side_percent += row.percent;
  }
  REGISTRY_ASSERT(!rows.empty() && side_percent > 0);
  // The government account takes the rounding; without one, the side's first row.
  size_t rest = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i]->account_type == AccountType::kGovernmentHolding) {
      rest = i;
      break;
    }
  }
  std::vector<std::map<int32_t, int64_t>> parts(rows.size());
  for (const auto& [year, quantity] : vintages) {
    int64_t given = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
      if (i == rest) continue;
      // quantity <= kQuantityMax and percent <= 100: no overflow.
      const int64_t part = quantity * rows[i]->percent / side_percent;
      parts[i][year] = part;
      given += part;
    }
    parts[rest][year] = quantity - given;
  }
  std::vector<AllocatedQuantity> out;
  for (size_t i = 0; i < rows.size(); ++i) {
    for (const auto& [year, quantity] : parts[i]) {
      if (quantity > 0) out.push_back(AllocatedQuantity{rows[i]->account, year, quantity});
    }
  }
  return out;
}

Status<Refusal> CheckSameDecision(const JcDecision& recorded, const JcDecision& request) {
  const std::string name = "JC decision " + recorded.id;
  auto shares_text = [](const std::map<std::string, int64_t>& shares) {
    std::string out;
    for (const auto& [party, share] : shares)
      out += (out.empty() ? "" : ", ") + party + " " + std::to_string(share);
    return out;
  };
  if (request.total != recorded.total || request.shares != recorded.shares) {
    return Fail(Refuse(Check::kIssuanceSplitMismatch, name + " was notified with total " +
                                                          std::to_string(recorded.total) + " (" +
                                                          shares_text(recorded.shares) + "), not " +
                                                          std::to_string(request.total) + " (" +
                                                          shares_text(request.shares) + ")"));
  }
  if (request.date != recorded.date) {
    return Fail(Refuse(Check::kFieldInvalid, "field 'decision_date' is " + request.date + ", but " +
                                                 name + " was notified dated " + recorded.date));
  }
  return {};
}

std::string IssuanceRequest::Name() const { return (jcm ? "JC decision " : "issuance ") + id; }

Result<IssuancePlan, Refusal> PlanIssuance(const IssuanceRequest& r, const Project& project,
                                           const CooperativeApproach* ca,
                                           std::optional<Authorization>& host,
                                           std::optional<Authorization>& own) {
  if (r.issued_before != 0) {
    return Fail(Refuse(Check::kAlreadyExists, r.Name() + " was issued to " + r.side.value +
                                                  " already (journal entry " +
                                                  std::to_string(r.issued_before) + ")"));
  }
  RETURN_IF_REFUSED(CheckMonitoringPeriod(r));
  IssuancePlan plan;
  plan.international = r.side != project.host;
  if (!plan.international) own.reset();  // The host's own registry: one authorization.
  for (const auto& [year, quantity] : r.vintages) {
    plan.any_itmo = plan.any_itmo || (year >= kFirstItmoVintage && quantity > 0 &&
                                      (host.has_value() || own.has_value()));
  }
  if (plan.any_itmo) {
    // ARCHITECTURE decision 11: the host first-transfers. Its authorization makes the ITMOs;
    // the side's own (Japan's) records what its registry received under it.
    if (!host) {
      return Fail(Refuse(Check::kNotAuthorized,
                         "ITMOs of " + project.ref.value + " are first transferred by its host " +
                             project.host.value +
                             ", which has no Step 2a authorization of the project; " +
                             r.side.value + "'s alone makes no ITMO (ARCHITECTURE decision 11)"));
    }
    RETURN_IF_REFUSED(CheckApproachForItmos(r, project, ca));
    if (plan.international) {
      // An issuance into the acquiring side's registry is the international transfer itself:
      // the host's authorization must cover NDC use and name that Party.
      RETURN_IF_REFUSED(CheckInternationalTransfer(*host, r.side, false));
    }
    // An entity's account receives ITMOs under its own Party's authorization (JCM-510): each
    // account the Credit Allocation Form gives a part of the share.
    const std::optional<Authorization>& receiving = plan.international ? own : host;
    if (receiving) {
      RETURN_IF_REFUSED(CheckEntity(*receiving, r.holder, "receive its ITMOs"));
      for (const int64_t holder : r.other_holders)
        RETURN_IF_REFUSED(CheckEntity(*receiving, holder, "receive its ITMOs"));
    }
  }
  for (const auto& [year, quantity] : r.vintages) {
    if (quantity == 0) continue;
    IssuedLot lot{year, quantity};
    lot.itmo = year >= kFirstItmoVintage && host.has_value();
    if (lot.itmo) {
      RETURN_IF_REFUSED(CheckIssuable(*host, Vintage{year}, Quantity{quantity}));
      host->issued[year] += quantity;
      if (own) {
        RETURN_IF_REFUSED(CheckIssuable(*own, Vintage{year}, Quantity{quantity}));
        own->issued[year] += quantity;
      }
      lot.first_transferred = plan.international || FirstTransferredAtIssuance(*host);
    }
    plan.lots.push_back(lot);
  }
  if (plan.lots.empty()) return Fail(Refuse(Check::kQuantityNotPositive, "nothing to issue"));
  if (plan.any_itmo) {  // Step 2b: a new version confirming the actual quantity.
    NextVersion(*host, r.date);
    if (own) NextVersion(*own, r.date);
  }
  return plan;
}

std::string FinalUseOrCancelDate(const CooperativeApproach& ca, const PartyCode& party) {
  const Step1* step1 = ca.StepOneOf(party);
  return step1 == nullptr ? "" : step1->final_use_or_cancel_date;
}

}  // namespace registry
