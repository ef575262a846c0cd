// `jcmreg demo`: Japan's JCM registry JPN01 hosting Mongolia's MNG01, the real Mongolia–Japan
// issuances of data/jcm/mongolia_issuances.csv (each side issuing its share on its own date), and
// a few transfers, retirements and cancellations. Every step goes through the service, so the
// demo database verifies like any other.
#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/cli.h"
#include "core/jcm_data.h"

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

int RunDemo(Session& session, const std::string& data_dir, bool json) {
  const std::string path = data_dir + "/mongolia_issuances.csv";
  const std::string text = ReadFile(path);
  auto rows = ParseCsv(text);
  if (text.empty() || !rows) {
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

  std::vector<IssuanceRecord> issued;
  for (const IssuanceRecord& r : table.records) {
    if (!r.issuance_date.empty() && r.issued > 0) issued.push_back(r);
  }
  std::stable_sort(issued.begin(), issued.end(), [](const auto& a, const auto& b) {
    return a.issuance_date < b.issuance_date;
  });
  int64_t total = 0;
  for (const IssuanceRecord& r : issued) {
    Json vintages = Json::array();
    for (const IssuanceLine& line : SplitByCalendarYear(r.monitoring_start, r.monitoring_end, r.issued)) {
      vintages.push_back(Json{{"vintage", line.vintage.year}, {"quantity", line.quantity.tonnes}});
    }
    run.Do(r.issuance_date + "T09:00:00Z", "issue",
           {{"account", r.side.value == "JPN" ? jpn_gov : mng_gov},
            {"vintages", vintages},
            {"project", r.project.value},
            {"jc_decision", "JC decision of " + r.decision_date},
            {"monitoring_start", r.monitoring_start},
            {"monitoring_end", r.monitoring_end}});
    total += r.issued;
  }
  const std::string t1 = "2026-02-02T10:00:00Z";
  run.Do(t1, "transfer", {{"from", jpn_gov}, {"to", jpn_trader}, {"quantity", 20000}, {"project", "MN004"}});
  run.Do(t1, "transfer", {{"from", jpn_gov}, {"to", jpn_utility}, {"quantity", 5000}, {"project", "MN003"}});
  run.Do("2026-02-03T10:00:00Z", "transfer", {{"from", jpn_trader}, {"to", jpn_utility}, {"quantity", 2500}});
  run.Do("2026-02-04T10:00:00Z", "retire", {{"from", jpn_utility}, {"to", jpn_ret}, {"quantity", 4000}, {"use_year", 2025}});
  run.Do("2026-02-05T10:00:00Z", "cancel", {{"from", jpn_trader}, {"to", jpn_can}, {"quantity", 1000}, {"purpose", "voluntary"}});
  run.Do("2026-02-06T10:00:00Z", "retire", {{"from", mng_gov}, {"quantity", 500}, {"use_year", 2025}});

  Json rejected = Json::array();
  for (const RejectedRow& r : table.rejected) {
    rejected.push_back(Json{{"line", r.line}, {"reason", r.reason}});
  }
  const Json summary = {{"database", session.db_path},
                        {"issuance_rows_taken", table.records.size()},
                        {"issuances_applied", issued.size()},
                        {"tonnes_issued", total},
                        {"rows_rejected", rejected},
                        {"failures", run.failures}};
  if (json) {
    std::cout << summary.dump(2) << "\n";
  } else {
    std::cout << "demo registry written to " << session.db_path << "\n"
              << "  issuance rows taken: " << table.records.size() << ", issuances applied: "
              << issued.size() << ", tonnes issued: " << total << "\n";
    for (const RejectedRow& r : table.rejected) {
      std::cout << "  row rejected, line " << r.line << ": " << r.reason << "\n";
    }
    std::cout << "  accounts: JPN01 government " << jpn_gov << ", retirement " << jpn_ret
              << ", cancellation " << jpn_can << ", Demo Trading " << jpn_trader
              << ", Demo Power " << jpn_utility << "; MNG01 government " << mng_gov << "\n";
  }
  return run.failures == 0 ? kExitOk : kExitError;
}

}  // namespace registry::cli
