// Builds the AEF of one Party for one reported year from the ledger (4/CMA.6 annex II,
// DOMAIN.md §5), with no hand work:
//   Table 1 Submission: one row (NDC period from the Party's ndc configuration when present);
//   Table 2 Authorizations: one row per version of each of the Party's authorizations dated on or
//           before 31 December of the reported year;
//   Table 3 Actions: one row per homogeneous block per action that happened in the reported year,
//           derived from the block history (a block's creation is the action; its parent tells
//           where it came from): first transfers, transfers and acquisitions between registries,
//           uses (retirements) and cancellations of ITMOs. Domestic transfers are not AEF actions
//           (R-JCM-13). JCM credits that are not ITMOs (vintages before 2021) are never reported;
//   Table 4 Holdings: the ITMO blocks held in the Party's registries' holding accounts at the end
//           of 31 December, from the block history (created <= s < closed), not today's state;
//   Table 5 Authorized entities: the entities named in the Party's authorizations.
// First ID / Last ID are full ITMO identifiers (6/CMA.4 annex I para 5; DOMAIN Q3: the S10
// checker's form) when the cooperative approach ID is known, else the serials; the underlying
// unit registry is "JCM" and First/Last unit ID are the JCM serials.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "report/aef_format.h"
#include "service/block_walk.h"
#include "service/command.h"

namespace registry::report {

struct AefRequest {
  PartyCode party;
  int32_t year = 0;
  std::string version = "1.0";      // Submission version X.Y.
  std::string submission_date;      // ISO date; empty = 31 December of the reported year.
  // R-REP-07. false (the default): the public view, every cell covered by one of the Party's
  // confidentiality claims reads "Confidential" and the claims are not listed. true: the
  // submission view, the values kept and the claims in AefWorkbook::confidential (the writers
  // add the "Confidentiality" table). Only the Party itself (or an operator of the registry)
  // may ask for true.
  bool disclose_confidential = false;
  // false: the actions as recorded, whether or not the Party's initial report is on file (a
  // registry's view of a partner's actions compared with the partner's: link/statement.h). The
  // AEF itself (the default) is refused without it (4/CMA.6 paras 26-27).
  bool require_initial_report = true;
  // Blocks are read this many at a time (memory is bounded by it, not by the history). A
  // parent outside the page in hand and the one before is read from the store on its own; tests
  // use tiny pages to take that path.
  size_t block_page = service::kBlockPageDefault;
};

service::CommandResult<AefWorkbook> BuildAef(Store& store, const AefRequest& request);

// What StreamAef wrote.
struct AefSummary {
  std::array<size_t, 5> rows{};  // Per table, in workbook order.
  size_t claims = 0;             // The Party's confidentiality claims.
  size_t cells_hidden = 0;       // Cells the public view replaced by "Confidential".
};

// The AEF of BuildAef handed to `view` a row at a time as it is read from the store, in
// workbook order, so that memory does not grow with the number of actions or holdings (issue
// 32): the public view's cells redacted as RedactConfidential does, the submission view's claims
// listed at Finish. `values`, when not null, gets the same rows unredacted with every claim
// listed (the pre-consistency checks run on the values). A refusal found after rows were handed
// over (R-REP-04 is known only once the year's actions are read) returns before Finish, so a
// writer leaves nothing behind.
service::CommandResult<AefSummary> StreamAef(Store& store, const AefRequest& request,
                                             AefRowSink& view, AefRowSink* values = nullptr);

// Pre-consistency checks (DOMAIN R-CC-05 items 1-7) on a built workbook. Each result carries
// the exact status string of 4/CMA.6 para 29 (R-CC-01) and the problems found.
struct ConsistencyResult {
  int item = 0;
  std::string name;
  std::string status;  // "Checked, no inconsistencies identified" | "Checked, inconsistencies
                       // identified" | "Null, information for check not available"
  std::vector<std::string> problems;
};
std::vector<ConsistencyResult> PreConsistencyChecks(const AefWorkbook& ours,
                                                    const AefWorkbook* partner,
                                                    int32_t ndc_first_year, int32_t ndc_last_year);

// PreConsistencyChecks fed a row at a time (an AefRowSink, e.g. StreamAef's `values`). It keeps
// no row: per action or holding it keeps at most a span of units (24 bytes) for items 4 and 6
// and a 128-bit fingerprint of each identifier for item 3 (two different identifiers are taken
// for one with a probability far below that of a hardware fault); the partner's workbook of
// item 2 is held by the caller.
class ConsistencyChecker final : public AefRowSink {
 public:
  // The NDC period of items 5 and 7: given, or (nullopt) read from the Submission table's first
  // row as `report aef` reads it (0 when "NA": item 7 is then Null).
  ConsistencyChecker(const AefWorkbook* partner,
                     std::optional<std::pair<int32_t, int32_t>> ndc_period);
  ~ConsistencyChecker() override;
  ConsistencyChecker(const ConsistencyChecker&) = delete;
  ConsistencyChecker& operator=(const ConsistencyChecker&) = delete;

  Status<std::string> BeginTable(const AefTable& header) override;
  Status<std::string> Row(const std::vector<std::string>& cells) override;
  Status<std::string> Finish(const std::vector<ListedClaim>& listed) override;
  // Items 1-7, once Finish was called.
  std::vector<ConsistencyResult> Results() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Reads a workbook written by TableCsv back from the five CSV texts (for the cross-Party check
// with a partner's AEF in the same layout). Returns a message naming the first problem.
Result<AefWorkbook, std::string> ReadAefCsv(const std::array<std::string, 5>& csv_texts);

// Reads a partner's AEF workbook as XLSX in the layout WriteXlsx writes (one sheet per table,
// named as the tables, the exact labels in row 1; extra sheets are not read). Cells are read as
// text (report/xlsx_reader.h, with its default limits); a date column holding a spreadsheet date
// serial (1900 date system) becomes dd/mm/yyyy. Empty rows are skipped. Returns a message naming
// the file, the sheet and the problem (not an XLSX file, a missing sheet, a header that is not
// the AEF's, a value beyond a table's last column, malformed XML, a limit of the reader passed).
// A cell more than kAefExtraColumnsRead columns beyond the widest table stops the read where it
// is found, so that a far reference (XFD1) does not fill rows with empty cells first.
inline constexpr int64_t kAefExtraColumnsRead = 16;
Result<AefWorkbook, std::string> ReadAefXlsx(const std::string& path);

}  // namespace registry::report
