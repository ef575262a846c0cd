// Goal: what is due (issue 31 item 4). The rules of core/deadlines.h with no registry, then the
// real MN006 (Mongolia-Japan): Japan issued its 24,249 t of the JC decision of 24 January 2026,
// Mongolia's 6,063 t are notified and not issued; a later decision of OIMP-only units (Mongolia's
// definition: use or cancellation) goes partly to Japan's registry and is cancelled there for
// the OIMP. `service::DueJson` lists each Party's AEFs by 15 April, the initial report before the
// first AEF, the para 13 notification to Mongolia, the para 14 deadline of what is not yet first
// transferred and the shares not issued; recording each (report.aef.submit, report.initial.submit,
// notification.record, issue.jcm) marks it done. Verify passes.
#include "service/due.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "core/deadlines.h"
#include "testing/test_util.h"
#include "unit/article6_fixture.h"

namespace registry {
namespace {

using service::Json;
using testing::TestRegistry;

TEST(Deadlines, DatesAndStatuses) {
  EXPECT_EQ(AefDueDate(2026), "2027-04-15");
  EXPECT_EQ(OimpFirstTransferDeadline(2030), "2031-12-31");
  EXPECT_EQ(StatusOn("2026-04-15", "2026-04-15", ""), DueStatus::kDue);  // On the day: not late.
  EXPECT_EQ(StatusOn("2026-04-15", "2026-04-16", ""), DueStatus::kOverdue);
  EXPECT_EQ(StatusOn("2026-04-15", "2026-04-16", "2026-04-10"), DueStatus::kDone);
  EXPECT_EQ(StatusOn("", "2030-01-01", ""), DueStatus::kDue);
  EXPECT_EQ(AefYears(2025, "2026-05-01"), (std::vector<int32_t>{2025, 2026}));
  EXPECT_TRUE(AefYears(2027, "2026-05-01").empty());
  std::vector<DueItem> items(3);
  items[0] = DueItem{DueKind::kAef, "JPN", "2027-04-15", DueStatus::kDue, "", ""};
  items[1] = DueItem{DueKind::kAef, "JPN", "2026-04-15", DueStatus::kDone, "", "2026-04-10"};
  items[2] = DueItem{DueKind::kInitialReport, "MNG", "2026-04-15", DueStatus::kOverdue, "", ""};
  SortDue(items);
  EXPECT_EQ(items[0].party, "MNG");
  EXPECT_EQ(items[1].due, "2027-04-15");
  EXPECT_EQ(items[2].status, DueStatus::kDone);
  EXPECT_EQ(ToString(DueKind::kOimpNotification), "oimp_notification");
}

Json V(int year, int64_t quantity) { return Json{{"vintage", year}, {"quantity", quantity}}; }

// "status|kind|party|due" of each item.
std::set<std::string> Due(TestRegistry& r, const std::string& today, bool all = false) {
  const auto due = service::DueJson(*r.store, today, std::nullopt, all);
  EXPECT_TRUE(due.has_value());
  std::set<std::string> out;
  if (!due) return out;
  for (const Json& i : (*due)["due"]) {
    out.insert(i["status"].get<std::string>() + "|" + i["kind"].get<std::string>() + "|" +
               i["party"].get<std::string>() + "|" + i["due"].get<std::string>());
  }
  return out;
}

int64_t LastSequence(TestRegistry& r) {
  auto tx = r.store->BeginRead();
  EXPECT_TRUE(tx.has_value());
  auto last = (*tx)->LastEntry();
  EXPECT_TRUE(last.has_value() && last->has_value());
  return (**last).sequence.value;
}

Json Mn006Decision(int64_t account, Json vintages) {
  return Json{{"account", account},
              {"project", "MN006"},
              {"jc_decision", "JC-MN006-2026-01-24"},
              {"decision_date", "2026-01-24"},
              {"monitoring_start", "2019-07-06"},
              {"monitoring_end", "2020-12-31"},
              {"total", 30312},
              {"shares", {{"MNG", 6063}, {"JPN", 24249}}},
              {"vintages", std::move(vintages)}};
}

TEST(Due, Mn006AefsInitialReportsOimpDeadlinesNotificationsAndShares) {
  TestRegistry r;
  testing::SetUpArticle6(r);  // Both Parties' Step 1 dated 2025-03-31.
  // The real MN006 (projects.csv): registered 2 June 2023.
  Json project = testing::ProjectArgs("MN006");
  project["title"] = "Introduction of 15MW Solar Power System near New Airport";
  project["participants"] = {"Tenuun Gerel Construction LLC", "Sharp Energy Solutions Corporation"};
  project["state"] = "registered";
  project["registration_date"] = "2023-06-02";
  r.Ok("project.add", project);
  r.Ok("report.initial.submit", {{"party", "JPN"}, {"ca", "JPN-MNG"}, {"date", "2025-09-01"}});
  // Japan issues its share on 30 January 2026; Mongolia's is notified, not issued.
  r.clock.Set("2026-01-30T09:00:00Z");
  r.Ok("issue.jcm", Mn006Decision(1, {V(2019, 8000), V(2020, 16249)}));
  const std::set<std::string> february = {
      "due|aef|JPN|2026-04-15",
      "due|aef|JPN|2027-04-15",
      "due|aef|MNG|2026-04-15",
      "due|aef|MNG|2027-04-15",
      "due|initial_report|MNG|2026-04-15",
      "due|jc_share_not_issued|MNG|",
  };
  EXPECT_EQ(Due(r, "2026-02-01"), february);

  // Mongolia authorizes MN006's 2021-2022 units for OIMP only (CORSIA), first transferred at use
  // or cancellation; a later decision issues Mongolia's 200 t of 2021, of which 100 t go to
  // Japan's registry, and Japan cancels 40 t for the OIMP: Mongolia's first transfer, in JPN01.
  Json step1 = testing::Step1Args("MNG", "MNG01", "NDC and OIMP");
  step1["first_transfer_definition"] = "Use or cancellation";
  step1["replaces_version"] = 1;
  step1["reason"] = "OIMP added";
  step1["date"] = "2026-02-15";  // Version 2: Mongolia's AEFs still run from its first Step 1.
  r.Ok("ca.authorize", step1);
  Json oimp = testing::Step2aArgs("MNG", "MN006", "OIMP");
  oimp["first_transfer_definition"] = "Use or cancellation";
  oimp["oimp_purpose"] = "CORSIA";
  r.Ok("authorization.add", oimp);
  r.clock.Set("2026-03-02T09:00:00Z");
  r.Ok("issue.jcm", {{"account", 5},
                     {"project", "MN006"},
                     {"jc_decision", "JC-MN006-2026-03"},
                     {"decision_date", "2026-03-01"},
                     {"monitoring_start", "2021-01-01"},
                     {"monitoring_end", "2021-12-31"},
                     {"total", 1000},
                     {"shares", {{"MNG", 200}, {"JPN", 800}}},
                     {"vintages", {V(2021, 200)}}});
  r.Ok("transfer.international", {{"from", 5}, {"to", 1}, {"quantity", 100}, {"vintage", 2021}});
  r.Ok("cancel",
       {{"from", 1}, {"to", 3}, {"quantity", 40}, {"vintage", 2021}, {"purpose", "oimp"}});
  const int64_t cancelled = LastSequence(r);
  std::set<std::string> may = {
      "overdue|aef|JPN|2026-04-15",
      "overdue|aef|MNG|2026-04-15",
      "overdue|initial_report|MNG|2026-04-15",
      "due|aef|JPN|2027-04-15",
      "due|aef|MNG|2027-04-15",
      "due|jc_share_not_issued|MNG|",
      "due|jc_share_not_issued|JPN|",              // Japan's 800 t of the OIMP decision.
      "overdue|oimp_notification|MNG|2026-03-02",  // Para 13: at once.
      "due|oimp_first_transfer|MNG|2031-12-31",    // Para 14: 160 t of 2021, NDC to 2030.
  };
  EXPECT_EQ(Due(r, "2026-05-01"), may);
  const auto only_mng = service::DueJson(*r.store, "2026-05-01", std::string("MNG"), false);
  ASSERT_TRUE(only_mng.has_value());
  EXPECT_EQ((*only_mng)["due"].size(), 6u);
  for (const Json& i : (*only_mng)["due"]) {
    if (i["kind"] == "oimp_first_transfer") {
      EXPECT_NE(i["what"].get<std::string>().find("160 t of MN006 2021"), std::string::npos)
          << i["what"];
    }
  }

  // Recording discharges them.
  r.clock.Set("2026-05-01T09:00:00Z");
  r.Refused("report.aef.submit", {{"party", "JPN"}, {"year", 2026}, {"date", "2026-04-10"}},
            Check::kFieldInvalid);  // Before the year is over.
  r.Refused("report.aef.submit", {{"party", "JPN"}, {"year", 2025}, {"date", "2026-05-02"}},
            Check::kFieldInvalid);  // After today.
  r.Refused("report.aef.submit", {{"party", "THA"}, {"year", 2025}, {"date", "2026-04-10"}},
            Check::kUnknownParty);
  r.Refused("report.aef.submit", {{"party", "JPN"}, {"year", 20250}, {"date", "2026-04-10"}},
            Check::kFieldInvalid);  // A year of five digits (values.cc).
  const Json aef =
      r.Ok("report.aef.submit", {{"party", "JPN"}, {"year", 2025}, {"date", "2026-04-10"}});
  EXPECT_FALSE(aef["late"].get<bool>());
  EXPECT_TRUE(
      r.Ok("report.aef.submit", {{"party", "MNG"}, {"year", 2025}, {"date", "2026-04-20"}})["late"]
          .get<bool>());
  r.Ok("report.initial.submit", {{"party", "MNG"}, {"ca", "JPN-MNG"}, {"date", "2026-04-20"}});
  r.Refused("notification.record", {{"party", "MNG"}, {"sequence", 2}, {"date", "2026-03-03"}},
            Check::kFieldInvalid);  // Entry 2 is no use or cancellation.
  r.Refused("notification.record",
            {{"party", "MNG"}, {"sequence", cancelled + 100}, {"date", "2026-03-03"}},
            Check::kFieldInvalid);
  r.Ok("notification.record", {{"party", "MNG"}, {"sequence", cancelled}, {"date", "2026-03-03"}});
  r.Refused("notification.record",
            {{"party", "MNG"}, {"sequence", cancelled}, {"date", "2026-03-03"}},
            Check::kAlreadyExists);
  // Mongolia issues its share of MN006 against the same decision.
  r.Ok("issue.jcm", Mn006Decision(5, {V(2019, 2000), V(2020, 4063)}));
  EXPECT_EQ(Due(r, "2026-05-01"), (std::set<std::string>{
                                      "due|aef|JPN|2027-04-15",
                                      "due|aef|MNG|2027-04-15",
                                      "due|jc_share_not_issued|JPN|",
                                      "due|oimp_first_transfer|MNG|2031-12-31",
                                  }));
  const auto all = Due(r, "2026-05-01", true);
  EXPECT_TRUE(all.count("done|oimp_notification|MNG|2026-03-02"));
  EXPECT_TRUE(all.count("done|aef|MNG|2026-04-15"));
  EXPECT_TRUE(all.count("done|initial_report|JPN|2026-04-15"));
  testing::ExpectVerifies(r);
}

}  // namespace
}  // namespace registry
