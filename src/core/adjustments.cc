#include "core/adjustments.h"

#include <array>
#include <utility>

namespace registry {
namespace {

constexpr std::array<std::pair<CaMethod, std::string_view>, 3> kMethods = {{
    {CaMethod::kTrajectory, "trajectory"},
    {CaMethod::kAveraging, "averaging"},
    {CaMethod::kMultiYear, "multi_year"},
}};

}  // namespace

std::string_view ToString(CaMethod method) {
  for (const auto& [m, name] : kMethods) {
    if (m == method) return name;
  }
  return "?";
}

std::optional<CaMethod> ParseCaMethod(std::string_view text) {
  for (const auto& [m, name] : kMethods) {
    if (name == text) return m;
  }
  return std::nullopt;
}

int64_t DivideRoundHalfAway(int64_t numerator, int64_t denominator) {
  REGISTRY_ASSERT(denominator > 0);
  const int64_t quotient = numerator / denominator;
  const int64_t remainder = numerator % denominator;
  // |remainder| * 2 >= denominator rounds away from zero; remainder has numerator's sign.
  if (remainder != 0 && (remainder > 0 ? remainder : -remainder) * 2 >= denominator) {
    return quotient + (numerator > 0 ? 1 : -1);
  }
  return quotient;
}

Result<AdjustmentReport, Refusal> ComputeAdjustments(const NdcPeriod& period,
                                                     const std::vector<ItmoFlow>& flows) {
  if (period.first_year < kFirstItmoVintage || period.last_year > kVintageMax ||
      period.first_year > period.last_year) {
    return Fail(Refusal{Check::kFieldInvalid,
                        "NDC period " + std::to_string(period.first_year) + "-" +
                            std::to_string(period.last_year) + " is not within 2021-2100"});
  }
  AdjustmentReport report;
  report.period = period;
  for (int32_t y = period.first_year; y <= period.last_year; ++y) {
    AdjustmentYear row;
    row.year = y;
    report.years.push_back(row);
  }
  auto row_of = [&](int32_t year) -> AdjustmentYear* {
    if (year < period.first_year || year > period.last_year) return nullptr;
    return &report.years[static_cast<size_t>(year - period.first_year)];
  };
  for (const ItmoFlow& flow : flows) {
    REGISTRY_ASSERT(flow.quantity.tonnes > 0);
    // First transfers count in their vintage year; uses in their year of use (para 8).
    const int32_t year = flow.kind == ItmoFlow::Kind::kUse ? flow.use_year : flow.vintage.year;
    AdjustmentYear* row = row_of(year);
    if (row == nullptr) {
      report.flows_outside_period.push_back(
          std::to_string(flow.quantity.tonnes) + " t counted in " + std::to_string(year));
      continue;
    }
    switch (flow.kind) {
      case ItmoFlow::Kind::kFirstTransfer:
        row->first_transferred += flow.quantity.tonnes;
        break;
      case ItmoFlow::Kind::kOimpFirstTransfer:
        row->oimp_first_transferred += flow.quantity.tonnes;
        break;
      case ItmoFlow::Kind::kUse:
        row->used += flow.quantity.tonnes;
        break;
    }
  }
  int64_t cumulative = 0;
  for (AdjustmentYear& row : report.years) {
    row.net = row.first_transferred + row.oimp_first_transferred - row.used;
    cumulative += row.net;
    row.cumulative_net = cumulative;
    if (period.method == CaMethod::kAveraging) {
      row.average_numerator = cumulative;
      row.average_denominator = row.year - period.first_year + 1;
      row.adjustment = DivideRoundHalfAway(cumulative, row.average_denominator);
    } else {
      row.adjustment = row.net;
    }
    const auto inventory = period.inventory.find(row.year);
    if (inventory != period.inventory.end()) {
      row.inventory = inventory->second;
      // Para 8 (t CO2 eq): add first transfers, subtract uses. Para 9 (non-GHG): the reverse.
      row.emissions_balance = period.metric == NdcMetric::kGhg ? inventory->second + row.adjustment
                                                               : inventory->second - row.adjustment;
    }
  }
  switch (period.method) {
    case CaMethod::kTrajectory:  // Single-year NDC: the NDC year's adjustment.
    case CaMethod::kAveraging:   // The average over the whole period, applied in the NDC year.
      report.period_adjustment = report.years.back().adjustment;
      break;
    case CaMethod::kMultiYear:  // Applied annually and cumulatively at the end of the period.
      report.period_adjustment = cumulative;
      break;
  }
  return report;
}

}  // namespace registry
