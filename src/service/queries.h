// Reads: holdings (now or at a past moment), the lineage of a serial number, the journal, and
// listings. Each runs in its own read transaction and returns JSON; none changes anything.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/limits.h"
#include "service/command.h"

namespace registry::service {

// Holdings of one account, a page at a time: its live blocks (or those live at `as_of`, a
// sequence) with first serial > `after_first`, ascending by first serial, at most `limit`
// (capped at kPageSizeMax), each with its lot's attributes; and the whole holding's "total"
// tonnes and "block_count". "next_after", present only when the page is full, is the
// `after_first` of the next page. A block of an ITMO lot also has the ITMO identifiers of its first
// and last serials ("itmo_first", "itmo_last"). `as_of_time` (ISO date or time) is resolved to the
// last sequence at or before the end of that moment.
CommandResult<Json> Holdings(Store& store, AccountId account, std::optional<Sequence> as_of,
                             std::optional<std::string> as_of_time, int64_t after_first = 0,
                             size_t limit = kPageSizeMax);

// The lineage of a serial: every block that ever held it, oldest first, with the lot it came
// from. The ITMO identifier is given when the lot is an ITMO lot with a cooperative approach.
CommandResult<Json> Trace(Store& store, const RegistryCode& registry, int64_t serial);

// Journal entries after `after`, at most `limit`, with hashes in hex.
CommandResult<Json> JournalPage(Store& store, Sequence after, size_t limit);

// All accounts; all documents of a kind.
CommandResult<Json> ListAccountsJson(Store& store);
// Lists every document of `kind` under the key ListKeyOf(kind).
CommandResult<Json> ListDocumentsJson(Store& store, const std::string& kind);
// The key of a kind's list in the API: "parties", "entities", "cooperative_approaches", ...;
// "documents" for a kind the API does not serve.
std::string ListKeyOf(std::string_view kind);

// A JCM project's cycle records (project.record), oldest first, each with the journal sequence
// that recorded it, the project's state and its monitoring periods as the records leave them:
// {"project", "state", "records": [...], "monitoring_periods": [...]}. Refuses an unknown
// project (JCM-212); a project with no record has an empty list.
CommandResult<Json> ProjectRecordsJson(Store& store, const std::string& ref);

// Issuance lots with id > `after`, ascending, at most `limit` (capped at kPageSizeMax):
// {"lots": [...], "next_after": ID}, where next_after, present only when the page is full, is
// the `after` of the next page.
CommandResult<Json> LotsPage(Store& store, IssuanceId after, size_t limit);

// Totals per account type, per registry (the public statistics of R-JP-07 (ii)).
CommandResult<Json> TotalsByAccountType(Store& store);

}  // namespace registry::service
