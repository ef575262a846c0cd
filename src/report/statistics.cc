#include "report/statistics.h"

#include <map>
#include <set>
#include <tuple>

#include "service/link.h"

namespace registry::report {

using service::CommandResult;
using service::Json;
using service::Lift;

CommandResult<Json> AnnualTransactionsSummary(Store& store, size_t block_page) {
  ASSIGN_OR_RETURN(auto tx, Lift(store.BeginRead()));
  ASSIGN_OR_RETURN(const auto accounts, Lift(tx->ListAccounts()));
  std::map<int64_t, Account> account_by_id;
  for (const Account& a : accounts) account_by_id[a.id.value] = a;
  // A block without a parent is an issuance, unless its lot came in by the registry link
  // (service/link.h): an acquisition from another installation.
  ASSIGN_OR_RETURN(const std::set<int64_t> linked_in, service::LinkedInLots(*tx));
  service::EntryTimes times(*tx);  // A block's year is its creation's journal entry's.
  std::map<std::pair<int, std::string>, std::map<std::string, int64_t>> totals;
  RETURN_IF_ERROR(service::WalkBlocks(
      *tx, block_page, [&](const Block& b, const Block* parent) -> CommandResult<bool> {
        const Account& to = account_by_id[b.account.value];
        ASSIGN_OR_RETURN(const std::string time, times.Of(b.created));
        const int year = std::stoi(time.substr(0, 4));
        const int64_t q = b.range.Count().tonnes;
        if (parent == nullptr) {
          totals[{year, to.registry.value}]
                [linked_in.count(b.lot.value) ? "acquisition" : "issuance"] += q;
          return true;
        }
        const Account& from = account_by_id[parent->account.value];
        if (from.id == to.id) return true;  // A kept piece.
        if (from.registry != to.registry) {
          totals[{year, from.registry.value}]["international_transfer"] += q;
          totals[{year, to.registry.value}]["acquisition"] += q;
        } else if (to.type == AccountType::kRetirement) {
          totals[{year, to.registry.value}]["retirement"] += q;
        } else if (to.type == AccountType::kCancellation) {
          totals[{year, to.registry.value}]["cancellation"] += q;
        } else {
          totals[{year, to.registry.value}]["transfer"] += q;
        }
        return true;
      }));
  Json rows = Json::array();
  for (const auto& [key, kinds] : totals) {
    Json row = {{"year", key.first}, {"registry", key.second}};
    for (const char* kind : {"issuance", "transfer", "international_transfer", "acquisition",
                             "retirement", "cancellation"}) {
      const auto it = kinds.find(kind);
      row[kind] = it == kinds.end() ? 0 : it->second;
    }
    rows.push_back(row);
  }
  return Json{{"years", rows}};
}

CommandResult<Json> EntityHoldingAccounts(Store& store) {
  ASSIGN_OR_RETURN(auto tx, Lift(store.BeginRead()));
  ASSIGN_OR_RETURN(const auto accounts, Lift(tx->ListAccounts()));
  Json rows = Json::array();
  for (const Account& a : accounts) {
    if (a.type != AccountType::kEntityHolding) continue;
    Json row = {{"id", a.id.value}, {"registry", a.registry.value}, {"name", a.name},
                {"status", std::string(ToString(a.status))}};
    char key[24];
    std::snprintf(key, sizeof key, "%010lld", static_cast<long long>(a.holder.value));
    ASSIGN_OR_RETURN(const auto entity, Lift(tx->GetDocument("entity", key)));
    if (entity) {
      const Json e = Json::parse(entity->body, nullptr, false);
      if (e.is_object()) {
        row["holder_name"] = e.value("name", "");
        row["holder_country"] = e.value("country", "");
      }
    }
    rows.push_back(row);
  }
  return Json{{"accounts", rows}};
}

std::string RowsCsv(const Json& object) {
  const Json* rows = nullptr;
  for (const auto& [key, value] : object.items()) {
    if (value.is_array()) rows = &value;
  }
  if (rows == nullptr || rows->empty()) return "";
  std::string out;
  std::vector<std::string> keys;
  for (const auto& [key, value] : rows->front().items()) keys.push_back(key);
  auto cell = [](const Json& v) {
    std::string text = v.is_string() ? v.get<std::string>() : v.dump();
    if (text.find_first_of(",\"\n") == std::string::npos) return text;
    std::string quoted = "\"";
    for (char c : text) {
      if (c == '"') quoted += '"';
      quoted += c;
    }
    quoted += '"';
    return quoted;
  };
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i > 0) out += ',';
    out += keys[i];
  }
  out += '\n';
  for (const Json& row : *rows) {
    for (size_t i = 0; i < keys.size(); ++i) {
      if (i > 0) out += ',';
      if (row.contains(keys[i])) out += cell(row[keys[i]]);
    }
    out += '\n';
  }
  return out;
}

}  // namespace registry::report
