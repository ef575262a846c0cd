// `jcmreg import`: the public JCM project list and the Mongolia–Japan issuance table loaded
// through the service; see import.h.
#include "cli/import.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "cli/cli.h"
#include "cli/progress.h"
#include "core/csv.h"
#include "core/jcm_data.h"
#include "core/nomenclature.h"
#include "service/json_text.h"

namespace registry::cli {
namespace {

using service::Json;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The JCM partner countries of projects.csv by the name the site uses.
const std::map<std::string, std::string>& PartnerCodes() {
  static const auto* m = new std::map<std::string, std::string>{
      {"Indonesia", "IDN"}, {"Thailand", "THA"},     {"Viet Nam", "VNM"},   {"Philippines", "PHL"},
      {"Chile", "CHL"},     {"Mongolia", "MNG"},     {"Palau", "PLW"},      {"Laos", "LAO"},
      {"Cambodia", "KHM"},  {"Bangladesh", "BGD"},   {"Maldives", "MDV"},   {"Myanmar", "MMR"},
      {"Kenya", "KEN"},     {"Costa Rica", "CRI"},   {"Saudi Arabia", "SAU"}, {"Mexico", "MEX"},
      {"Ethiopia", "ETH"},  {"Sri Lanka", "LKA"},    {"Uzbekistan", "UZB"}, {"Kyrgyz", "KGZ"},
      {"Georgia", "GEO"},   {"Tunisia", "TUN"},      {"Senegal", "SEN"},    {"Papua New Guinea", "PNG"}};
  return *m;
}

// [I] The AEF activity type (and sector) a project title names, by keyword, first match wins.
// The public list gives neither; a title matching none is imported without them (reported).
struct Keyword {
  const char* word;
  const char* activity;
  const char* sector;
};
constexpr Keyword kKeywords[] = {
    {"Solar", "Solar", "Energy generation"},
    {"PV", "Solar", "Energy generation"},
    {"Photovoltaic", "Solar", "Energy generation"},
    {"Hydro", "Hydro", "Energy generation"},
    {"Wind", "Wind", "Energy generation"},
    {"Geothermal", "Geothermal", "Energy generation"},
    {"Biogas", "Biogas", "Energy generation"},
    {"Biomass", "Biomass Energy", "Energy generation"},
    {"Landfill", "Landfill gas", "Waste management"},
    {"Waste", "Waste", "Waste management"},
    {"REDD", "Reforestation", "Forestry and land use"},
    {"Transmission", "Energy distribution", "Energy generation"},
    {"Transformer", "Energy distribution", "Energy generation"},
    {"Grid", "Energy distribution", "Energy generation"},
    {"Boiler", "Energy Efficiency Industry", "Industrial processes"},
    {"Chiller", "Energy Efficiency Industry", "Industrial processes"},
    {"Refrigerat", "Energy Efficiency Industry", "Industrial processes"},
    {"Loom", "Energy Efficiency Industry", "Industrial processes"},
    {"Energy Saving", "Energy Efficiency Industry", "Industrial processes"},
    {"Efficien", "Energy Efficiency Industry", "Industrial processes"},
    {"Air-Conditioning", "Energy Efficiency service", "Building and construction"},
    {"Air Conditioning", "Energy Efficiency service", "Building and construction"},
    {"LED", "Energy Efficiency service", "Urban development"},
    {"Bus", "Transport", "Transportation"},
    {"Vehicle", "Transport", "Transportation"},
};

// Splits "A; B" or "1. A 2. B" into names.
std::vector<std::string> SplitParticipants(const std::string& text) {
  std::vector<std::string> out;
  std::string current;
  auto flush = [&] {
    size_t b = current.find_first_not_of(" \t");
    size_t e = current.find_last_not_of(" \t;");
    if (b != std::string::npos && e != std::string::npos && e >= b) out.push_back(current.substr(b, e - b + 1));
    current.clear();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const bool numbered = (i == 0 || text[i - 1] == ' ') && i + 2 < text.size() && text[i] >= '1' &&
                          text[i] <= '9' && text[i + 1] == '.' && text[i + 2] == ' ';
    if (text[i] == ';' || text[i] == '\n') {
      flush();
    } else if (numbered) {
      flush();
      i += 2;
    } else {
      current += text[i];
    }
  }
  flush();
  return out;
}

// Runs a command; returns the failure message or "".
std::string Execute(service::Registry& registry, const std::string& command, const Json& args,
                    Json* result = nullptr) {
  const service::Response r = registry.Execute(service::Request{command, args, "import", ""});
  if (!r.ok()) {
    const auto& f = *r.failure;
    return f.refusal ? CodeOf(f.refusal->check) + " " + f.refusal->message : f.error->message;
  }
  if (result != nullptr) *result = r.result;
  return "";
}

bool DocumentExists(service::Registry& registry, const std::string& kind, const std::string& key) {
  auto tx = registry.store().BeginRead();
  if (!tx) return false;
  auto doc = (*tx)->GetDocument(kind, key);
  return doc && doc->has_value();
}

}  // namespace

ImportReport ImportNomenclature(service::Registry& registry, const std::string& dir) {
  ImportReport report;
  for (const char* list : kNomenclatureLists) {
    if (DocumentExists(registry, "nomenclature", list)) continue;
    const std::string path = dir + "/" + list + ".csv";
    auto values = ParseNomenclatureCsv(ReadAll(path));
    if (!values) {
      report.rejected.push_back(ImportRow{0, path + ": " + values.error()});
      continue;
    }
    const std::string failure = Execute(registry, "nomenclature.set", {{"list", list}, {"values", *values}});
    if (failure.empty()) {
      ++report.taken;
    } else {
      report.rejected.push_back(ImportRow{0, path + ": " + failure});
    }
  }
  return report;
}

ImportReport ImportProjects(service::Registry& registry, const std::string& csv_text,
                            const ImportProgress& progress) {
  ImportReport report;
  auto rows = ParseCsv(csv_text);
  if (!rows || rows->empty()) {
    report.rejected.push_back(ImportRow{1, rows ? "the file is empty" : rows.error()});
    return report;
  }
  const CsvRow& header = rows->front();
  std::map<std::string, size_t> col;
  for (size_t i = 0; i < header.size(); ++i) col[header[i]] = i;
  for (const char* needed : {"reference_no", "host_country", "project_title", "status", "registration_date",
                             "host_country_participant", "japanese_participant", "methodology_no"}) {
    if (!col.count(needed)) {
      report.rejected.push_back(ImportRow{1, std::string("the header has no column '") + needed + "'"});
      return report;
    }
  }
  for (size_t i = 1; i < rows->size(); ++i) {
    if (progress) progress(i - 1, rows->size() - 1);
    const CsvRow& row = (*rows)[i];
    const size_t line = i + 1;
    if (row.size() != header.size()) {
      if (row.size() == 1 && row[0].empty()) continue;  // Trailing newline.
      report.rejected.push_back(ImportRow{line, "has " + std::to_string(row.size()) + " fields, not " +
                                                    std::to_string(header.size())});
      continue;
    }
    auto at = [&](const char* name) { return row[col[name]]; };
    const auto party = PartnerCodes().find(at("host_country"));
    if (party == PartnerCodes().end()) {
      report.rejected.push_back(ImportRow{line, "host country '" + at("host_country") + "' is not a known JCM partner"});
      continue;
    }
    if (!DocumentExists(registry, "party", party->second)) {
      const std::string failure = Execute(registry, "party.add", {{"code", party->second}, {"name", at("host_country")}});
      if (!failure.empty()) {
        report.rejected.push_back(ImportRow{line, "cannot add Party " + party->second + ": " + failure});
        continue;
      }
    }
    const std::string status = at("status");
    std::string state;
    if (status == "Project registered") state = "registered";
    if (status == "Validation") state = "validation";
    if (status == "Request for Registration withdrawn") state = "registration_withdrawn";
    if (state.empty()) {
      report.rejected.push_back(ImportRow{line, "status '" + status + "' is not a known project state"});
      continue;
    }
    // "TH_AM001 Ver1.0", or several pairs "ID_AM005 Ver2.0 ID_AM004 Ver2.0" for one project.
    const std::string methodology_text = at("methodology_no");
    std::vector<std::string> tokens;
    {
      std::istringstream words(methodology_text);
      for (std::string w; words >> w;) tokens.push_back(w);
    }
    std::string methodology = tokens.empty() ? "unknown" : tokens[0];
    std::string methodology_version = tokens.size() >= 2 ? tokens[1] : "";
    if (tokens.size() > 2) {
      methodology.clear();
      for (size_t t = 0; t < tokens.size(); ++t) {
        methodology += (t == 0 ? "" : (t % 2 == 0 ? "; " : " ")) + tokens[t];
      }
      methodology_version = "several";
    }
    Json participants = Json::array();
    for (const std::string& p : SplitParticipants(at("host_country_participant"))) participants.push_back(p);
    for (const std::string& p : SplitParticipants(at("japanese_participant"))) participants.push_back(p);
    Json args = {{"ref", at("reference_no")},
                 {"host_party", party->second},
                 {"title", at("project_title")},
                 {"methodology", methodology},
                 {"methodology_version", methodology_version},
                 {"participants", participants},
                 {"state", state}};
    if (state == "registered") args["registration_date"] = at("registration_date");
    const std::string title = at("project_title");
    for (const Keyword& k : kKeywords) {
      if (title.find(k.word) != std::string::npos) {
        args["sector"] = k.sector;
        args["activity_type"] = k.activity;
        break;
      }
    }
    if (party->second == "MNG") args["allocation"] = {{"MNG", 20}, {"JPN", 80}};
    const std::string failure = Execute(registry, "project.add", args);
    if (!failure.empty()) {
      report.rejected.push_back(ImportRow{line, at("reference_no") + ": " + failure});
      continue;
    }
    ++report.taken;
    if (!args.contains("sector")) {
      report.notes.push_back(ImportRow{line, at("reference_no") + ": no AEF sector or activity type in the title; "
                                                                  "set them before Step 2a"});
    }
  }
  if (progress) progress(rows->size() - 1, rows->size() - 1);
  return report;
}

ImportReport ImportIssuances(service::Registry& registry, const std::string& csv_text,
                             service::FixedClock* clock, const ImportProgress& progress) {
  ImportReport report;
  auto rows = ParseCsv(csv_text);
  if (!rows || rows->empty()) {
    report.rejected.push_back(ImportRow{1, rows ? "the file is empty" : rows.error()});
    return report;
  }
  IssuanceTable table = ParseMongoliaIssuances(*rows);
  // In issuance-date order, so that journal times never go backwards when `clock` is set.
  std::stable_sort(table.records.begin(), table.records.end(),
                   [](const IssuanceRecord& a, const IssuanceRecord& b) { return a.issuance_date < b.issuance_date; });
  for (const RejectedRow& r : table.rejected) report.rejected.push_back(ImportRow{r.line, r.reason});
  // The file's total_notified is the project's total over every monitoring period (a quirk of the
  // scrape); the total of one JC decision is the sum of both sides' notified amounts for it.
  std::map<std::string, std::map<std::string, int64_t>> decided;
  auto decision_key = [](const IssuanceRecord& r) {
    return r.project.value + "|" + r.decision_date + "|" + r.monitoring_start + "|" + r.monitoring_end;
  };
  for (const IssuanceRecord& r : table.records) decided[decision_key(r)][r.side.value] += r.notified;
  std::vector<Account> accounts;
  if (auto tx = registry.store().BeginRead(); tx) {
    if (auto list = (*tx)->ListAccounts(); list) accounts = *list;
  }
  size_t done = 0;
  for (const IssuanceRecord& r : table.records) {
    if (progress) progress(done++, table.records.size());
    if (r.issuance_date.empty() || r.issued == 0) {
      report.rejected.push_back(ImportRow{r.line, r.project.value + " " + r.side.value + ": notified " +
                                                      std::to_string(r.notified) + " t, not issued (yet)"});
      continue;
    }
    if (r.issued != r.notified) {
      report.rejected.push_back(ImportRow{r.line, r.project.value + ": issued " + std::to_string(r.issued) +
                                                      " differs from notified " + std::to_string(r.notified)});
      continue;
    }
    const std::string registry_code = r.side.value + "01";
    int64_t account = 0;
    for (const Account& a : accounts) {
      if (account == 0 && a.registry.value == registry_code && a.type == AccountType::kGovernmentHolding &&
          a.status == AccountStatus::kOpen) {
        account = a.id.value;
      }
    }
    if (account == 0) {
      report.rejected.push_back(ImportRow{r.line, "no open government holding account in " + registry_code});
      continue;
    }
    Json vintages = Json::array();
    for (const IssuanceLine& v : SplitByCalendarYear(r.monitoring_start, r.monitoring_end, r.issued)) {
      vintages.push_back(Json{{"vintage", v.vintage.year}, {"quantity", v.quantity.tonnes}});
    }
    const std::string other = r.side.value == "JPN" ? "MNG" : "JPN";
    const auto& sides = decided[decision_key(r)];
    const int64_t other_share = sides.count(other) ? sides.at(other) : 0;
    if (sides.at(r.side.value) != r.notified) {
      report.rejected.push_back(ImportRow{r.line, r.project.value + ": " + r.side.value +
                                                      " has two rows for one JC decision"});
      continue;
    }
    const Json args = {{"account", account},
                       {"project", r.project.value},
                       {"jc_decision", "JC decision of " + r.decision_date},
                       {"decision_date", r.decision_date},
                       {"monitoring_start", r.monitoring_start},
                       {"monitoring_end", r.monitoring_end},
                       {"total", r.notified + other_share},
                       {"shares", {{r.side.value, r.notified}, {other, other_share}}},
                       {"vintages", vintages}};
    if (clock != nullptr) clock->Set(r.issuance_date + "T09:00:00Z");
    const std::string failure = Execute(registry, "issue.jcm", args);
    if (!failure.empty()) {
      report.rejected.push_back(ImportRow{r.line, r.project.value + " " + r.side.value + ": " + failure});
      continue;
    }
    ++report.taken;
    report.tonnes += r.issued;
  }
  if (progress) progress(done, table.records.size());
  return report;
}

namespace {

int PrintReport(const std::string& what, const ImportReport& report, bool json) {
  if (json) {
    Json rejected = Json::array();
    for (const ImportRow& r : report.rejected) rejected.push_back(Json{{"line", r.line}, {"reason", r.reason}});
    Json notes = Json::array();
    for (const ImportRow& r : report.notes) notes.push_back(Json{{"line", r.line}, {"note", r.reason}});
    std::cout << service::DumpJsonLossy(Json{{"import", what},
                                             {"taken", report.taken},
                                             {"rejected", rejected},
                                             {"notes", notes}},
                                        2)
              << "\n";
  } else {
    std::cout << what << ": " << report.taken << " rows taken, " << report.rejected.size() << " not taken\n";
    for (const ImportRow& r : report.rejected) std::cout << "  line " << r.line << ": " << r.reason << "\n";
    for (const ImportRow& r : report.notes) std::cout << "  note, line " << r.line << ": " << r.reason << "\n";
  }
  return kExitOk;
}

// Feeds an import's rows done and total to a progress line.
ImportProgress Reporter(Progress& progress) {
  return [&progress](size_t done, size_t total) {
    progress.SetTotal(static_cast<int64_t>(total));
    progress.Update(static_cast<int64_t>(done));
  };
}

int RunImport(const GlobalOptions& global, const std::string& what, const std::string& file,
              const std::string& nomenclature) {
  const std::string& db = global.db;
  const bool json = global.json;
  const std::vector<std::string> positional = {what, file};
  if (!std::filesystem::exists(positional[1])) {
    std::cerr << "error: cannot read " << positional[1] << "\n";
    return kExitError;
  }
  auto session = OpenSession(db, false);
  if (!session) {
    std::cerr << "error: " << session.error() << "\n";
    return kExitError;
  }
  const std::string text = ReadAll(positional[1]);
  if (positional[0] == "projects") {
    const ImportReport lists = ImportNomenclature(*session->registry, nomenclature);
    if (!lists.rejected.empty()) {
      PrintReport("nomenclature", lists, json);
      return kExitError;
    }
    const auto progress = StderrProgress("import projects", "rows", 0, json);
    const ImportReport report = ImportProjects(*session->registry, text, Reporter(*progress));
    progress->Done();
    return PrintReport("projects", report, json);
  }
  const auto progress = StderrProgress("import issuances", "rows", 0, json);
  const ImportReport report =
      ImportIssuances(*session->registry, text, nullptr, Reporter(*progress));
  progress->Done();
  return PrintReport("issuances", report, json);
}

SubcommandRunner AddImport(CLI::App& app, const GlobalOptions& global) {
  struct Args {
    std::string what, file, nomenclature = DataDir() + "/nomenclature";
  };
  auto args = std::make_shared<Args>();
  CLI::App* import = app.add_subcommand("import", "load the public JCM data (CSV)");
  import->add_option("what", args->what, "projects or issuances")
      ->required()
      ->check(CLI::IsMember({"projects", "issuances"}));
  import->add_option("file", args->file, "the CSV file")->required();
  import->add_option("--nomenclature", args->nomenclature,
                     "folder of the AEF's controlled lists (default " + args->nomenclature + ")");
  return [import, args, &global]() -> std::optional<int> {
    if (!import->parsed()) return std::nullopt;
    return RunImport(global, args->what, args->file, args->nomenclature);
  };
}

}  // namespace

void RegisterImportCommand() { RegisterSubcommands(AddImport); }

}  // namespace registry::cli
