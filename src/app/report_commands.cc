// `jcmreg report ...`: the AEF workbook, copies of authorizations, the initial report, public
// statistics and corresponding adjustments, from the registry with no hand work.
#include "app/report_commands.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string_view>
#include <vector>

#include "cli/cli.h"
#include "cli/progress.h"
#include "core/csv.h"
#include "report/aef_builder.h"
#include "report/aef_diff.h"
#include "report/authorization_copy.h"
#include "report/regular_info.h"
#include "report/statistics.h"
#include "service/adjustments.h"
#include "service/json_text.h"
#include "service/queries.h"

namespace registry::app {
namespace {

using service::Json;

constexpr const char* kUsage =
    "usage: jcmreg report KIND [--db PATH] ... (jcmreg report KIND --help)\n"
    "  aef            --party P --year Y --out FILE [--format xlsx|csv|json] [--version X.Y]\n"
    "                 [--submission-date YYYY-MM-DD] [--partner DIR|FILE.xlsx]\n"
    "                 [--view submission|public]  (csv: FILE is a\n"
    "                 folder; --partner: the partner's AEF as CSV files in a folder or as an XLSX\n"
    "                 workbook in our layout, for the cross-Party check)\n"
    "  aef-diff       OLD NEW  (two versions of an AEF, each .xlsx or a CSV folder: rows added,\n"
    "                 removed and changed per table, as JSON)\n"
    "  authorization  --ca KEY --party P --out FILE.pdf|FILE.md\n"
    "  initial        --ca KEY --party P --out FILE.pdf|FILE.md\n"
    "  statistics     [--format json|csv] [--table totals|annual|accounts]\n"
    "  adjustments    --party P --ndc-period FIRST-LAST [--format json|csv]\n"
    "  regular        --party P --year BTR_YEAR --out FILE [--format xlsx|csv|json]\n"
    "                 [--view submission|public]  (the regular information of the BTR of\n"
    "                 BTR_YEAR: the AEFs of BTR_YEAR-2 and BTR_YEAR-1; csv: FILE is a folder)\n";

// Whether the --format of `flags` is absent or one of `allowed`; prints a usage error if not.
bool FormatIsOneOf(std::map<std::string, std::string>& flags,
                   std::initializer_list<const char*> allowed) {
  if (!flags.count("--format")) return true;
  std::string list;
  for (const char* a : allowed) {
    if (flags["--format"] == a) return true;
    list += std::string(list.empty() ? "" : " or ") + a;
  }
  std::cerr << "usage error: --format is " << list << ", not '" << flags["--format"] << "'\n";
  return false;
}

bool Require(const std::map<std::string, std::string>& flags,
             std::initializer_list<const char*> names) {
  for (const char* name : names) {
    if (!flags.count(name)) {
      std::cerr << "usage error: " << name << " is required\n" << kUsage;
      return false;
    }
  }
  return true;
}

int Failed(const service::Failure& failure) {
  std::cerr << (failure.refusal ? "refused: " + CodeOf(failure.refusal->check) + " " +
                                      std::string(InfoOf(failure.refusal->check).name) + ": "
                                : "error: ")
            << failure.Message() << "\n";
  return failure.refusal ? cli::kExitRefused : cli::kExitError;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// An AEF written by `report aef`: an XLSX workbook, or a folder of the five CSV files.
Result<report::AefWorkbook, std::string> LoadAef(const std::string& path) {
  if (std::filesystem::is_regular_file(path)) return report::ReadAefXlsx(path);
  if (!std::filesystem::is_directory(path)) {
    return Fail(path + " is neither an XLSX file nor a folder of CSV files");
  }
  const report::AefWorkbook empty = report::EmptyAefWorkbook();
  std::array<std::string, 5> texts;
  for (size_t i = 0; i < 5; ++i) {
    std::string name = empty.tables[i].name;
    for (char& c : name) c = c == ' ' ? '_' : static_cast<char>(std::tolower(c));
    const std::string file = path + "/" + std::to_string(i + 1) + "_" + name + ".csv";
    if (!std::filesystem::is_regular_file(file)) return Fail(file + " is missing");
    texts[i] = ReadFile(file);
  }
  auto read = report::ReadAefCsv(texts);
  if (!read) return Fail(path + ": " + read.error());
  return std::move(read).value();
}

// `report aef-diff OLD NEW`: what changed between two versions of an AEF (no registry needed).
int AefDiff(const std::array<std::string, 2>& paths) {
  std::array<report::AefWorkbook, 2> versions;
  for (int i = 0; i < 2; ++i) {
    auto read = LoadAef(paths[static_cast<size_t>(i)]);
    if (!read) {
      std::cerr << "error: " << (i == 0 ? "old" : "new") << " AEF: " << read.error() << "\n";
      return cli::kExitError;
    }
    versions[static_cast<size_t>(i)] = std::move(read).value();
  }
  std::cout << service::DumpJsonLossy(report::AefDiff(versions[0], versions[1]), 2) << "\n";
  return cli::kExitOk;
}

// Passes rows on to `next`, counting them on a progress line (the total is not known before the
// year's actions are read).
class ProgressSink final : public report::AefRowSink {
 public:
  ProgressSink(report::AefRowSink& next, cli::Progress& progress)
      : next_(next), progress_(progress) {}

  Status<std::string> BeginTable(const report::AefTable& header) override {
    return next_.BeginTable(header);
  }

  Status<std::string> Row(const std::vector<std::string>& cells) override {
    progress_.Update(++rows_);
    return next_.Row(cells);
  }

  Status<std::string> Finish(const std::vector<report::ListedClaim>& listed) override {
    progress_.Done();
    return next_.Finish(listed);
  }

 private:
  report::AefRowSink& next_;
  cli::Progress& progress_;
  int64_t rows_ = 0;
};

// What `report aef` wrote and found.
struct AefWritten {
  std::array<size_t, 5> rows{};
  size_t claims = 0;
  size_t cells_hidden = 0;
  std::vector<report::ConsistencyResult> checks;
};

// Streams the AEF of `request` into `out` as `format` (xlsx, csv: a folder, json) and the
// pre-consistency checks over its values, a row at a time: memory does not grow with the rows
// (issue 32). A JSON file is written beside `out` and renamed when complete.
service::CommandResult<AefWritten> WriteAef(Store& store, const report::AefRequest& request,
                                            const std::string& format, const std::string& out,
                                            const report::AefWorkbook* partner, bool json) {
  const auto error = [](std::string message) {
    return Fail(service::Failure(Error{ErrorCode::kInternal, std::move(message)}));
  };
  std::unique_ptr<report::AefRowSink> sink;
  std::ofstream json_file;
  const std::string json_partial = out + ".partial";
  if (format == "xlsx") {
    auto opened = report::OpenXlsxSink(out);
    if (!opened) return error(opened.error());
    sink = std::move(opened).value();
  } else if (format == "csv") {
    sink = report::OpenCsvFilesSink(out);
  } else {
    json_file.open(json_partial, std::ios::trunc);
    if (!json_file) return error("cannot write " + out);
    sink = report::OpenJsonSink([&json_file](std::string_view text) { json_file << text; });
  }
  report::ConsistencyChecker checker(partner, std::nullopt);
  const auto progress = cli::StderrProgress("report aef", "rows", 0, json);
  ProgressSink counted(*sink, *progress);
  auto streamed = report::StreamAef(store, request, counted, &checker);
  progress->Done();
  sink.reset();  // Unfinished (refused): the writer removes what it wrote.
  if (json_file.is_open()) {
    if (streamed) json_file << "\n";
    json_file.close();
    const bool complete = streamed && !json_file.fail();
    std::error_code moved;
    if (complete) {
      std::filesystem::rename(json_partial, out, moved);
    } else {
      std::filesystem::remove(json_partial, moved);
    }
    if (streamed && (!complete || moved)) {
      return error("cannot write " + out + (moved ? ": " + moved.message() : ""));
    }
  }
  if (!streamed) return Fail(std::move(streamed).error());
  return AefWritten{streamed->rows, streamed->claims, streamed->cells_hidden, checker.Results()};
}

int Aef(cli::Session& s, std::map<std::string, std::string>& flags, bool json) {
  if (!Require(flags, {"--party", "--year", "--out"})) return cli::kExitUsage;
  const auto party = ParsePartyCode(flags["--party"]);
  int32_t year = 0;
  const std::string& year_text = flags["--year"];
  const auto [end, ec] = std::from_chars(year_text.data(), year_text.data() + year_text.size(), year);
  if (ec != std::errc() || end != year_text.data() + year_text.size() || year < 1000 ||
      year > 9999) {
    year = 0;  // "2026abc" and "20x6" are not years (std::stoi took the first as 2026).
  }
  if (!party || year == 0) {
    std::cerr << "usage error: --party is an alpha-3 code and --year a year\n";
    return cli::kExitUsage;
  }
  const std::string view = flags.count("--view") ? flags["--view"] : "submission";
  if (view != "submission" && view != "public") {
    std::cerr << "usage error: --view is submission or public\n";
    return cli::kExitUsage;
  }
  report::AefRequest request{*party, year, flags.count("--version") ? flags["--version"] : "1.0",
                             flags.count("--submission-date") ? flags["--submission-date"] : ""};
  // R-REP-07: the submission view keeps the values and lists the Party's confidentiality claims,
  // the public view replaces what they cover by "Confidential"; the checks run on the values.
  request.disclose_confidential = view == "submission";
  std::optional<report::AefWorkbook> partner;
  if (flags.count("--partner")) {
    auto read = LoadAef(flags["--partner"]);
    if (!read) {
      std::cerr << "error: partner AEF: " << read.error() << "\n";
      return cli::kExitError;
    }
    partner = std::move(read).value();
  }
  const std::string format = flags.count("--format") ? flags["--format"] : "xlsx";
  if (format != "xlsx" && format != "csv" && format != "json") {
    std::cerr << "usage error: --format is xlsx, csv or json\n";
    return cli::kExitUsage;
  }
  const std::string out = flags["--out"];
  auto summary = WriteAef(*s.store, request, format, out, partner ? &*partner : nullptr, json);
  if (!summary) return Failed(summary.error());
  Json sheets = Json::object();
  const report::AefWorkbook empty = report::EmptyAefWorkbook();
  for (size_t t = 0; t < empty.tables.size(); ++t) sheets[empty.tables[t].name] = summary->rows[t];
  Json checks = Json::array();
  for (const auto& c : summary->checks) {
    checks.push_back(Json{{"item", c.item}, {"check", c.name}, {"status", c.status}, {"problems", c.problems}});
  }
  std::cout << service::DumpJsonLossy(
                   Json{{"written", out},
                        {"format", format},
                        {"view", view},
                        {"rows", sheets},
                        {"confidential",
                         {{"claims", summary->claims}, {"cells_hidden", summary->cells_hidden}}},
                        {"pre_consistency_checks", checks}},
                   2)
            << "\n";
  return cli::kExitOk;
}

// `report regular`: the regular information of a Party's BTR (report/regular_info.h).
int Regular(cli::Session& s, std::map<std::string, std::string>& flags) {
  if (!Require(flags, {"--party", "--year", "--out"})) return cli::kExitUsage;
  const auto party = ParsePartyCode(flags["--party"]);
  int32_t year = 0;
  const std::string& year_text = flags["--year"];
  const auto [end, ec] =
      std::from_chars(year_text.data(), year_text.data() + year_text.size(), year);
  if (ec != std::errc() || end != year_text.data() + year_text.size() || year < 1000 ||
      year > 9999) {
    year = 0;
  }
  if (!party || year == 0) {
    std::cerr << "usage error: --party is an alpha-3 code and --year the BTR's year\n";
    return cli::kExitUsage;
  }
  const std::string view = flags.count("--view") ? flags["--view"] : "submission";
  if (view != "submission" && view != "public") {
    std::cerr << "usage error: --view is submission or public\n";
    return cli::kExitUsage;
  }
  if (!FormatIsOneOf(flags, {"xlsx", "csv", "json"})) return cli::kExitUsage;
  const std::string format = flags.count("--format") ? flags["--format"] : "xlsx";
  report::RegularInfoRequest request{*party, year};
  request.disclose_confidential = view == "submission";
  auto info = report::BuildRegularInformation(*s.store, request);
  if (!info) return Failed(info.error());
  const std::string out = flags["--out"];
  Status<std::string> written;
  if (format == "json") {
    std::ofstream file(out, std::ios::binary | std::ios::trunc);
    file << report::RegularInformationJson(*info, *party, year);
    file.close();
    if (!file) written = Fail("cannot write " + out);
  } else if (format == "csv") {
    written = report::StreamRegularInformation(*info, *report::OpenCsvFilesSink(out));
  } else {
    auto sink = report::OpenXlsxSink(out);
    written = sink ? report::StreamRegularInformation(*info, **sink)
                   : Status<std::string>(Fail(sink.error()));
  }
  if (!written.ok()) {
    std::cerr << "error: " << written.error() << "\n";
    return cli::kExitError;
  }
  Json rows = Json::object();
  for (const auto& table : info->tables) rows[table.name] = table.rows.size();
  std::cout << service::DumpJsonLossy(Json{{"written", out},
                                           {"format", format},
                                           {"view", view},
                                           {"years", {info->first_year, info->last_year}},
                                           {"rows", rows}},
                                      2)
            << "\n";
  return cli::kExitOk;
}

int Document(cli::Session& s, std::map<std::string, std::string>& flags, bool initial) {
  if (!Require(flags, {"--ca", "--party", "--out"})) return cli::kExitUsage;
  const auto party = ParsePartyCode(flags["--party"]);
  if (!party) {
    std::cerr << "usage error: --party is an alpha-3 code\n";
    return cli::kExitUsage;
  }
  auto md = initial ? report::InitialReportMarkdown(*s.store, flags["--ca"], *party)
                    : report::AuthorizationCopyMarkdown(*s.store, flags["--ca"], *party);
  if (!md) return Failed(md.error());
  const std::string out = flags["--out"];
  const auto ends_with = [&out](std::string_view end) {
    return out.size() > end.size() && out.compare(out.size() - end.size(), end.size(), end) == 0;
  };
  if (!ends_with(".pdf") && !ends_with(".md")) {
    std::cerr << "usage error: --out is FILE.pdf or FILE.md (the format follows the name), not '"
              << out << "'\n";
    return cli::kExitUsage;
  }
  if (ends_with(".pdf")) {
    auto written = report::WriteTextPdf(*md, initial ? "Initial report" : "Copy of authorization", out);
    if (!written) {
      std::cerr << "error: " << written.error() << "\n";
      return cli::kExitError;
    }
  } else {
    std::ofstream file(out, std::ios::trunc);
    file << *md;
    if (!file) {
      std::cerr << "error: cannot write " << out << "\n";
      return cli::kExitError;
    }
  }
  std::cout << "written " << out << "\n";
  return cli::kExitOk;
}

// CSV as a table for people: columns aligned, numbers right-aligned, a rule under the header.
// `--json` or `--format json|csv` give the machine forms.
void PrintTable(const std::string& csv) {
  auto rows = ParseCsv(csv);
  if (!rows || rows->empty()) {
    std::cout << csv;
    return;
  }
  // What a row is about first: the year and the registry, then the figures.
  std::vector<size_t> order;
  for (const char* first : {"year", "registry"}) {
    for (size_t i = 0; i < rows->front().size(); ++i) {
      if (rows->front()[i] == first) order.push_back(i);
    }
  }
  for (size_t i = 0; i < rows->front().size(); ++i) {
    if (std::find(order.begin(), order.end(), i) == order.end()) order.push_back(i);
  }
  for (CsvRow& row : *rows) {
    if (row.size() != order.size()) continue;
    CsvRow reordered;
    for (size_t i : order) reordered.push_back(row[i]);
    row = std::move(reordered);
  }
  std::vector<size_t> width;
  for (const CsvRow& row : *rows) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  const auto numeric = [](const std::string& cell) {
    return !cell.empty() && cell.find_first_not_of("-0123456789") == std::string::npos;
  };
  for (size_t r = 0; r < rows->size(); ++r) {
    const CsvRow& row = (*rows)[r];
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      const std::string pad(width[i] - row[i].size(), ' ');
      line += (i == 0 ? "" : "  ") + (r > 0 && numeric(row[i]) ? pad + row[i] : row[i] + pad);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::cout << line << "\n";
    if (r == 0) {
      size_t total = 0;
      for (size_t i = 0; i < width.size(); ++i) total += width[i] + (i == 0 ? 0 : 2);
      std::cout << std::string(total, '-') << "\n";
    }
  }
}

int Statistics(cli::Session& s, std::map<std::string, std::string>& flags, bool json) {
  const std::string table = flags.count("--table") ? flags["--table"] : "annual";
  if (table != "totals" && table != "annual" && table != "accounts") {
    std::cerr << "usage error: --table is totals, annual or accounts, not '" << table << "'\n";
    return cli::kExitUsage;
  }
  if (!FormatIsOneOf(flags, {"json", "csv"})) return cli::kExitUsage;
  if (table == "totals" && flags["--format"] == "csv") {
    std::cerr << "usage error: --table totals is written as JSON only\n";
    return cli::kExitUsage;
  }
  service::CommandResult<Json> rows =
      table == "totals"     ? service::TotalsByAccountType(*s.store)
      : table == "accounts" ? report::EntityHoldingAccounts(*s.store)
                            : report::AnnualTransactionsSummary(*s.store);
  if (!rows) return Failed(rows.error());
  const std::string format = flags.count("--format") ? flags["--format"] : "";
  if (format == "csv") {
    std::cout << report::RowsCsv(*rows);
  } else if (json || format == "json" || table == "totals") {
    std::cout << service::DumpJsonLossy(*rows, 2) << "\n";
  } else {
    PrintTable(report::RowsCsv(*rows));
  }
  return cli::kExitOk;
}

int Adjustments(cli::Session& s, std::map<std::string, std::string>& flags, bool json) {
  if (!Require(flags, {"--party", "--ndc-period"})) return cli::kExitUsage;
  const auto party = ParsePartyCode(flags["--party"]);
  const std::string period = flags["--ndc-period"];
  int first = 0;
  int last = 0;
  const auto year = [&period](size_t at, int& out) {
    const auto [end, ec] = std::from_chars(period.data() + at, period.data() + at + 4, out);
    return ec == std::errc() && end == period.data() + at + 4;
  };
  if (!party || period.size() != 9 || period[4] != '-' || !year(0, first) || !year(5, last) ||
      last < first) {
    std::cerr << "usage error: --party P --ndc-period FIRST-LAST (e.g. 2021-2030)\n";
    return cli::kExitUsage;
  }
  if (!FormatIsOneOf(flags, {"json", "csv"})) return cli::kExitUsage;
  auto report = service::AdjustmentsReportJson(*s.store, *party, first);
  if (!report) return Failed(report.error());
  const std::string format = flags.count("--format") ? flags["--format"] : "";
  if (format == "csv") {
    std::cout << service::AdjustmentsCsv(*report);
  } else if (json || format == "json") {
    std::cout << service::DumpJsonLossy(*report, 2) << "\n";
  } else {
    std::cout << "Corresponding adjustments of " << party->value << " for its NDC period " << period
              << " (t CO2 eq; --json for every figure):\n";
    PrintTable(service::AdjustmentsCsv(*report));
  }
  return cli::kExitOk;
}

// `report KIND`: one subcommand per report, its flags read as text and checked by the report
// (a misspelt flag such as --tabel is a usage error, never ignored).
cli::SubcommandRunner AddReport(CLI::App& app, const cli::GlobalOptions& global) {
  CLI::App* report = app.add_subcommand("report",
                                        "the AEF, copies of authorizations, the initial report, "
                                        "public statistics and corresponding adjustments")
                         ->require_subcommand(1);
  struct Kind {
    CLI::App* app;
    std::shared_ptr<cli::TextOptions> options;
  };
  auto kinds = std::make_shared<std::map<std::string, Kind>>();
  const auto add = [&](const std::string& name, const std::string& help,
                       std::initializer_list<std::pair<const char*, const char*>> flags) {
    Kind kind{report->add_subcommand(name, help), std::make_shared<cli::TextOptions>()};
    for (const auto& [flag, flag_help] : flags) kind.options->Add(kind.app, flag, flag_help);
    (*kinds)[name] = kind;
  };
  add("aef", "the agreed electronic format (decision 4/CMA.6 annex II) of a Party for a year",
      {{"--party", "the Party (alpha-3)"},
       {"--year", "the year reported"},
       {"--out", "FILE (xlsx, json) or FOLDER (csv)"},
       {"--format", "xlsx (default), csv or json"},
       {"--version", "the AEF version, e.g. 1.0"},
       {"--submission-date", "YYYY-MM-DD"},
       {"--partner", "the partner's AEF (XLSX or a CSV folder) for the cross-Party check"},
       {"--view", "submission (default) or public (confidential cells hidden)"}});
  add("regular",
      "the regular information of a Party's biennial transparency report (2/CMA.3 annex paras "
      "20-23; 4/CMA.6 paras 21-23), from the AEFs of the two years before BTR_YEAR",
      {{"--party", "the Party (alpha-3)"},
       {"--year", "the BTR's year"},
       {"--out", "FILE (xlsx, json) or FOLDER (csv)"},
       {"--format", "xlsx (default), csv or json"},
       {"--view", "submission (default) or public (confidential cells hidden)"}});
  add("authorization", "a copy of a Party's authorization of a cooperative approach",
      {{"--ca", "the cooperative approach's key"},
       {"--party", "the Party (alpha-3)"},
       {"--out", "FILE.pdf or FILE.md"}});
  add("initial", "a Party's initial report on a cooperative approach",
      {{"--ca", "the cooperative approach's key"},
       {"--party", "the Party (alpha-3)"},
       {"--out", "FILE.pdf or FILE.md"}});
  add("statistics", "public statistics",
      {{"--format", "json (default) or csv"}, {"--table", "totals, annual (default) or accounts"}});
  add("adjustments", "a Party's corresponding adjustments over its NDC period",
      {{"--party", "the Party (alpha-3)"},
       {"--ndc-period", "FIRST-LAST, e.g. 2021-2030"},
       {"--format", "json (default) or csv"}});
  auto diff_paths = std::make_shared<std::array<std::string, 2>>();
  CLI::App* diff = report->add_subcommand(
      "aef-diff", "what changed between two versions of an AEF (rows added, removed, changed)");
  diff->add_option("old", (*diff_paths)[0], "the older AEF: an .xlsx file or a CSV folder")
      ->required();
  diff->add_option("new", (*diff_paths)[1], "the newer AEF")->required();
  return [kinds, diff, diff_paths, &global]() -> std::optional<int> {
    if (diff->parsed()) return AefDiff(*diff_paths);
    for (const auto& [name, kind] : *kinds) {
      if (!kind.app->parsed()) continue;
      std::map<std::string, std::string> flags = kind.options->Given();
      auto session = cli::OpenSession(global.db, false);
      if (!session) {
        std::cerr << "error: " << session.error() << "\n";
        return cli::kExitError;
      }
      if (name == "aef") return Aef(*session, flags, global.json);
      if (name == "regular") return Regular(*session, flags);
      if (name == "authorization") return Document(*session, flags, false);
      if (name == "initial") return Document(*session, flags, true);
      if (name == "statistics") return Statistics(*session, flags, global.json);
      return Adjustments(*session, flags, global.json);
    }
    return std::nullopt;
  };
}

}  // namespace

void RegisterReportCommands() { cli::RegisterSubcommands(AddReport); }

}  // namespace registry::app
