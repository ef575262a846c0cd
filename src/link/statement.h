// Statements for a partner with no connected registry (issue 29 item 3; docs/link.md
// "Statements"): this installation's view of one Party's AEF actions of a year (Table 3 rows),
// signed like a link message, for the partner to compare with its own records; and the
// comparison of a partner's statement with this installation's view.
#pragma once

#include <string>
#include <vector>

#include "core/link.h"
#include "service/link.h"

namespace registry::link {

// The signed statement of `party`'s actions of `year` as this installation records them, from
// registry `from` (hosted here) to `to` (the partner's registry).
Result<service::LinkMessage, std::string> MakeStatement(Store& store,
                                                        const journal::SigningKey& key,
                                                        const std::string& from,
                                                        const std::string& to,
                                                        const std::string& party, int32_t year);

struct StatementComparison {
  int64_t matched = 0;               // Rows in both.
  std::vector<Mismatch> mismatches;  // Rows only in one of the two, each named.
};

// Checks `statement` (signature by `key`, type, fields) and compares its rows with this
// installation's actions of the same Party and year. An error names what is wrong with the
// statement; differences are mismatches (JCM-808), not errors.
Result<StatementComparison, std::string> CompareStatement(Store& store,
                                                          const service::Json& statement,
                                                          const journal::PublicKey& key);

}  // namespace registry::link
