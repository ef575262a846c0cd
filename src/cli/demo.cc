// `jcmreg demo`: Japan's JCM registry JPN01 hosting Mongolia's MNG01, the real Mongolia–Japan
// issuances of data/jcm/mongolia_issuances.csv (each side issuing its share on its own date), and
// a few transfers, retirements and cancellations. Every step goes through the service, so the
// demo database verifies like any other.
#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/cli.h"
#include "cli/import.h"
#include "core/jcm_data.h"
#include "core/nomenclature.h"
#include "service/json_text.h"

namespace registry::cli {
namespace {

using service::Json;

struct DemoRun {
  service::Registry& registry;
  service::FixedClock& clock;
  bool json;
  int failures = 0;

  // Runs a command at `time`; returns its result (null on failure, which is counted).
  Json Do(const std::string& time, const std::string& command, const Json& args,
          const std::string& actor = "demo") {
    clock.Set(time);
    const service::Response r = registry.Execute(service::Request{command, args, actor, ""});
    if (!r.ok()) {
      std::cerr << "demo: " << command << " failed: " << r.failure->Message() << "\n";
      ++failures;
      return nullptr;
    }
    return r.result;
  }
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::string CheckDemoData(const std::string& data_dir) {
  const std::string hint = " (jcmreg demo reads the JCM data of the repository's data/jcm; "
                           "give its folder with --data DIR)";
  const std::string issuances = data_dir + "/mongolia_issuances.csv";
  const std::string text = ReadFile(issuances);
  auto rows = ParseCsv(text);
  if (text.empty() || !rows) {
    return "cannot read " + issuances + (rows ? "" : ": " + rows.error()) + hint;
  }
  if (ReadFile(data_dir + "/projects.csv").empty()) {
    return "cannot read " + data_dir + "/projects.csv" + hint;
  }
  for (const char* list : kNomenclatureLists) {
    const std::string path = data_dir + "/../nomenclature/" + list + ".csv";
    if (ReadFile(path).empty()) return "cannot read " + path + hint;
  }
  return "";
}

int RunDemo(Session& session, const std::string& data_dir, bool json) {
  const std::string path = data_dir + "/mongolia_issuances.csv";
  const std::string text = ReadFile(path);
  auto rows = ParseCsv(text);
  if (text.empty() || !rows) {  // CheckDemoData ran first; the files changed since.
    std::cerr << "error: cannot read " << path << (rows ? "" : ": " + rows.error()) << "\n";
    return kExitError;
  }
  const IssuanceTable table = ParseMongoliaIssuances(*rows);
  service::FixedClock clock("2015-11-01T00:00:00Z");
  service::Registry registry(*session.store, session.key, clock);
  DemoRun run{registry, clock, json};
  const std::string t0 = "2015-11-01T00:00:00Z";
  run.Do(t0, "party.add", {{"code", "JPN"}, {"name", "Japan"}});
  run.Do(t0, "party.add", {{"code", "MNG"}, {"name", "Mongolia"}});
  run.Do(t0, "registry.add", {{"code", "JPN01"}, {"party", "JPN"}, {"name", "JCM Registry (Japan)"}});
  run.Do(t0, "registry.add",
         {{"code", "MNG01"}, {"party", "MNG"}, {"name", "JCM Registry (Mongolia), hosted by Japan"}});
  const Json trader = run.Do(t0, "entity.add", {{"name", "Demo Trading Co., Ltd."}, {"country", "JPN"},
                                                {"identification", "0100-01-000001"}});
  const Json utility = run.Do(t0, "entity.add", {{"name", "Demo Power Co., Ltd."}, {"country", "JPN"},
                                                 {"identification", "0100-01-000002"}});
  auto open = [&](const char* registry_code, const char* type, const char* name, int64_t holder) {
    Json args = {{"registry", registry_code}, {"type", type}, {"name", name}};
    if (holder != 0) args["holder"] = holder;
    const Json account = run.Do(t0, "account.open", args);
    return account.is_null() ? int64_t{0} : account["id"].get<int64_t>();
  };
  const int64_t jpn_gov = open("JPN01", "government_holding", "Government of Japan holding", 0);
  const int64_t jpn_ret = open("JPN01", "retirement", "Retirement (無効化) towards Japan's NDC", 0);
  const int64_t jpn_can = open("JPN01", "cancellation", "Cancellation (取消し)", 0);
  const int64_t jpn_trader = open("JPN01", "entity_holding", "Demo Trading holding",
                                  trader.is_null() ? 0 : trader["id"].get<int64_t>());
  const int64_t jpn_utility = open("JPN01", "entity_holding", "Demo Power holding",
                                   utility.is_null() ? 0 : utility["id"].get<int64_t>());
  const int64_t mng_gov = open("MNG01", "government_holding", "Government of Mongolia holding", 0);
  open("MNG01", "retirement", "Retirement towards Mongolia's NDC", 0);
  open("MNG01", "cancellation", "Cancellation", 0);

  // The public data, through the same import as `jcmreg import` (AEF nomenclature, the 147
  // projects, the Mongolia–Japan issuances as JC issuance decisions with each side's share).
  const ImportReport lists = ImportNomenclature(registry, data_dir + "/../nomenclature");
  const ImportReport projects = ImportProjects(registry, ReadFile(data_dir + "/projects.csv"));
  const ImportReport issuances = ImportIssuances(registry, text, &clock);
  run.failures += static_cast<int>(lists.rejected.size());
  const int64_t total = issuances.tonnes;
  const size_t applied = issuances.taken;
  const std::string t1 = "2026-02-02T10:00:00Z";
  run.Do(t1, "transfer", {{"from", jpn_gov}, {"to", jpn_trader}, {"quantity", 20000}, {"project", "MN004"}});
  run.Do(t1, "transfer", {{"from", jpn_gov}, {"to", jpn_utility}, {"quantity", 5000}, {"project", "MN003"}});
  run.Do("2026-02-03T10:00:00Z", "transfer", {{"from", jpn_trader}, {"to", jpn_utility}, {"quantity", 2500}});
  run.Do("2026-02-04T10:00:00Z", "retire", {{"from", jpn_utility}, {"to", jpn_ret}, {"quantity", 4000}, {"use_year", 2025}});
  run.Do("2026-02-05T10:00:00Z", "cancel", {{"from", jpn_trader}, {"to", jpn_can}, {"quantity", 1000}, {"purpose", "voluntary"}});
  run.Do("2026-02-06T10:00:00Z", "retire", {{"from", mng_gov}, {"quantity", 500}, {"use_year", 2025}});

  // ---- The Article 6 story: a project authorized by both sides, issued with vintages 2021-2022,
  // first transferred from MNG01 to JPN01 and retired towards Japan's NDC.
  const std::vector<std::string> gases = {"CO2"};
  auto step1 = [&](const char* party, const char* itmo_registry) {
    return Json{{"key", "JPN-MNG"}, {"party", party}, {"date", "2025-03-31"}, {"valid_from", "2025-03-31"},
                {"purposes", "NDC"}, {"regulatory_refs", {"JCM Rules of Implementation (Mongolia-Japan) ver05.0"}},
                {"change_terms", "Changes apply to mitigation outcomes not yet first transferred; an authorization "
                                 "obtained by deliberately false information may be revoked for all of them."},
                {"party_itmo_registry_id", itmo_registry}, {"underlying_registry_ids", {"JCM"}},
                {"vintage_from", 2021}, {"vintage_to", 2030}, {"metric", "GHG"}, {"gwp_values", "AR5"},
                {"gases", gases}, {"sectors", {"Energy generation"}}, {"activity_types", {"Solar"}}};
  };
  const std::string t2 = "2026-03-02T10:00:00Z";
  // With its CARP identifier (a demo value): ITMOs are issued only once the approach has one, so
  // that their identifiers are complete and never change (6/CMA.4 annex I para 33).
  run.Do(t2, "ca.define", {{"key", "JPN-MNG"}, {"parties", {"JPN", "MNG"}}, {"ca_id", "CA0042"}});
  run.Do(t2, "ca.authorize", step1("JPN", "JPN01"));
  run.Do(t2, "ca.authorize", step1("MNG", "MNG01"));
  // Each Party's initial report covering the approach is on file before its first AEF reports
  // ITMOs of it (4/CMA.6 paras 26-27; R-REP-04): `report aef` refuses otherwise.
  for (const char* party : {"JPN", "MNG"}) {
    run.Do(t2, "report.initial.submit", {{"party", party}, {"ca", "JPN-MNG"}, {"date", "2026-03-02"}});
  }
  run.Do(t2, "project.add", {{"ref", "MN901"}, {"host_party", "MNG"},
                             {"title", "Demo: 2 MW solar PV with battery storage (Article 6 story)"},
                             {"methodology", "MN_AM004"}, {"methodology_version", "Ver1.0"},
                             {"sector", "Energy generation"}, {"activity_type", "Solar"},
                             {"participants", {"Demo Power Co., Ltd."}}, {"allocation", {{"MNG", 20}, {"JPN", 80}}},
                             {"ca_key", "JPN-MNG"}, {"state", "validation"}});
  // MN901's cycle as records (project.record, issue 31 item 2), each with its document's
  // SHA-256 and URL (demo documents: the digests are of nothing): validated by a third-party
  // entity, its registration requested and registered by the JC (the records move the project
  // as project.transition would), then one monitoring period reported, verified, its issuance
  // requested and decided by the JC before each side issues it.
  auto record = [&](const std::string& time, const std::string& kind, const std::string& date,
                    char digit, Json extra) {
    Json args = {{"ref", "MN901"},
                 {"kind", kind},
                 {"date", date},
                 {"document",
                  {{"sha256", std::string(64, digit)},
                   {"url", "https://www.jcm.go.jp/mn-jp/projects/demo/MN901/" + kind + ".pdf"}}}};
    for (const auto& [k, v] : extra.items()) args[k] = v;
    run.Do(time, "project.record", args);
  };
  const Json period = {{"monitoring_start", "2021-01-01"}, {"monitoring_end", "2022-12-31"}};
  auto with = [](Json a, const Json& b) {
    for (const auto& [k, v] : b.items()) a[k] = v;
    return a;
  };
  record(t2, "validation_report", "2026-03-02", '1',
         {{"tpe", "Japan Quality Assurance Organization"}, {"report_ref", "JQA-VAL-MN901"}});
  record(t2, "registration_request", "2026-03-02", '2', Json::object());
  const std::string t3 = "2026-03-20T10:00:00Z";
  record(t3, "registration", "2026-03-20", '3', {{"jc_decision", "MN-JC-DEMO-02"}});
  auto step2a = [&](const char* party) {
    return Json{{"party", party}, {"project", "MN901"}, {"authorization_id", std::string(party) + "-MN901-A6"},
                {"date", "2026-03-20"}, {"purposes", "NDC"},
                {"vintages", {{{"vintage", 2021}, {"quantity", 4000}}, {{"vintage", 2022}, {"quantity", 4000}}}},
                {"entities", {utility.is_null() ? 0 : utility["id"].get<int64_t>()}},
                {"acquiring_parties", {"JPN"}},
                {"change_terms", {{"increase", true}, {"decrease", true}, {"revocation", true},
                                  {"false_information_exception", true}}}};
  };
  run.Do(t3, "authorization.add", step2a("MNG"));
  run.Do(t3, "authorization.add", step2a("JPN"));
  auto issue_side = [&](int64_t account, int64_t v2021, int64_t v2022) {
    return Json{{"account", account}, {"project", "MN901"}, {"jc_decision", "MN-JC-DEMO-03"},
                {"decision_date", "2026-04-10"}, {"monitoring_start", "2021-01-01"},
                {"monitoring_end", "2022-12-31"}, {"total", 6000}, {"shares", {{"MNG", 1200}, {"JPN", 4800}}},
                {"vintages", {{{"vintage", 2021}, {"quantity", v2021}}, {{"vintage", 2022}, {"quantity", v2022}}}}};
  };
  record("2026-03-25T10:00:00Z", "monitoring_report", "2026-03-25", '4', period);
  record("2026-03-30T10:00:00Z", "verification_report", "2026-03-30", '5',
         with(period, {{"tpe", "Japan Quality Assurance Organization"},
                       {"report_ref", "JQA-VER-MN901-01"}}));
  record("2026-04-01T10:00:00Z", "issuance_request", "2026-04-01", '6', period);
  record("2026-04-10T10:00:00Z", "jc_decision", "2026-04-10", '7',
         with(period, {{"jc_decision", "MN-JC-DEMO-03"}}));
  run.Do("2026-04-15T09:00:00Z", "issue.jcm", issue_side(mng_gov, 700, 500));    // MNG Step 2b: v2.
  // Japan's side, issued into JPN01: Mongolia's first transfer to Japan and Japan's acquisition
  // (ARCHITECTURE decision 11), counted against Mongolia's authorized quantity; Step 2b of both.
  const Json jpn_issued =
      run.Do("2026-04-20T09:00:00Z", "issue.jcm", issue_side(jpn_gov, 2800, 2000));
  const Json moved = run.Do("2026-05-01T10:00:00Z", "transfer.international",
                            {{"from", mng_gov}, {"to", jpn_gov}, {"quantity", 1200}, {"project", "MN901"}});
  const Json retired = run.Do("2026-05-15T10:00:00Z", "retire",
                              {{"from", jpn_gov}, {"to", jpn_ret}, {"quantity", 1000}, {"project", "MN901"},
                               {"vintage", 2021}, {"use_year", 2026}});

  // ---- A TH014-like flow (ARCHITECTURE decision 11; the real one: JC decision of 30 Oct 2025,
  // 1,009 t of vintage 2021 issued into the Government of Japan's account on 11 Nov 2025).
  // Thailand's registry is not hosted here: the JC decision issues Japan's whole share straight
  // into JPN01, which is Thailand's first transfer to Japan and Japan's acquisition; Japan then
  // uses part of it towards its NDC. Thailand's AEF shows the first transfer, Japan's the
  // acquisition and the use. (Thailand, a JCM partner, is added by the project import.)
  const std::string t4 = "2026-06-01T10:00:00Z";
  run.Do(t4, "ca.define", {{"key", "JPN-THA"}, {"parties", {"JPN", "THA"}}, {"ca_id", "CA0043"}});
  for (const auto& [party, itmo_registry] : {std::pair{"JPN", "JPN01"}, std::pair{"THA", "THA01"}}) {
    Json s1 = step1(party, itmo_registry);
    s1["key"] = "JPN-THA";
    s1["regulatory_refs"] = {"JCM Rules of Implementation (Thailand-Japan)"};
    run.Do(t4, "ca.authorize", s1);
    run.Do(t4, "report.initial.submit", {{"party", party}, {"ca", "JPN-THA"}, {"date", "2026-06-01"}});
  }
  run.Do(t4, "project.add", {{"ref", "TH901"}, {"host_party", "THA"},
                             {"title", "Demo: 5 MW floating solar PV on an industrial water reservoir (TH014-like)"},
                             {"methodology", "TH_AM001"}, {"methodology_version", "Ver1.0"},
                             {"sector", "Energy generation"}, {"activity_type", "Solar"},
                             {"participants", {"Demo Power Co., Ltd."}}, {"allocation", {{"THA", 0}, {"JPN", 100}}},
                             {"ca_key", "JPN-THA"}, {"state", "validation"}});
  run.Do(t4, "project.transition", {{"ref", "TH901"}, {"to", "registration_requested"},
                                    {"jc_decision", "TH-JC-DEMO-01"}, {"date", "2026-06-01"}});
  run.Do(t4, "project.transition", {{"ref", "TH901"}, {"to", "registered"},
                                    {"jc_decision", "TH-JC-DEMO-02"}, {"date", "2026-06-01"}});
  for (const char* party : {"THA", "JPN"}) {
    Json a = step2a(party);
    a["project"] = "TH901";
    a["authorization_id"] = std::string(party) + "-TH901-A6";
    a["date"] = "2026-06-01";
    a["vintages"] = {{{"vintage", 2021}, {"quantity", 1200}}};
    run.Do(t4, "authorization.add", a);
  }
  // Its Credit Allocation Form (issue 31 item 1): Japan's whole share to the Government of
  // Japan's holding account, as the real TH014 issuance went; the console's project page shows it.
  run.Do(t4, "project.allocation_form",
         {{"project", "TH901"},
          {"accounts", {{{"side", "JPN"}, {"account", jpn_gov}, {"percent", 100}}}}});
  const Json th_issued = run.Do(
      "2026-06-11T09:00:00Z", "issue.jcm",
      {{"account", jpn_gov}, {"project", "TH901"}, {"jc_decision", "TH-JC-DEMO-03"},
       {"decision_date", "2026-06-10"}, {"monitoring_start", "2021-01-01"}, {"monitoring_end", "2021-12-31"},
       {"total", 1009}, {"shares", {{"THA", 0}, {"JPN", 1009}}},
       {"vintages", {{{"vintage", 2021}, {"quantity", 1009}}}}});
  const Json th_used = run.Do("2026-06-20T10:00:00Z", "retire",
                              {{"from", jpn_gov}, {"to", jpn_ret}, {"quantity", 500}, {"project", "TH901"},
                               {"use_year", 2026}});

  // ---- A REDD+ project of removals with a reversal (issue 31 item 7; KH005-like, its figures
  // made up): the JC issues Japan's share of 2023 removals into JPN01, as Cambodia's first
  // transfer to Japan; a fire reverses 300 t, of which Japan's government cancels 100 t to
  // remediate. The project's page shows the reversal and what is left to remediate.
  const std::string t5 = "2026-07-01T10:00:00Z";
  run.Do(t5, "ca.define", {{"key", "JPN-KHM"}, {"parties", {"JPN", "KHM"}}, {"ca_id", "CA0044"}});
  for (const auto& [party, itmo_registry] :
       {std::pair{"JPN", "JPN01"}, std::pair{"KHM", "KHM01"}}) {
    Json s1 = step1(party, itmo_registry);
    s1["key"] = "JPN-KHM";
    s1["regulatory_refs"] = {"JCM Rules of Implementation (Cambodia-Japan)"};
    s1["sectors"] = {"Forestry and land use"};
    s1["activity_types"] = {"Reforestation"};
    run.Do(t5, "ca.authorize", s1);
    run.Do(t5, "report.initial.submit",
           {{"party", party}, {"ca", "JPN-KHM"}, {"date", "2026-07-01"}});
  }
  run.Do(t5, "project.add",
         {{"ref", "KH901"},
          {"host_party", "KHM"},
          {"title", "Demo: REDD+ in a wildlife sanctuary (KH005-like)"},
          {"methodology", "KH_AM004"},
          {"methodology_version", "Ver1.1"},
          {"sector", "Forestry and land use"},
          {"activity_type", "Reforestation"},
          {"mitigation_type", "Emission reductions and removals"},
          {"participants", {"Demo Forestry Co., Ltd."}},
          {"allocation", {{"KHM", 50}, {"JPN", 50}}},
          {"ca_key", "JPN-KHM"},
          {"state", "validation"}});
  run.Do(t5, "project.transition",
         {{"ref", "KH901"},
          {"to", "registration_requested"},
          {"jc_decision", "KH-JC-DEMO-01"},
          {"date", "2026-07-01"}});
  run.Do(t5, "project.transition",
         {{"ref", "KH901"},
          {"to", "registered"},
          {"jc_decision", "KH-JC-DEMO-02"},
          {"date", "2026-07-01"}});
  for (const char* party : {"KHM", "JPN"}) {
    Json a = step2a(party);
    a["project"] = "KH901";
    a["authorization_id"] = std::string(party) + "-KH901-A6";
    a["date"] = "2026-07-01";
    a["vintages"] = {{{"vintage", 2023}, {"quantity", 3000}}};
    run.Do(t5, "authorization.add", a);
  }
  run.Do("2026-07-10T09:00:00Z", "issue.jcm",
         {{"account", jpn_gov},
          {"project", "KH901"},
          {"jc_decision", "KH-JC-DEMO-03"},
          {"decision_date", "2026-07-09"},
          {"monitoring_start", "2023-01-01"},
          {"monitoring_end", "2023-12-31"},
          {"total", 4000},
          {"shares", {{"KHM", 2000}, {"JPN", 2000}}},
          {"vintages", {{{"vintage", 2023}, {"quantity", 2000}}}}});
  run.Do("2026-08-03T09:00:00Z", "project.reversal",
         {{"project", "KH901"},
          {"date", "2026-08-01"},
          {"quantity", 300},
          {"cause", "Forest fire in the sanctuary's northern block"}});
  run.Do("2026-08-20T09:00:00Z", "cancel",
         {{"from", jpn_gov},
          {"to", jpn_can},
          {"quantity", 100},
          {"project", "KH901"},
          {"purpose", "other"},
          {"reversal", "KH901/1"}});

  // ---- An inconsistency (issue 31 item 6): the secretariat's check of Mongolia's AEF of 2026
  // finds 50 t of MN901's 2022 units in JPN01 misreported; Mongolia's focal point records it, and
  // those units are held from use (the console's holdings mark them) until it is corrected.
  Json flagged;
  for (const Json& lot : jpn_issued.value("lots", Json::array())) {
    if (lot.value("vintage", 0) != 2022) continue;
    const int64_t first = lot.value("first", int64_t{0});
    flagged =
        run.Do("2027-03-01T09:00:00Z", "inconsistency.record",
               {{"party", "MNG"},
                {"year", 2026},
                {"status", "Checked, inconsistencies identified"},
                {"units", {"JPN01:" + std::to_string(first) + "-" + std::to_string(first + 49)}},
                {"description", "Demo: the vintage of the block reported as 2021 in Table 3"},
                {"reference", "Demo CARP notification"}});
    break;
  }

  Json rejected = Json::array();
  for (const ImportRow& r : issuances.rejected) {
    rejected.push_back(Json{{"line", r.line}, {"reason", r.reason}});
  }
  const Json summary = {{"database", session.db_path},
                        {"issuance_rows_taken", table.records.size()},
                        {"issuances_applied", applied},
                        {"projects_imported", projects.taken},
                        {"project_rows_rejected", projects.rejected.size()},
                        {"article6_first_transferred", moved.is_null() ? 0 : moved["quantity"].get<int64_t>()},
                        {"article6_retired", retired.is_null() ? 0 : retired["quantity"].get<int64_t>()},
                        {"th901_first_transferred_at_issuance", th_issued.is_null() ? 0 : 1009},
                        {"th901_used", th_used.is_null() ? 0 : th_used["quantity"].get<int64_t>()},
                        {"tonnes_issued", total},
                        {"rows_rejected", rejected},
                        {"failures", run.failures}};
  if (json) {
    std::cout << service::DumpJsonLossy(summary, 2) << "\n";
  } else {
    std::cout << "demo registry written to " << session.db_path << "\n"
              << "  issuance rows taken: " << table.records.size() << ", issuances applied: "
              << applied << ", tonnes issued: " << total << "\n"
              << "  projects imported: " << projects.taken << ", project rows not taken: "
              << projects.rejected.size() << "\n";
    for (const ImportRow& r : projects.rejected) {
      std::cout << "  project row not taken, line " << r.line << ": " << r.reason << "\n";
    }
    for (const ImportRow& r : issuances.rejected) {
      std::cout << "  issuance row not taken, line " << r.line << ": " << r.reason << "\n";
    }
    std::cout << "  Article 6 story (MN901, both sides authorized, vintages 2021-2022): "
              << (moved.is_null() ? 0 : moved["quantity"].get<int64_t>())
              << " t first transferred MNG01 -> JPN01, "
              << (retired.is_null() ? 0 : retired["quantity"].get<int64_t>())
              << " t retired towards Japan's NDC (use year 2026)\n";
    std::cout << "  TH014-like flow (TH901): " << (th_issued.is_null() ? 0 : 1009)
              << " t issued into JPN01 as Thailand's first transfer to Japan, "
              << (th_used.is_null() ? 0 : th_used["quantity"].get<int64_t>())
              << " t used towards Japan's NDC\n";
    std::cout << "  REDD+ with a reversal (KH901): 2,000 t issued into JPN01, 300 t reversed, "
                 "100 t cancelled to remediate it\n";
    std::cout << "  inconsistency in Mongolia's AEF of 2026: " << (flagged.is_null() ? 0 : 50)
              << " t of MN901 (2022) in JPN01 held until corrected\n";
    std::cout << "  accounts: JPN01 government " << jpn_gov << ", retirement " << jpn_ret
              << ", cancellation " << jpn_can << ", Demo Trading " << jpn_trader
              << ", Demo Power " << jpn_utility << "; MNG01 government " << mng_gov << "\n";
  }
  return run.failures == 0 ? kExitOk : kExitError;
}

}  // namespace registry::cli
