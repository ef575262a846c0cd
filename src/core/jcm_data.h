// The real public JCM data (../shared/data/jcm, copied into data/jcm/): parsing of the
// Mongolia–Japan issuance table with its quirks (DOMAIN.md §10.1, data/jcm/README.md):
//   - amounts are written "24249.0";
//   - "N/A" or empty issuance dates mean notified, not yet issued;
//   - two Japan rows (MN002 166 t, MN001 94 t) lost their monitoring period in the scrape.
// Every row is either taken or rejected with its reason; none is dropped silently.
#pragma once

#include <string>
#include <vector>

#include "core/csv.h"
#include "core/ids.h"
#include "core/ledger.h"

namespace registry {

struct IssuanceRecord {
  size_t line = 0;               // 1-based line in the file (the header is line 1).
  ProjectRef project;
  std::string title;
  std::string monitoring_start;  // ISO date
  std::string monitoring_end;
  std::string decision_date;
  int64_t total_notified = 0;
  PartyCode side;                // "MNG" or "JPN": whose registry issues this share.
  int64_t notified = 0;
  std::string issuance_date;     // Empty: notified, not yet issued.
  int64_t issued = 0;
};

struct RejectedRow {
  size_t line = 0;
  std::string reason;
};

struct IssuanceTable {
  std::vector<IssuanceRecord> records;
  std::vector<RejectedRow> rejected;
};

// Parses the rows of mongolia_issuances.csv (header included).
IssuanceTable ParseMongoliaIssuances(const std::vector<CsvRow>& rows);

// Splits `quantity` over the calendar years of [start, end] (ISO dates) in proportion to the days
// in each year, by the largest-remainder method so the parts add up exactly. A JC decision gives
// the split per vintage; the public table does not, so this is the documented stand-in [I].
std::vector<IssuanceLine> SplitByCalendarYear(const std::string& start, const std::string& end,
                                              int64_t quantity);

// Parses a whole-number amount written "24249" or "24249.0"; -1 when malformed.
int64_t ParseWholeAmount(const std::string& text);

// Days since 1970-01-01 of an ISO date "YYYY-MM-DD", or nullopt.
std::optional<int64_t> DaysFromIsoDate(const std::string& date);

}  // namespace registry
