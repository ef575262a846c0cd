// What a Party owes by a date under Article 6.2 and the JCM (issue 31 item 4), as pure rules
// over dates: the AEF by 15 April of the following year (2/CMA.3 annex para 20), the initial
// report before the first AEF (4/CMA.6 paras 26-27), the OIMP first transfer no later than
// 31 December of the year before the BTR for the NDC period of the vintage (4/CMA.6 para 14),
// the notification of an OIMP first transfer at use or cancellation to the first transferring
// Party (para 13), and a JC decision's share notified to a side and not yet issued. The service
// reads the documents and the ledger into these (service/due.h); nothing here reads a clock.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace registry {

// The kinds of what is due, in the order `jcmreg due` explains them.
enum class DueKind {
  kAef,                // R-REP-03: the AEF of a year, by 15 April of the next.
  kInitialReport,      // R-REP-01, R-REP-04: before (or with) the first AEF.
  kOimpFirstTransfer,  // R-FT-03 (para 14): OIMP units not yet first transferred.
  kOimpNotification,   // R-FT-04 (para 13): notify the first transferring Party.
  kJcShareNotIssued,   // R-JCM-09: a side's notified share of a JC decision.
};

std::string_view ToString(DueKind kind);  // "aef", "initial_report", ...
std::string_view RuleOf(DueKind kind);    // "2/CMA.3 annex para 20 (R-REP-03)", ...

// Whether it is done (recorded), still due, or overdue on `today`.
enum class DueStatus { kDone, kDue, kOverdue };
std::string_view ToString(DueStatus status);

struct DueItem {
  DueKind kind = DueKind::kAef;
  std::string party;  // The Party that owes it (for a notification: the one to be notified).
  std::string due;    // ISO date; "" when no rule sets one.
  DueStatus status = DueStatus::kDue;
  std::string what;  // One sentence naming what is owed.
  std::string done;  // When done: the date recorded.
};

// The AEF of `year` is due by 15 April of the next year: "2027-04-15" for 2026.
std::string AefDueDate(int32_t year);

// 4/CMA.6 para 14: an OIMP first transfer of a vintage of the NDC period ending `ndc_last_year`
// is recorded no later than 31 December of the year before the BTR for that period. The BTR that
// reports the period's last year is due by 31 December two years after it (5/CMA.3 MPGs; the
// 2030 information in the BTR due in 2032) [I], so: 31 December of ndc_last_year + 1.
std::string OimpFirstTransferDeadline(int32_t ndc_last_year);

// Done when `done_date` is given; else overdue when `due` is before `today` (ISO dates compare as
// text), else due. An item with no due date is due.
DueStatus StatusOn(const std::string& due, const std::string& today, const std::string& done_date);

// The AEFs a Party owes: one per year from `first_year` (the year of its first authorization
// under an approach: every action of the year is reported, the authorization too) to the year of
// `today`, each due 15 April of the next year.
std::vector<int32_t> AefYears(int32_t first_year, const std::string& today);

// Sorts items by status (overdue, due, done), then due date, kind and party.
void SortDue(std::vector<DueItem>& items);

}  // namespace registry
