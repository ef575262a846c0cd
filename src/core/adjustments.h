// Corresponding adjustments and the emissions balance (2/CMA.3 annex paras 7-9; R-CA-01..08).
//
// Input: the ITMO flows of one Party (first transfers, uses) taken from the ledger, and the
// Party's NDC configuration. Output: per year the rows of the BTR structured summary 23(c)-(h),
// the corresponding adjustment of the chosen method, and the emissions balance.
//
// Counting (para 8, R-CA-03):
//   - an ITMO first transferred is counted in its VINTAGE year (the year the mitigation happened);
//   - an ITMO used is counted in the YEAR OF USE;
//   - net (23(f)) = first transferred (23(c)) + OIMP first transferred (23(d)) - used (23(e)).
// Signs (paras 8-9): for an NDC in t CO2 eq the balance is inventory + net; for a non-GHG metric
// the signs flip: inventory - net.
// Methods (para 7): one per Party and NDC period, fixed once chosen:
//   kTrajectory   single-year NDC, indicative multi-year trajectory or budget, (a)(i): the CA of
//                 each year is that year's net;
//   kAveraging    single-year NDC, (a)(ii): the indicative CA of year y is the cumulative net of
//                 the period up to y divided by the number of elapsed years (y - first + 1); the
//                 CA applied in the NDC year is the average over the whole period;
//   kMultiYear    multi-year NDC, trajectory or budget, (b): the CA of each year is that year's
//                 net, and the cumulative CA is applied at the end of the period.
// Rounding: averaging divides integers. The exact fraction is reported (numerator, denominator)
// and the applied figure is rounded half away from zero, so that a transferring Party's addition
// and an acquiring Party's subtraction of the same tonnes are mirror images [I].
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/checks.h"
#include "core/ids.h"
#include "core/result.h"

namespace registry {

enum class CaMethod { kTrajectory, kAveraging, kMultiYear };
enum class NdcMetric { kGhg, kNonGhg };

std::string_view ToString(CaMethod method);
std::optional<CaMethod> ParseCaMethod(std::string_view text);

struct NdcPeriod {
  PartyCode party;
  int32_t first_year = 0;  // First year of the NDC implementation period.
  int32_t last_year = 0;   // Last year (the NDC year of a single-year NDC).
  CaMethod method = CaMethod::kTrajectory;
  NdcMetric metric = NdcMetric::kGhg;
  // Japan's NDC is a fiscal-year target (FY2030 = Apr 2030 - Mar 2031). When set, years are
  // reported also as fiscal years: calendar year Y maps to FY Y, the fiscal year that starts on
  // 1 April of Y and holds nine of its twelve months [I].
  bool fiscal_year = false;
  bool finalized = false;
  std::map<int32_t, int64_t> inventory;  // Emissions covered by the NDC, per year, as entered.
};

// One movement of ITMOs that counts for the Party's adjustments.
struct ItmoFlow {
  enum class Kind { kFirstTransfer, kOimpFirstTransfer, kUse };
  Kind kind = Kind::kFirstTransfer;
  Vintage vintage;
  int32_t use_year = 0;  // For kUse: the calendar year of use.
  Quantity quantity;
};

struct AdjustmentYear {
  int32_t year = 0;
  int64_t first_transferred = 0;       // 23(c)
  int64_t oimp_first_transferred = 0;  // 23(d)
  int64_t used = 0;                    // 23(e)
  int64_t net = 0;                     // 23(f) = c + d - e
  int64_t cumulative_net = 0;          // 23(h): net summed from the first year of the period
  int64_t adjustment = 0;              // 23(g): the corresponding adjustment applied this year
  int64_t average_numerator = 0;       // Averaging only: cumulative net ...
  int64_t average_denominator = 0;     // ... over elapsed years.
  std::optional<int64_t> inventory;
  std::optional<int64_t> emissions_balance;  // 23(k)(i), or the adjusted indicator 23(k)(ii)
};

struct AdjustmentReport {
  NdcPeriod period;
  std::vector<AdjustmentYear> years;     // One per year of the period, in order.
  int64_t period_adjustment = 0;         // The CA applied for the period as a whole.
  std::vector<std::string> flows_outside_period;  // Flows counted in no year of the period.
};

// Computes the report. Refuses a period whose years are not first <= last within [2021, 2100].
Result<AdjustmentReport, Refusal> ComputeAdjustments(const NdcPeriod& period,
                                                     const std::vector<ItmoFlow>& flows);

// Divides rounding half away from zero. Requires denominator > 0.
int64_t DivideRoundHalfAway(int64_t numerator, int64_t denominator);

}  // namespace registry
