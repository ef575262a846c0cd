// Goal: the reports the Parties hand the UNFCCC come out of the ledger exactly, with no hand
// work. Method: one fixed Article 6 scenario (Mongolia authorizes and issues ITMOs of MN101,
// first transfers 300 t to Japan's JPN01, Japan retires 100 t towards its NDC), then:
//   - the AEF of each Party against golden files (test/reports/testdata; JCM_UPDATE_GOLDEN=1
//     rewrites them), the XLSX read back by an independent reader (python3-openpyxl) with the
//     decision's labels, holdings at 31 December equal to a replay of the journal up to then;
//   - every pre-consistency check passing on the real workbooks and failing on a crafted one,
//     with the exact status strings of 4/CMA.6 para 29, and the cross-Party check;
//   - the copy of the authorization as PDF, read back with pdftotext;
//   - corresponding adjustments from the ledger: Mongolia's addition in the vintage years,
//     Japan's subtraction in the year of use; finalization refuses later changes; a hold stops a
//     use towards an NDC.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "report/aef_builder.h"
#include "report/authorization_copy.h"
#include "report/statistics.h"
#include "service/adjustments.h"
#include "storage/sqlite/sqlite_store.h"
#include "unit/article6_fixture.h"

namespace registry {
namespace {

using service::Json;
using testing::TestRegistry;

std::string Shell(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buf[4096];
  size_t n = 0;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  pclose(pipe);
  return out;
}

// The scenario; returns nothing, fails the test on any unexpected refusal.
void Scenario(TestRegistry& r) {
  testing::SetUpArticle6(r);
  r.clock.Set("2025-06-01T09:00:00Z");
  r.Ok("authorization.add", testing::Step2aArgs("MNG", "MN101"));
  r.Ok("authorization.add", testing::Step2aArgs("JPN", "MN101"));
  r.clock.Set("2026-01-15T09:00:00Z");
  r.Ok("issue.jcm", testing::IssueMngArgs("MN101", 2500, Json::array({{{"vintage", 2021}, {"quantity", 300}},
                                                                       {{"vintage", 2022}, {"quantity", 200}}})));
  r.clock.Set("2026-02-01T09:00:00Z");
  r.Ok("transfer.international", {{"from", 5}, {"to", 1}, {"quantity", 300}});
  r.clock.Set("2026-03-01T09:00:00Z");
  r.Ok("retire", {{"from", 1}, {"quantity", 100}, {"use_year", 2026}});
  r.clock.Set("2027-01-10T09:00:00Z");
  r.Ok("transfer", {{"from", 1}, {"to", 4}, {"quantity", 50}});  // After the reported year.
}

std::string Golden(const std::string& name, const std::string& actual) {
  const std::string path = std::string(JCM_SOURCE_DIR) + "/test/reports/testdata/" + name;
  if (std::getenv("JCM_UPDATE_GOLDEN") != nullptr) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << actual;
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const std::vector<std::string>* FindRow(const report::AefTable& t, size_t col,
                                        const std::string& value) {
  for (const auto& row : t.rows) {
    if (row[col] == value) return &row;
  }
  return nullptr;
}

class Reports : public ::testing::Test {
 protected:
  void SetUp() override { Scenario(r); }
  report::AefWorkbook Aef(const char* party, int32_t year) {
    auto wb = report::BuildAef(*r.store, report::AefRequest{PartyCode{party}, year, "1.0", "2027-04-15"});
    EXPECT_TRUE(wb.has_value()) << (wb ? "" : wb.error().Message());
    return wb.has_value() ? *wb : report::EmptyAefWorkbook();
  }
  TestRegistry r;
};

TEST_F(Reports, AefTablesMatchTheGoldenFiles) {
  for (const char* party : {"JPN", "MNG"}) {
    const auto wb = Aef(party, 2026);
    for (size_t i = 0; i < 5; ++i) {
      const std::string name = std::string(party) + "_2026_" + std::to_string(i + 1) + ".csv";
      const std::string csv = report::TableCsv(wb.tables[i]);
      EXPECT_EQ(csv, Golden(name, csv)) << name;
    }
  }
}

TEST_F(Reports, AefRecordsFirstTransferAcquisitionAndUse) {
  const auto jpn = Aef("JPN", 2026);
  const auto mng = Aef("MNG", 2026);
  const auto& actions = jpn.tables[report::kActions];
  const auto* acquisition = FindRow(actions, 1, "Acquisition");
  ASSERT_NE(acquisition, nullptr);
  EXPECT_EQ((*acquisition)[19], "MNG");  // Transferring participating Party ID.
  const auto* use = FindRow(actions, 1, "Use");
  ASSERT_NE(use, nullptr);
  EXPECT_EQ((*use)[24], "2026");  // Calendar year of use.
  const auto* first = FindRow(mng.tables[report::kActions], 1, "First transfer");
  ASSERT_NE(first, nullptr);
  EXPECT_EQ((*first)[2], "First transfer to another Party");
  EXPECT_EQ((*first)[20], "JPN");  // Acquiring participating Party ID.
  // Every quantity of the scenario: 300 first transferred (two vintages), 100 used.
  int64_t first_total = 0, acquired = 0, used = 0;
  for (const auto& row : mng.tables[report::kActions].rows) {
    if (row[1] == "First transfer") first_total += std::stoll(row[15]);
  }
  for (const auto& row : actions.rows) {
    if (row[1] == "Acquisition") acquired += std::stoll(row[15]);
    if (row[1] == "Use") used += std::stoll(row[15]);
  }
  EXPECT_EQ(first_total, 300);
  EXPECT_EQ(acquired, 300);
  EXPECT_EQ(used, 100);
  EXPECT_EQ(jpn.tables[report::kAuthorizations].rows.size(), 1u);
  EXPECT_GE(mng.tables[report::kAuthorizations].rows.size(), 2u);  // Step 2a and Step 2b versions.
}

TEST_F(Reports, HoldingsAtYearEndEqualAReplayOfTheJournalUpToThatDate) {
  const auto jpn = Aef("JPN", 2026);
  int64_t held = 0;
  for (const auto& row : jpn.tables[report::kHoldings].rows) held += std::stoll(row[12]);
  EXPECT_EQ(held, 200);  // 300 acquired - 100 used; the 2027 transfer is not in 2026's snapshot.
  // Replay the journal up to 31 December 2026 into a fresh store; its live blocks in JPN01's
  // holding accounts must be exactly the Holdings rows.
  auto fresh = sqlite::Open(sqlite::Options{":memory:", false});
  ASSERT_TRUE(fresh.has_value());
  auto read = r.store->BeginRead();
  const Sequence end = (*read)->SequenceAtTime("2026-12-31T23:59:59Z").value();
  auto tx = (*fresh)->Begin();
  for (const JournalEntry& e : (*read)->ReadEntries(Sequence{0}, 100000).value()) {
    if (e.sequence > end) break;
    const Json payload = Json::parse(e.payload, nullptr, false);
    ASSERT_FALSE(payload.is_discarded()) << e.sequence.value << " " << e.payload;
    auto applied = service::ApplyCommand(**tx, e.command, payload,
                                         service::Context{e.sequence, e.time, e.actor});
    ASSERT_TRUE(applied.has_value()) << e.command;
    ASSERT_TRUE((*tx)->AppendEntry(e).ok());
  }
  std::vector<std::pair<int64_t, int64_t>> replayed, reported;
  for (int64_t account : {1, 4}) {
    for (const Block& b : (*tx)->LiveBlocks(AccountId{account}, {}, 1000).value()) {
      if ((*tx)->GetLot(b.lot).value()->itmo) replayed.emplace_back(b.range.first, b.range.last);
    }
  }
  for (const auto& row : jpn.tables[report::kHoldings].rows) {
    reported.emplace_back(std::stoll(row[7]), std::stoll(row[8]));
  }
  std::sort(replayed.begin(), replayed.end());
  std::sort(reported.begin(), reported.end());
  EXPECT_EQ(replayed, reported);
}

TEST_F(Reports, XlsxReadsBackWithTheDecisionsLabels) {
  const auto jpn = Aef("JPN", 2026);
  const std::string path = r.dir.File("aef.xlsx");
  ASSERT_TRUE(report::WriteXlsx(jpn, path).ok());
  const std::string script =
      "import json, openpyxl, sys\n"
      "wb = openpyxl.load_workbook(sys.argv[1])\n"
      "print(json.dumps({ws.title: {'header': [c.value for c in ws[1]], 'rows': ws.max_row - 1}"
      " for ws in wb.worksheets}))\n";
  std::ofstream(r.dir.File("read.py")) << script;
  const Json read = Json::parse(Shell("/usr/bin/python3 " + r.dir.File("read.py") + " " + path));
  const auto empty = report::EmptyAefWorkbook();
  for (size_t i = 0; i < 5; ++i) {
    const auto& table = empty.tables[i];
    ASSERT_TRUE(read.contains(table.name)) << table.name;
    EXPECT_EQ(read[table.name]["header"].get<std::vector<std::string>>(), table.columns);
    EXPECT_EQ(read[table.name]["rows"].get<size_t>(), jpn.tables[i].rows.size());
  }
  EXPECT_EQ(read["Actions"]["header"][24],
            "Calendar year for which the ITMOs are used towards the Party's NDC");
}

TEST_F(Reports, PreConsistencyChecksPassOnTheLedgerAndFailOnCraftedInconsistencies) {
  const auto jpn = Aef("JPN", 2026);
  const auto mng = Aef("MNG", 2026);
  for (const auto& c : report::PreConsistencyChecks(jpn, &mng, 2021, 2030)) {
    EXPECT_EQ(c.status, "Checked, no inconsistencies identified")
        << c.item << " " << c.name << ": " << (c.problems.empty() ? "" : c.problems.front())
        << "\n" << report::TableCsv(jpn.tables[report::kActions])
        << report::TableCsv(jpn.tables[report::kAuthorizations]);
  }
  EXPECT_EQ(report::PreConsistencyChecks(jpn, nullptr, 0, 0)[1].status,
            "Null, information for check not available");
  auto crafted = [&](int item, auto edit) {
    auto ours = jpn;
    auto theirs = mng;
    edit(ours, theirs);
    const auto results = report::PreConsistencyChecks(ours, &theirs, 2021, 2030);
    EXPECT_EQ(results[static_cast<size_t>(item - 1)].status, "Checked, inconsistencies identified")
        << "item " << item;
  };
  using report::kActions;
  using report::kHoldings;
  crafted(1, [](auto& o, auto&) { o.tables[kActions].rows[0][4] = "UNKNOWN-AUTH"; });
  crafted(2, [](auto&, auto& t) {
    for (auto& row : t.tables[kActions].rows) {
      if (row[1] == "First transfer") row[15] = std::to_string(std::stoll(row[15]) + 1);
    }
  });
  crafted(3, [](auto& o, auto&) { o.tables[kHoldings].rows.push_back(o.tables[kHoldings].rows[0]); });
  crafted(4, [](auto& o, auto&) {
    auto row = o.tables[kHoldings].rows[0];
    row[4] = row[5] = "x";  // A different identifier, the same serials: an overlap.
    o.tables[kHoldings].rows.push_back(row);
  });
  crafted(5, [](auto& o, auto&) { o.tables[kActions].rows[0][18] = "2019"; });
  crafted(6, [](auto& o, auto&) {
    for (const auto& row : std::vector(o.tables[kActions].rows)) {
      if (row[1] == "Use") o.tables[kActions].rows.push_back(row);
    }
  });
  crafted(7, [](auto& o, auto&) {
    for (auto& row : o.tables[kActions].rows) {
      if (row[1] == "Use") row[24] = "2031";
    }
  });
}

TEST_F(Reports, PartnerAefReadsBackFromCsv) {
  const auto mng = Aef("MNG", 2026);
  std::array<std::string, 5> texts;
  for (size_t i = 0; i < 5; ++i) texts[i] = report::TableCsv(mng.tables[i]);
  const auto read = report::ReadAefCsv(texts);
  ASSERT_TRUE(read.has_value()) << read.error();
  EXPECT_EQ(read->tables[report::kActions].rows, mng.tables[report::kActions].rows);
  texts[2] = "not,the,header\r\n";
  EXPECT_FALSE(report::ReadAefCsv(texts).has_value());
}

TEST_F(Reports, CopyOfAuthorizationPdfCarriesElementsAToN) {
  auto md = report::AuthorizationCopyMarkdown(*r.store, "JPN-MNG", PartyCode{"MNG"});
  ASSERT_TRUE(md.has_value()) << md.error().Message();
  EXPECT_NE(md->find("(a) Unique identifier"), std::string::npos);
  EXPECT_NE(md->find("(n) Activity types: Solar"), std::string::npos);
  EXPECT_NE(md->find("Step 2b"), std::string::npos);
  const std::string pdf = r.dir.File("copy.pdf");
  ASSERT_TRUE(report::WriteTextPdf(*md, "Copy of authorization", pdf).ok());
  const std::string text = Shell("pdftotext " + pdf + " -");
  EXPECT_NE(text.find("The Government of Mongolia, hereby authorizes the Joint Crediting"),
            std::string::npos)
      << text.substr(0, 400);
  EXPECT_NE(text.find("(k) Vintages: from 2021"), std::string::npos);
  auto initial = report::InitialReportMarkdown(*r.store, "JPN-MNG", PartyCode{"MNG"});
  ASSERT_TRUE(initial.has_value());
  EXPECT_NE(initial->find("## D. Expected mitigation for each year [registry]"), std::string::npos);
  EXPECT_NE(initial->find("| 2021 | 1000 |"), std::string::npos);
  EXPECT_NE(initial->find("To be written by the Party"), std::string::npos);
  EXPECT_FALSE(report::AuthorizationCopyMarkdown(*r.store, "NOPE", PartyCode{"MNG"}).has_value());
}

TEST_F(Reports, AnnualTransactionsSummaryAddsUp) {
  auto summary = report::AnnualTransactionsSummary(*r.store);
  ASSERT_TRUE(summary.has_value());
  int64_t international = 0, acquisition = 0, retirement = 0;
  for (const Json& row : (*summary)["years"]) {
    if (row["year"] != 2026) continue;
    international += row["international_transfer"].get<int64_t>();
    acquisition += row["acquisition"].get<int64_t>();
    retirement += row["retirement"].get<int64_t>();
  }
  EXPECT_EQ(international, 300);
  EXPECT_EQ(acquisition, 300);
  EXPECT_EQ(retirement, 100);
  EXPECT_NE(report::RowsCsv(*summary).find("acquisition,cancellation,international_transfer,issuance,registry,"), std::string::npos);
}

TEST_F(Reports, AdjustmentsAddInVintageYearsAndSubtractInTheYearOfUse) {
  r.Ok("ndc.configure", {{"party", "MNG"}, {"first_year", 2021}, {"last_year", 2030}, {"method", "trajectory"}});
  r.Ok("ndc.configure", {{"party", "JPN"}, {"first_year", 2021}, {"last_year", 2030}, {"method", "averaging"},
                         {"fiscal_year", true}});
  auto mng = service::AdjustmentsReportJson(*r.store, PartyCode{"MNG"}, 2021);
  auto jpn = service::AdjustmentsReportJson(*r.store, PartyCode{"JPN"}, 2021);
  ASSERT_TRUE(mng.has_value() && jpn.has_value());
  const Json& m = (*mng)["years"];
  const Json& j = (*jpn)["years"];
  // Mongolia first transferred 300 t: its vintages 2021 and 2022, never 2026.
  EXPECT_EQ(m[0]["first_transferred_23c"].get<int64_t>() + m[1]["first_transferred_23c"].get<int64_t>(), 300);
  EXPECT_EQ(m[5]["first_transferred_23c"], 0);
  // Japan used 100 t in 2026: subtracted in 2026 (index 5).
  EXPECT_EQ(j[5]["used_23e"], 100);
  EXPECT_EQ(j[5]["net_23f"], -100);
  EXPECT_EQ(j[9]["average"], "-100/10");
  EXPECT_EQ((*jpn)["period_adjustment"], -10);
  EXPECT_EQ(j[5]["fiscal_year"], "FY2026");
  EXPECT_EQ(j[0]["acquired_of_this_vintage"], 300);  // Japan acquired 300 t of vintage 2021.
  EXPECT_NE(service::AdjustmentsCsv(*jpn).find("2026,0,0,100,-100,"), std::string::npos);
  // The method is fixed for the period; finalization freezes the figures.
  r.Refused("ndc.configure", {{"party", "JPN"}, {"first_year", 2021}, {"last_year", 2030}, {"method", "trajectory"}},
            Check::kCaMethodFixed);
  r.Ok("ndc.finalize", {{"party", "JPN"}, {"first_year", 2021}});
  r.Refused("retire", {{"from", 1}, {"quantity", 10}, {"use_year", 2027}}, Check::kNdcPeriodFinalized);
  r.Refused("ndc.inventory", {{"party", "JPN"}, {"first_year", 2021}, {"year", 2026}, {"emissions", 1}},
            Check::kNdcPeriodFinalized);
  // A first transfer of a vintage in Mongolia's finalized period is refused too.
  r.Ok("ndc.finalize", {{"party", "MNG"}, {"first_year", 2021}});
  r.Refused("transfer.international", {{"from", 5}, {"to", 1}, {"quantity", 10}}, Check::kNdcPeriodFinalized);
}

TEST_F(Reports, HeldBlocksCannotBeUsedTowardsAnNdcUntilCleared) {
  auto read = r.store->BeginRead();
  const auto blocks = (*read)->LiveBlocks(AccountId{1}, {}, 100).value();
  read->reset();
  ASSERT_FALSE(blocks.empty());
  const std::string range = std::to_string(blocks[0].range.first) + "-" + std::to_string(blocks[0].range.last);
  r.Ok("block.hold", {{"account", 1}, {"ranges", {range}}, {"hold", true}});
  r.Refused("retire", {{"from", 1}, {"ranges", {range}}, {"use_year", 2026}}, Check::kBlockHeldInconsistent);
  r.Ok("block.hold", {{"account", 1}, {"ranges", {range}}, {"hold", false}});
  r.Ok("retire", {{"from", 1}, {"ranges", {range}}, {"use_year", 2026}});
}

}  // namespace
}  // namespace registry
