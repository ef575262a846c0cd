// Goal: `jcmreg report aef` works end to end on the demo registry, and what it writes is a
// workbook other software opens. Method: `jcmreg demo` into a temporary registry, then
//   - the AEF of MNG as XLSX given to Japan's `report aef --partner` (cross-Party check, R-CC-05
//     item 2, through the XLSX reader): no inconsistency; a corrupt partner file: exit 3 and a
//     message, and nothing written;
//   - R-REP-04 through the CLI: a registry with ITMO actions but no initial report on file is
//     refused with JCM-520 naming the approach; the demo records its initial reports;
//   - LibreOffice (soffice --headless --convert-to csv, every sheet) opens the demo's workbook:
//     each sheet's header is the AEF's and its rows equal the CSV output cell for cell; the
//     workbook saved again by LibreOffice as XLSX reads back to the same tables through our
//     reader. Skipped when soffice is not installed.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/cli.h"
#include "core/csv.h"
#include "report/aef_builder.h"
#include "report/aef_format.h"
#include "service/registry.h"
#include "testing/test_util.h"
#include "unit/article6_fixture.h"

namespace registry {
namespace {

using service::Json;

struct ShellRun {
  int status = -1;
  std::string out;
};

// Runs a shell command; stdout (and stderr when `with_stderr`) and the exit status.
ShellRun Shell(const std::string& command, bool with_stderr = true) {
  ShellRun run;
  FILE* pipe = popen((command + (with_stderr ? " 2>&1" : "")).c_str(), "r");
  if (pipe == nullptr) return run;
  char buf[4096];
  size_t n = 0;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) run.out.append(buf, n);
  const int status = pclose(pipe);
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `jcmreg report aef --db DB` (report takes its flags after the subcommand).
std::string ReportAef(const std::string& db) {
  return std::string(JCMREG_BINARY) + " report aef --db " + db;
}

// The demo registry, built once for the suite.
class DemoAef : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    const ShellRun demo = Shell(std::string(JCMREG_BINARY) + " --db " + Db() + " demo --data " +
                           JCM_SOURCE_DIR + "/data/jcm");
    ASSERT_EQ(demo.status, 0) << demo.out;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string Db() { return dir_->File("demo.db"); }
  static std::string File(const std::string& name) { return dir_->File(name); }

  // `report aef` on the demo; returns its JSON summary.
  static Json Aef(const std::string& party, const std::string& out, const std::string& extra = "") {
    const ShellRun run = Shell("cd " + dir_->path() + " && " + JCMREG_BINARY + " report aef --db " + Db() +
                              " --party " + party + " --year 2026 --out " + out + " " + extra,
                          false);
    EXPECT_EQ(run.status, 0) << run.out;
    return Json::parse(run.out, nullptr, false);
  }

