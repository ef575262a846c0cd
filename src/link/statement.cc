#include "link/statement.h"

#include <map>

#include "link/link_client.h"
#include "report/aef_builder.h"
#include "report/aef_format.h"

namespace registry::link {
namespace {

using service::Json;

// The Actions rows of `party`'s AEF of `year` as this installation records them, each as its
// cells joined by '|' (the last two columns, the consistency result and explanations, are the
// reporting Party's own and are left out).
Result<std::vector<std::string>, std::string> ActionRows(Store& store, const std::string& party,
                                                         int32_t year) {
  const auto code = ParsePartyCode(party);
  if (!code) return Fail("'" + party + "' is not a Party code");
  report::AefRequest request{*code, year, "1.0", ""};
  request.require_initial_report = false;  // What is recorded, for comparison: not the AEF.
  auto wb = report::BuildAef(store, request);
  if (!wb) return Fail(wb.error().Message());
  std::vector<std::string> out;
  for (const auto& row : wb->tables[report::kActions].rows) {
    std::string text;
    for (size_t i = 0; i + 2 < row.size(); ++i) text += (i ? "|" : "") + row[i];
    out.push_back(std::move(text));
  }
  return out;
}

}  // namespace

Result<service::LinkMessage, std::string> MakeStatement(Store& store,
                                                        const journal::SigningKey& key,
                                                        const std::string& from,
                                                        const std::string& to,
                                                        const std::string& party, int32_t year) {
  if (!ParseRegistryCode(from) || !ParseRegistryCode(to)) {
    return Fail("--from and --to are registry codes like JPN01");
  }
  {
    auto tx = store.BeginRead();
    if (!tx) return Fail(tx.error().message);
    auto here = service::HostedHere(**tx, from);
    if (!here || !*here) return Fail("registry " + from + " is not hosted here");
  }
  auto rows = ActionRows(store, party, year);
  if (!rows) return Fail(rows.error());
  service::LinkMessage m;
  m.type = "statement";
  m.from = from;
  m.to = to;
  m.sequence = service::NextLinkSequence();
  m.sent = service::SystemClock().Now();
  m.body = Json{{"party", party}, {"year", year}, {"actions", *rows}};
  service::SignLinkMessage(m, key);
  return m;
}

Result<StatementComparison, std::string> CompareStatement(Store& store,
                                                          const service::Json& statement,
                                                          const journal::PublicKey& key) {
  auto parsed = service::ParseLinkMessage(statement);
  if (!parsed) return Fail(parsed.error().message);
  const service::LinkMessage& m = *parsed;
  if (m.type != "statement") return Fail("not a statement but a '" + m.type + "' message");
  if (!service::VerifyLinkMessage(m, key)) {
    return Fail(CodeOf(Check::kLinkSignatureInvalid) +
                " the statement is not signed by the given key: forged, or altered");
  }
  const Json& body = m.body;
  if (!body.contains("party") || !body["party"].is_string() || !body.contains("year") ||
      !body["year"].is_number_integer() || !body.contains("actions") ||
      !body["actions"].is_array()) {
    return Fail("the statement's body must hold party, year and actions");
  }
  std::map<std::string, int64_t> theirs;
  for (const Json& row : body["actions"]) {
    if (!row.is_string()) return Fail("each action of the statement is one text row");
    ++theirs[row.get<std::string>()];
  }
  auto ours = ActionRows(store, body["party"].get<std::string>(), body["year"].get<int32_t>());
  if (!ours) return Fail(ours.error());
  StatementComparison out;
  for (const std::string& row : *ours) {
    auto it = theirs.find(row);
    if (it != theirs.end() && it->second > 0) {
      --it->second;
      ++out.matched;
    } else {
      out.mismatches.push_back(Mismatch{Check::kLinkReconciliationMismatch, "",
                                        "recorded here, not in the statement: " + row});
    }
  }
  for (const auto& [row, n] : theirs) {
    for (int64_t i = 0; i < n; ++i) {
      out.mismatches.push_back(Mismatch{Check::kLinkReconciliationMismatch, "",
                                        "in the statement, not recorded here: " + row});
    }
  }
  return out;
}

}  // namespace registry::link
