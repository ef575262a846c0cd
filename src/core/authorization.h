// Pure Article 6.2 authorization rules (DOMAIN.md §2.1, §4, §8, §9): purposes, first-transfer
// definitions, the checks of a Step 2a authorization, the quantity still issuable under it (Step
// 2b), when a block is first transferred, and who must have authorized a retirement (R-AUTH-07).
// No I/O: the service loads the authorization versions (documents) and calls these functions.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/checks.h"
#include "core/ids.h"
#include "core/result.h"

namespace registry {

// The uses an authorization covers (AEF Table 2 "Purposes for authorization").
struct Purposes {
  bool ndc = false;
  bool oimp = false;  // OIMP, IMP or OP: other international mitigation purposes.
  std::string oimp_label = "OIMP";  // "OIMP", "IMP" or "OP".
  bool operator==(const Purposes&) const = default;
};

// Parses one of NDC, OIMP, IMP, OP, "NDC and OIMP", "NDC and IMP", "NDC and OP".
std::optional<Purposes> ParsePurposes(std::string_view text);
std::string ToString(const Purposes& purposes);

// The OIMP first-transfer definition (2/CMA.3 annex para 2(b)).
enum class FirstTransferDefinition { kNone, kAuthorization, kIssuance, kUseOrCancellation };
// Accepts the printed AEF spellings and the nomenclature ones (Authorisation, Use or Cancellation).
std::optional<FirstTransferDefinition> ParseFirstTransferDefinition(std::string_view text);
std::string_view ToString(FirstTransferDefinition definition);

// What a Party's authorization may be changed for (element (g) of 4/CMA.6 para 5).
struct ChangeTerms {
  bool increase = false;    // The quantity may be raised.
  bool decrease = true;     // The quantity may be lowered.
  bool revocation = true;   // The authorization may be revoked.
  // The exception the terms state: a change may reach blocks already first transferred when the
  // authorization rested on deliberately false information. Applied only explicitly.
  bool false_information_exception = false;
};

// One version of a Party's authorization of a project's ITMOs (Steps 2a and 2b).
struct Authorization {
  PartyCode party;
  std::string authorization_id;  // Party-assigned, [A-Za-z0-9 ./-]+.
  int32_t version = 1;
  ProjectRef project;
  std::string ca_key;            // The cooperative approach document key.
  std::string date;              // ISO date of this version.
  std::string effective_date;    // ISO date from which this version applies.
  Purposes purposes;
  FirstTransferDefinition first_transfer = FirstTransferDefinition::kNone;
  std::map<int32_t, int64_t> authorized;  // Estimated/authorized quantity per vintage.
  std::map<int32_t, int64_t> issued;      // Issued so far under it per vintage (Step 2b).
  std::vector<int64_t> entities;          // Authorized entity ids.
  std::vector<PartyCode> acquiring_parties;  // Authorized Parties; empty = any Party.
  ChangeTerms terms;
  // The other international mitigation purpose the Party names, as its authorization words it
  // (e.g. "CORSIA"); "" when it names none or the purposes have no OIMP (AEF Table 2 "OIMP
  // authorized by the Party").
  std::string oimp_purpose;
  bool revoked = false;
  bool exception_applied = false;  // The false-information exception reaches first transfers.
};

// Checks a Step 2a authorization (or a change) on its own and against the first-transfer
// definition already fixed for its cooperative approach (`ca_definition`, kNone if none yet).
// Refuses: an ITMO vintage before 2021 (R-ITMO-01), OIMP without a first-transfer definition,
// a first-transfer definition without OIMP, a definition other than the approach's (para 15),
// a non-positive quantity, a malformed authorization id.
Status<Refusal> CheckAuthorization(const Authorization& authorization,
                                   FirstTransferDefinition ca_definition);

// Checks that `quantity` of `vintage` may still be issued under `authorization` (Step 2b).
Status<Refusal> CheckIssuable(const Authorization& authorization, Vintage vintage,
                              Quantity quantity);

// Checks a change from `current` to `next` against current's change terms: raising a quantity,
// lowering it, revoking, applying the false-information exception.
Status<Refusal> CheckChange(const Authorization& current, const Authorization& next);

// True when a block of this authorization is first transferred at issuance: OIMP with the
// definition Authorization (the first transfer happened when authorized, so the blocks are born
// first transferred) or Issuance (para 2(b)).
bool FirstTransferredAtIssuance(const Authorization& authorization);

// An entity acts under `authorization` (receives its ITMOs at issuance, or first transfers them)
// only when the authorization names it among its authorized entities; an authorization that
// names none leaves the entities to the Party's other rules (4/CMA.6 para 3; kEntityNotAuthorized).
// `entity` 0 is a Party's own (government) account.
Status<Refusal> CheckEntity(const Authorization& authorization, int64_t entity,
                            std::string_view what);

// The authorization an entity acts under when it uses ITMOs (retirement towards an NDC) or
// cancels them for OIMP without that being their first transfer (issue 31 item 3): that of the
// Party whose registry holds its account (`own`), when that Party authorized the project (in
// Japan's registries always, R-AUTH-07), else the first transferring Party's (`first`).
const Authorization& EntityActsUnder(const Authorization& first, const Authorization* own);

// The reason, if any, a block not yet first transferred may not be first transferred now under
// `authorization` (revoked, or quantity lowered to zero is not a reason: issued blocks stay).
// `already_first_transferred` blocks are untouched by revocation unless the exception applied.
Status<Refusal> CheckMayMove(const Authorization& authorization, bool already_first_transferred,
                             std::string_view what);

// International transfer to `acquiring`: the first transferring Party must have authorized NDC
// use and the acquiring Party (when the authorization names Parties).
Status<Refusal> CheckInternationalTransfer(const Authorization& first_transferring,
                                           const PartyCode& acquiring,
                                           bool already_first_transferred);

// True when the host authorized its units for other international mitigation purposes only (no
// use towards NDCs). They may still go to another Party's registry, to be used or cancelled
// there for that purpose (4/CMA.6 paras 2 and 15; issue 27 item 6), but crossing registries is
// not their first transfer: that is the one the host's OIMP definition fixes (authorization or
// issuance, done already; use or cancellation, still to come), and the acquiring Party can never
// use them towards its NDC (CheckUse). CheckOimpInternationalTransfer checks such a transfer:
// the authorization in force and the Parties it names.
bool IsOimpOnly(const Authorization& authorization);
Status<Refusal> CheckOimpInternationalTransfer(const Authorization& first_transferring,
                                               const PartyCode& acquiring,
                                               bool already_first_transferred);

// A use of an ITMO towards an NDC (retirement), as the core sees it.
struct Use {
  PartyCode using_party;
  PartyCode first_transferring_party;  // The host: where the mitigation happened.
  bool first_transferred = false;      // The block's first transfer has happened.
  int32_t vintage = 0;
  int32_t use_year = 0;
  // Japan's Act (R-AUTH-07): a JCM credit is used towards Japan's NDC only with Japan's own
  // authorization too; other Parties' law asks only the host's.
  bool needs_own_authorization = false;
  // The using Party's NDC implementation periods (first and last year), when it has configured
  // them (ndc.configure): the vintage and the year of use must lie in the same one (2/CMA.3
  // annex para 8(b)). Empty: only "not before the vintage" can be checked.
  std::vector<std::pair<int32_t, int32_t>> ndc_periods;
};

// Use of an ITMO towards `use.using_party`'s NDC (ARCHITECTURE decision 11): never by its own
// host (kOwnOriginUse: 2/CMA.3 annex para 1(b), an ITMO is a mitigation outcome "when
// internationally transferred"); only once first transferred (kNotFirstTransferredToUser); under
// the host's authorization for NDC use (kRetirementNeedsBothAuthorizations when it has none or
// does not cover NDC use; kAuthorizationRevoked only where the false-information exception was
// applied: changes never reach units already first transferred, 4/CMA.6 paras 7-8); with the
// using Party's own authorization too when its law asks (`needs_own_authorization`); in a year of
// use not before the vintage and, where the using Party has configured its NDC periods, in the
// vintage's period (kUseYearOutsideNdcPeriod, 2/CMA.3 annex para 8(b)). nullptr: no
// authorization.
Status<Refusal> CheckUse(const Use& use, const Authorization* host_authorization,
                         const Authorization* own_authorization);

// Cancellation for OIMP or OMGE: whether it makes the block first transferred. OMGE: always when
// not yet first transferred (paras 16-17); OIMP: when the definition is "Use or cancellation".
bool CancellationIsFirstTransfer(const Authorization& authorization, bool omge,
                                 bool already_first_transferred);

}  // namespace registry