  static testing::TempDir* dir_;
};

testing::TempDir* DemoAef::dir_ = nullptr;

TEST_F(DemoAef, JapansAefCrossChecksWithMongoliasXlsx) {
  const Json mng = Aef("MNG", File("mng.xlsx"));
  ASSERT_FALSE(mng.is_discarded());
  EXPECT_GT(mng["rows"]["Actions"].get<int>(), 0);
  const Json jpn = Aef("JPN", File("jpn.xlsx"), "--partner " + File("mng.xlsx"));
  ASSERT_FALSE(jpn.is_discarded());
  const Json& item2 = jpn["pre_consistency_checks"][1];
  EXPECT_EQ(item2["item"], 2);
  EXPECT_EQ(item2["status"], "Checked, no inconsistencies identified") << item2.dump();
  // The same through the CSV route.
  Aef("MNG", File("mng-csv"), "--format csv");
  const Json via_csv = Aef("JPN", File("jpn2.xlsx"), "--partner " + File("mng-csv"));
  EXPECT_EQ(via_csv["pre_consistency_checks"], jpn["pre_consistency_checks"]);
  // A corrupt partner file: an error naming it, exit 3, and no output written.
  std::ofstream(File("corrupt.xlsx")) << "PK\x03\x04 not really a zip";
  const ShellRun bad = Shell(ReportAef(Db()) + " --party JPN --year 2026 --out " +
                        File("never.xlsx") + " --partner " + File("corrupt.xlsx"));
  EXPECT_EQ(bad.status, 3) << bad.out;
  EXPECT_NE(bad.out.find("error: partner AEF: " + File("corrupt.xlsx") + ": not a readable XLSX workbook"),
            std::string::npos)
      << bad.out;
  EXPECT_FALSE(std::filesystem::exists(File("never.xlsx")));
}

// Issue 32: `report aef` streams the AEF from the store to its files; the CSV files and the JSON
// file are the bytes of the workbook built in memory (BuildAef, then WriteCsvFiles or
// WorkbookJson), and off a terminal stderr stays empty (no progress line).
TEST_F(DemoAef, StreamedCsvAndJsonAreTheBytesOfTheBuiltWorkbook) {
  for (const std::string party : {"JPN", "MNG"}) {
    for (const std::string view : {"submission", "public"}) {
      const std::string name = party + "-" + view;
      const ShellRun csv =
          Shell(ReportAef(Db()) + " --party " + party + " --year 2026 --view " + view +
                    " --format csv --out " + File(name + "-csv") + " 2>" + File(name + ".err"),
                false);
      ASSERT_EQ(csv.status, 0) << csv.out;
      EXPECT_EQ(ReadFile(File(name + ".err")), "") << name;
      const ShellRun json = Shell(ReportAef(Db()) + " --party " + party + " --year 2026 --view " +
                                      view + " --format json --out " + File(name + ".json"),
                                  false);
      ASSERT_EQ(json.status, 0) << json.out;
      const Json summary = Json::parse(csv.out, nullptr, false);
      ASSERT_FALSE(summary.is_discarded()) << csv.out;

      auto session = cli::OpenSession(Db(), false);
      ASSERT_TRUE(session.has_value()) << session.error();
      report::AefRequest request{PartyCode{party}, 2026, "1.0", ""};
      request.disclose_confidential = view == "submission";
      auto built = report::BuildAef(*session->store, request);
      ASSERT_TRUE(built.has_value()) << built.error().Message();
      EXPECT_GT(built->tables[report::kActions].rows.size(), 0u) << name;
      EXPECT_EQ(summary["rows"]["Actions"], built->tables[report::kActions].rows.size()) << name;
      EXPECT_EQ(summary["rows"]["Holdings"], built->tables[report::kHoldings].rows.size()) << name;
      ASSERT_TRUE(report::WriteCsvFiles(*built, File(name + "-held")).ok());
      size_t files = 0;
      for (const auto& entry : std::filesystem::directory_iterator(File(name + "-held"))) {
        const std::string file = entry.path().filename().string();
        EXPECT_EQ(ReadFile(File(name + "-csv/" + file)), ReadFile(entry.path().string()))
            << name << " " << file;
        ++files;
      }
      EXPECT_GE(files, 5u);
      EXPECT_EQ(ReadFile(File(name + ".json")), report::WorkbookJson(*built) + "\n") << name;
    }
  }
}

// `jcmreg user add|deactivate|activate|token` on a fresh registry: the journal records each
// step, bad uses are usage errors or refusals, and the registry verifies.
TEST(UserCli, UsersAreAddedDeactivatedReactivatedAndGivenNewTokens) {
  testing::TempDir dir;
  const std::string j = std::string(JCMREG_BINARY) + " ";
  const std::string db = " --db " + dir.File("r.db");
  ASSERT_EQ(Shell(j + db + " init").status, 0);
  const ShellRun added = Shell(j + "user add" + db + " --role auditor --scope '*' --name eve --quiet", false);
  ASSERT_EQ(added.status, 0) << added.out;
  EXPECT_EQ(added.out.size(), 65u) << added.out;  // 64 hex digits and a newline.
  ShellRun run = Shell(j + "user deactivate" + db + " --name eve");
  EXPECT_EQ(run.status, 2) << run.out;
  EXPECT_NE(run.out.find("--reason is required"), std::string::npos) << run.out;
  run = Shell(j + "user deactivate" + db + " --name eve --reason 'left the team'");
  EXPECT_EQ(run.status, 0) << run.out;
  EXPECT_NE(run.out.find("\"active\": false"), std::string::npos) << run.out;
  run = Shell(j + "user deactivate" + db + " --name eve --reason again");
  EXPECT_EQ(run.status, 2) << run.out;  // JCM-102: inactive already.
  EXPECT_NE(run.out.find("inactive already"), std::string::npos) << run.out;
  EXPECT_EQ(Shell(j + "user activate" + db + " --name eve").status, 0);
  run = Shell(j + "user token" + db + " --name eve --quiet", false);
  EXPECT_EQ(run.status, 0) << run.out;
  EXPECT_EQ(run.out.size(), 65u) << run.out;
  EXPECT_NE(run.out, added.out);
  run = Shell(j + "user token" + db + " --name nobody");
  EXPECT_NE(run.out.find("user nobody does not exist"), std::string::npos) << run.out;
  run = Shell(j + "user rename" + db + " --name eve");
  EXPECT_EQ(run.status, 2) << run.out;
  EXPECT_EQ(Shell(j + db + " verify").status, 0);
}

// A demo pointed at a folder without the JCM data is refused naming the file and --data, and
// leaves no database behind (it used to create an empty registry first, which the next run then
// refused as existing).
TEST(DemoCli, WithoutItsDataItIsRefusedAndCreatesNothing) {
  testing::TempDir dir;
  const std::string db = dir.File("demo.db");
  const std::string data = dir.File("data");
  std::filesystem::create_directories(data);
  const std::string demo = std::string(JCMREG_BINARY) + " --db " + db + " demo --data " + data;
  ShellRun refused = Shell(demo);
  EXPECT_EQ(refused.status, 3) << refused.out;
  EXPECT_NE(refused.out.find("cannot read " + data + "/mongolia_issuances.csv"), std::string::npos)
      << refused.out;
  EXPECT_NE(refused.out.find("--data DIR"), std::string::npos) << refused.out;
  EXPECT_FALSE(std::filesystem::exists(db));
  EXPECT_FALSE(std::filesystem::exists(db + ".key"));
  // The issuances alone are not enough: the projects and the nomenclature are read too.
  std::filesystem::copy_file(std::string(JCM_SOURCE_DIR) + "/data/jcm/mongolia_issuances.csv",
                             data + "/mongolia_issuances.csv");
  refused = Shell(demo);
  EXPECT_EQ(refused.status, 3) << refused.out;
  EXPECT_NE(refused.out.find("cannot read " + data + "/projects.csv"), std::string::npos)
      << refused.out;
  EXPECT_FALSE(std::filesystem::exists(db));
  const ShellRun made = Shell(std::string(JCMREG_BINARY) + " --db " + db + " demo --data " +
                              JCM_SOURCE_DIR + "/data/jcm");
  EXPECT_EQ(made.status, 0) << made.out;
}

TEST(AefCli, RefusedWithoutTheInitialReportThenAllowed) {
  testing::TestRegistry r;
  testing::SetUpArticle6(r);
  r.clock.Set("2025-06-01T09:00:00Z");
  r.Ok("authorization.add", testing::Step2aArgs("MNG", "MN101"));
  r.clock.Set("2026-01-15T09:00:00Z");
  r.Ok("issue.jcm", testing::IssueMngArgs("MN101", 2500, Json::array({{{"vintage", 2021}, {"quantity", 500}}})));
  r.Ok("transfer.international", {{"from", 5}, {"to", 1}, {"quantity", 300}});  // A first transfer.
  const std::string out = r.dir.File("aef.xlsx");
  const std::string aef = ReportAef(r.db_path) + " --party MNG --year 2026 --out " + out;
  const ShellRun refused = Shell(aef);
  EXPECT_EQ(refused.status, 1) << refused.out;
  EXPECT_NE(refused.out.find("refused: JCM-520 initial_report_not_on_file: the AEF of MNG for 2026 "
                             "would report ITMO actions of cooperative approach JPN-MNG"),
            std::string::npos)
      << refused.out;
  EXPECT_FALSE(std::filesystem::exists(out));
  r.Ok("report.initial.submit", {{"party", "MNG"}, {"ca", "JPN-MNG"}, {"date", "2026-01-15"}});
  const ShellRun allowed = Shell(aef, false);
  EXPECT_EQ(allowed.status, 0) << allowed.out;
  EXPECT_TRUE(std::filesystem::exists(out));
}

TEST_F(DemoAef, AefDiffOfTwoVersionsNamesTheChangedCells) {
  Aef("JPN", File("v1.xlsx"), "--version 1.0");
  Aef("JPN", File("v2"), "--version 1.1 --format csv");
  const ShellRun diff = Shell(std::string(JCMREG_BINARY) + " report aef-diff " + File("v1.xlsx") + " " +
                              File("v2"), false);
  ASSERT_EQ(diff.status, 0) << diff.out;
  const Json out = Json::parse(diff.out, nullptr, false);
  ASSERT_FALSE(out.is_discarded()) << diff.out;
  EXPECT_EQ(out["identical"], false);
  EXPECT_EQ(out["tables"][0]["changed"][0]["cells"],
            Json::parse(R"([{"column": "Version", "old": "1.0", "new": "1.1"}])"));
  for (size_t i = 1; i < 5; ++i) {
    EXPECT_EQ(out["tables"][i]["old_rows"], out["tables"][i]["new_rows"]);
    EXPECT_TRUE(out["tables"][i]["changed"].empty() && out["tables"][i]["added"].empty());
  }
  const ShellRun same = Shell(std::string(JCMREG_BINARY) + " report aef-diff " + File("v1.xlsx") + " " +
                              File("v1.xlsx"), false);
  EXPECT_EQ(Json::parse(same.out, nullptr, false)["identical"], true) << same.out;
  const ShellRun missing = Shell(std::string(JCMREG_BINARY) + " report aef-diff " + File("v1.xlsx") + " " +
                                 File("nowhere"));
  EXPECT_EQ(missing.status, 3);
  EXPECT_NE(missing.out.find("error: new AEF: " + File("nowhere") + " is neither an XLSX file nor a folder"),
            std::string::npos)
      << missing.out;
}

// ---- LibreOffice opens the workbook `jcmreg report aef` writes.

std::string Soffice() {
  for (const char* path : {"/usr/bin/soffice", "/usr/bin/libreoffice", "/usr/local/bin/soffice"}) {
    if (std::filesystem::exists(path)) return path;
  }
  return "";
}

// Bad flags of `jcmreg report` and `holdings` are usage errors (exit 2) naming the problem, and
// write nothing. Before: a misspelt flag (--tabel) was ignored, an unknown --format fell back to
// JSON, --out FILE.docx got Markdown, --ndc-period abcd-2030 aborted the process (std::stoi), and
// --as-of yesterday or 2016-02-30 answered as if it were a date.
TEST_F(DemoAef, BadReportFlagsAreUsageErrorsAndWriteNothing) {
  const std::string j = std::string(JCMREG_BINARY) + " ";
  const std::string db = " --db " + Db();
  struct Bad {
    std::string args;
    std::string words;
  };
  const std::string docx = File("copy.docx");
  const std::vector<Bad> bad = {
      {"report adjustments" + db + " --party JPN --ndc-period abcd-2030",
       "--ndc-period FIRST-LAST"},
      {"report adjustments" + db + " --party JPN --ndc-period 2030-2021",
       "--ndc-period FIRST-LAST"},
      {"report adjustments" + db + " --party JPN --ndc-period 2021-2030 --format xml",
       "--format is json or csv, not 'xml'"},
      {"report aef" + db + " --party JPN --year 2026abc --out " + File("y.xlsx"), "--year a year"},
      {"report statistics" + db + " --tabel annual",
       "The following arguments were not expected: annual --tabel"},
      {"report statistics" + db + " --table yearly", "--table is totals, annual or accounts"},
      {"report statistics" + db + " --format xml", "--format is json or csv, not 'xml'"},
      {"report statistics" + db + " --table totals --format csv", "JSON only"},
      {"report aef" + db + " --party JPN --year 2026 --out " + File("x.xlsx") + " --yaer 2025",
       "were not expected: 2025 --yaer"},
      {"report authorization" + db + " --ca JPN-MNG --party MNG --out " + docx,
       "--out is FILE.pdf or FILE.md"},
      {"--db " + Db() + " holdings 1 --as-of yesterday", "as_of 'yesterday' is not a date"},
      {"--db " + Db() + " holdings 1 --as-of 2016-02-30", "as_of '2016-02-30' is not a date"},
      {"--db " + Db() + " holdings 1 --as-of 2016-02-29T24:00:00Z", "is not a date"},
      {"--db " + Db() + " holdings 1 --at-sequence 99999999",
       "as_of_sequence 99999999 is after the journal's last entry"},
      {"--db " + Db() + " holdings 1 --at-sequence -3", "Value -3 not in range 0 to"},
      {"--db " + Db() + " journal --after -5", "Value -5 not in range 0 to"},
      {"--db " + Db() + " journal --limit 5000", "Value 5000 not in range 1 to 1000"},
  };
  for (const Bad& b : bad) {
    const ShellRun run = Shell(j + b.args);
    EXPECT_EQ(run.status, 2) << b.args << "\n" << run.out;
    EXPECT_NE(run.out.find(b.words), std::string::npos) << b.args << "\n" << run.out;
  }
  EXPECT_FALSE(std::filesystem::exists(docx));
  EXPECT_FALSE(std::filesystem::exists(File("x.xlsx")));
  EXPECT_FALSE(std::filesystem::exists(File("y.xlsx")));
  EXPECT_EQ(Shell(j + "--db " + Db() + " holdings 1 --as-of 2016-02-29T23:59:59Z").status, 0);
  EXPECT_EQ(Shell(j + "report statistics" + db + " --table accounts --format csv").status, 0);
}

// One parser for the whole tool (issue 28): the global options (--db, --json, --actor,
// --idempotency-key) may come before or after the subcommand, for every subcommand. Before,
// `jcmreg verify --db X` and `jcmreg --db X report aef ...` were refused ("The following
// arguments were not expected"), and serve, user, report, import, backup and restore each had a
// parser of their own.
TEST_F(DemoAef, GlobalOptionsGoBeforeOrAfterTheSubcommand) {
  const std::string j = std::string(JCMREG_BINARY) + " ";
  const std::string db = "--db " + Db();
  for (const std::string& line : {db + " verify", "verify " + db}) {
    const ShellRun run = Shell(j + line);
    EXPECT_EQ(run.status, 0) << line << "\n" << run.out;
    EXPECT_NE(run.out.find("verify: ok"), std::string::npos) << line << "\n" << run.out;
  }
  for (const std::string& line : {db + " --json report statistics --table totals",
                                  "report --json statistics --table totals " + db,
                                  "report statistics " + db + " --table totals --json"}) {
    const ShellRun run = Shell(j + line, false);
    EXPECT_EQ(run.status, 0) << line << "\n" << run.out;
    EXPECT_FALSE(Json::parse(run.out, nullptr, false).is_discarded()) << line << "\n" << run.out;
  }
  // For people, a table; for machines, --json or --format json|csv (issue 28 item 4).
  const ShellRun table = Shell(j + "report statistics --table annual " + db, false);
  EXPECT_EQ(table.status, 0) << table.out;
  EXPECT_EQ(table.out.rfind("year  registry  acquisition", 0), 0u) << table.out;
  EXPECT_NE(table.out.find("\n-----"), std::string::npos) << table.out;
  EXPECT_TRUE(Json::parse(table.out, nullptr, false).is_discarded()) << table.out;
  const ShellRun machine = Shell(j + "report statistics --table annual --json " + db, false);
  EXPECT_FALSE(Json::parse(machine.out, nullptr, false).is_discarded()) << machine.out;
  const std::string aef_args = " --party JPN --year 2026 --format json --out ";
  for (const std::string& line : {db + " report aef" + aef_args + File("before.json"),
                                  "report aef" + aef_args + File("after.json") + " " + db}) {
    const ShellRun run = Shell(j + line);
    EXPECT_EQ(run.status, 0) << line << "\n" << run.out;
  }
  EXPECT_EQ(ReadFile(File("before.json")), ReadFile(File("after.json")));
  // serve, import and backup read the global --db wherever it is: a missing registry is named.
  const std::string missing = File("missing.db");
  for (const std::string& line :
       {"serve --listen 127.0.0.1:0 --db " + missing, "--db " + missing + " serve --quiet",
        "--db " + missing + " import projects " + Db(),
        "import projects " + Db() + " --db " + missing}) {
    const ShellRun run = Shell(j + line);
    EXPECT_EQ(run.status, 3) << line << "\n" << run.out;
    EXPECT_NE(run.out.find("no registry at " + missing), std::string::npos) << line << "\n"
                                                                            << run.out;
  }
  const ShellRun backup = Shell(j + "backup --out " + File("copy.db") + " " + db);
  EXPECT_EQ(backup.status, 0) << backup.out;
  const ShellRun restored =
      Shell(j + "--db " + File("restored.db") + " restore --from " + File("copy.db"));
  EXPECT_EQ(restored.status, 0) << restored.out;
  EXPECT_EQ(Shell(j + "verify --db " + File("restored.db")).status, 0);
  // On the copy, a user made with --db before and --actor after: the journal names the actor.
  const ShellRun user = Shell(j + "--db " + File("restored.db") +
                              " user add --role auditor --scope '*' --name aud.cli "
                              "--quiet --actor the-test");
  ASSERT_EQ(user.status, 0) << user.out;
  const ShellRun head = Shell(j + "head --json --db " + File("restored.db"), false);
  ASSERT_EQ(head.status, 0) << head.out;
  const int64_t last = Json::parse(head.out).at("sequence").get<int64_t>();
  const ShellRun journal = Shell(
      j + "journal --json --after " + std::to_string(last - 1) + " --db " + File("restored.db"),
      false);
  ASSERT_EQ(journal.status, 0) << journal.out;
  EXPECT_NE(journal.out.find("\"the-test\""), std::string::npos);
  // A subcommand's --help names the global options too; a usage error is exit 2.
  const ShellRun help = Shell(j + "report aef --help");
  EXPECT_EQ(help.status, 0) << help.out;
  EXPECT_NE(help.out.find("--party"), std::string::npos) << help.out;
  EXPECT_EQ(Shell(j + "report aef --party JPN --bogus 1 " + db).status, 2);
  EXPECT_EQ(Shell(j + "import nonsense " + Db() + " " + db).status, 2);
}

TEST_F(DemoAef, LibreOfficeOpensTheWorkbookSheetBySheet) {
  const std::string soffice = Soffice();
  if (soffice.empty()) GTEST_SKIP() << "soffice not installed (libreoffice-calc-nogui)";
  const Json summary = Aef("JPN", File("AEF-JPN-2026.xlsx"));
  ASSERT_FALSE(summary.is_discarded());
  Aef("JPN", File("csv"), "--format csv");
  const std::string out = File("lo");
  std::filesystem::create_directories(out);
  // Field separator 44 (,), text delimiter 34 ("), UTF-8 (76), raw values (not as shown), and
  // token 12 = -1: every sheet to its own file "<name>-<sheet>.csv" (LibreOffice >= 7.2).
  const std::string filter = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1";
  const ShellRun convert = Shell("HOME=" + out + " timeout 300 " + soffice +
                            " -env:UserInstallation=file://" + out + "/profile --headless --norestore"
                            " --convert-to '" + filter + "' --outdir " + out + " " +
                            File("AEF-JPN-2026.xlsx"));
  ASSERT_EQ(convert.status, 0) << convert.out;
  const report::AefWorkbook empty = report::EmptyAefWorkbook();
  bool per_sheet = std::filesystem::exists(out + "/AEF-JPN-2026-Submission.csv");
  std::string sheets_seen;
  for (size_t i = 0; i < 5; ++i) {
    const std::string& name = empty.tables[i].name;
    std::string path = out + "/AEF-JPN-2026-" + name + ".csv";
    if (!per_sheet) {  // An older LibreOffice: the first sheet only.
      if (i > 0) break;
      path = out + "/AEF-JPN-2026.csv";
    }
    ASSERT_TRUE(std::filesystem::exists(path)) << path << "\n" << convert.out;
    const auto lo = ParseCsv(ReadFile(path));
    ASSERT_TRUE(lo.has_value()) << lo.error();
    ASSERT_FALSE(lo->empty()) << name;
    EXPECT_EQ((*lo)[0], empty.tables[i].columns) << name;
    const size_t rows = lo->size() - 1;
    EXPECT_EQ(rows, summary["rows"][name].get<size_t>()) << name;
    std::string ours_name = name;
    for (char& c : ours_name) c = c == ' ' ? '_' : static_cast<char>(std::tolower(c));
    const auto ours = ParseCsv(ReadFile(File("csv/" + std::to_string(i + 1) + "_" + ours_name + ".csv")));
    ASSERT_TRUE(ours.has_value());
    // Cell for cell, with LibreOffice dropping trailing empty cells of a row.
    for (size_t r = 0; r < std::min(lo->size(), ours->size()); ++r) {
      auto expected = (*ours)[r];
      auto got = (*lo)[r];
      got.resize(expected.size());
      EXPECT_EQ(got, expected) << name << " row " << r + 1;
    }
    sheets_seen += name + ": " + std::to_string(rows) + " rows; ";
  }
  std::cout << "LibreOffice read " << (per_sheet ? "every sheet" : "the first sheet only") << ": "
            << sheets_seen << "\n";
  // A workbook saved by another writer (LibreOffice's own XLSX export: shared strings, styles,
  // its own attributes) reads back to the same tables through our XLSX reader.
  const std::string resaved = out + "/xlsx";
  const ShellRun save = Shell("HOME=" + out + " timeout 300 " + soffice + " -env:UserInstallation=file://" +
                              out + "/profile --headless --norestore --convert-to "
                              "'xlsx:Calc MS Excel 2007 XML' --outdir " + resaved + " " +
                              File("AEF-JPN-2026.xlsx"));
  ASSERT_EQ(save.status, 0) << save.out;
  const auto theirs = report::ReadAefXlsx(resaved + "/AEF-JPN-2026.xlsx");
  ASSERT_TRUE(theirs.has_value()) << theirs.error();
  const auto ours = report::ReadAefXlsx(File("AEF-JPN-2026.xlsx"));
  ASSERT_TRUE(ours.has_value()) << ours.error();
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(theirs->tables[i].rows, ours->tables[i].rows) << ours->tables[i].name;
    EXPECT_EQ(theirs->tables[i].rows.size(), summary["rows"][ours->tables[i].name].get<size_t>());
  }
}

