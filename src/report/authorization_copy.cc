#include "report/authorization_copy.h"

#include <hpdf.h>

#include <map>
#include <sstream>

namespace registry::report {
namespace {

using service::CommandResult;
using service::Failure;
using service::Json;
using service::Lift;

constexpr const char* kPartyWrites = "*[To be written by the Party: the registry does not hold "
                                     "this information.]*";

CommandResult<Json> LoadDoc(Transaction& tx, const std::string& kind, const std::string& key,
                            Check missing) {
  ASSIGN_OR_RETURN(const auto doc, Lift(tx.GetDocument(kind, key)));
  if (!doc) return Fail(Failure::Refused(missing, kind + " '" + key + "' is not recorded"));
  return Json::parse(doc->body);
}

std::string Text(const Json& j, const char* key, const std::string& fallback = "not specified") {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (j[key].is_string()) return j[key].get<std::string>().empty() ? fallback : j[key].get<std::string>();
  if (j[key].is_array()) {
    std::string out;
    for (const Json& item : j[key]) out += (out.empty() ? "" : ", ") + (item.is_string() ? item.get<std::string>() : item.dump());
    return out.empty() ? fallback : out;
  }
  return j[key].dump();
}

std::string PartyName(Transaction& tx, const std::string& code) {
  auto doc = tx.GetDocument("party", code);
  if (!doc || !doc->has_value()) return code;
  const Json body = Json::parse((*doc)->body, nullptr, false);
  return body.is_object() ? body.value("name", code) : code;
}

// Every version of `party`'s authorizations of projects of approach `ca_key`, oldest first.
CommandResult<std::vector<Json>> ProjectAuthorizations(Transaction& tx, const std::string& ca_key,
                                                       const PartyCode& party) {
  std::vector<Json> out;
  ASSIGN_OR_RETURN(const auto docs, Lift(tx.ListDocuments("authorization", party.value + ":",
                                                          SIZE_MAX >> 1)));
  for (const Document& doc : docs) {
    if (doc.key.rfind(party.value + ":", 0) != 0) break;
    ASSIGN_OR_RETURN(const auto history, Lift(tx.DocumentHistory("authorization", doc.key)));
    for (const Document& version : history) {
      Json body = Json::parse(version.body, nullptr, false);
      if (body.is_object() && body.value("ca_key", "") == ca_key) out.push_back(std::move(body));
    }
  }
  return out;
}

std::string VintageTable(const Json& map) {
  std::string out = "| Vintage | Quantity (t CO2e) |\n|---|---|\n";
  if (!map.is_object() || map.empty()) return out + "| - | - |\n";
  for (const auto& [vintage, q] : map.items()) out += "| " + vintage + " | " + q.dump() + " |\n";
  return out;
}

std::string Attachments(const std::vector<Json>& versions) {
  std::string out;
  for (const Json& a : versions) {
    const std::string step = a.value("step", "2a");
    out += "\n### " + std::string(step == "2b" ? "Step 2b" : step == "2a" ? "Step 2a" : "Change") +
           ": authorization " + a.value("authorization_id", "") + ", version " +
           std::to_string(a.value("version", 1)) + " (project " + a.value("project", "") + ")\n\n";
    out += "- Date: " + Text(a, "date") + "; effective from " + Text(a, "effective_date") + "\n";
    out += "- Purposes: " + Text(a, "purposes") + "; first transfer for OIMP: " +
           Text(a, "first_transfer_definition", "not applicable") + "\n";
    out += "- Authorized entities (registry ids): " + Text(a, "entities", "none") + "\n";
    out += "- Authorized acquiring Parties: " + Text(a, "acquiring_parties", "any Party") + "\n";
    if (a.contains("jc_decision")) out += "- JC issuance decision: " + Text(a, "jc_decision") + "\n";
    if (a.contains("issuance_reference")) {
      out += "- Issuance: " + Text(a, "issuance_reference") + "\n";
    }
    if (a.contains("crediting_period") && a["crediting_period"].is_object()) {
      out += "- Crediting period confirmed: " + Text(a["crediting_period"], "start") + " to " +
             Text(a["crediting_period"], "end") + "\n";
    }
    if (a.value("revoked", false)) out += "- **Revoked** for units not yet first transferred.\n";
    out += "\nAuthorized (estimated at registration, as changed since):\n\n" +
           VintageTable(a.value("authorized", Json::object()));
    out += "\nIssued under this authorization (actual, Step 2b):\n\n" +
           VintageTable(a.value("issued", Json::object()));
  }
  return out.empty() ? "\nNo project has been authorized under this approach yet.\n" : out;
}

}  // namespace

CommandResult<std::string> AuthorizationCopyMarkdown(Store& store, const std::string& ca_key,
                                                     const PartyCode& party) {
  ASSIGN_OR_RETURN(auto tx, Lift(store.BeginRead()));
  ASSIGN_OR_RETURN(const Json ca, LoadDoc(*tx, "cooperative_approach", ca_key,
                                          Check::kUnknownCooperativeApproach));
  if (!ca.contains("step1") || !ca["step1"].contains(party.value)) {
    return Fail(Failure::Refused(Check::kUnknownAuthorization,
                                 party.value + " has not recorded a Step 1 authorization of " +
                                     ca_key));
  }
  const Json& s = ca["step1"][party.value];
  const std::string country = PartyName(*tx, party.value);
  std::vector<std::string> names;
  for (const Json& p : ca.value("parties", Json::array())) names.push_back(PartyName(*tx, p.get<std::string>()));
  std::ostringstream md;
  md << "# Authorization of the JCM as a cooperative approach by " << country << "\n\n"
     << "Copy of the authorization for the initial report (decision 2/CMA.3, annex, paragraph "
        "18(g); decision 4/CMA.6, paragraph 2), generated by the JCM registry from the recorded "
        "authorization.\n\n"
     << "The Government of " << country << ", hereby authorizes the Joint Crediting Mechanism "
        "(\"JCM\") between partner countries and Japan as cooperative approaches that involve the "
        "use of Internationally Transferred Mitigation Outcomes (ITMOs) and are conducted in "
        "accordance with Article 6 of the Paris Agreement and its relevant guidance.\n\n"
     << "The Government of " << country << ", hereby declares that we will authorize, as per "
        "Article 6, paragraph 3 of the Paris Agreement, the international transfer and use of JCM "
        "credits as ITMOs issued based on quantified amount of GHG emission reductions or removals "
        "that will be achieved by each proposed JCM project. Such authorization shall be made "
        "before or soon after the Joint Committee (\"JC\")'s decision to register such project.\n\n"
     << "The amount of ITMOs subject to such authorization will be the estimated amount of JCM "
        "credits at the time of the JC's decision for registration of the project. The authorized "
        "specific amount of JCM credits to be transferred and their corresponding crediting periods "
        "will be confirmed by the Government of " << country << " as decided at the JC for the "
        "issuance of credits.\n\n"
     << "The Government of " << country << " shall report the contents of such authorization to "
        "the United Nations in accordance with the Paris Agreement and its relevant "
        "decisions/guidance.\n\n"
     << "## Elements of the authorization (decision 4/CMA.6, paragraph 5)\n\n"
     << "- (a) Unique identifier: " << Text(ca, "ca_id", "not yet assigned by the CARP") << "\n"
     << "- (b) Names of Parties and entities: participating Parties: ";
  for (size_t i = 0; i < names.size(); ++i) md << (i ? ", " : "") << names[i];
  md << ". Authorized entities are named in the authorizations of ITMOs at project registration "
        "and credit issuance (attachments below).\n"
     << "- (c) Date and duration: authorized on " << Text(s, "c_date") << ", valid from "
     << Text(s, "c_valid_from") << " to " << Text(s, "c_valid_to", "no end date")
     << "; final date for issuance: " << Text(s, "c_final_issuance_date")
     << "; final date for use or cancellation: " << Text(s, "c_final_use_or_cancel_date") << ".\n"
     << "- (d) First transfer: for use towards an NDC, as per decision 2/CMA.3, annex, paragraph "
        "2(a) (the first international transfer); for other international mitigation purposes: "
     << Text(s, "d_first_transfer_definition", "not authorized") << " (paragraph 2(b)).\n"
     << "- (e) Uses: " << Text(s, "e_purposes") << ".\n"
     << "- (f) Underlying regulations: " << Text(s, "f_regulatory_refs") << ".\n"
     << "- (g) Changes to the authorization: " << Text(s, "g_change_terms") << "\n"
     << "- (h) Quantity of ITMOs: " << Text(s, "h_authorized_quantity", "set per project at "
        "registration (estimate) and confirmed at issuance (attachments below)") << ".\n"
     << "- (i) Registry: " << Text(s, "i_party_itmo_registry_id") << ".\n"
     << "- (j) Other registries: " << Text(s, "j_underlying_registry_ids") << ".\n"
     << "- (k) Vintages: from " << Text(s, "k_vintage_from") << " to "
     << Text(s, "k_vintage_to", "the end of the approach") << ".\n"
     << "- (l) Metrics: " << Text(s, "l_metric") << "; GWP values " << Text(s, "l_gwp_values")
     << "; gases " << Text(s, "l_gases") << ".\n"
     << "- (m) Sectors: " << Text(s, "m_sectors", "specified per project") << ".\n"
     << "- (n) Activity types: " << Text(s, "n_activity_types", "specified per project") << ".\n\n"
     << "## Attachments: authorizations of ITMOs per project (Steps 2a and 2b)\n";
  ASSIGN_OR_RETURN(const auto versions, ProjectAuthorizations(*tx, ca_key, party));
  md << Attachments(versions);
  return md.str();
}

CommandResult<std::string> InitialReportMarkdown(Store& store, const std::string& ca_key,
                                                 const PartyCode& party) {
  ASSIGN_OR_RETURN(std::string copy, AuthorizationCopyMarkdown(store, ca_key, party));
  ASSIGN_OR_RETURN(auto tx, Lift(store.BeginRead()));
  ASSIGN_OR_RETURN(const Json ca, LoadDoc(*tx, "cooperative_approach", ca_key,
                                          Check::kUnknownCooperativeApproach));
  const Json& s = ca["step1"][party.value];
  ASSIGN_OR_RETURN(const auto versions, ProjectAuthorizations(*tx, ca_key, party));
  // Expected mitigation per year: the current version of each project authorization.
  std::map<std::string, Json> current;
  for (const Json& v : versions) current[v.value("authorization_id", "")] = v;
  std::map<std::string, int64_t> per_year;
  std::map<int64_t, bool> entity_ids;
  std::vector<std::string> projects;
  for (const auto& [id, a] : current) {
    projects.push_back(a.value("project", ""));
    const Json authorized = a.value("authorized", Json::object());  // items() must not outlive it.
    for (const auto& [vintage, q] : authorized.items()) per_year[vintage] += q.get<int64_t>();
    const Json entities = a.value("entities", Json::array());
    for (const Json& e : entities) entity_ids[e.get<int64_t>()] = true;
  }
  std::ostringstream md;
  const std::string country = PartyName(*tx, party.value);
  md << "# Article 6, paragraph 2, initial report of " << country << ": chapter IV for "
     << Text(ca, "ca_id", ca_key) << "\n\n"
     << "Sections filled by the registry from its records are marked [registry]; sections the "
        "Party must write are marked as such (decision 2/CMA.3, annex, paragraph 18; decision "
        "6/CMA.4, annex V, chapter IV).\n\n"
     << "## A. Copy of the authorization [registry]\n\n";
  std::string body = copy;
  body.replace(0, body.find('\n') + 1, "");  // The copy's own title gives way to section A.
  md << body << "\n## B. Description of the cooperative approach [registry, to be completed]\n\n"
     << "The Joint Crediting Mechanism between Japan and the partner country. Projects recorded "
        "under this approach: ";
  for (size_t i = 0; i < projects.size(); ++i) md << (i ? ", " : "") << projects[i];
  md << (projects.empty() ? "none yet" : "") << ".\n\n" << kPartyWrites << "\n\n"
     << "## C. Duration [registry]\n\nFrom " << Text(s, "c_valid_from") << " to "
     << Text(s, "c_valid_to", "no end date set") << ".\n\n"
     << "## D. Expected mitigation for each year [registry]\n\n"
     << "| Year | Expected ITMOs (t CO2e), sum of the authorized estimates |\n|---|---|\n";
  for (const auto& [year, q] : per_year) md << "| " << year << " | " << q << " |\n";
  if (per_year.empty()) md << "| - | - |\n";
  md << "\n## E. Participating Parties [registry]\n\n" << Text(ca, "parties") << "\n\n"
     << "## F. Authorized entities [registry]\n\n";
  for (const auto& [id, unused] : entity_ids) {
    char key[24];
    std::snprintf(key, sizeof key, "%010lld", static_cast<long long>(id));
    auto doc = tx->GetDocument("entity", key);
    if (doc && doc->has_value()) {
      const Json e = Json::parse((*doc)->body, nullptr, false);
      md << "- " << e.value("name", "") << " (" << e.value("country", "") << ", "
         << e.value("identification", "") << ")\n";
    }
  }
  if (entity_ids.empty()) md << "None authorized yet.\n";
  md << "\n## G. Environmental integrity (G.1-G.3)\n\n" << kPartyWrites << "\n\n"
     << "## H. Additional description (H.1-H.6)\n\n" << kPartyWrites << "\n";
  return md.str();
}

namespace {

// Maps text to the WinAnsi (Latin-1) encoding of the standard PDF fonts.
std::string Latin1(const std::string& utf8) {
  std::string out;
  for (size_t i = 0; i < utf8.size(); ++i) {
    const auto c = static_cast<unsigned char>(utf8[i]);
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if ((c & 0xE0) == 0xC0 && i + 1 < utf8.size()) {
      const unsigned code = ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(utf8[i + 1]) & 0x3Fu);
      out += code < 0x100 ? static_cast<char>(code) : '?';
      ++i;
    } else {
      // A character beyond Latin-1 (e.g. subscript two, CJK): skip its continuation bytes.
      if (utf8.compare(i, 3, "\xE2\x82\x82") == 0) out += '2';  // CO₂
      else out += '?';
      while (i + 1 < utf8.size() && (static_cast<unsigned char>(utf8[i + 1]) & 0xC0) == 0x80) ++i;
    }
  }
  return out;
}

void ErrorHandler(HPDF_STATUS, HPDF_STATUS, void* user) { *static_cast<bool*>(user) = true; }

}  // namespace

