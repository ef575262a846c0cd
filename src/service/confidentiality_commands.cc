// report.confidential.set / report.confidential.clear: see service/confidentiality.h.
#include <algorithm>

#include "report/aef_labels.h"  // Header-only constant data: the AEF's tables and labels.
#include "service/confidentiality.h"
#include "service/json_text.h"

namespace registry::service {
namespace {

constexpr const char* kKind = "confidentiality";
constexpr size_t kBasisBytesMax = 2000;
constexpr size_t kRowBytesMax = 256;

Failure Invalid(const std::string& message) {
  return Failure::Refused(Check::kFieldInvalid, message);
}

std::string TableNames() {
  std::string out;
  for (const auto& t : report::kAefTables) out += (out.empty() ? "" : ", ") + std::string(t.name);
  return out;
}

struct Target {
  PartyCode party;
  std::string table, column, row;
};

// Validates the arguments shared by set and clear; refuses unknown fields.
CommandResult<Target> ParseTarget(Transaction& tx, const Json& args) {
  if (!args.is_object()) return Fail(Failure::Refused(Check::kMalformedRequest, "arguments must be an object"));
  // A field other than these is refused before the command runs (service/fields.h).
  Target t;
  ASSIGN_OR_RETURN(t.party, PartyArg(args, "party"));
  ASSIGN_OR_RETURN(t.table, TextArg(args, "table", 64));
  ASSIGN_OR_RETURN(t.column, TextArg(args, "column", 128));
  ASSIGN_OR_RETURN(const auto row, OptionalTextArg(args, "row", kRowBytesMax));
  t.row = row.value_or("");
  ASSIGN_OR_RETURN(const auto party_doc, Lift(tx.GetDocument("party", t.party.value)));
  if (!party_doc) {
    return Fail(Failure::Refused(Check::kUnknownParty, "Party " + t.party.value + " is unknown"));
  }
  const report::AefTableLabels* labels = nullptr;
  for (const auto& candidate : report::kAefTables) {
    if (candidate.name == t.table) labels = &candidate;
  }
  if (labels == nullptr) {
    return Fail(Invalid("table '" + t.table + "' is not an AEF table; use the exact sheet name: " +
                        TableNames()));
  }
  const bool column_known = std::any_of(labels->columns, labels->columns + labels->column_count,
                                        [&t](std::string_view c) { return c == t.column; });
  if (!column_known) {
    std::string columns;
    for (size_t c = 0; c < labels->column_count; ++c) {
      columns += (c == 0 ? "'" : ", '") + std::string(labels->columns[c]) + "'";
    }
    return Fail(Invalid("column '" + t.column + "' is not a column of the AEF table '" + t.table +
                        "'; use an exact label of 4/CMA.6 annex II: " + columns));
  }
  if (!t.row.empty() && labels->row_key.empty()) {
    return Fail(Invalid("the table '" + t.table + "' has a single row: omit 'row'"));
  }
  if (row && row->empty()) {
    return Fail(Invalid("field 'row' is empty: give the " + std::string(labels->row_key) +
                        " of the row, or omit 'row' for every row"));
  }
  return t;
}

CommandResult<Json> LoadBody(Transaction& tx, const PartyCode& party) {
  ASSIGN_OR_RETURN(const auto doc, Lift(tx.GetDocument(kKind, party.value)));
  Json body = doc ? Json::parse(doc->body, nullptr, false) : Json();
  if (!body.is_object()) body = Json{{"party", party.value}, {"claims", Json::array()}};
  if (!body.contains("claims") || !body["claims"].is_array()) body["claims"] = Json::array();
  return body;
}

bool Same(const Json& claim, const Target& t) {
  return claim.value("table", "") == t.table && claim.value("column", "") == t.column &&
         claim.value("row", "") == t.row;
}

std::string Named(const Target& t) {
  return "'" + t.table + "' / '" + t.column + "'" +
         (t.row.empty() ? std::string(" (every row)") : " row '" + t.row + "'");
}

CommandResult<Json> Set(Transaction& tx, const Json& args, const Context& ctx) {
  ASSIGN_OR_RETURN(const Target t, ParseTarget(tx, args));
  const auto basis_it = args.find("basis");
  if (basis_it == args.end() || basis_it->is_null()) {
    return Fail(Failure::Refused(Check::kFieldMissing,
                                 "field 'basis' is required: a confidentiality claim must give its "
                                 "basis (6/CMA.4 decision para 6)"));
  }
  ASSIGN_OR_RETURN(const std::string basis, TextArg(args, "basis", kBasisBytesMax));
  if (std::all_of(basis.begin(), basis.end(), [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; })) {
    return Fail(Failure::Refused(Check::kFieldMissing,
                                 "field 'basis' is blank: a confidentiality claim must give its "
                                 "basis (6/CMA.4 decision para 6)"));
  }
  ASSIGN_OR_RETURN(Json body, LoadBody(tx, t.party));
  Json claim = {{"table", t.table}, {"column", t.column}, {"row", t.row}, {"basis", basis},
                {"set_at", ctx.time}, {"set_by", ctx.actor}};
  bool updated = false;
  for (Json& existing : body["claims"]) {
    if (Same(existing, t)) {
      existing = claim;
      updated = true;
    }
  }
  if (!updated) body["claims"].push_back(claim);
  RETURN_IF_ERROR(Lift(tx.PutDocument(kKind, t.party.value, DumpJson(body), ctx.sequence)));
  return Json{{"party", t.party.value}, {"claim", claim}, {"updated", updated},
              {"claims", body["claims"].size()}};
}

CommandResult<Json> Clear(Transaction& tx, const Json& args, const Context& ctx) {
  ASSIGN_OR_RETURN(const Target t, ParseTarget(tx, args));
  ASSIGN_OR_RETURN(Json body, LoadBody(tx, t.party));
  Json kept = Json::array();
  for (const Json& existing : body["claims"]) {
    if (!Same(existing, t)) kept.push_back(existing);
  }
  if (kept.size() == body["claims"].size()) {
    return Fail(Failure::Refused(Check::kNotFound, t.party.value +
                                                       " has no confidentiality claim on " +
                                                       Named(t) + " to clear"));
  }
  body["claims"] = kept;
  RETURN_IF_ERROR(Lift(tx.PutDocument(kKind, t.party.value, DumpJson(body), ctx.sequence)));
  return Json{{"party", t.party.value}, {"cleared", {{"table", t.table}, {"column", t.column},
                                                     {"row", t.row}}},
              {"claims", kept.size()}};
}

}  // namespace

void AddConfidentialityCommands(HandlerTable& table) {
  table.emplace("report.confidential.set", Set);
  table.emplace("report.confidential.clear", Clear);
}

CommandResult<std::vector<Json>> LoadConfidentialClaims(Transaction& tx, const PartyCode& party) {
  ASSIGN_OR_RETURN(const Json body, LoadBody(tx, party));
  std::vector<Json> out;
  for (const Json& claim : body["claims"]) {
    if (claim.is_object()) out.push_back(claim);
  }
  return out;
}

}  // namespace registry::service
