// The regular information of a BTR from the AEFs of the years it covers; see regular_info.h.
#include "report/regular_info.h"

#include <algorithm>
#include <map>

#include "core/assert.h"
#include "report/aef_builder.h"
#include "report/aef_labels.h"
#include "service/adjustments.h"
#include "service/json_text.h"

namespace registry::report {
namespace {

const std::string kConfidential(kConfidentialText);

// The index of `label` in `table`'s columns (the AEF's exact labels: a missing one is a bug).
size_t Col(const AefTable& table, std::string_view label) {
  const auto it = std::find(table.columns.begin(), table.columns.end(), label);
  REGISTRY_ASSERT(it != table.columns.end());
  return static_cast<size_t>(it - table.columns.begin());
}

AefTable Header(std::string name, std::vector<std::string> columns,
                const std::vector<std::string>& numeric_columns) {
  AefTable t;
  t.name = std::move(name);
  for (const std::string& c : columns) {
    t.numeric.push_back(std::find(numeric_columns.begin(), numeric_columns.end(), c) !=
                        numeric_columns.end());
  }
  t.columns = std::move(columns);
  return t;
}

// Rows summed per key: the number of AEF rows and their quantity, which reads "Confidential"
// once any summed cell does.
struct Sum {
  int64_t rows = 0;
  int64_t tonnes = 0;
  bool confidential = false;
};

void Add(std::map<std::vector<std::string>, Sum>& sums, std::vector<std::string> key,
         const std::string& quantity) {
  Sum& s = sums[std::move(key)];
  ++s.rows;
  if (quantity == kConfidential) {
    s.confidential = true;
  } else {
    s.tonnes += std::atoll(quantity.c_str());
  }
}

void PutSums(const std::map<std::vector<std::string>, Sum>& sums, AefTable& table) {
  for (const auto& [key, sum] : sums) {
    std::vector<std::string> row = key;
    row.push_back(std::to_string(sum.rows));
    row.push_back(sum.confidential ? kConfidential : std::to_string(sum.tonnes));
    table.rows.push_back(std::move(row));
  }
}

// Authorization ID -> Sector(s), from an AEF's Authorizations rows (the latest version's).
std::map<std::string, std::string> SectorsOf(const AefTable& authorizations) {
  std::map<std::string, std::string> out;
  const size_t id = Col(authorizations, "Authorization ID");
  const size_t sector = Col(authorizations, "Sector(s)");
  for (const auto& row : authorizations.rows) out[row[id]] = row[sector];
  return out;
}

std::string SectorOf(const std::map<std::string, std::string>& sectors, const std::string& id) {
  if (id == kConfidential) return kConfidential;
  const auto it = sectors.find(id);
  return it == sectors.end() ? "NA" : it->second;
}

// The year of an AEF date dd/mm/yyyy.
std::string YearOfAefDate(const std::string& date) {
  return date.size() == 10 ? date.substr(6, 4) : date;
}

constexpr std::string_view kOmgeSubtype = "Voluntary cancellation to deliver OMGE";

void AddYear(const AefWorkbook& wb, int32_t year, RegularInfo& info,
             std::map<std::vector<std::string>, Sum>& actions,
             std::map<std::vector<std::string>, Sum>& holdings,
             std::map<std::vector<std::string>, Sum>& omge) {
  const std::string y = std::to_string(year);
  const AefTable& auths = wb.tables[kAuthorizations];
  const auto sectors = SectorsOf(auths);
  // 21(c): the versions dated in this year.
  for (const auto& row : auths.rows) {
    const std::string& date = row[Col(auths, "Date of authorization")];
    if (date != kConfidential && YearOfAefDate(date) != y) continue;
    const std::string& version = row[Col(auths, "Version of the authorization")];
    info.tables[kRegularAuthorizations].rows.push_back(
        {y, row[Col(auths, "Authorization ID")], date, row[Col(auths, "Cooperative approach ID")],
         version,
         version == "1" ? "Authorization"
                        : "Change to an earlier authorization (version " + version + ")",
         row[Col(auths, "Authorized quantity")], row[Col(auths, "Sector(s)")],
         row[Col(auths, "Activity type(s)")], row[Col(auths, "Purposes for authorization")],
         row[Col(auths, "Authorized Party(ies) ID")], row[Col(auths, "Authorized timeframe")],
         row[Col(auths, "Additional explanatory information")]});
  }
  const AefTable& acts = wb.tables[kActions];
  for (const auto& row : acts.rows) {
    auto cell = [&](std::string_view label) -> const std::string& { return row[Col(acts, label)]; };
    const std::string sector = SectorOf(sectors, cell("Authorization ID"));
    const std::string& quantity = cell("Quantity (t CO2 eq)");
    Add(actions,
        {y, cell("Cooperative approach ID"), sector, cell("Action type"), cell("Action subtype"),
         cell("First transferring participating Party ID"),
         cell("Transferring participating Party ID"), cell("Acquiring participating Party ID"),
         cell("Using/cancelling participating Party ID"),
         cell("Purpose for which the ITMO has been used towards or cancelled for OIMP"),
         cell("Vintage"),
         cell("Calendar year for which the ITMOs are used towards the Party's NDC")},
        quantity);
    // The cancellation row (a cancellation of units not yet first transferred also has a first
    // transfer row of the same subtype: counted once).
    if (cell("Action type") == "Cancellation" && cell("Action subtype") == kOmgeSubtype) {
      Add(omge,
          {y, "Voluntary cancellation to deliver OMGE (2/CMA.3 annex paras 39-40)",
           cell("Cooperative approach ID"), sector, cell("Vintage")},
          quantity);
    }
  }
  const AefTable& held = wb.tables[kHoldings];
  for (const auto& row : held.rows) {
    auto cell = [&](std::string_view label) -> const std::string& { return row[Col(held, label)]; };
    Add(holdings,
        {y, cell("Cooperative approach ID"), SectorOf(sectors, cell("Authorization ID")),
         cell("First transferring participating Party ID"), cell("Party ITMO registry ID"),
         cell("Vintage")},
        cell("Quantity (t CO2 eq)"));
  }
}

// The reversals of the projects `party` hosts dated in the years covered (project documents'
// `reversals`, service/reversal.h), with their approach's CARP id.
service::CommandResult<bool> AddReversals(Store& store, const PartyCode& party, RegularInfo& info) {
  ASSIGN_OR_RETURN(auto tx, service::Lift(store.BeginRead()));
  AefTable& table = info.tables[kRegularReversals];
  std::map<std::string, std::string> ca_ids;
  constexpr size_t kPage = 1000;
  for (std::string after;;) {
    ASSIGN_OR_RETURN(const auto page, service::Lift(tx->ListDocuments("project", after, kPage)));
    for (const Document& doc : page) {
      const service::Json project = service::Json::parse(doc.body, nullptr, false);
      if (!project.is_object() || project.value("host_party", "") != party.value) continue;
      const service::Json reversals = project.value("reversals", service::Json::array());
      if (reversals.empty()) continue;
      const std::string ca_key = project.value("ca_key", "");
      if (!ca_key.empty() && ca_ids.count(ca_key) == 0) {
        ASSIGN_OR_RETURN(const auto ca, service::LoadJson(*tx, "cooperative_approach", ca_key));
        ca_ids[ca_key] = ca ? ca->value("ca_id", "") : "";
      }
      for (const service::Json& r : reversals) {
        const std::string date = r.value("date", "");
        const int32_t year = date.size() >= 4 ? std::atoi(date.substr(0, 4).c_str()) : 0;
        if (year < info.first_year || year > info.last_year) continue;
        const int64_t quantity = r.value("quantity", int64_t{0});
        const int64_t remediated = r.value("remediated", int64_t{0});
        table.rows.push_back({std::to_string(year), doc.key,
                              ca_key.empty() || ca_ids[ca_key].empty() ? "NA" : ca_ids[ca_key],
                              date, std::to_string(quantity), r.value("cause", ""),
                              std::to_string(remediated), std::to_string(quantity - remediated)});
      }
    }
    if (page.size() < kPage) break;
    after = page.back().key;
  }
  return true;
}

}  // namespace

service::CommandResult<RegularInfo> BuildRegularInformation(Store& store,
                                                            const RegularInfoRequest& request) {
  if (request.btr_year < kFirstItmoVintage + 1 || request.btr_year > kVintageMax + 2) {
    return Fail(service::Failure::Refused(
        Check::kFieldInvalid, "BTR year " + std::to_string(request.btr_year) +
                                  " is not in [2022, 2102]: a BTR of year Y covers the AEFs "
                                  "of Y-2 and Y-1, and ITMOs start in 2021"));
  }
  RegularInfo info;
  info.first_year = std::max(kFirstItmoVintage, request.btr_year - 2);
  info.last_year = request.btr_year - 1;
  info.tables.push_back(Header(
      "21(c) Authorizations",
      {"Year", "Authorization ID", "Date of authorization", "Cooperative approach ID",
       "Version of the authorization", "Authorization or change to an earlier authorization",
       "Authorized quantity", "Sector(s)", "Activity type(s)", "Purposes for authorization",
       "Authorized Party(ies) ID", "Authorized timeframe", "Additional explanatory information"},
      {"Year", "Version of the authorization", "Authorized quantity"}));
  info.tables.push_back(
      Header("23 ITMO actions",
             {"Year", "Cooperative approach ID", "Sector(s)", "Action type", "Action subtype",
              "First transferring participating Party ID", "Transferring participating Party ID",
              "Acquiring participating Party ID", "Using/cancelling participating Party ID",
              "Purpose for which the ITMO has been used towards or cancelled for OIMP", "Vintage",
              "Calendar year for which the ITMOs are used towards the Party's NDC",
              "Number of ITMO blocks", "Quantity (t CO2 eq)"},
             {"Year", "Vintage", "Number of ITMO blocks", "Quantity (t CO2 eq)"}));
  info.tables.push_back(
      Header("23 ITMO holdings",
             {"Year (holdings at 31 December)", "Cooperative approach ID", "Sector(s)",
              "First transferring participating Party ID", "Party ITMO registry ID", "Vintage",
              "Number of ITMO blocks", "Quantity (t CO2 eq)"},
             {"Year (holdings at 31 December)", "Vintage", "Number of ITMO blocks",
              "Quantity (t CO2 eq)"}));
  info.tables.push_back(Header(
      "23 Corresponding adjustments",
      {"Year", "NDC implementation period", "Method",
       "23(c) Annual quantity of ITMOs first transferred",
       "23(d) Annual quantity of mitigation outcomes authorized for use for other international "
       "mitigation purposes and entities first transferred",
       "23(e) Annual quantity of ITMOs used towards achievement of its NDC",
       "23(f) Net annual quantity of ITMOs", "23(g) Corresponding adjustment",
       "23(h) Cumulative net quantity"},
      {"Year", "23(c) Annual quantity of ITMOs first transferred",
       "23(d) Annual quantity of mitigation outcomes authorized for use for other international "
       "mitigation purposes and entities first transferred",
       "23(e) Annual quantity of ITMOs used towards achievement of its NDC",
       "23(f) Net annual quantity of ITMOs", "23(g) Corresponding adjustment",
       "23(h) Cumulative net quantity"}));
  info.tables.push_back(
      Header("37-40 OMGE and adaptation",
             {"Year", "Contribution", "Cooperative approach ID", "Sector(s)", "Vintage",
              "Number of ITMO blocks", "Quantity (t CO2 eq)"},
             {"Year", "Vintage", "Number of ITMO blocks", "Quantity (t CO2 eq)"}));
  info.tables.push_back(Header("Reversals",
                               {"Year", "Project", "Cooperative approach ID",
                                "Date of the reversal", "Quantity reversed (t CO2 eq)", "Cause",
                                "Remediated (t CO2 eq)", "Left to remediate (t CO2 eq)"},
                               {"Year", "Quantity reversed (t CO2 eq)", "Remediated (t CO2 eq)",
                                "Left to remediate (t CO2 eq)"}));
  info.tables.push_back(Header("Notes", {"Topic", "Note"}, {}));

  std::map<std::vector<std::string>, Sum> actions, holdings, omge;
  for (int32_t year = info.first_year; year <= info.last_year; ++year) {
    AefRequest aef{request.party, year, "1.0", ""};
    aef.disclose_confidential = true;  // Redacted below unless the caller may see them.
    aef.block_page = request.block_page;
    ASSIGN_OR_RETURN(AefWorkbook wb, BuildAef(store, aef));
    if (!request.disclose_confidential) RedactConfidential(wb);
    AddYear(wb, year, info, actions, holdings, omge);
  }
  PutSums(actions, info.tables[kRegularActions]);
  PutSums(holdings, info.tables[kRegularHoldings]);
  PutSums(omge, info.tables[kRegularAmbition]);

  // Corresponding adjustments of the covered years in each NDC period configured.
  std::vector<NdcPeriod> periods;
  {
    ASSIGN_OR_RETURN(auto tx, service::Lift(store.BeginRead()));
    ASSIGN_OR_RETURN(periods, service::LoadNdcPeriods(*tx, request.party));
  }
  bool any_period = false;
  for (const NdcPeriod& period : periods) {
    if (period.last_year < info.first_year || period.first_year > info.last_year) continue;
    any_period = true;
    ASSIGN_OR_RETURN(const service::Json report,
                     service::AdjustmentsReportJson(store, request.party, period.first_year));
    for (const service::Json& y : report.at("years")) {
      const int64_t year = y.at("year").get<int64_t>();
      // Every year of the period up to the last covered: an action of a covered year counts in
      // its vintage year (a first transfer) or year of use, which may be earlier (para 8).
      if (year > info.last_year) continue;
      info.tables[kRegularAdjustments].rows.push_back(
          {std::to_string(year),
           std::to_string(period.first_year) + "-" + std::to_string(period.last_year),
           std::string(ToString(period.method)),
           std::to_string(y.at("first_transferred_23c").get<int64_t>()),
           std::to_string(y.at("oimp_first_transferred_23d").get<int64_t>()),
           std::to_string(y.at("used_23e").get<int64_t>()),
           std::to_string(y.at("net_23f").get<int64_t>()),
           std::to_string(y.at("adjustment_23g").get<int64_t>()),
           std::to_string(y.at("cumulative_23h").get<int64_t>())});
    }
  }

  RETURN_IF_ERROR(AddReversals(store, request.party, info));

  AefTable& notes = info.tables[kRegularNotes];
  const std::string first = std::to_string(info.first_year);
  const std::string last = std::to_string(info.last_year);
  notes.rows.push_back(
      {"Years covered",
       "The AEFs of " + request.party.value + " for " +
           (first == last ? first : first + " and " + last) + " (a BTR submitted in " +
           std::to_string(request.btr_year) +
           " covers the two calendar years before it); every quantity is the sum of those AEFs' "
           "rows (4/CMA.6 para 23)."});
  notes.rows.push_back(
      {"Sector(s)", "The Sector(s) of the authorization the AEF row names (Authorization ID)."});
  notes.rows.push_back(
      {"Corresponding adjustments",
       any_period ? "Every year of the NDC period(s) configured with ndc.configure up to " + last +
                        ": a first transfer counts in its vintage year, a use in its year of use "
                        "(2/CMA.3 annex paras 7-12, 23)."
                  : "No NDC period of " + request.party.value +
                        " covers these years: run "
                        "ndc.configure to report 23(c)-(h)."});
  notes.rows.push_back(
      {"Cancellation for OMGE",
       "Cancellations recorded with purpose omge (AEF subtype \"Voluntary cancellation to deliver "
       "OMGE\"); voluntary under Article 6.2 (2/CMA.3 annex para 39)."});
  notes.rows.push_back(
      {"Reversals",
       "The reversals of removals recorded (project.reversal) in the years covered against the "
       "projects " +
           request.party.value +
           " hosts, with what the cancellations naming each have remediated to date."});
  notes.rows.push_back(
      {"Resources for adaptation",
       "Not recorded in this registry: a contribution to adaptation under Article 6.2 is "
       "voluntary and not a movement of units (2/CMA.3 annex paras 37-38), and the JCM takes no "
       "share of proceeds. The Party reports any contribution in the BTR's text."});
  if (!request.disclose_confidential) {
    notes.rows.push_back(
        {"Confidentiality",
         "Public view: a value the Party claimed confidential in an AEF, and any sum including "
         "one, reads \"Confidential\" (4/CMA.6 para 24)."});
  }
  return info;
}

Status<std::string> StreamRegularInformation(const RegularInfo& info, AefRowSink& sink) {
  for (const AefTable& table : info.tables) {
    RETURN_IF_ERROR(sink.BeginTable(TableHeader(table)));
    for (const auto& row : table.rows) RETURN_IF_ERROR(sink.Row(row));
  }
  return sink.Finish({});
}

std::string RegularInformationJson(const RegularInfo& info, const PartyCode& party,
                                   int32_t btr_year) {
  service::Json out = {
      {"party", party.value}, {"btr_year", btr_year}, {"years", {info.first_year, info.last_year}}};
  service::Json tables = service::Json::array();
  for (const AefTable& table : info.tables) {
    service::Json rows = service::Json::array();
    for (const auto& row : table.rows) {
      service::Json r = service::Json::array();
      for (const std::string& cell : row) r.push_back(cell);
      rows.push_back(r);
    }
    tables.push_back({{"name", table.name}, {"columns", table.columns}, {"rows", rows}});
  }
  out["tables"] = tables;
  return service::DumpJsonLossy(out, -1) + "\n";
}

}  // namespace registry::report
