// Goal: corresponding adjustments follow 2/CMA.3 annex paras 7-9 exactly. Method: the worked
// examples of DOMAIN.md R-CA-03 and one per method, with every figure checked, plus a randomized
// property test that the yearly totals always equal the signed sum of the flows.
#include "core/adjustments.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

namespace registry {
namespace {

using Kind = ItmoFlow::Kind;

NdcPeriod Period(CaMethod method, int32_t first = 2021, int32_t last = 2030) {
  NdcPeriod p;
  p.party = PartyCode{"THA"};
  p.first_year = first;
  p.last_year = last;
  p.method = method;
  return p;
}

ItmoFlow FirstTransfer(int32_t vintage, int64_t q) {
  return ItmoFlow{Kind::kFirstTransfer, Vintage{vintage}, 0, Quantity{q}};
}

ItmoFlow Use(int32_t vintage, int32_t year, int64_t q) {
  return ItmoFlow{Kind::kUse, Vintage{vintage}, year, Quantity{q}};
}

const AdjustmentYear& Year(const AdjustmentReport& r, int32_t y) {
  return r.years.at(static_cast<size_t>(y - r.period.first_year));
}

// R-CA-03: 100 t of vintage 2022 first transferred in 2025 add to 2022, not 2025; a use of 100 in
// 2026 subtracts in 2026.
TEST(ComputeAdjustments, CountsFirstTransfersInVintageYearAndUsesInYearOfUse) {
  const auto r = ComputeAdjustments(Period(CaMethod::kTrajectory),
                                    {FirstTransfer(2022, 100), Use(2022, 2026, 100)});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(Year(*r, 2022).first_transferred, 100);
  EXPECT_EQ(Year(*r, 2022).adjustment, 100);
  EXPECT_EQ(Year(*r, 2025).first_transferred, 0);
  EXPECT_EQ(Year(*r, 2026).used, 100);
  EXPECT_EQ(Year(*r, 2026).net, -100);
  EXPECT_EQ(Year(*r, 2026).cumulative_net, 0);
}

TEST(ComputeAdjustments, TrajectoryAppliesEachYearsNetAndTheNdcYearForThePeriod) {
  NdcPeriod p = Period(CaMethod::kTrajectory);
  p.inventory = {{2022, 1000}, {2030, 800}};
  const auto r = ComputeAdjustments(p, {FirstTransfer(2022, 100), FirstTransfer(2030, 40),
                                        ItmoFlow{Kind::kOimpFirstTransfer, Vintage{2030}, 0,
                                                 Quantity{10}}});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(Year(*r, 2022).emissions_balance, 1100);  // 1000 + 100 (para 8(a)).
  EXPECT_EQ(Year(*r, 2030).net, 50);                  // 23(f) = c + d - e.
  EXPECT_EQ(Year(*r, 2030).emissions_balance, 850);
  EXPECT_EQ(r->period_adjustment, 50);
}

TEST(ComputeAdjustments, AveragingDividesCumulativeByElapsedYears) {
  const auto r = ComputeAdjustments(
      Period(CaMethod::kAveraging),
      {FirstTransfer(2021, 100), FirstTransfer(2022, 200), FirstTransfer(2030, 50)});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(Year(*r, 2021).adjustment, 100);  // 100 / 1
  EXPECT_EQ(Year(*r, 2022).adjustment, 150);  // 300 / 2
  EXPECT_EQ(Year(*r, 2030).average_numerator, 350);
  EXPECT_EQ(Year(*r, 2030).average_denominator, 10);
  EXPECT_EQ(r->period_adjustment, 35);  // 350 / 10, applied in the NDC year.
}

TEST(ComputeAdjustments, AveragingRoundsHalfAwayFromZeroSymmetrically) {
  const auto seller = ComputeAdjustments(Period(CaMethod::kAveraging), {FirstTransfer(2021, 25)});
  const auto buyer = ComputeAdjustments(Period(CaMethod::kAveraging), {Use(2021, 2021, 25)});
  ASSERT_TRUE(seller.has_value());
  ASSERT_TRUE(buyer.has_value());
  EXPECT_EQ(Year(*seller, 2022).adjustment, 13);  // 12.5 -> 13
  EXPECT_EQ(Year(*buyer, 2022).adjustment, -13);  // -12.5 -> -13
  EXPECT_EQ(Year(*seller, 2023).adjustment, 8);   // 8.33 -> 8
  EXPECT_EQ(DivideRoundHalfAway(7, 2), 4);
  EXPECT_EQ(DivideRoundHalfAway(-7, 2), -4);
  EXPECT_EQ(DivideRoundHalfAway(5, 3), 2);
  EXPECT_EQ(DivideRoundHalfAway(-4, 3), -1);
}

TEST(ComputeAdjustments, MultiYearAppliesAnnuallyAndCumulativelyAtTheEnd) {
  std::vector<ItmoFlow> flows;
  for (int32_t v = 2021; v <= 2025; ++v) flows.push_back(FirstTransfer(v, 10));
  flows.push_back(Use(2021, 2024, 5));
  const auto r = ComputeAdjustments(Period(CaMethod::kMultiYear, 2021, 2025), flows);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(Year(*r, 2024).adjustment, 5);
  EXPECT_EQ(Year(*r, 2025).cumulative_net, 45);
  EXPECT_EQ(r->period_adjustment, 45);
}

TEST(ComputeAdjustments, NonGhgMetricFlipsTheSigns) {
  NdcPeriod p = Period(CaMethod::kTrajectory);
  p.metric = NdcMetric::kNonGhg;
  p.inventory = {{2022, 1000}, {2026, 500}};
  const auto r = ComputeAdjustments(p, {FirstTransfer(2022, 100), Use(2022, 2026, 30)});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(Year(*r, 2022).emissions_balance, 900);  // Para 9: subtract first transfers ...
  EXPECT_EQ(Year(*r, 2026).emissions_balance, 530);  // ... and add uses.
}

TEST(ComputeAdjustments, ReportsFlowsOutsideThePeriod) {
  const auto r = ComputeAdjustments(Period(CaMethod::kTrajectory), {FirstTransfer(2031, 7)});
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->flows_outside_period.size(), 1u);
  EXPECT_EQ(r->period_adjustment, 0);
}

TEST(ComputeAdjustments, RefusesAPeriodBefore2021OrReversed) {
  EXPECT_FALSE(ComputeAdjustments(Period(CaMethod::kTrajectory, 2020, 2030), {}).has_value());
  EXPECT_FALSE(ComputeAdjustments(Period(CaMethod::kTrajectory, 2030, 2021), {}).has_value());
}

TEST(ComputeAdjustmentsProperty, YearlyTotalsEqualTheSignedSumOfFlows) {
  const char* env = std::getenv("JCM_SEED");
  const uint64_t seed = env != nullptr ? std::strtoull(env, nullptr, 10) : std::random_device{}();
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 200; ++round) {
    const CaMethod method = static_cast<CaMethod>(rng() % 3);
    std::vector<ItmoFlow> flows;
    int64_t expected = 0;
    for (int i = 0; i < 50; ++i) {
      const int32_t vintage = 2021 + static_cast<int32_t>(rng() % 10);
      const int64_t q = 1 + static_cast<int64_t>(rng() % 100000);
      const Kind kind = static_cast<Kind>(rng() % 3);
      flows.push_back(ItmoFlow{kind, Vintage{vintage}, vintage + static_cast<int32_t>(rng() % 3), Quantity{q}});
      const int32_t counted = kind == Kind::kUse ? flows.back().use_year : vintage;
      if (counted <= 2030) expected += kind == Kind::kUse ? -q : q;
    }
    const auto r = ComputeAdjustments(Period(method), flows);
    ASSERT_TRUE(r.has_value());
    int64_t net = 0;
    for (const AdjustmentYear& y : r->years) {
      EXPECT_EQ(y.net, y.first_transferred + y.oimp_first_transferred - y.used);
      net += y.net;
      EXPECT_EQ(y.cumulative_net, net);
    }
    ASSERT_EQ(net, expected) << "seed " << seed << " round " << round;
    if (method == CaMethod::kMultiYear) {
      EXPECT_EQ(r->period_adjustment, expected);
    }
  }
}

}  // namespace
}  // namespace registry
