// Goal: the reports the Parties hand the UNFCCC come out of the ledger exactly, with no hand
// work. Method: one fixed Article 6 scenario (Mongolia authorizes and issues ITMOs of MN101,
// first transfers 300 t to Japan's JPN01, Japan retires 100 t towards its NDC), then:
//   - the AEF of each Party against golden files (test/reports/testdata; JCM_UPDATE_GOLDEN=1
//     rewrites them), the XLSX read back by an independent reader (python3-openpyxl) with the
//     decision's labels, holdings at 31 December equal to a replay of the journal up to then;
//   - every pre-consistency check passing on the real workbooks and failing on a crafted one,
//     with the exact status strings of 4/CMA.6 para 29, and the cross-Party check, with the
//     partner's AEF read from CSV or from XLSX (our own workbook read back equals the CSV route;
//     a crafted XLSX written by libxlsxwriter with inline strings shows its mismatch; corrupt
//     files give an error naming the problem);
//   - R-REP-04: no AEF reporting ITMOs of an approach without the Party's initial report on file;
//   - the copy of the authorization as PDF, read back with pdftotext;
//   - corresponding adjustments from the ledger: Mongolia's addition in the vintage years,
//     Japan's subtraction in the year of use; finalization refuses later changes; a hold stops a
//     use towards an NDC.
#include <gtest/gtest.h>
#include <xlsxwriter.h>
#include <zip.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <tuple>