Status<std::string> WriteTextPdf(const std::string& markdown, const std::string& title,
                                 const std::string& path) {
  bool failed = false;
  HPDF_Doc pdf = HPDF_New(ErrorHandler, &failed);
  if (pdf == nullptr) return Fail(std::string("cannot start a PDF"));
  HPDF_SetInfoAttr(pdf, HPDF_INFO_TITLE, Latin1(title).c_str());
  HPDF_Font regular = HPDF_GetFont(pdf, "Helvetica", "WinAnsiEncoding");
  HPDF_Font bold = HPDF_GetFont(pdf, "Helvetica-Bold", "WinAnsiEncoding");
  constexpr HPDF_REAL kMargin = 56, kWidth = 595, kHeight = 842;
  HPDF_Page page = nullptr;
  HPDF_REAL y = 0;
  auto new_page = [&] {
    page = HPDF_AddPage(pdf);
    HPDF_Page_SetSize(page, HPDF_PAGE_SIZE_A4, HPDF_PAGE_PORTRAIT);
    y = kHeight - kMargin;
  };
  auto write_line = [&](const std::string& text, HPDF_Font font, HPDF_REAL size) {
    if (page == nullptr || y < kMargin + size) new_page();
    HPDF_Page_BeginText(page);
    HPDF_Page_SetFontAndSize(page, font, size);
    HPDF_Page_TextOut(page, kMargin, y, text.c_str());
    HPDF_Page_EndText(page);
    y -= size * 1.35f;
  };
  std::istringstream lines(markdown);
  std::string line;
  while (std::getline(lines, line)) {
    HPDF_Font font = regular;
    HPDF_REAL size = 10;
    if (line.rfind("# ", 0) == 0) { font = bold; size = 15; line = line.substr(2); }
    else if (line.rfind("## ", 0) == 0) { font = bold; size = 12.5f; line = line.substr(3); }
    else if (line.rfind("### ", 0) == 0) { font = bold; size = 11; line = line.substr(4); }
    std::string text = Latin1(line);
    for (char& c : text) c = c == '*' ? ' ' : c;
    if (text.empty()) { y -= 5; continue; }
    // Wraps at word boundaries to the page width.
    if (page == nullptr) new_page();
    HPDF_Page_SetFontAndSize(page, font, size);
    while (!text.empty()) {
      HPDF_REAL used = 0;
      const HPDF_UINT fits = HPDF_Page_MeasureText(page, text.c_str(), kWidth - 2 * kMargin,
                                                   HPDF_TRUE, &used);
      size_t n = fits == 0 ? std::min<size_t>(text.size(), 80) : fits;
      write_line(text.substr(0, n), font, size);
      text = text.substr(n);
      while (!text.empty() && text[0] == ' ') text.erase(0, 1);
    }
  }
  if (page == nullptr) new_page();
  const HPDF_STATUS status = HPDF_SaveToFile(pdf, path.c_str());
  HPDF_Free(pdf);
  if (status != HPDF_OK || failed) return Fail("cannot write the PDF " + path);
  return {};
}

}  // namespace registry::report
