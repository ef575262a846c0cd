// The AEF Table 3 action(s) of each journaled command (DOMAIN.md §5.3, R-AEF-01..03, R-JCM-13):
// a pure function of (command, arguments, result), so the reports can rebuild every action from
// the journal alone. One action per homogeneous block; lot attributes (CA, authorization,
// vintage, ...) are joined by the reports through `lot`.
//
// The mapping itself is core::AefActionKindsOf (core/aef_actions.h), which the AEF builder
// (report/aef_builder.cc) uses too: this function only describes each journaled block event in
// its terms (issue.jcm, transfer.international, retire, cancel) and fills in the Parties and the
// year of use. authorization.add, domestic transfers and reference-data commands give none.
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