#include "core/aef_actions.h"
#include "report/aef_builder.h"
#include "report/aef_diff.h"
#include "report/aef_labels.h"
#include "report/authorization_copy.h"
#include "report/statistics.h"
#include "report/xlsx_reader.h"
#include "service/adjustments.h"
#include "service/article6_aef.h"
#include "service/block_walk.h"
#include "storage/sqlite/sqlite_store.h"
#include "testing/xlsx_package.h"
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
void Scenario(TestRegistry& r, bool initial_reports = true) {
  testing::SetUpArticle6(r);
  r.clock.Set("2025-06-01T09:00:00Z");
  if (initial_reports) {  // R-REP-04: on file before the first AEF reporting ITMOs of JPN-MNG.
    r.Ok("report.initial.submit", {{"party", "MNG"}, {"ca", "JPN-MNG"}, {"date", "2025-06-01"}});
    r.Ok("report.initial.submit", {{"party", "JPN"}, {"ca", "JPN-MNG"}, {"date", "2025-06-01"}});
  }
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

// BuildAef reads the blocks a page at a time and finds a parent in the pages in hand or else in
// the store: with pages of 1, 2, 3 and 5 blocks (most parents read from the store, every page
// boundary crossed) every table of both Parties is the same as with the default page.
TEST_F(Reports, AefIsTheSameWhateverTheBlockPage) {
  for (const char* party : {"JPN", "MNG"}) {
    const auto whole = Aef(party, 2026);
    ASSERT_FALSE(whole.tables[report::kActions].rows.empty());
    for (const size_t page : {1u, 2u, 3u, 5u}) {
      report::AefRequest request{PartyCode{party}, 2026, "1.0", "2027-04-15"};
      request.block_page = page;
      const auto paged = report::BuildAef(*r.store, request);
      ASSERT_TRUE(paged.has_value()) << paged.error().Message();
      for (size_t i = 0; i < 5; ++i) {
        EXPECT_EQ(report::TableCsv(paged->tables[i]), report::TableCsv(whole.tables[i]))
            << party << " table " << i + 1 << " with pages of " << page;
      }
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

// EntryTimes reads the journal a window at a time: with windows of 2 entries, every entry's time
// is its own, asked in order, backwards or twice; a sequence past the journal is an error.
TEST_F(Reports, EntryTimesGiveEachEntrysOwnTimeWhateverTheWindow) {
  auto tx = r.store->BeginRead();
  ASSERT_TRUE(tx.has_value());
  const auto entries = (*tx)->ReadEntries(Sequence{0}, 1000);
  ASSERT_TRUE(entries.has_value());
  ASSERT_GT(entries->size(), 5u);
  service::EntryTimes times(**tx, 2);
  for (const JournalEntry& e : *entries) {
    const auto time = times.Of(e.sequence);
    ASSERT_TRUE(time.has_value()) << e.sequence.value;
    EXPECT_EQ(*time, e.time) << e.sequence.value;
  }
  for (auto it = entries->rbegin(); it != entries->rend(); ++it) {
    EXPECT_EQ(*times.Of(it->sequence), it->time) << it->sequence.value;
    EXPECT_EQ(*times.Of(it->sequence), it->time) << it->sequence.value;
  }
  EXPECT_FALSE(times.Of(Sequence{entries->back().sequence.value + 1}).has_value());
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
  // The blocks and the journal are read a page at a time: the same summary whatever the page
  // (most parents then read from the store, the journal window moved many times).
  bool has_2027 = false;
  for (const Json& row : (*summary)["years"]) has_2027 = has_2027 || row["year"] == 2027;
  EXPECT_TRUE(has_2027);
  for (const size_t page : {1u, 2u, 3u, 5u}) {
    const auto paged = report::AnnualTransactionsSummary(*r.store, page);
    ASSERT_TRUE(paged.has_value()) << paged.error().Message();
    EXPECT_EQ(*paged, *summary) << "pages of " << page;
  }
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


// ---- The partner's AEF as XLSX (R-CC-05 item 2 with the workbook a partner actually sends).

std::array<std::string, 5> CsvTexts(const report::AefWorkbook& wb) {
  std::array<std::string, 5> texts;
  for (size_t i = 0; i < 5; ++i) texts[i] = report::TableCsv(wb.tables[i]);
  return texts;
}

TEST_F(Reports, PartnerAefReadsBackFromXlsxExactlyAsFromCsv) {
  for (const char* party : {"MNG", "JPN"}) {
    const auto wb = Aef(party, 2026);
    const std::string path = r.dir.File(std::string(party) + ".xlsx");
    ASSERT_TRUE(report::WriteXlsx(wb, path).ok());
    const auto from_xlsx = report::ReadAefXlsx(path);
    ASSERT_TRUE(from_xlsx.has_value()) << from_xlsx.error();
    const auto from_csv = report::ReadAefCsv(CsvTexts(wb));
    ASSERT_TRUE(from_csv.has_value()) << from_csv.error();
    for (size_t i = 0; i < 5; ++i) {
      EXPECT_EQ(from_xlsx->tables[i].rows, from_csv->tables[i].rows)
          << party << " " << from_xlsx->tables[i].name;
      EXPECT_EQ(from_xlsx->tables[i].rows, wb.tables[i].rows) << party << " " << wb.tables[i].name;
    }
    EXPECT_FALSE(wb.tables[report::kActions].rows.empty()) << party;
  }
  // The cross-Party check on the XLSX route finds what the CSV route finds: nothing.
  const auto partner = report::ReadAefXlsx(r.dir.File("MNG.xlsx"));
  ASSERT_TRUE(partner.has_value());
  const auto checks = report::PreConsistencyChecks(Aef("JPN", 2026), &*partner, 2021, 2030);
  EXPECT_EQ(checks[1].status, "Checked, no inconsistencies identified")
      << (checks[1].problems.empty() ? "" : checks[1].problems[0]);
}

// Writes `wb` as a partner's tool might: libxlsxwriter in constant-memory mode (inline strings,
// no shared strings table) or, with `shared_strings`, with a shared strings table as Excel
// writes; every integer as a number, and the dates as date serials with a date format instead of
// dd/mm/yyyy text.
void WritePartnerXlsx(const report::AefWorkbook& wb, const std::string& path,
                      bool shared_strings = false) {
  lxw_workbook_options options{};
  options.constant_memory = shared_strings ? LXW_FALSE : LXW_TRUE;
  lxw_workbook* book = workbook_new_opt(path.c_str(), &options);
  ASSERT_NE(book, nullptr);
  lxw_format* date_format = workbook_add_format(book);
  format_set_num_format(date_format, "dd/mm/yyyy");
  for (const auto& table : wb.tables) {
    lxw_worksheet* ws = workbook_add_worksheet(book, table.name.c_str());
    std::vector<std::vector<std::string>> rows = {table.columns};
    rows.insert(rows.end(), table.rows.begin(), table.rows.end());
    for (size_t r = 0; r < rows.size(); ++r) {
      for (size_t c = 0; c < rows[r].size(); ++c) {
        const std::string& cell = rows[r][c];
        const auto row = static_cast<lxw_row_t>(r);
        const auto col = static_cast<lxw_col_t>(c);
        const bool date = r > 0 && (table.columns[c] == "Action date" ||
                                    table.columns[c].rfind("Date of ", 0) == 0);
        if (date && cell.size() == 10 && cell[2] == '/') {
          lxw_datetime dt{std::stoi(cell.substr(6, 4)), std::stoi(cell.substr(3, 2)),
                          std::stoi(cell.substr(0, 2)), 0, 0, 0};
          worksheet_write_datetime(ws, row, col, &dt, date_format);
        } else if (r > 0 && !cell.empty() && cell.find_first_not_of("0123456789") == std::string::npos) {
          worksheet_write_number(ws, row, col, std::stod(cell), nullptr);
        } else {
          worksheet_write_string(ws, row, col, cell.c_str(), nullptr);
        }
      }
    }
  }
  ASSERT_EQ(workbook_close(book), LXW_NO_ERROR);
}

TEST_F(Reports, CrossPartyCheckListsAMismatchInAPartnersXlsx) {
  const auto jpn = Aef("JPN", 2026);
  auto mng = Aef("MNG", 2026);
  // Untouched, the partner's workbook in another writer's style reads back to the same tables.
  const std::string same = r.dir.File("mng-same.xlsx");
  WritePartnerXlsx(mng, same);
  const std::string script =
      "import sys, zipfile\n"
      "z = zipfile.ZipFile(sys.argv[1])\n"
      "print('sharedStrings' if 'xl/sharedStrings.xml' in z.namelist() else 'inline',"
      " 't=\"inlineStr\"' in z.read('xl/worksheets/sheet3.xml').decode())\n";
  std::ofstream(r.dir.File("kind.py")) << script;
  EXPECT_EQ(Shell("/usr/bin/python3 " + r.dir.File("kind.py") + " " + same), "inline True\n");
  const auto read_same = report::ReadAefXlsx(same);
  ASSERT_TRUE(read_same.has_value()) << read_same.error();
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(read_same->tables[i].rows, mng.tables[i].rows) << i;
  // One first transfer of 1 t more than Japan acquired: item 2 names the block and both figures.
  std::string block, quantity;
  for (auto& row : mng.tables[report::kActions].rows) {
    if (row[1] != "First transfer" || !block.empty()) continue;
    block = row[3] + " " + row[7] + " " + row[8];
    quantity = row[15];
    row[15] = std::to_string(std::stoll(row[15]) + 1);
  }
  ASSERT_FALSE(block.empty());
  const std::string crafted = r.dir.File("mng-crafted.xlsx");
  WritePartnerXlsx(mng, crafted);
  const auto partner = report::ReadAefXlsx(crafted);
  ASSERT_TRUE(partner.has_value()) << partner.error();
  const auto checks = report::PreConsistencyChecks(jpn, &*partner, 2021, 2030);
  EXPECT_EQ(checks[1].status, "Checked, inconsistencies identified");
  ASSERT_EQ(checks[1].problems.size(), 1u);
  EXPECT_EQ(checks[1].problems[0], block + ": first transferred " +
                                       std::to_string(std::stoll(quantity) + 1) + ", acquired " +
                                       quantity);
}

TEST_F(Reports, CorruptPartnerXlsxGivesAClearError) {
  const auto mng = Aef("MNG", 2026);
  // The base of the broken files has a shared strings table, as Excel's files do (WriteXlsx
  // writes strings inline).
  const std::string good = r.dir.File("good.xlsx");
  WritePartnerXlsx(mng, good, true);
  ASSERT_TRUE(report::ReadAefXlsx(good).has_value());
  auto error_of = [](const std::string& path) {
    const auto read = report::ReadAefXlsx(path);
    EXPECT_FALSE(read.has_value()) << path;
    return read.has_value() ? std::string() : read.error();
  };
  // Not a zip at all; a zip cut in half.
  std::ofstream(r.dir.File("text.xlsx")) << "Party,Version\r\nMNG,1.0\r\n";
  EXPECT_NE(error_of(r.dir.File("text.xlsx")).find("not a readable XLSX workbook"), std::string::npos);
  std::ifstream in(good, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream(r.dir.File("half.xlsx"), std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  EXPECT_NE(error_of(r.dir.File("half.xlsx")).find("not a readable XLSX workbook"), std::string::npos);
  EXPECT_NE(error_of(r.dir.File("absent.xlsx")).find("absent.xlsx"), std::string::npos);
  // A zip whose Actions sheet is malformed XML; one with a DTD (entity tricks); one without the
  // workbook part.
  const std::string script =
      "import sys, zipfile\n"
      "src, dst, part, text = sys.argv[1:5]\n"
      "zin = zipfile.ZipFile(src)\n"
      "with zipfile.ZipFile(dst, 'w', zipfile.ZIP_DEFLATED) as zout:\n"
      "    for item in zin.infolist():\n"
      "        if item.filename == part:\n"
      "            if text != '-': zout.writestr(item, text)\n"
      "        else: zout.writestr(item, zin.read(item.filename))\n";
  std::ofstream(r.dir.File("edit.py")) << script;
  auto edited = [&](const std::string& name, const std::string& part, const std::string& text) {
    const std::string path = r.dir.File(name);
    Shell("/usr/bin/python3 " + r.dir.File("edit.py") + " " + good + " " + path + " " + part +
          " '" + text + "'");
    return path;
  };
  const std::string broken = error_of(edited(
      "broken.xlsx", "xl/worksheets/sheet3.xml",
      "<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData><row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c>"));
  EXPECT_NE(broken.find("sheet 'Actions'"), std::string::npos) << broken;
  EXPECT_NE(broken.find("malformed XML"), std::string::npos) << broken;
  const std::string dtd = error_of(edited(
      "dtd.xlsx", "xl/sharedStrings.xml",
      "<?xml version=\"1.0\"?><!DOCTYPE sst [<!ENTITY a \"aaaaaaaa\">]><sst><si><t>&a;</t></si></sst>"));
  EXPECT_NE(dtd.find("a DTD is not allowed"), std::string::npos) << dtd;
  const std::string no_workbook = error_of(edited("noworkbook.xlsx", "xl/workbook.xml", "-"));
  EXPECT_NE(no_workbook.find("xl/workbook.xml is missing"), std::string::npos) << no_workbook;
  // A shared string index beyond the table.
  const std::string bad_index = error_of(edited(
      "badindex.xlsx", "xl/worksheets/sheet1.xml",
      "<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData><row r=\"1\"><c r=\"A1\" t=\"s\"><v>99999</v></c></row></sheetData></worksheet>"));
  EXPECT_NE(bad_index.find("shared string '99999' does not exist"), std::string::npos) << bad_index;
  // A workbook without the Holdings sheet; one whose header lost a column.
  auto partial = mng;
  partial.tables[report::kHoldings].name = "Stock";
  ASSERT_TRUE(report::WriteXlsx(partial, r.dir.File("nosheet.xlsx")).ok());
  const std::string missing = error_of(r.dir.File("nosheet.xlsx"));
  EXPECT_NE(missing.find("the sheet 'Holdings' is missing"), std::string::npos) << missing;
  auto renamed = mng;
  renamed.tables[report::kActions].columns[18] = "Vintage year";
  ASSERT_TRUE(report::WriteXlsx(renamed, r.dir.File("header.xlsx")).ok());
  const std::string header = error_of(r.dir.File("header.xlsx"));
  EXPECT_NE(header.find("sheet 'Actions': row 1 is not the AEF's header (column 19 is 'Vintage year', "
                        "expected 'Vintage')"),
            std::string::npos)
      << header;
}

TEST(XlsxReader, DecodesEscapesRichTextAndNumbers) {
  EXPECT_EQ(report::DecodeXstring("a_x000D_b_x005F_c"), "a\rb_c");
  EXPECT_EQ(report::DecodeXstring("_x00E9_"), "\xC3\xA9");
  EXPECT_EQ(report::DecodeXstring("_xZZZZ_"), "_xZZZZ_");
  testing::TempDir dir;
  lxw_workbook* book = workbook_new(dir.File("rich.xlsx").c_str());
  lxw_worksheet* ws = workbook_add_worksheet(book, "S");
  lxw_format* bold = workbook_add_format(book);
  format_set_bold(bold);
  lxw_rich_string_tuple a{nullptr, const_cast<char*>("First ")};
  lxw_rich_string_tuple b{bold, const_cast<char*>("transfer")};
  lxw_rich_string_tuple* runs[] = {&a, &b, nullptr};
  worksheet_write_rich_string(ws, 0, 0, runs, nullptr);
  worksheet_write_number(ws, 0, 2, 1e15, nullptr);
  worksheet_write_number(ws, 0, 3, 2.5, nullptr);
  worksheet_write_boolean(ws, 2, 1, 1, nullptr);
  worksheet_write_formula_num(ws, 3, 0, "=1+1", nullptr, 2);
  ASSERT_EQ(workbook_close(book), LXW_NO_ERROR);
  const auto sheets = report::ReadXlsxSheets(dir.File("rich.xlsx"));
  ASSERT_TRUE(sheets.has_value()) << sheets.error();
  ASSERT_EQ(sheets->size(), 1u);
  const auto& rows = (*sheets)[0].rows;
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"First transfer", "", "1000000000000000", "2.5"}));
  EXPECT_TRUE(rows[1].empty());
  EXPECT_EQ(rows[2], (std::vector<std::string>{"", "TRUE"}));
  EXPECT_EQ(rows[3], (std::vector<std::string>{"2"}));
}

// A partner's workbook is a file from outside: a few hundred bytes must not make the reader take
// memory without bound. Each limit is refused by name, before the memory is taken.
TEST(XlsxReader, LimitsStopAmplificationBeforeTheMemoryIsTaken) {
  testing::TempDir dir;
  auto write = [&](const std::string& name, const std::vector<testing::XlsxPart>& parts) {
    const std::string path = dir.File(name);
    EXPECT_EQ(testing::WriteXlsxPackage(path, parts), "") << name;
    return path;
  };
  auto error_of = [](const auto& read) {
    EXPECT_FALSE(read.has_value());
    return read.has_value() ? std::string() : read.error();
  };
  auto inline_cell = [](const std::string& ref, const std::string& text) {
    return "<c r=\"" + ref + "\" t=\"inlineStr\"><is><t>" + text + "</t></is></c>";
  };

  // A cell at the grid's last column, through the AEF reader (the user's path): refused where it
  // is found, not after filling the row with 16,383 empty cells.
  auto aef_sheets = testing::AefHeaderSheets();
  for (auto& [name, rows] : aef_sheets) {
    if (name == "Actions") rows += "<row r=\"2\">" + inline_cell("XFD2", "x") + "</row>";
  }
  const std::string far =
      error_of(report::ReadAefXlsx(write("far.xlsx", testing::WorkbookParts(aef_sheets))));
  EXPECT_EQ(far,
            dir.File("far.xlsx") +
                ": sheet 'Actions': xl/worksheets/sheet3.xml: cell 2:16384 is beyond column 43, "
                "the last one this read takes");

  // Empty cells before far references count: ten rows at XFD, 100,000 cells allowed.
  std::string sparse;
  for (int row = 1; row <= 10; ++row) {
    sparse += "<row r=\"" + std::to_string(row) + "\">" +
              inline_cell("XFD" + std::to_string(row), "x") + "</row>";
  }
  const std::string sparse_path = write("sparse.xlsx", testing::WorkbookParts({{"S", sparse}}));
  report::XlsxLimits few_cells;
  few_cells.cells_max = 100000;
  const std::string cells = error_of(report::ReadXlsxSheets(sparse_path, {}, few_cells));
  EXPECT_NE(
      cells.find("sheet 'S': xl/worksheets/sheet1.xml: more than 100000 cells in the workbook"),
      std::string::npos)
      << cells;
  // 163,840 cells: within the default.
  ASSERT_TRUE(report::ReadXlsxSheets(sparse_path).has_value());

  // A shared string placed in many cells counts each time it is placed.
  const std::string long_text(30000, 'a');
  std::string copies = "<row r=\"1\">";
  for (int col = 0; col < 100; ++col) copies += "<c t=\"s\"><v>0</v></c>";
  copies += "</row>";
  const std::string copies_path =
      write("copies.xlsx", testing::WorkbookParts({{"S", copies}}, {long_text}));
  report::XlsxLimits little_text;
  little_text.text_bytes_max = 1000000;
  const std::string text = error_of(report::ReadXlsxSheets(copies_path, {}, little_text));
  EXPECT_NE(text.find("sheet 'S': xl/worksheets/sheet1.xml: more than 1000000 bytes of cell text"),
            std::string::npos)
      << text;
  const auto all_copies = report::ReadXlsxSheets(copies_path);
  ASSERT_TRUE(all_copies.has_value()) << all_copies.error();
  EXPECT_EQ((*all_copies)[0].rows[0].size(), 100u);

  // One cell holds at most Excel's 32,767 characters: counted in characters after the _xHHHH_
  // escapes are decoded, whether shared or inline.
  std::string e_acute;
  for (int i = 0; i < 32767; ++i) e_acute += "\xC3\xA9";
  std::string escaped;
  for (int i = 0; i < 32767; ++i) escaped += "_x0041_";
  const auto at_limit = report::ReadXlsxSheets(write(
      "atlimit.xlsx", testing::WorkbookParts(
                          {{"S", "<row>" + inline_cell("A1", e_acute) + inline_cell("B1", escaped) +
                                     "<c r=\"C1\" t=\"s\"><v>0</v></c></row>"}},
                          {e_acute})));
  ASSERT_TRUE(at_limit.has_value()) << at_limit.error();
  EXPECT_EQ((*at_limit)[0].rows[0],
            (std::vector<std::string>{e_acute, std::string(32767, 'A'), e_acute}));
  const std::string over(32768, 'a');
  const std::string shared_over = error_of(report::ReadXlsxSheets(
      write("sharedover.xlsx",
            testing::WorkbookParts({{"S", "<row><c t=\"s\"><v>0</v></c></row>"}}, {over}))));
  EXPECT_NE(shared_over.find(
                "xl/sharedStrings.xml: shared string 0: more than 32767 characters in one cell"),
            std::string::npos)
      << shared_over;
  const std::string inline_over = error_of(report::ReadXlsxSheets(
      write("inlineover.xlsx",
            testing::WorkbookParts({{"S", "<row>" + inline_cell("B1", over) + "</row>"}}))));
  EXPECT_NE(
      inline_over.find("sheet 'S': xl/worksheets/sheet1.xml: cell 1:2: more than 32767 characters"),
      std::string::npos)
      << inline_over;

  // Sheets the caller does not name are not read: a broken notes sheet beside the data.
  const std::string notes_path = write(
      "notes.xlsx", testing::WorkbookParts({{"Notes", "<row><c t=\"s\">"},
                                            {"S", "<row>" + inline_cell("A1", "x") + "</row>"}}));
  const auto only_s = report::ReadXlsxSheets(notes_path, {"S"});
  ASSERT_TRUE(only_s.has_value()) << only_s.error();
  ASSERT_EQ(only_s->size(), 1u);
  EXPECT_EQ((*only_s)[0].name, "S");
  EXPECT_NE(error_of(report::ReadXlsxSheets(notes_path)).find("sheet 'Notes'"), std::string::npos);
}

// ---- R-REP-04: the initial report before (or with) the first AEF reporting ITMOs of an approach.

TEST(InitialReport, AefRefusedUntilTheInitialReportIsOnFile) {
  TestRegistry r;
  Scenario(r, /*initial_reports=*/false);
  auto refused = report::BuildAef(*r.store, report::AefRequest{PartyCode{"JPN"}, 2026, "1.0", "2027-04-15"});
  ASSERT_FALSE(refused.has_value());
  ASSERT_TRUE(refused.error().refusal.has_value()) << refused.error().Message();
  EXPECT_EQ(refused.error().refusal->check, Check::kInitialReportNotOnFile);
  EXPECT_EQ(CodeOf(Check::kInitialReportNotOnFile), "JCM-520");
  EXPECT_NE(refused.error().Message().find("cooperative approach JPN-MNG"), std::string::npos)
      << refused.error().Message();
  // A year with no ITMO action (2027: a domestic transfer only) needs no initial report.
  EXPECT_TRUE(report::BuildAef(*r.store, report::AefRequest{PartyCode{"JPN"}, 2027, "1.0", ""}).has_value());
  // The submission command refuses bad input and changes nothing.
  r.clock.Set("2027-03-01T09:00:00Z");
  r.Refused("report.initial.submit", {{"party", "JPN"}, {"ca", "NOPE"}, {"date", "2026-01-01"}},
            Check::kUnknownCooperativeApproach);
  r.Refused("report.initial.submit", {{"party", "THA"}, {"ca", "JPN-MNG"}, {"date", "2026-01-01"}},
            Check::kUnknownParty);
  r.Refused("report.initial.submit", {{"party", "JPN"}, {"ca", "JPN-MNG"}, {"date", "2026-02-30"}},
            Check::kFieldInvalid);
  r.Refused("report.initial.submit", {{"party", "JPN"}, {"ca", "JPN-MNG"}, {"date", "2027-03-02"}},
            Check::kFieldInvalid);  // After today.
  r.Refused("report.initial.submit", {{"party", "JPN"}, {"ca", "JPN-MNG"}}, Check::kFieldMissing);
  EXPECT_FALSE(report::BuildAef(*r.store, report::AefRequest{PartyCode{"JPN"}, 2026, "1.0", "2027-04-15"}).has_value());
  // Mongolia's report does not cover Japan's AEF.
  r.Ok("report.initial.submit", {{"party", "MNG"}, {"ca", "JPN-MNG"}, {"date", "2027-03-01"}});
  EXPECT_TRUE(report::BuildAef(*r.store, report::AefRequest{PartyCode{"MNG"}, 2026, "1.0", "2027-04-15"}).has_value());
  EXPECT_FALSE(report::BuildAef(*r.store, report::AefRequest{PartyCode{"JPN"}, 2026, "1.0", "2027-04-15"}).has_value());
  // On file, but after the AEF's date of submission: still refused, naming both dates.
  const Json on_file = r.Ok("report.initial.submit", {{"party", "JPN"}, {"ca", "JPN-MNG"}, {"date", "2027-03-01"}});
  EXPECT_EQ(on_file["submissions"], 1);
  auto early = report::BuildAef(*r.store, report::AefRequest{PartyCode{"JPN"}, 2026, "1.0", "2027-02-15"});
  ASSERT_FALSE(early.has_value());
  EXPECT_EQ(early.error().refusal->check, Check::kInitialReportNotOnFile);
  EXPECT_NE(early.error().Message().find("submitted on 2027-03-01, after this AEF's date of submission 2027-02-15"),
            std::string::npos) << early.error().Message();
  // Together with the AEF (the same date) is allowed; an updated initial report keeps the first date.
  EXPECT_TRUE(report::BuildAef(*r.store, report::AefRequest{PartyCode{"JPN"}, 2026, "1.0", "2027-03-01"}).has_value());
  const Json updated = r.Ok("report.initial.submit", {{"party", "JPN"}, {"ca", "JPN-MNG"}, {"date", "2027-03-01"},
                                                      {"reference", "updated initial report"}});
  EXPECT_EQ(updated["submissions"], 2);
  EXPECT_EQ(updated["updated"], true);
  EXPECT_EQ(updated["first_date"], "2027-03-01");
}


// ---- A revised AEF against the one generated before (4/CMA.6 para 32).

TEST_F(Reports, AefDiffListsAddedRemovedAndChangedRows) {
  const auto v1 = Aef("JPN", 2026);
  EXPECT_EQ(report::AefDiff(v1, v1)["identical"], true);
  auto revised = report::BuildAef(*r.store, report::AefRequest{PartyCode{"JPN"}, 2026, "1.1", "2027-04-15"});
  ASSERT_TRUE(revised.has_value());
  auto& actions = revised->tables[report::kActions].rows;
  ASSERT_GE(actions.size(), 2u);
  const auto dropped = actions.back();
  actions.pop_back();                        // One action removed,
  actions[0][26] = "corrected";              // one changed (Additional explanatory information),
  auto extra = actions[0];
  extra[10] = extra[11] = "999999";          // one added (another block).
  actions.push_back(extra);
  const auto diff = report::AefDiff(v1, *revised);
  EXPECT_EQ(diff["identical"], false);
  const auto& submission = diff["tables"][0];
  ASSERT_EQ(submission["changed"].size(), 1u) << submission.dump(1);
  EXPECT_EQ(submission["changed"][0]["cells"][0]["column"], "Version");
  EXPECT_EQ(submission["changed"][0]["cells"][0]["old"], "1.0");
  EXPECT_EQ(submission["changed"][0]["cells"][0]["new"], "1.1");
  const auto& table3 = diff["tables"][2];
  EXPECT_EQ(table3["table"], "Actions");
  ASSERT_EQ(table3["removed"].size(), 1u) << table3.dump(1);
  EXPECT_EQ(table3["removed"][0]["Action type"], dropped[1]);
  EXPECT_EQ(table3["removed"][0]["First unit ID"], dropped[10]);
  ASSERT_EQ(table3["added"].size(), 1u);
  EXPECT_EQ(table3["added"][0]["First unit ID"], "999999");
  ASSERT_EQ(table3["changed"].size(), 1u);
  EXPECT_EQ(table3["changed"][0]["cells"].size(), 1u);
  EXPECT_EQ(table3["changed"][0]["cells"][0]["column"], "Additional explanatory information");
  EXPECT_EQ(table3["changed"][0]["cells"][0]["new"], "corrected");
  for (size_t i : {1u, 3u, 4u}) {
    EXPECT_TRUE(diff["tables"][i]["added"].empty() && diff["tables"][i]["removed"].empty() &&
                diff["tables"][i]["changed"].empty())
        << diff["tables"][i].dump(1);
  }
}


// R-REP-07: a Party's confidentiality claim (table, column, optional row key, basis). The public
// view (the default of BuildAef) shows "Confidential" in each covered cell and lists no claim; the
// submission view keeps every value, the five official tables byte-identical to the golden files,
// and adds the Confidentiality table (CSV, JSON "confidential", a sixth XLSX sheet) with the
// basis. Clearing the claim brings the value back.
std::string StateOf(TestRegistry& r) {
  auto digest = r.store->ProjectionDigest();
  EXPECT_TRUE(digest.has_value());
  auto tx = r.store->BeginRead();
  auto last = (*tx)->LastEntry();
  return *digest + "@" + std::to_string(last->has_value() ? (*last)->sequence.value : 0);
}

report::AefWorkbook View(TestRegistry& r, const char* party, bool disclose) {
  report::AefRequest request{PartyCode{party}, 2026, "1.0", "2027-04-15"};
  request.disclose_confidential = disclose;
  auto wb = report::BuildAef(*r.store, request);
  EXPECT_TRUE(wb.has_value()) << (wb ? "" : wb.error().Message());
  return wb.has_value() ? *wb : report::EmptyAefWorkbook();
}

TEST_F(Reports, ConfidentialClaimHidesTheValueInPublicAndListsItsBasisInTheSubmission) {
  const auto before = View(r, "JPN", true);
  ASSERT_TRUE(before.confidential.empty());
  EXPECT_EQ(report::WorkbookJson(View(r, "JPN", false)), report::WorkbookJson(before));
  const std::string basis = "Commercially sensitive: the buyer's contract price follows from it";
  r.Ok("report.confidential.set", {{"party", "JPN"}, {"table", "Authorizations"},
                                   {"column", "Authorized quantity"}, {"row", "JPN-MN101-1"},
                                   {"basis", basis}});
  r.Ok("report.confidential.set", {{"party", "JPN"},
                                   {"table", "Actions"},
                                   {"column", "Quantity (t CO2 eq)"},
                                   {"row", "CA0042-MNG01-MNG-201-2021"},
                                   {"basis", "Use not yet announced"}});
  // A claim on the row key itself does not stop the other claim of that row from matching.
  r.Ok("report.confidential.set", {{"party", "JPN"}, {"table", "Authorizations"},
                                   {"column", "Authorization ID"}, {"basis", "internal reference"}});

  const auto pub = View(r, "JPN", false);
  EXPECT_TRUE(pub.confidential.empty());
  const auto& auth = pub.tables[report::kAuthorizations].rows;
  ASSERT_EQ(auth.size(), 1u);
  EXPECT_EQ(auth[0][4], "Confidential");   // Authorized quantity (was 2000).
  EXPECT_EQ(auth[0][0], "Confidential");   // Authorization ID, every row.
  EXPECT_EQ(auth[0][14], "2021 - 2022");   // Unclaimed columns unchanged.
  const auto& actions = pub.tables[report::kActions].rows;
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(actions[0][15], "300");           // The Acquisition row (First ID 1) unchanged.
  EXPECT_EQ(actions[1][15], "Confidential");  // The Use row (First ID 201).
  EXPECT_EQ(actions[1][4], "JPN-MN101-1");    // Authorization ID of Table 3: not claimed.
  const std::string pub_json = report::WorkbookJson(pub);
  EXPECT_EQ(pub_json.find("2000"), std::string::npos);
  EXPECT_EQ(pub_json.find(basis), std::string::npos);
  EXPECT_EQ(pub_json.find("\"confidential\""), std::string::npos);
  EXPECT_EQ(report::TableCsv(pub.tables[report::kAuthorizations]).find("2000"), std::string::npos);

  // The submission: the five tables exactly as without claims (the golden files), plus the list.
  const auto sub = View(r, "JPN", true);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(report::TableCsv(sub.tables[i]), report::TableCsv(before.tables[i])) << i;
    EXPECT_EQ(report::TableCsv(sub.tables[i]),
              Golden("JPN_2026_" + std::to_string(i + 1) + ".csv", report::TableCsv(sub.tables[i])));
  }
  ASSERT_EQ(sub.confidential.size(), 3u);
  const auto table = report::ConfidentialityTable(sub);
  EXPECT_EQ(table.columns, (std::vector<std::string>{"Table", "Column", "Row key column", "Row key",
                                                      "Basis", "Cells in this AEF"}));
  ASSERT_EQ(table.rows.size(), 3u);
  EXPECT_EQ(table.rows[0], (std::vector<std::string>{"Authorizations", "Authorized quantity",
                                                      "Authorization ID", "JPN-MN101-1", basis, "1"}));
  EXPECT_EQ(table.rows[1][2], "First ID");
  EXPECT_EQ(table.rows[2][3], "(all rows)");
  const Json json = Json::parse(report::WorkbookJson(sub));
  ASSERT_EQ(json["confidential"].size(), 3u);
  EXPECT_EQ(json["confidential"][0]["basis"], basis);
  EXPECT_EQ(json["confidential"][0]["row"], "JPN-MN101-1");
  EXPECT_EQ(json["confidential"][2]["row"], "");
  EXPECT_EQ(json["Authorizations"][0]["Authorized quantity"], "2000");

  // XLSX: the five official sheets unchanged (our reader and openpyxl), a sixth "Confidentiality".
  const std::string path = r.dir.File("sub.xlsx");
  ASSERT_TRUE(report::WriteXlsx(sub, path).ok());
  auto sheets = report::ReadXlsxSheets(path);
  ASSERT_TRUE(sheets.has_value()) << sheets.error();
  ASSERT_EQ(sheets->size(), 6u);
  EXPECT_EQ((*sheets)[5].name, "Confidentiality");
  ASSERT_EQ((*sheets)[5].rows.size(), 4u);
  EXPECT_EQ((*sheets)[5].rows[1][4], basis);
  auto back = report::ReadAefXlsx(path);
  ASSERT_TRUE(back.has_value()) << back.error();
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(back->tables[i].rows, before.tables[i].rows) << i;
  const std::string script =
      "import json, openpyxl, sys\n"
      "wb = openpyxl.load_workbook(sys.argv[1])\n"
      "print(json.dumps({ws.title: [[c.value for c in row] for row in ws.iter_rows()]"
      " for ws in wb.worksheets}))\n";
  std::ofstream(r.dir.File("read6.py")) << script;
  const Json read = Json::parse(Shell("/usr/bin/python3 " + r.dir.File("read6.py") + " " + path),
                                nullptr, false);
  if (read.is_object()) {  // python3-openpyxl installed (scripts/install-deps.sh).
    ASSERT_TRUE(read.contains("Confidentiality"));
    EXPECT_EQ(read["Confidentiality"][1][4], basis);
    EXPECT_EQ(read["Authorizations"][1][4], 2000);
    EXPECT_EQ(read["Authorizations"][0].get<std::vector<std::string>>(),
              report::EmptyAefWorkbook().tables[report::kAuthorizations].columns);
  }
  const std::string pub_path = r.dir.File("pub.xlsx");
  ASSERT_TRUE(report::WriteXlsx(pub, pub_path).ok());
  auto pub_sheets = report::ReadXlsxSheets(pub_path);
  ASSERT_TRUE(pub_sheets.has_value());
  EXPECT_EQ(pub_sheets->size(), 5u);
  EXPECT_EQ((*pub_sheets)[1].rows[1][4], "Confidential");

  // CSV folder: 6_confidentiality.csv only while there are claims.
  const std::string dir = r.dir.File("csv");
  std::filesystem::create_directories(dir);
  ASSERT_TRUE(report::WriteCsvFiles(sub, dir).ok());
  EXPECT_TRUE(std::filesystem::exists(dir + "/6_confidentiality.csv"));

  // Clearing: a basis update keeps one claim; clear brings the values back.
  const Json updated = r.Ok("report.confidential.set",
                            {{"party", "JPN"}, {"table", "Authorizations"},
                             {"column", "Authorized quantity"}, {"row", "JPN-MN101-1"},
                             {"basis", basis + " (until 2030)"}});
  EXPECT_EQ(updated["updated"], true);
  EXPECT_EQ(updated["claims"], 3);
  for (const Json& args :
       {Json{{"party", "JPN"},
             {"table", "Authorizations"},
             {"column", "Authorized quantity"},
             {"row", "JPN-MN101-1"}},
        Json{{"party", "JPN"},
             {"table", "Actions"},
             {"column", "Quantity (t CO2 eq)"},
             {"row", "CA0042-MNG01-MNG-201-2021"}},
        Json{{"party", "JPN"}, {"table", "Authorizations"}, {"column", "Authorization ID"}}}) {
    r.Ok("report.confidential.clear", args);
  }
  const auto cleared = View(r, "JPN", false);
  EXPECT_EQ(report::WorkbookJson(cleared), report::WorkbookJson(before));
  ASSERT_TRUE(report::WriteCsvFiles(View(r, "JPN", true), dir).ok());
  EXPECT_FALSE(std::filesystem::exists(dir + "/6_confidentiality.csv"));
  // Another Party's AEF is never touched by JPN's claims.
  EXPECT_TRUE(View(r, "MNG", true).confidential.empty());
}

TEST_F(Reports, BadConfidentialityRequestsAreRefusedAndChangeNothing) {
  r.Ok("report.confidential.set", {{"party", "JPN"}, {"table", "Holdings"},
                                   {"column", "Vintage"}, {"basis", "b"}});
  const std::string state = StateOf(r);
  const Json ok = {{"party", "JPN"}, {"table", "Authorizations"},
                   {"column", "Authorized quantity"}, {"basis", "commercial"}};
  auto with = [&ok](const char* field, Json value) {
    Json args = ok;
    if (value.is_null()) {
      args.erase(field);
    } else {
      args[field] = std::move(value);
    }
    return args;
  };
  struct Bad {
    const char* command;
    Json args;
    Check check;
    const char* words;  // The message names the problem.
  };
  const std::vector<Bad> bad = {
      {"report.confidential.set", with("table", "Authorisations"), Check::kFieldInvalid,
       "table 'Authorisations' is not an AEF table"},
      {"report.confidential.set", with("column", "Quantity"), Check::kFieldInvalid,
       "column 'Quantity' is not a column of the AEF table 'Authorizations'"},
      {"report.confidential.set", with("column", "authorized quantity"), Check::kFieldInvalid,
       "is not a column"},
      {"report.confidential.set", with("basis", nullptr), Check::kFieldMissing,
       "must give its basis"},
      {"report.confidential.set", with("basis", ""), Check::kFieldMissing, "'basis'"},
      {"report.confidential.set", with("basis", "  \t"), Check::kFieldMissing, "blank"},
      {"report.confidential.set", with("basis", 7), Check::kFieldInvalid, "'basis'"},
      {"report.confidential.set", with("party", "FRA"), Check::kUnknownParty, "FRA"},
      {"report.confidential.set", with("party", "J1"), Check::kFieldInvalid, "alpha-3"},
      {"report.confidential.set", with("party", nullptr), Check::kFieldMissing, "'party'"},
      {"report.confidential.set", with("rows", "JPN-MN101-1"), Check::kUnknownField,
       "takes no field 'rows'"},
      {"report.confidential.set", with("row", ""), Check::kFieldInvalid, "'row' is empty"},
      {"report.confidential.set",
       Json{{"party", "JPN"}, {"table", "Submission"}, {"column", "Version"}, {"row", "x"},
            {"basis", "b"}},
       Check::kFieldInvalid, "single row"},
      {"report.confidential.clear", with("basis", nullptr), Check::kNotFound,
       "no confidentiality claim"},
      {"report.confidential.clear",
       Json{{"party", "JPN"}, {"table", "Holdings"}, {"column", "Vintage"}, {"row", "1"}},
       Check::kNotFound, "row '1'"},
      {"report.confidential.clear",
       Json{{"party", "JPN"}, {"table", "Nope"}, {"column", "Vintage"}}, Check::kFieldInvalid,
       "'Nope'"},
      {"report.confidential.clear", ok, Check::kUnknownField,
       "report.confidential.clear takes no field 'basis' (its fields: party, table, column, row)"},
  };
  for (const Bad& b : bad) {
    const service::Response response = r.Run(b.command, b.args);
    ASSERT_FALSE(response.ok()) << b.args.dump();
    ASSERT_TRUE(response.failure->refusal.has_value()) << response.failure->Message();
    EXPECT_EQ(response.failure->refusal->check, b.check) << b.args.dump() << ": "
                                                         << response.failure->Message();
    EXPECT_NE(response.failure->Message().find(b.words), std::string::npos)
        << response.failure->Message();
    EXPECT_EQ(StateOf(r), state) << b.args.dump();
  }
}

// WorkbookJson writes a row at a time the text a whole-document dump(2) gives: the same bytes,
// checked against that document for empty tables, awkward strings and confidentiality claims.
std::string WorkbookJsonAsADocument(const report::AefWorkbook& workbook) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const report::AefTable& table : workbook.tables) {
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    for (const auto& row : table.rows) {
      nlohmann::ordered_json item = nlohmann::ordered_json::object();
      for (size_t i = 0; i < table.columns.size() && i < row.size(); ++i) {
        item[table.columns[i]] = row[i];
      }
      rows.push_back(item);
    }
    out[table.name] = rows;
  }
  if (!workbook.confidential.empty()) {
    nlohmann::ordered_json claims = nlohmann::ordered_json::array();
    for (const auto& row : report::ConfidentialityTable(workbook).rows) {
      claims.push_back({{"table", row[0]},
                        {"column", row[1]},
                        {"row_key_column", row[2]},
                        {"row", row[3] == "(all rows)" ? "" : row[3]},
                        {"basis", row[4]},
                        {"cells", std::stoll(row[5])}});
    }
    out["confidential"] = claims;
  }
  return out.dump(2);
}

TEST(AefFormat, WorkbookJsonIsTheDocumentsDumpWrittenARowAtATime) {
  report::AefWorkbook wb = report::EmptyAefWorkbook();
  EXPECT_EQ(report::WorkbookJson(wb), WorkbookJsonAsADocument(wb));  // Five empty tables.
  auto& submission = wb.tables[report::kSubmission];
  submission.rows.push_back(std::vector<std::string>(submission.columns.size(), "x"));
  auto& actions = wb.tables[report::kActions];
  for (const std::string cell : {std::string("plain"), std::string("quote \" and \\ back"),
                                 std::string("line\nbreak\ttab"), std::string("日本 \u00e9"),
                                 std::string(""), std::string("{\"json\": [1, 2]}")}) {
    actions.rows.push_back(std::vector<std::string>(actions.columns.size(), cell));
  }
  actions.rows.push_back({"short row"});
  EXPECT_EQ(report::WorkbookJson(wb), WorkbookJsonAsADocument(wb));
  wb.confidential.push_back({"Actions", actions.columns[1], "", "commercial \"secret\""});
  wb.confidential.push_back({"Submission", submission.columns[0], "", "basis"});
  const std::string text = report::WorkbookJson(wb);
  EXPECT_EQ(text, WorkbookJsonAsADocument(wb));
  EXPECT_TRUE(Json::parse(text).contains("confidential"));
}

// ---- Issue 27 item 8: the AEF says what the authorization says ---------------------------------

// A cell of a row by its exact label.
std::string CellOf(const report::AefTable& t, const std::vector<std::string>& row,
                   const std::string& label) {
  for (size_t i = 0; i < t.columns.size(); ++i) {
    if (t.columns[i] == label) return i < row.size() ? row[i] : "";
  }
  ADD_FAILURE() << "no column " << label << " in " << t.name;
  return "";
}

report::AefWorkbook BuildOk(TestRegistry& r, const char* party, int32_t year) {
  auto wb =
      report::BuildAef(*r.store, report::AefRequest{PartyCode{party}, year, "1.0", "2027-04-15"});
  EXPECT_TRUE(wb.has_value()) << (wb ? "" : wb.error().Message());
  return wb.has_value() ? *wb : report::EmptyAefWorkbook();
}

// The set-up of SetUpArticle6 with Mongolia's Step 1 giving other GWP values than Japan's, and
// (when `host_step1` is false) no Step 1 of Mongolia at all.
void SetUpWithHostGwp(TestRegistry& r, bool host_step1) {
  testing::SetUpBasicRegistry(r);
  r.Ok("account.open", {{"registry", "MNG01"}, {"type", "cancellation"}, {"name", "mng cancel"}});
  testing::LoadNomenclature(r);
  r.Ok("ca.define", {{"key", "JPN-MNG"}, {"parties", {"JPN", "MNG"}}, {"ca_id", "CA0042"}});
  r.Ok("ca.authorize", testing::Step1Args("JPN", "JPN01"));
  if (host_step1) {
    Json mng = testing::Step1Args("MNG", "MNG01");
    mng["gwp_values"] = "AR6 GWP-100";
    r.Ok("ca.authorize", mng);
  }
  testing::RegisterProject(r, "MN101");
}

// Item 8: Metric and Applicable GWP value(s) in Tables 2, 3 and 4 are element (l) of the host's
// (the first transferring Party's) Step 1, not a constant; Japan's rows carry Mongolia's values.
// Both Parties' initial reports and Step 2a of MN101; 300 t of 2021 issued into MNG01 on
// 2026-01-15, 100 t of them transferred to JPN01 on 2026-02-01.
void IssueAndTransferToJapan(TestRegistry& r) {
  r.clock.Set("2025-06-01T09:00:00Z");
  r.Ok("report.initial.submit", {{"party", "MNG"}, {"ca", "JPN-MNG"}, {"date", "2025-06-01"}});
  r.Ok("report.initial.submit", {{"party", "JPN"}, {"ca", "JPN-MNG"}, {"date", "2025-06-01"}});
  r.Ok("authorization.add", testing::Step2aArgs("MNG", "MN101"));
  r.Ok("authorization.add", testing::Step2aArgs("JPN", "MN101"));
  r.clock.Set("2026-01-15T09:00:00Z");
  r.Ok("issue.jcm",
       testing::IssueMngArgs("MN101", 1500, Json::array({{{"vintage", 2021}, {"quantity", 300}}})));
  r.clock.Set("2026-02-01T09:00:00Z");
  r.Ok("transfer.international", {{"from", 5}, {"to", 1}, {"quantity", 100}});
}

TEST(AefFromAuthorization, MetricAndGwpComeFromTheHostsStep1ElementL) {
  TestRegistry r;
  SetUpWithHostGwp(r, true);
  IssueAndTransferToJapan(r);
  for (const char* party : {"JPN", "MNG"}) {
    const auto wb = BuildOk(r, party, 2026);
    for (const size_t table : {report::kAuthorizations, report::kActions, report::kHoldings}) {
      const report::AefTable& t = wb.tables[table];
      ASSERT_FALSE(t.rows.empty()) << party << " " << t.name;
      for (const auto& row : t.rows) {
        EXPECT_EQ(CellOf(t, row, "Metric"), "GHG") << party << " " << t.name;
        EXPECT_EQ(CellOf(t, row, "Applicable GWP value(s)"), "AR6 GWP-100")
            << party << " " << t.name;
        EXPECT_EQ(CellOf(t, row, "Applicable non-GHG metric"), "NA") << party << " " << t.name;
      }
    }
  }
}

// Item 8: where the host's element (l) is not on file the cells say nothing (not "NA", which
// would claim the field does not apply) and the row's explanatory information says why.
TEST(AefFromAuthorization, MissingElementLIsReportedAsMissingNotAsNotApplicable) {
  TestRegistry r;
  SetUpWithHostGwp(r, false);
  r.clock.Set("2025-06-01T09:00:00Z");
  r.Ok("authorization.add", testing::Step2aArgs("JPN", "MN101"));
  const auto wb = BuildOk(r, "JPN", 2025);
  const report::AefTable& t = wb.tables[report::kAuthorizations];
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_EQ(CellOf(t, t.rows[0], "Metric"), "");
  EXPECT_EQ(CellOf(t, t.rows[0], "Applicable GWP value(s)"), "");
  EXPECT_NE(CellOf(t, t.rows[0], "Additional explanatory information")
                .find("no Step 1 of MNG for approach JPN-MNG with element (l) is on file"),
            std::string::npos)
      << CellOf(t, t.rows[0], "Additional explanatory information");
}

// Item 8: the terms and conditions are the authorization's words (Step 1 element (g) and the
// Step 2a change terms), and "OIMP authorized by the Party" names the purpose as 2/CMA.3 annex
// para 1(f) words it, with the one the Party names.
TEST(AefFromAuthorization, TermsAreTextAndOimpNamesThePurpose) {
  TestRegistry r;
  testing::SetUpArticle6(r);
  r.clock.Set("2025-06-01T09:00:00Z");
  Json oimp = testing::Step2aArgs("MNG", "MN101", "NDC and IMP");
  oimp["first_transfer_definition"] = "Issuance";
  oimp["oimp_purpose"] = "CORSIA";
  oimp["change_terms"] = {{"increase", false}, {"decrease", true}, {"revocation", true}};
  Json not_oimp = testing::Step2aArgs("JPN", "MN101");
  not_oimp["oimp_purpose"] = "CORSIA";
  r.Refused("authorization.add", not_oimp, Check::kFieldInvalid);  // NDC only: no OIMP to name.
  r.Ok("authorization.add", oimp);
  r.Ok("authorization.add", testing::Step2aArgs("JPN", "MN101"));
  const auto mng = BuildOk(r, "MNG", 2025);
  const report::AefTable& t = mng.tables[report::kAuthorizations];
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_EQ(CellOf(t, t.rows[0], "OIMP authorized by the Party"),
            "International mitigation purposes: CORSIA");
  EXPECT_EQ(CellOf(t, t.rows[0], "First transfer definition for OIMP"), "Issuance");
  const std::string terms = CellOf(t, t.rows[0], "Authorization terms and conditions");
  EXPECT_NE(terms.find("Step 1 (element (g)): Changes apply only to MOs not yet first transferred"),
            std::string::npos)
      << terms;
  EXPECT_NE(terms.find("The authorized quantity may not be raised and may be lowered; the "
                       "authorization may be revoked."),
            std::string::npos)
      << terms;
  EXPECT_EQ(terms.find("increase:"), std::string::npos) << terms;
  const auto jpn = BuildOk(r, "JPN", 2025);
  const report::AefTable& j = jpn.tables[report::kAuthorizations];
  ASSERT_EQ(j.rows.size(), 1u);
  EXPECT_EQ(CellOf(j, j.rows[0], "OIMP authorized by the Party"), "NA");  // NDC only.
}

// Item 8: the mitigation type of the units is the project's (a removal project's ITMOs are
// Removals in both Parties' AEF), not a constant.
TEST(AefFromAuthorization, MitigationTypeComesFromTheProject) {
  EXPECT_EQ(DefaultMitigationType("Reforestation"), "Removals");
  EXPECT_EQ(DefaultMitigationType("Afforestation"), "Removals");
  EXPECT_EQ(DefaultMitigationType("Solar"), "Emission reductions");
  TestRegistry r;
  testing::SetUpBasicRegistry(r);
  r.Ok("account.open", {{"registry", "MNG01"}, {"type", "cancellation"}, {"name", "mng cancel"}});
  testing::LoadNomenclature(r);
  r.Ok("ca.define", {{"key", "JPN-MNG"}, {"parties", {"JPN", "MNG"}}, {"ca_id", "CA0042"}});
  r.Ok("ca.authorize", testing::Step1Args("JPN", "JPN01"));
  r.Ok("ca.authorize", testing::Step1Args("MNG", "MNG01"));
  Json project = testing::ProjectArgs("MN101");
  project["mitigation_type"] = "Removal";  // Not a nomenclature value.
  r.Refused("project.add", project, Check::kFieldInvalid);
  project["mitigation_type"] = "Removals";
  r.Ok("project.add", project);
  r.Ok("project.transition", {{"ref", "MN101"},
                              {"to", "registration_requested"},
                              {"jc_decision", "JC-REQ-MN101"},
                              {"date", "2025-05-01"}});
  r.Ok("project.transition", {{"ref", "MN101"},
                              {"to", "registered"},
                              {"jc_decision", "JC-REG-MN101"},
                              {"date", "2025-05-20"}});
  IssueAndTransferToJapan(r);
  for (const char* party : {"JPN", "MNG"}) {
    const auto wb = BuildOk(r, party, 2026);
    for (const size_t table : {report::kActions, report::kHoldings}) {
      const report::AefTable& t = wb.tables[table];
      ASSERT_FALSE(t.rows.empty()) << party << " " << t.name;
      for (const auto& row : t.rows) {
        EXPECT_EQ(CellOf(t, row, "Mitigation type"), "Removals") << party << " " << t.name;
      }
    }
  }
}

// Item 8: the labels of every table, word for word as decision 4/CMA.6 annex II prints them
// (FCCC/PA/CMA/2024/17/Add.1, 27 March 2025, annex II "Draft version of the agreed electronic
// format", Tables 1-5; transcribed in /work/shared/docs/DOMAIN.md §5.1-5.5 and read against the
// text of the addendum in geneva-hackaton-unfccc-rag-team/rag-challenge,
// data/CMA_txt/CMA2024_6_Decisions_1_to_7.txt). The footnote letters of the printed cells
// ("Reported yearb", "Identification numberb") are left out; the footnotes' words ("Identification
// number in the country of incorporation", "This field is optional") are not labels.
TEST(AefFromAuthorization, LabelsAreTheDecisionsWordForWord) {
  const std::vector<std::vector<std::string>> decision = {
      {"Party", "Version", "Reported year", "Date of submission",
       "Review status of the initial report",
       "Result of the consistency check of this AEF submission",
       "First year of the NDC implementation period", "Last year of the NDC implementation period",
       "Reference to the Article 6 technical expert review report of the initial report"},
      {"Authorization ID", "Date of authorization", "Cooperative approach ID",
       "Version of the authorization", "Authorized quantity", "Metric", "Applicable GWP value(s)",
       "Applicable non-GHG metric", "Sector(s)", "Activity type(s)", "Purposes for authorization",
       "Authorized Party(ies) ID", "Authorized entity(ies) ID", "OIMP authorized by the Party",
       "Authorized timeframe", "Authorization terms and conditions", "Authorization documentation",
       "First transfer definition for OIMP", "Additional explanatory information"},
      {"Action date",
       "Action type",
       "Action subtype",
       "Cooperative approach ID",
       "Authorization ID",
       "First transferring participating Party ID",
       "Party ITMO registry ID",
       "First ID",
       "Last ID",
       "Underlying unit registry ID",
       "First unit ID",
       "Last unit ID",
       "Metric",
       "Applicable GWP value(s)",
       "Applicable non-GHG metric",
       "Quantity (t CO2 eq)",
       "Quantity (in non-GHG metric)",
       "Mitigation type",
       "Vintage",
       "Transferring participating Party ID",
       "Acquiring participating Party ID",
       "Purpose for which the ITMO has been used towards or cancelled for OIMP",
       "Using/cancelling participating Party ID",
       "Using/cancelling authorized entity ID",
       "Calendar year for which the ITMOs are used towards the Party's NDC",
       "Result of the consistency checks",
       "Additional explanatory information"},
      {"Cooperative approach ID", "Authorization ID", "First transferring participating Party ID",
       "Party ITMO registry ID", "First ID", "Last ID", "Underlying unit registry ID",
       "First unit ID", "Last unit ID", "Metric", "Applicable GWP value(s)",
       "Applicable non-GHG metric", "Quantity (t CO2 eq)", "Quantity (in non-GHG metric)",
       "Mitigation type", "Vintage"},
      {"Date of the authorization", "Name", "Country of incorporation", "Identification number",
       "Cooperative approach ID", "Conditions", "Change and revocation conditions",
       "Additional explanatory information"},
  };
  ASSERT_EQ(report::kAefTables.size(), decision.size());
  for (size_t t = 0; t < decision.size(); ++t) {
    const report::AefTableLabels& ours = report::kAefTables[t];
    ASSERT_EQ(ours.column_count, decision[t].size()) << ours.name;
    for (size_t c = 0; c < decision[t].size(); ++c) {
      EXPECT_EQ(std::string(ours.columns[c]), decision[t][c]) << ours.name << " column " << c + 1;
    }
    // The workbook the writers write (CSV, JSON, XLSX) has these headers.
    EXPECT_EQ(report::EmptyAefWorkbook().tables[t].columns, decision[t]) << ours.name;
  }
}

// Item 8: one mapping from commands to AEF actions. Every action service::AefActionsFor reads
// from the journal is a row of one Party's AEF, and every row of both Parties' AEF is one of
// them: an authorization with the OIMP definition Authorization, issuance into both registries,
// an international transfer of units already first transferred, a use, an OMGE and a voluntary
// cancellation.
TEST(AefFromAuthorization, JournalActionsAndTheBuiltAefAgree) {
  TestRegistry r;
  testing::SetUpArticle6(r);
  r.clock.Set("2025-06-01T09:00:00Z");
  r.Ok("report.initial.submit", {{"party", "MNG"}, {"ca", "JPN-MNG"}, {"date", "2025-06-01"}});
  r.Ok("report.initial.submit", {{"party", "JPN"}, {"ca", "JPN-MNG"}, {"date", "2025-06-01"}});
  Json oimp = testing::Step2aArgs("MNG", "MN101", "NDC and OIMP");
  oimp["first_transfer_definition"] = "Authorization";
  r.Ok("authorization.add", oimp);
  r.Ok("authorization.add", testing::Step2aArgs("JPN", "MN101"));
  r.clock.Set("2026-01-15T09:00:00Z");
  r.Ok("issue.jcm", testing::IssueMngArgs("MN101", 2500,
                                          Json::array({{{"vintage", 2021}, {"quantity", 300}},
                                                       {{"vintage", 2022}, {"quantity", 200}}})));
  r.Ok("issue.jcm",
       testing::IssueJpnArgs("MN101", 500, Json::array({{{"vintage", 2021}, {"quantity", 400}}})));
  r.clock.Set("2026-02-01T09:00:00Z");
  r.Ok("transfer.international", {{"from", 5}, {"to", 1}, {"quantity", 100}, {"vintage", 2021}});
  r.clock.Set("2026-03-01T09:00:00Z");
  r.Ok("retire", {{"from", 1}, {"quantity", 50}, {"use_year", 2026}});
  r.Ok("cancel", {{"from", 5}, {"to", 7}, {"quantity", 20}, {"purpose", "omge"}});
  r.Ok("cancel", {{"from", 5}, {"to", 7}, {"quantity", 10}, {"purpose", "voluntary"}});
  using Action = std::tuple<std::string, std::string, int64_t>;  // type, subtype, quantity
  std::vector<Action> journal, aef;
  {
    auto tx = r.store->BeginRead();
    ASSERT_TRUE(tx.has_value());
    auto entries = (*tx)->ReadEntries(Sequence{0}, 100000);
    ASSERT_TRUE(entries.has_value());
    for (const JournalEntry& e : *entries) {
      for (const service::AefAction& a :
           service::AefActionsFor(e.command, Json::parse(e.payload), Json::parse(e.result))) {
        journal.emplace_back(a.type, a.subtype, a.quantity);
      }
    }
  }
  for (const char* party : {"JPN", "MNG"}) {
    const auto wb = BuildOk(r, party, 2026);
    const report::AefTable& t = wb.tables[report::kActions];
    for (const auto& row : t.rows) {
      const std::string subtype = CellOf(t, row, "Action subtype");
      aef.emplace_back(CellOf(t, row, "Action type"), subtype == "NA" ? "" : subtype,
                       std::stoll(CellOf(t, row, "Quantity (t CO2 eq)")));
    }
  }
  std::sort(journal.begin(), journal.end());
  std::sort(aef.begin(), aef.end());
  EXPECT_EQ(journal, aef);
  EXPECT_EQ(std::count(aef.begin(), aef.end(), Action{"First transfer", "Authorization", 300}), 1);
  EXPECT_EQ(std::count(aef.begin(), aef.end(), Action{"Voluntary Cancellation", "", 10}), 1);
}

// Issue 32: the AEF streamed from the store a row at a time (StreamAef into the writers) is the
// AEF that BuildAef held in memory and WriteXlsx / WriteCsvFiles wrote. The XLSX packages are
// compared part by part, byte for byte, but for docProps/core.xml (it carries the time of
// writing), and read back cell by cell; the CSV files are the golden files' bytes.

// The parts of the zip package at `path`, by name.
std::map<std::string, std::string> ZipParts(const std::string& path) {
  std::map<std::string, std::string> parts;
  int error = 0;
  zip_t* zip = zip_open(path.c_str(), ZIP_RDONLY, &error);
  if (zip == nullptr) return parts;
  for (zip_int64_t i = 0; i < zip_get_num_entries(zip, 0); ++i) {
    zip_stat_t stat;
    zip_stat_init(&stat);
    if (zip_stat_index(zip, static_cast<zip_uint64_t>(i), 0, &stat) != 0) continue;
    std::string text(static_cast<size_t>(stat.size), '\0');
    zip_file_t* file = zip_fopen_index(zip, static_cast<zip_uint64_t>(i), 0);
    if (file == nullptr) continue;
    const zip_int64_t read = zip_fread(file, text.data(), stat.size);
    zip_fclose(file);
    if (read == static_cast<zip_int64_t>(stat.size)) parts[stat.name] = text;
  }
  zip_close(zip);
  return parts;
}

// The claims of the confidentiality test: a cell of one row, a cell of one action, a column.
void ClaimThree(TestRegistry& r) {
  r.Ok("report.confidential.set", {{"party", "JPN"},
                                   {"table", "Authorizations"},
                                   {"column", "Authorized quantity"},
                                   {"row", "JPN-MN101-1"},
                                   {"basis", "price"}});
  r.Ok("report.confidential.set", {{"party", "JPN"},
                                   {"table", "Actions"},
                                   {"column", "Quantity (t CO2 eq)"},
                                   {"row", "CA0042-MNG01-MNG-201-2021"},
                                   {"basis", "not announced"}});
  r.Ok("report.confidential.set", {{"party", "JPN"},
                                   {"table", "Authorizations"},
                                   {"column", "Authorization ID"},
                                   {"basis", "internal"}});
}

TEST_F(Reports, StreamedXlsxIsTheWorkbookBuildAefWrotePartForPartAndCellForCell) {
  ClaimThree(r);
  for (const char* party : {"JPN", "MNG"}) {
    for (const bool disclose : {true, false}) {
      const std::string name = std::string(party) + (disclose ? "-submission" : "-public");
      // Before issue 32 (`report aef`): the whole workbook built, redacted for the public view,
      // then written.
      report::AefRequest request{PartyCode{party}, 2026, "1.0", "2027-04-15"};
      request.disclose_confidential = true;
      auto values = report::BuildAef(*r.store, request);
      ASSERT_TRUE(values.has_value()) << values.error().Message();
      report::AefWorkbook held = *values;
      const size_t hidden = disclose ? 0 : report::RedactConfidential(held);
      const std::string held_path = r.dir.File(name + "-held.xlsx");
      ASSERT_TRUE(report::WriteXlsx(held, held_path).ok());
      // Streamed: rows from the store to the file, the checks fed the values on the way.
      request.disclose_confidential = disclose;
      const std::string streamed_path = r.dir.File(name + "-streamed.xlsx");
      auto sink = report::OpenXlsxSink(streamed_path);
      ASSERT_TRUE(sink.has_value()) << sink.error();
      report::ConsistencyChecker checker(nullptr, std::nullopt);
      auto summary = report::StreamAef(*r.store, request, **sink, &checker);
      ASSERT_TRUE(summary.has_value()) << summary.error().Message();
      sink->reset();

      EXPECT_EQ(summary->claims, std::string(party) == "JPN" ? 3u : 0u) << name;
      EXPECT_EQ(summary->cells_hidden, hidden) << name;
      for (size_t t = 0; t < 5; ++t)
        EXPECT_EQ(summary->rows[t], held.tables[t].rows.size()) << name;
      auto held_parts = ZipParts(held_path);
      auto streamed_parts = ZipParts(streamed_path);
      ASSERT_GE(held_parts.size(), 10u) << name;  // Five sheets and the package's own parts.
      held_parts.erase("docProps/core.xml");
      streamed_parts.erase("docProps/core.xml");
      EXPECT_EQ(streamed_parts, held_parts) << name;
      auto held_sheets = report::ReadXlsxSheets(held_path);
      auto streamed_sheets = report::ReadXlsxSheets(streamed_path);
      ASSERT_TRUE(held_sheets.has_value() && streamed_sheets.has_value()) << name;
      ASSERT_EQ(streamed_sheets->size(), held_sheets->size()) << name;
      for (size_t i = 0; i < held_sheets->size(); ++i) {
        EXPECT_EQ((*streamed_sheets)[i].name, (*held_sheets)[i].name) << name;
        EXPECT_EQ((*streamed_sheets)[i].rows, (*held_sheets)[i].rows) << name << " sheet " << i;
      }
      // The streamed checks are those of the workbook, NDC period read from Table 1.
      const auto& submission = values->tables[report::kSubmission].rows[0];
      const auto expected = report::PreConsistencyChecks(
          *values, nullptr, std::atoi(submission[6].c_str()), std::atoi(submission[7].c_str()));
      const auto got = checker.Results();
      ASSERT_EQ(got.size(), expected.size()) << name;
      for (size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(std::tie(got[i].item, got[i].status, got[i].problems),
                  std::tie(expected[i].item, expected[i].status, expected[i].problems))
            << name;
      }
    }
  }
  // The public view of JPN did hide something (or the comparison above proved little).
  report::AefRequest request{PartyCode{"JPN"}, 2026, "1.0", "2027-04-15"};
  report::ConsistencyChecker unused(nullptr, std::nullopt);
  auto json = report::OpenJsonSink([](std::string_view) {});
  auto summary = report::StreamAef(*r.store, request, *json, &unused);
  ASSERT_TRUE(summary.has_value());
  EXPECT_EQ(summary->cells_hidden, 3u);  // Authorized quantity, Authorization ID, one quantity.
}

TEST_F(Reports, StreamedCsvFilesAreTheGoldenFilesBytes) {
  for (const char* party : {"JPN", "MNG"}) {
    const std::string dir = r.dir.File(std::string(party) + "-csv");
    auto summary =
        report::StreamAef(*r.store, report::AefRequest{PartyCode{party}, 2026, "1.0", "2027-04-15"},
                          *report::OpenCsvFilesSink(dir));
    ASSERT_TRUE(summary.has_value()) << summary.error().Message();
    const char* files[] = {"1_submission.csv", "2_authorizations.csv", "3_actions.csv",
                           "4_holdings.csv", "5_authorized_entities.csv"};
    for (size_t i = 0; i < 5; ++i) {
      const std::string golden = std::string(party) + "_2026_" + std::to_string(i + 1) + ".csv";
      std::ifstream in(dir + "/" + files[i], std::ios::binary);
      ASSERT_TRUE(in.good()) << dir << "/" << files[i];
      const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
      EXPECT_EQ(bytes, Golden(golden, bytes)) << golden;
    }
    EXPECT_FALSE(std::filesystem::exists(dir + "/6_confidentiality.csv"));
  }
}

// R-REP-04 is known only once the year's actions are read, after rows were written: a refused
// AEF leaves no file (XLSX, JSON) and no CSV file behind.
TEST(AefStream, ARefusedAefLeavesNothingBehind) {
  TestRegistry r;
  Scenario(r, /*initial_reports=*/false);
  const report::AefRequest request{PartyCode{"JPN"}, 2026, "1.0", "2027-04-15"};
  const std::string xlsx = r.dir.File("refused.xlsx");
  {
    auto sink = report::OpenXlsxSink(xlsx);
    ASSERT_TRUE(sink.has_value());
    auto refused = report::StreamAef(*r.store, request, **sink);
    ASSERT_FALSE(refused.has_value());
    EXPECT_TRUE(refused.error().refusal.has_value()) << refused.error().Message();
  }
  EXPECT_FALSE(std::filesystem::exists(xlsx));
  const std::string dir = r.dir.File("refused-csv");
  EXPECT_FALSE(report::StreamAef(*r.store, request, *report::OpenCsvFilesSink(dir)).has_value());
  size_t left = 0;
  if (std::filesystem::exists(dir)) {
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir)) ++left;
  }
  EXPECT_EQ(left, 0u);
}

// Item 3 looks for an identifier in two holdings rows; a block of one unit names the same
// identifier as its first and its last, in one row, which is no duplicate.
TEST_F(Reports, ABlockOfOneUnitIsNoDuplicateIdentifier) {
  auto jpn = Aef("JPN", 2026);
  auto& holdings = jpn.tables[report::kHoldings].rows;
  ASSERT_FALSE(holdings.empty());
  auto one = holdings[0];
  one[5] = one[4];  // Last ID = First ID,
  one[8] = one[7];  // last unit = first unit: one unit.
  holdings[0] = one;
  EXPECT_EQ(report::PreConsistencyChecks(jpn, nullptr, 2021, 2030)[2].status,
            "Checked, no inconsistencies identified");
  holdings.push_back(one);  // The same unit in a second row is a duplicate.
  const auto twice = report::PreConsistencyChecks(jpn, nullptr, 2021, 2030)[2];
  EXPECT_EQ(twice.status, "Checked, inconsistencies identified");
  EXPECT_EQ(twice.problems,
            (std::vector<std::string>{"Holdings row " + std::to_string(holdings.size() + 1) + ": " +
                                      one[4] + " appears twice"}));
}

}  // namespace
}  // namespace registry
