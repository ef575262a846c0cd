// The AEF Table 3 action(s) of each journaled command (DOMAIN.md §5.3, R-AEF-01..03, R-JCM-13):
// a pure function of (command, arguments, result), so the reports can rebuild every action from
// the journal alone. One action per homogeneous block; lot attributes (CA, authorization,
// vintage, ...) are joined by the reports through `lot`.
//
// Mapping (decided here, see docs/article6.md):
//   issue.jcm, ITMO lot first transferred at issuance -> First transfer / Issuance (or
//       Authorization when the definition is Authorization); other issuances -> none.
//   authorization.add with first transfer at Authorization -> Authorization / Authorization
//       (no serials: the blocks do not exist yet).
//   transfer.international -> per part: First transfer / First transfer to another Party (not yet
//       first transferred) or Transfer (already), for the transferring Party; and Acquisition for
//       the acquiring Party.
//   retire -> Use (calendar year of use) per moved block.
//   cancel -> First transfer / Voluntary cancellation to deliver OMGE or Use or cancellation when
//       the cancellation is a first transfer; then Cancellation (omge: Voluntary cancellation to
//       deliver OMGE; other: Other cancellations) or Voluntary Cancellation (voluntary).
//   transfer (domestic), and reference-data commands -> none (not an AEF action, R-JCM-13).
#pragma once

#include <string>
#include <vector>

#include "service/command.h"

namespace registry::service {

struct AefAction {
  std::string type;     // Nomenclature spelling: "First transfer", "Acquisition", "Use", ...
  std::string subtype;  // "First transfer to another Party", "Issuance", ... or "".
  int64_t lot = 0;      // 0 when no block exists (Authorization).
  int64_t first = 0;    // Serials of the block; 0 when none.
  int64_t last = 0;
  int64_t quantity = 0;
  std::string transferring_party;  // Acquisition only.
  std::string acquiring_party;     // First transfer and Transfer only.
  int32_t use_year = 0;            // Use only.
  bool operator==(const AefAction&) const = default;
};

std::vector<AefAction> AefActionsFor(const std::string& command, const Json& args,
                                     const Json& result);

}  // namespace registry::service
