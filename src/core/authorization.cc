// Pure Article 6.2 authorization rules; see authorization.h.
#include "core/authorization.h"

#include "core/assert.h"

namespace registry {
namespace {

Refusal Refuse(Check check, std::string message) { return Refusal{check, std::move(message)}; }

std::string Who(const Authorization& a) {
  return a.party.value + " authorization '" + a.authorization_id + "' v" +
         std::to_string(a.version);
}

}  // namespace

std::optional<Purposes> ParsePurposes(std::string_view text) {
  Purposes p;
  if (text == "NDC") {
    p.ndc = true;
    return p;
  }
  std::string_view rest = text;
  if (text.substr(0, 8) == "NDC and ") {
    p.ndc = true;
    rest = text.substr(8);
  }
  if (rest == "OIMP" || rest == "IMP" || rest == "OP") {
    p.oimp = true;
    p.oimp_label = std::string(rest);
    return p;
  }
  return std::nullopt;
}

std::string ToString(const Purposes& p) {
  if (p.ndc && p.oimp) return "NDC and " + p.oimp_label;
  if (p.ndc) return "NDC";
  if (p.oimp) return p.oimp_label;
  return "";
}

std::optional<FirstTransferDefinition> ParseFirstTransferDefinition(std::string_view text) {
  if (text.empty() || text == "NA" || text == "First international transfer") {
    return FirstTransferDefinition::kNone;
  }
  if (text == "Authorization" || text == "Authorisation") {
    return FirstTransferDefinition::kAuthorization;
  }
  if (text == "Issuance") return FirstTransferDefinition::kIssuance;
  if (text == "Use or cancellation" || text == "Use or Cancellation") {
    return FirstTransferDefinition::kUseOrCancellation;
  }
  return std::nullopt;
}

std::string_view ToString(FirstTransferDefinition d) {
  switch (d) {
    case FirstTransferDefinition::kNone: return "";
    case FirstTransferDefinition::kAuthorization: return "Authorization";
    case FirstTransferDefinition::kIssuance: return "Issuance";
    case FirstTransferDefinition::kUseOrCancellation: return "Use or cancellation";
  }
  return "";
}

Status<Refusal> CheckAuthorization(const Authorization& a, FirstTransferDefinition ca_definition) {
  if (a.authorization_id.empty() || a.authorization_id.size() > 128) {
    return Fail(Refuse(Check::kFieldInvalid, "authorization id must be 1 to 128 characters"));
  }
  for (const char c : a.authorization_id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == ' ' || c == '-' || c == '.' || c == '/';
    if (!ok) {
      return Fail(Refuse(Check::kFieldInvalid, "authorization id '" + a.authorization_id +
                                                   "' may only hold letters, digits, space, - . /"));
    }
  }
  if (!a.purposes.ndc && !a.purposes.oimp) {
    return Fail(Refuse(Check::kFieldInvalid, Who(a) + " covers no purpose"));
  }
  if (a.authorized.empty()) {
    return Fail(Refuse(Check::kFieldMissing, Who(a) + " lists no vintage quantity"));
  }
  for (const auto& [year, quantity] : a.authorized) {
    if (year < kFirstItmoVintage) {
      return Fail(Refuse(Check::kItmoVintageBefore2021,
                         Who(a) + " covers vintage " + std::to_string(year) +
                             ": mitigation before 2021 cannot be an ITMO (2/CMA.3 annex 1(e))"));
    }
    if (year > kVintageMax) {
      return Fail(Refuse(Check::kVintageOutOfRange, "vintage " + std::to_string(year)));
    }
    if (quantity < 0) {
      return Fail(Refuse(Check::kQuantityNotPositive,
                         Who(a) + " vintage " + std::to_string(year) + " quantity is negative"));
    }
  }
  if (a.purposes.oimp && a.first_transfer == FirstTransferDefinition::kNone) {
    return Fail(Refuse(Check::kOimpWithoutFirstTransferDefinition,
                       Who(a) + " covers " + a.purposes.oimp_label +
                           " without a first-transfer definition (2/CMA.3 annex 2(b))"));
  }
  if (!a.purposes.oimp && a.first_transfer != FirstTransferDefinition::kNone) {
    return Fail(Refuse(Check::kFieldInvalid,
                       Who(a) + " gives an OIMP first-transfer definition without OIMP"));
  }
  if (a.first_transfer != FirstTransferDefinition::kNone &&
      ca_definition != FirstTransferDefinition::kNone && a.first_transfer != ca_definition) {
    return Fail(Refuse(Check::kConflictingFirstTransferDefinition,
                       Who(a) + " defines the first transfer as '" +
                           std::string(ToString(a.first_transfer)) + "' but " + a.party.value +
                           " already uses '" + std::string(ToString(ca_definition)) +
                           "' under cooperative approach " + a.ca_key + " (4/CMA.6 para 15)"));
  }
  return {};
}

Status<Refusal> CheckIssuable(const Authorization& a, Vintage vintage, Quantity quantity) {
  if (a.revoked) {
    return Fail(Refuse(Check::kAuthorizationRevoked, Who(a) + " is revoked"));
  }
  const auto it = a.authorized.find(vintage.year);
  if (it == a.authorized.end()) {
    return Fail(Refuse(Check::kVintageNotAuthorized,
                       Who(a) + " does not cover vintage " + std::to_string(vintage.year)));
  }
  const auto done = a.issued.find(vintage.year);
  const int64_t issued = done == a.issued.end() ? 0 : done->second;
  const int64_t left = it->second > issued ? it->second - issued : 0;
  if (quantity.tonnes > left) {
    return Fail(Refuse(Check::kAuthorizedQuantityExceeded,
                       Who(a) + " leaves " + std::to_string(left) + " t of vintage " +
                           std::to_string(vintage.year) + " to issue (authorized " +
                           std::to_string(it->second) + ", issued " + std::to_string(issued) +
                           "); asked " + std::to_string(quantity.tonnes)));
  }
  return {};
}

Status<Refusal> CheckChange(const Authorization& current, const Authorization& next) {
  const ChangeTerms& t = current.terms;
  if (current.revoked) {
    return Fail(Refuse(Check::kAuthorizationRevoked, Who(current) + " is revoked already"));
  }
  if (next.revoked && !t.revocation) {
    return Fail(Refuse(Check::kChangeNotAllowedByTerms,
                       Who(current) + ": its change terms do not allow revocation"));
  }
  if (next.exception_applied && !t.false_information_exception) {
    return Fail(Refuse(Check::kChangeNotAllowedByTerms,
                       Who(current) + ": its terms state no false-information exception, so a "
                                      "change cannot reach blocks already first transferred"));
  }
  if (next.exception_applied && !next.revoked) {
    return Fail(Refuse(Check::kFieldInvalid, "the false-information exception goes with a revocation"));
  }
  for (const auto& [year, quantity] : next.authorized) {
    const auto it = current.authorized.find(year);
    const int64_t before = it == current.authorized.end() ? 0 : it->second;
    if (quantity > before && !t.increase) {
      return Fail(Refuse(Check::kChangeNotAllowedByTerms,
                         Who(current) + ": its change terms do not allow raising vintage " +
                             std::to_string(year)));
    }
    if (quantity < before && !t.decrease) {
      return Fail(Refuse(Check::kChangeNotAllowedByTerms,
                         Who(current) + ": its change terms do not allow lowering vintage " +
                             std::to_string(year)));
    }
  }
  for (const auto& [year, quantity] : current.authorized) {
    if (!next.authorized.count(year) && quantity > 0 && !t.decrease) {
      return Fail(Refuse(Check::kChangeNotAllowedByTerms,
                         Who(current) + ": its change terms do not allow dropping vintage " +
                             std::to_string(year)));
    }
  }
  if (!(next.purposes == current.purposes) ||
      next.first_transfer != current.first_transfer) {
    return Fail(Refuse(Check::kChangeNotAllowedByTerms,
                       Who(current) + ": purposes and the first-transfer definition are fixed; "
                                      "authorize anew instead"));
  }
  return {};
}

bool FirstTransferredAtIssuance(const Authorization& a) {
  return a.purposes.oimp && (a.first_transfer == FirstTransferDefinition::kAuthorization ||
                             a.first_transfer == FirstTransferDefinition::kIssuance);
}

Status<Refusal> CheckEntity(const Authorization& a, int64_t entity, std::string_view what) {
  if (entity == 0 || a.entities.empty()) return {};
  for (const int64_t named : a.entities) {
    if (named == entity) return {};
  }
  std::string names;
  for (const int64_t named : a.entities)
    names += (names.empty() ? "" : ", ") + std::to_string(named);
  return Fail(Refuse(Check::kEntityNotAuthorized, "entity " + std::to_string(entity) +
                                                      " is not among the entities " + Who(a) +
                                                      " authorizes (" + names + "): it cannot " +
                                                      std::string(what) + " under it"));
}

const Authorization& EntityActsUnder(const Authorization& first, const Authorization* own) {
  return own != nullptr ? *own : first;
}

Status<Refusal> CheckMayMove(const Authorization& a, bool already_first_transferred,
                             std::string_view what) {
  if (a.revoked && (!already_first_transferred || a.exception_applied)) {
    return Fail(Refuse(Check::kAuthorizationRevoked,
                       Who(a) + " is revoked" +
                           (already_first_transferred
                                ? std::string(" under the false-information exception")
                                : std::string(" and the block is not yet first transferred")) +
                           ": no " + std::string(what)));
  }
  return {};
}

namespace {

Status<Refusal> CheckAcquiringParty(const Authorization& a, const PartyCode& acquiring) {
  if (!a.acquiring_parties.empty()) {
    bool named = false;
    for (const PartyCode& p : a.acquiring_parties) named = named || p == acquiring;
    if (!named) {
      return Fail(Refuse(Check::kNotAuthorized,
                         Who(a) + " does not name " + acquiring.value + " as an authorized Party"));
    }
  }
  return {};
}

}  // namespace

Status<Refusal> CheckInternationalTransfer(const Authorization& a, const PartyCode& acquiring,
                                           bool already_first_transferred) {
  auto may = CheckMayMove(a, already_first_transferred, "international transfer");
  if (!may) return may;
  if (!a.purposes.ndc) {
    return Fail(Refuse(Check::kPurposeNotAuthorized, Who(a) + " covers " + ToString(a.purposes) +
                                                         ", not use towards another Party's NDC"));
  }
  return CheckAcquiringParty(a, acquiring);
}

bool IsOimpOnly(const Authorization& a) { return a.purposes.oimp && !a.purposes.ndc; }

Status<Refusal> CheckOimpInternationalTransfer(const Authorization& a, const PartyCode& acquiring,
                                               bool already_first_transferred) {
  REGISTRY_ASSERT(IsOimpOnly(a));
  auto may = CheckMayMove(a, already_first_transferred, "international transfer");
  if (!may) return may;
  return CheckAcquiringParty(a, acquiring);
}

Status<Refusal> CheckUse(const Use& use, const Authorization* host, const Authorization* own) {
  const std::string& user = use.using_party.value;
  if (use.using_party == use.first_transferring_party) {
    return Fail(Refuse(Check::kOwnOriginUse,
                       user + " is the host of these ITMOs: a Party never uses towards its own "
                              "NDC mitigation of its own origin (it is in its inventory already; "
                              "2/CMA.3 annex para 1(b))"));
  }
  if (!use.first_transferred) {
    return Fail(Refuse(Check::kNotFirstTransferredToUser,
                       "these ITMOs of " + use.first_transferring_party.value +
                           " have not been first transferred to " + user));
  }
  if (host == nullptr || !host->purposes.ndc) {
    return Fail(Refuse(Check::kRetirementNeedsBothAuthorizations,
                       "using an ITMO towards " + user + "'s NDC needs its host " +
                           use.first_transferring_party.value + "'s authorization for NDC use; " +
                           (host == nullptr ? std::string("it has none for this project")
                                            : Who(*host) + " covers " + ToString(host->purposes))));
  }
  auto may = CheckMayMove(*host, true, "use towards an NDC");
  if (!may) return may;
  if (use.needs_own_authorization) {
    if (own == nullptr || !own->purposes.ndc) {
      return Fail(Refuse(Check::kRetirementNeedsBothAuthorizations,
                         "using a JCM credit towards " + user + "'s NDC needs " + user +
                             "'s own authorization for NDC use too (R-AUTH-07); " +
                             (own == nullptr ? user + " has none for this project"
                                             : Who(*own) + " covers " + ToString(own->purposes))));
    }
    may = CheckMayMove(*own, true, "use towards an NDC");
    if (!may) return may;
  }
  if (use.use_year < use.vintage) {
    return Fail(Refuse(Check::kUseYearOutsideNdcPeriod,
                       "the year of use " + std::to_string(use.use_year) +
                           " is before the vintage " + std::to_string(use.vintage) +
                           " of the mitigation (2/CMA.3 annex para 8(b))"));
  }
  if (!use.ndc_periods.empty()) {
    auto period_of = [&](int32_t year) -> std::string {
      for (const auto& [first, last] : use.ndc_periods) {
        if (year >= first && year <= last)
          return std::to_string(first) + "-" + std::to_string(last);
      }
      return "";
    };
    const std::string of_use = period_of(use.use_year);
    const std::string of_vintage = period_of(use.vintage);
    if (of_use.empty() || of_use != of_vintage) {
      return Fail(Refuse(
          Check::kUseYearOutsideNdcPeriod,
          "the year of use " + std::to_string(use.use_year) +
              (of_use.empty() ? " is in no NDC period of " + user
                              : " is in " + user + "'s NDC period " + of_use) +
              " and the vintage " + std::to_string(use.vintage) +
              (of_vintage.empty() ? " in none" : " in " + of_vintage) +
              ": an ITMO is used in the NDC period of its mitigation (2/CMA.3 annex para 8(b))"));
    }
  }
  return {};
}

bool CancellationIsFirstTransfer(const Authorization& a, bool omge,
                                 bool already_first_transferred) {
  if (already_first_transferred) return false;
  if (omge) return true;
  return a.purposes.oimp && a.first_transfer == FirstTransferDefinition::kUseOrCancellation;
}

}  // namespace registry
