// What is due by a date; see deadlines.h.
#include "core/deadlines.h"

#include <algorithm>
#include <tuple>

namespace registry {

std::string_view ToString(DueKind kind) {
  switch (kind) {
    case DueKind::kAef:
      return "aef";
    case DueKind::kInitialReport:
      return "initial_report";
    case DueKind::kOimpFirstTransfer:
      return "oimp_first_transfer";
    case DueKind::kOimpNotification:
      return "oimp_notification";
    case DueKind::kJcShareNotIssued:
      return "jc_share_not_issued";
  }
  return "";
}

std::string_view RuleOf(DueKind kind) {
  switch (kind) {
    case DueKind::kAef:
      return "2/CMA.3 annex para 20: the AEF by 15 April (R-REP-03)";
    case DueKind::kInitialReport:
      return "2/CMA.3 annex para 18; 4/CMA.6 paras 26-27: the initial report before or with the "
             "first AEF (R-REP-01, R-REP-04)";
    case DueKind::kOimpFirstTransfer:
      return "4/CMA.6 para 14: the OIMP first transfer by 31 December of the year before the BTR "
             "for the NDC period (R-FT-03)";
    case DueKind::kOimpNotification:
      return "4/CMA.6 para 13: the first transferring Party notified of an OIMP first transfer at "
             "issuance, use or cancellation (R-FT-04)";
    case DueKind::kJcShareNotIssued:
      return "JC issuance decision: each side issues its notified share (R-JCM-09)";
  }
  return "";
}

std::string_view ToString(DueStatus status) {
  switch (status) {
    case DueStatus::kDone:
      return "done";
    case DueStatus::kDue:
      return "due";
    case DueStatus::kOverdue:
      return "overdue";
  }
  return "";
}

std::string AefDueDate(int32_t year) { return std::to_string(year + 1) + "-04-15"; }

std::string OimpFirstTransferDeadline(int32_t ndc_last_year) {
  return std::to_string(ndc_last_year + 1) + "-12-31";
}

DueStatus StatusOn(const std::string& due, const std::string& today, const std::string& done_date) {
  if (!done_date.empty()) return DueStatus::kDone;
  if (!due.empty() && due < today) return DueStatus::kOverdue;
  return DueStatus::kDue;
}

std::vector<int32_t> AefYears(int32_t first_year, const std::string& today) {
  std::vector<int32_t> out;
  if (today.size() < 4) return out;
  const int32_t this_year = std::stoi(today.substr(0, 4));
  for (int32_t y = first_year; y <= this_year; ++y) out.push_back(y);
  return out;
}

void SortDue(std::vector<DueItem>& items) {
  const auto rank = [](DueStatus s) {
    return s == DueStatus::kOverdue ? 0 : s == DueStatus::kDue ? 1 : 2;
  };
  std::stable_sort(items.begin(), items.end(), [&](const DueItem& a, const DueItem& b) {
    return std::make_tuple(rank(a.status), a.due, static_cast<int>(a.kind), a.party) <
           std::make_tuple(rank(b.status), b.due, static_cast<int>(b.kind), b.party);
  });
}

}  // namespace registry