// Issue 33, break 2: a journal entry holding bytes that are not UTF-8 (an idempotency key
// journaled before the edge refused them) made `jcmreg journal` abort. It reads now, with U+FFFD
// in their place, and verifies; and such an argument is refused at the CLI's edge.
TEST(JournalCli, AnEntryHoldingBytesThatAreNotTextStillReads) {
  testing::TestRegistry r;
  const service::Response legacy = r.registry->Execute(
      service::Request{"party.add", {{"code", "THA"}, {"name", "Thailand"}}, "cli", "\xc0"});
  ASSERT_TRUE(legacy.ok());
  r.registry.reset();
  r.store.reset();
  const std::string j = std::string(JCMREG_BINARY) + " --db " + r.db_path + " ";
  const ShellRun read = Shell(j + "journal --after 0", false);
  EXPECT_EQ(read.status, 0) << read.out;
  EXPECT_NE(read.out.find("\xEF\xBF\xBD"), std::string::npos) << read.out;
  EXPECT_EQ(Shell(j + "verify").status, 0);
  const ShellRun refused =
      Shell(j + "--idempotency-key $(printf '\\300') party add VNM 'Viet Nam'");
  EXPECT_EQ(refused.status, 2) << refused.out;
  EXPECT_NE(refused.out.find("JCM-107"), std::string::npos) << refused.out;
}

}  // namespace
}  // namespace registry
