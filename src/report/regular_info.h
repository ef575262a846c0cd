// The regular information a participating Party annexes to its biennial transparency report
// (decision 2/CMA.3 annex paras 20-23; 4/CMA.6 paras 21-23; DOMAIN.md R-REP-05, R-REP-06,
// R-AMB-01), built from the AEFs of the years the BTR covers, so that its numbers are the AEFs'
// (4/CMA.6 para 23: the CARP prefills these tables from the AEF):
//   "21(c) Authorizations": the Party's authorizations dated in the years covered, each version
//       marked as an authorization or a change to an earlier one ("authorizations, including any
//       changes to earlier authorizations", 2/CMA.3 annex para 21(c));
//   "23 ITMO actions": the AEF Actions rows of each year summed per cooperative approach,
//       sector, action, Parties, purpose, vintage and year of use (first transferred,
//       transferred, acquired, used, cancelled; para 23(c)-(e), (j));
//   "23 ITMO holdings": the AEF Holdings of 31 December of each year, summed per approach,
//       sector, first transferring Party, registry and vintage;
//   "23 Corresponding adjustments": per year of an NDC period the Party configured
//       (ndc.configure) up to the last year covered, the rows 23(c)-(h) of service/adjustments.h
//       (a first transfer counts in its vintage year: an action of a covered year may change an
//       earlier year's row);
//   "37-40 OMGE and adaptation": the voluntary cancellations to deliver OMGE (paras 39-40), and
//       the resources for adaptation (paras 37-38), which this registry does not record [I];
//   "Reversals": the reversals of removals recorded (project.reversal) in the years covered
//       against the projects the Party hosts, with what is remediated of each now (the
//       non-permanence and reversals of 4/CMA.6 annex I; docs/article6.md) [I];
//   "Notes": the years covered and how each table was made.
// Years covered [I]: a BTR submitted in year Y covers the calendar years Y-2 and Y-1 (the AEFs
// due on 15 April of Y-1 and Y); years before 2021 (no ITMO) are left out.
// Sector: the "Sector(s)" of the Authorizations row of the action's or holding's Authorization
// ID in the same year's AEF ("NA" when it has none).
// Confidentiality (R-REP-07): built from each year's AEF as the caller may see it; in the public
// view a group any of whose cells is "Confidential" reads "Confidential" in that column (a sum
// over a confidential quantity is confidential).
#pragma once

#include <string>
#include <vector>

#include "report/aef_format.h"
#include "service/block_walk.h"
#include "service/command.h"

namespace registry::report {

struct RegularInfoRequest {
  PartyCode party;
  int32_t btr_year = 0;
  bool disclose_confidential = false;  // As AefRequest::disclose_confidential.
  size_t block_page = service::kBlockPageDefault;
};

struct RegularInfo {
  int32_t first_year = 0, last_year = 0;  // The AEF years covered.
  std::vector<AefTable> tables;           // In the order above.
};

// Indices into RegularInfo::tables.
inline constexpr size_t kRegularAuthorizations = 0;
inline constexpr size_t kRegularActions = 1;
inline constexpr size_t kRegularHoldings = 2;
inline constexpr size_t kRegularAdjustments = 3;
inline constexpr size_t kRegularAmbition = 4;
inline constexpr size_t kRegularReversals = 5;
inline constexpr size_t kRegularNotes = 6;

// Refuses a BTR year before 2022 (no AEF year to cover) or after 2102, and whatever the AEF of a
// covered year refuses (R-REP-04: an approach without its initial report).
service::CommandResult<RegularInfo> BuildRegularInformation(Store& store,
                                                            const RegularInfoRequest& request);

// The tables handed to `sink` in order, then Finish (no claims listed): OpenXlsxSink writes one
// sheet per table, OpenCsvFilesSink one CSV file per table.
Status<std::string> StreamRegularInformation(const RegularInfo& info, AefRowSink& sink);

// JSON text {"party", "btr_year", "years": [first, last], "tables": [{"name", "columns",
// "rows": [[cell, ...], ...]}, ...]} (arrays: the columns keep their order).
std::string RegularInformationJson(const RegularInfo& info, const PartyCode& party,
                                   int32_t btr_year);

}  // namespace registry::report
