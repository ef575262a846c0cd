// The values of the fields each command takes, checked on a live request before its command runs,
// after CheckFields (service/fields.h) has refused any field the command does not take:
//   1. every date is a real calendar date "YYYY-MM-DD" (ParseCalendarDate: leap years counted;
//      "2025-02-30", "2025-13-45", "" and "garbage" are refused), and proposal.create's expires_at
//      a real UTC time (ParseCalendarTime);
//   2. every start/end pair is ordered: a monitoring period does not end before it starts, a JC
//      decision is not taken before the monitoring period it decides on ends, a Step 1 timeframe
//      does not end before it starts, an NDC period's last year is not before its first;
//   3. every nomenclature field names a value of the loaded AEF nomenclature (DOMAIN.md §5.6):
//      issue's and project.add's sector and activity type (ca.authorize checks its lists itself);
//   4. proposal.create's expires_at is after the request's time and at most
//      kProposalLifetimeSecondsMax after it;
//   5. no string or field name holds a NUL character;
//   6. every integer year (a movement's vintage filter, a retirement's use year, Step 1 vintages,
//      NDC years) has four digits: the handlers read them as int32_t, and 4294969317 read 2021;
//   7. authorization.add's entities is a list and its change_terms an object (any other value was
//      skipped, as if absent).
// Each refusal is JCM-102 field_invalid, naming the command, the field and the value.
//
// Checked on live requests only (Registry::ApplyOne), never on a journal's replay: the handlers
// accepted any text in issue's dates and sector before, and a proposal's expires_at as far off as
// asked, and those entries replay as they were. Rules a handler already applied on its own
// (ca.authorize's dates, say) are repeated here so that one table lists every date and pair.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "service/command.h"

namespace registry::service {

// A refusal naming the first field of `args` whose value `command` cannot take, as listed above;
// nullopt when every value is right. `now` is the request's time (Context::time); `tx` is read for
// the nomenclature lists. The arguments of the command a proposal.create proposes are checked as
// that command's. Arguments that are not an object, and unknown commands, are left to the command,
// as are fields of the wrong JSON type that no rule above names.
std::optional<Failure> CheckValues(Transaction& tx, const std::string& command, const Json& args,
                                   const std::string& now);

// The fields of `command` whose values CheckValues checks (its dates, ordered pairs and
// nomenclature fields, years and shaped fields, and expires_at for proposal.create), each once;
// empty for a command with none. Every one is among CommandFields(command)
// (CheckValues.EveryRuleNamesAFieldItsCommandTakes).
std::vector<std::string_view> ValueCheckedFields(std::string_view command);

}  // namespace registry::service
