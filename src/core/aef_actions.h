// The one mapping from what happened to an ITMO block to the AEF Table 3 actions it gives
// (4/CMA.6 annex II; DOMAIN.md §5.3, R-AEF-01..03, R-JCM-13). Both the journal-based mapping
// (service/article6_aef.cc, AefActionsFor) and the AEF builder (report/aef_builder.cc, from the
// block history) describe an event in these terms and take its actions from AefActionKindsOf, so
// that they cannot disagree. Pure: no I/O.
//
// Mapping:
//   issuance, not a first transfer                  -> none;
//   issuance into another Party's registry          -> First transfer / First transfer to another
//       (the international transfer at issuance)       Party (host), Acquisition (acquiring Party);
//   issuance first transferred at issuance (OIMP)   -> First transfer / Authorization or Issuance,
//                                                      after the host's definition (host);
//   international transfer                          -> First transfer / First transfer to another
//                                                      Party, or Transfer when already first
//                                                      transferred (transferring Party), and
//                                                      Acquisition (acquiring Party);
//   retirement (use towards an NDC)                 -> [First transfer / Use or cancellation
//                                                      (host), when it is one], Use (user);
//   cancellation                                    -> [First transfer / Voluntary cancellation
//                                                      to deliver OMGE (OMGE) or Use or
//                                                      cancellation (host), when it is one], then
//                                                      Voluntary Cancellation (voluntary) or
//                                                      Cancellation / Voluntary cancellation to
//                                                      deliver OMGE (OMGE) or Other cancellations.
// An authorization itself gives no Table 3 row: it is reported in Table 2, and a Table 3 row
// needs the block's identifiers, which do not exist before issuance. Under the OIMP definition
// "Authorization" the first transfer is reported when the blocks are born (First transfer /
// Authorization).
#pragma once

#include <string_view>
#include <vector>

#include "core/authorization.h"
#include "core/model.h"

namespace registry {

enum class AefMovement { kIssuance, kInternationalTransfer, kRetirement, kCancellation };

// What happened to one homogeneous block.
struct AefEvent {
  AefMovement movement = AefMovement::kIssuance;
  bool first_transfer = false;  // The event is the block's first transfer.
  bool issued_abroad = false;   // kIssuance: into another Party's registry than the host's.
  FirstTransferDefinition definition = FirstTransferDefinition::kNone;  // The host's, kIssuance.
  CancellationPurpose purpose = CancellationPurpose::kOther;            // kCancellation.
};

// The Party that reports an action in its AEF.
enum class AefReporter {
  kFirstTransferringParty,  // The host: the Party where the mitigation happened.
  kTransferringParty,       // The Party whose registry the block leaves.
  kAcquiringParty,          // The Party whose registry the block enters.
  kUsingParty,              // The Party whose registry uses or cancels the block.
};

struct AefActionKind {
  std::string_view type;     // Nomenclature spelling: "First transfer", "Acquisition", ...
  std::string_view subtype;  // "" when the action type has none.
  AefReporter reporter;
  bool operator==(const AefActionKind&) const = default;
};

// Returns the actions of `event`, in the order they are reported (a first transfer before the
// action it comes with).
std::vector<AefActionKind> AefActionKindsOf(const AefEvent& event);

// True for the AEF "Mitigation type" values (annex II Tables 3 and 4: Emission reductions,
// Removals; the nomenclature of 17 Feb 2026 adds Emission reductions and removals).
bool IsMitigationType(std::string_view text);

// The mitigation type of a project that names none, from its AEF activity type: Removals for
// Afforestation and Reforestation (sinks), Emission reductions for every other activity type.
std::string_view DefaultMitigationType(std::string_view activity_type);

}  // namespace registry
