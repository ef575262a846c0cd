// R-REP-07 over real HTTP: a Party's focal point claims AEF fields confidential through
// POST /v1/commands/report.confidential.set; the public AEF routes (no token, or a token that
// does not cover the Party) show "Confidential" in JSON, CSV and XLSX and withhold the
// Confidentiality table; the Party's own token sees the values and the claims with their basis;
// clearing the claim brings the value back; bad requests are refused with the database unchanged.
#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdlib>
#include <fstream>
#include <map>

#include "http/server.h"
#include "report/xlsx_reader.h"
#include "service/access.h"
#include "storage/sqlite/sqlite_store.h"
#include "testing/test_util.h"
#include "unit/article6_fixture.h"

namespace registry::http {
namespace {

using service::Json;

struct Got {
  int status = 0;
  std::string text;
  Json json() const { return Json::parse(text, nullptr, false); }
};

// The Article 6 scenario of test/reports (MNG issues ITMOs of MN101, first transfers 300 t to
// JPN01, JPN uses 100 t towards its NDC in 2026) and a server on port 0.
class ConfidentialityApi : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::SetUpArticle6(r);
    r.clock.Set("2025-06-01T09:00:00Z");
    r.Ok("report.initial.submit", {{"party", "MNG"}, {"ca", "JPN-MNG"}, {"date", "2025-06-01"}});
    r.Ok("report.initial.submit", {{"party", "JPN"}, {"ca", "JPN-MNG"}, {"date", "2025-06-01"}});
    r.Ok("authorization.add", testing::Step2aArgs("MNG", "MN101"));
    r.Ok("authorization.add", testing::Step2aArgs("JPN", "MN101"));
    r.clock.Set("2026-01-15T09:00:00Z");
    r.Ok("issue.jcm", testing::IssueMngArgs("MN101", 2500,
                                            Json::array({{{"vintage", 2021}, {"quantity", 300}},
                                                         {{"vintage", 2022}, {"quantity", 200}}})));
    r.clock.Set("2026-02-01T09:00:00Z");
    r.Ok("transfer.international", {{"from", 5}, {"to", 1}, {"quantity", 300}});
    r.clock.Set("2026-03-01T09:00:00Z");
    r.Ok("retire", {{"from", 1}, {"quantity", 100}, {"use_year", 2026}});
    r.clock.Set("2027-02-01T09:00:00Z");
    admin = AddUser("admin", service::kRoleAdministrator, "*");
    jpn_focal = AddUser("jpn-focal", service::kRoleFocalPoint, "party:JPN");
    mng_focal = AddUser("mng-focal", service::kRoleFocalPoint, "party:MNG");
    jpn_registry_auditor = AddUser("jpn-auditor", service::kRoleAuditor, "registry:JPN01");
    account_rep = AddUser("rep", service::kRoleAccountRepresentative, "account:1");
    ServerOptions options;
    options.port = 0;
    options.access_log = std::getenv("JCM_HTTP_LOG") != nullptr;
    options.public_key = r.key.public_key;
    options.scratch = [] { return sqlite::Open(sqlite::Options{":memory:", false}); };
    server = std::make_unique<Server>(*r.store, *r.registry, options);
    auto started = server->Start();
    ASSERT_TRUE(started.has_value()) << (started ? "" : started.error());
    port = *started;
  }
  void TearDown() override {
    if (server) server->Stop();
  }

  std::string AddUser(const std::string& name, const std::string& role, const std::string& scope) {
    const service::NewToken token = service::MakeToken();
    r.Ok("user.add", {{"name", name}, {"role", role}, {"scope", scope}, {"token_hash", token.hash}});
    return token.token;
  }

  httplib::Headers Headers(const std::string& token) const {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    return headers;
  }

  Got Get(const std::string& path, const std::string& token = "") const {
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(60, 0);
    auto res = client.Get(path.c_str(), Headers(token));
    if (!res) {
      ADD_FAILURE() << "no HTTP answer for " << path;
      return {};
    }
    return Got{res->status, res->body};
  }

  Got Command(const std::string& command, const Json& args, const std::string& token) const {
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(60, 0);
    auto res = client.Post(("/v1/commands/" + command).c_str(), Headers(token), args.dump(),
                           "application/json");
    if (!res) {
      ADD_FAILURE() << "no HTTP answer for " << command;
      return {};
    }
    return Got{res->status, res->body};
  }

  std::string State() const {
    auto digest = r.store->ProjectionDigest();
    EXPECT_TRUE(digest.has_value());
    auto tx = r.store->BeginRead();
    auto last = (*tx)->LastEntry();
    return *digest + "@" + std::to_string(last->has_value() ? (*last)->sequence.value : 0);
  }

  // The AEF of JPN for 2026 as XLSX, read back: sheet name -> rows.
  std::vector<report::XlsxSheet> Xlsx(const std::string& token) const {
    const Got got = Get("/v1/reports/aef?party=JPN&year=2026&format=xlsx", token);
    EXPECT_EQ(got.status, 200);
    const std::string path = r.dir.File("aef-" + std::to_string(token.size()) + ".xlsx");
    std::ofstream(path, std::ios::binary) << got.text;
    auto sheets = report::ReadXlsxSheets(path);
    EXPECT_TRUE(sheets.has_value()) << (sheets ? "" : sheets.error());
    return sheets ? *sheets : std::vector<report::XlsxSheet>{};
  }

  testing::TestRegistry r;
  std::unique_ptr<Server> server;
  int port = 0;
  std::string admin, jpn_focal, mng_focal, jpn_registry_auditor, account_rep;
};

const char* const kAef = "/v1/reports/aef?party=JPN&year=2026";
const std::string kBasis = "Commercially sensitive (6/CMA.4 para 6): contract volume";

Json QuantityClaim() {
  return {{"party", "JPN"}, {"table", "Authorizations"}, {"column", "Authorized quantity"},
          {"row", "JPN-MN101-1"}, {"basis", kBasis}};
}

TEST_F(ConfidentialityApi, PublicRoutesHideTheClaimedValueThePartySeesItWithItsBasis) {
  const Got first = Get(kAef);
  ASSERT_EQ(first.status, 200) << first.text;
  const Json before = first.json();
  ASSERT_TRUE(before.is_object()) << first.text;
  ASSERT_EQ(before["Authorizations"][0]["Authorized quantity"], "2000") << before.dump();

  // Who may claim: JPN's focal point (or an administrator); not MNG's, not an account holder.
  EXPECT_EQ(Command("report.confidential.set", QuantityClaim(), mng_focal).status, 403);
  EXPECT_EQ(Command("report.confidential.set", QuantityClaim(), account_rep).status, 403);
  EXPECT_EQ(Command("report.confidential.set", QuantityClaim(), "").status, 401);
  const Got set = Command("report.confidential.set", QuantityClaim(), jpn_focal);
  ASSERT_EQ(set.status, 200) << set.text;
  EXPECT_EQ(set.json()["result"]["claim"]["basis"], kBasis);
  const Got set2 = Command("report.confidential.set",
                           {{"party", "JPN"}, {"table", "Actions"},
                            {"column", "Using/cancelling participating Party ID"},
                            {"basis", "not yet announced"}},
                           admin);
  ASSERT_EQ(set2.status, 200) << set2.text;

  // Public: JSON, every CSV table and the XLSX say "Confidential"; no value, no claim list.
  for (const std::string& token : {std::string(), mng_focal, account_rep}) {
    const Got json = Get(kAef, token);
    ASSERT_EQ(json.status, 200);
    const Json pub = json.json();
    EXPECT_EQ(pub["Authorizations"][0]["Authorized quantity"], "Confidential");
    EXPECT_EQ(pub["Authorizations"][0]["Authorized timeframe"], "2021 - 2022");
    EXPECT_EQ(pub["Actions"][1]["Using/cancelling participating Party ID"], "Confidential");
    EXPECT_FALSE(pub.contains("confidential"));
    EXPECT_EQ(json.text.find("2000"), std::string::npos);
    EXPECT_EQ(json.text.find(kBasis), std::string::npos);
    const Got csv = Get(std::string(kAef) + "&format=csv&table=2", token);
    EXPECT_EQ(csv.status, 200);
    EXPECT_NE(csv.text.find("JPN-MN101-1,01/06/2025,CA0042,1,Confidential,GHG"), std::string::npos)
        << csv.text;
    EXPECT_EQ(csv.text.find("2000"), std::string::npos);
    const Got six = Get(std::string(kAef) + "&format=csv&table=6", token);
    EXPECT_EQ(six.status, token.empty() ? 401 : 403) << six.text;
    // Nor the claims' document (it names the claims and their basis): any token used to read
    // it through /v1/documents.
    const Got doc = Get("/v1/documents/confidentiality/JPN", token);
    EXPECT_EQ(doc.status, token.empty() ? 401 : 403) << doc.text;
    EXPECT_EQ(doc.text.find(kBasis), std::string::npos);
    const Got docs = Get("/v1/documents/confidentiality", token);
    EXPECT_EQ(docs.text.find(kBasis), std::string::npos) << docs.text;
    // Nor the copy of JPN's authorization or its initial report, which quote the quantity.
    for (const char* route : {"/v1/reports/authorization", "/v1/reports/initial"}) {
      const Got copy = Get(std::string(route) + "?ca=JPN-MNG&party=JPN", token);
      EXPECT_EQ(copy.status, 200) << copy.text;
      EXPECT_NE(copy.text.find("JPN: withheld"), std::string::npos) << copy.text;
      EXPECT_EQ(copy.text.find("| 2021 | 1000 |"), std::string::npos) << copy.text;
    }
  }
  // MNG claimed nothing: its copy stays public.
  EXPECT_NE(Get("/v1/reports/authorization?ca=JPN-MNG&party=MNG").text.find("| 2021 | 1000 |"),
            std::string::npos);
  const auto pub_xlsx = Xlsx("");
  ASSERT_EQ(pub_xlsx.size(), 5u);
  EXPECT_EQ(pub_xlsx[1].rows[1][4], "Confidential");

  // The Party (its focal point, an auditor of its registry, an administrator): the values and
  // the claims with their basis.
  for (const std::string& token : {jpn_focal, jpn_registry_auditor, admin}) {
    const Json own = Get(kAef, token).json();
    EXPECT_EQ(own["Authorizations"][0]["Authorized quantity"], "2000");
    EXPECT_EQ(own["Actions"][1]["Using/cancelling participating Party ID"], "JPN");
    ASSERT_EQ(own["confidential"].size(), 2u) << own.dump();
    EXPECT_EQ(own["confidential"][0]["table"], "Authorizations");
    EXPECT_EQ(own["confidential"][0]["column"], "Authorized quantity");
    EXPECT_EQ(own["confidential"][0]["row_key_column"], "Authorization ID");
    EXPECT_EQ(own["confidential"][0]["row"], "JPN-MN101-1");
    EXPECT_EQ(own["confidential"][0]["basis"], kBasis);
    EXPECT_EQ(own["confidential"][0]["cells"], 1);
    EXPECT_EQ(own["confidential"][1]["cells"], 2);
    const Got six = Get(std::string(kAef) + "&format=csv&table=6", token);
    EXPECT_EQ(six.status, 200);
    EXPECT_NE(six.text.find(kBasis), std::string::npos);
    const Got doc = Get("/v1/documents/confidentiality/JPN", token);
    EXPECT_EQ(doc.status, 200) << doc.text;
    EXPECT_NE(doc.text.find(kBasis), std::string::npos);
    const Got copy = Get("/v1/reports/authorization?ca=JPN-MNG&party=JPN", token);
    EXPECT_NE(copy.text.find("| 2021 | 1000 |"), std::string::npos) << copy.text;
  }
  const auto own_xlsx = Xlsx(jpn_focal);
  ASSERT_EQ(own_xlsx.size(), 6u);
  EXPECT_EQ(own_xlsx[1].rows[1][4], "2000");
  EXPECT_EQ(own_xlsx[5].name, "Confidentiality");
  EXPECT_EQ(own_xlsx[5].rows[1][4], kBasis);
  // MNG's AEF is not touched by JPN's claims.
  EXPECT_EQ(Get("/v1/reports/aef?party=MNG&year=2026").json()["Authorizations"][0]
                ["Authorized quantity"], "2000");

  // Cleared: the public value is back.
  Json clear = QuantityClaim();
  clear.erase("basis");
  const Got cleared = Command("report.confidential.clear", clear, jpn_focal);
  ASSERT_EQ(cleared.status, 200) << cleared.text;
  const Json after = Get(kAef).json();
  EXPECT_EQ(after["Authorizations"][0]["Authorized quantity"], "2000");
  EXPECT_EQ(after["Actions"][1]["Using/cancelling participating Party ID"], "Confidential");
  ASSERT_EQ(Command("report.confidential.clear",
                    {{"party", "JPN"}, {"table", "Actions"},
                     {"column", "Using/cancelling participating Party ID"}},
                    jpn_focal)
                .status,
            200);
  EXPECT_EQ(Get(kAef).json(), before);
  EXPECT_EQ(Xlsx("").size(), 5u);
}

// Issue 31 item 5 over HTTP: GET /v1/reports/regular reads as the AEF route does: JSON, a CSV per
// table and XLSX; a Party's claim hides the quantities (and their sums) from the public, its own
// token sees them; bad requests are refused naming the problem.
TEST_F(ConfidentialityApi, RegularInformationRouteWithholdsWhatTheAefWithholds) {
  const std::string route = "/v1/reports/regular?party=JPN&year=2027";
  // Tonnes per action type of table 2 ("23 ITMO actions"), quantities as the JSON gives them.
  const auto actions = [&](const std::string& token) {
    const Got got = Get(route, token);
    EXPECT_EQ(got.status, 200) << got.text;
    const Json body = got.json();
    std::map<std::string, std::string> out;
    EXPECT_EQ(body["years"], Json::array({2025, 2026})) << got.text;
    const Json& table = body["tables"][1];
    EXPECT_EQ(table["name"], "23 ITMO actions");
    EXPECT_EQ(table["columns"][13], "Quantity (t CO2 eq)");
    std::map<std::string, int64_t> sums;
    for (const Json& row : table["rows"]) {
      const std::string q = row[13].get<std::string>();
      if (q == "Confidential") {
        out[row[3].get<std::string>()] = q;
      } else {
        sums[row[3].get<std::string>()] += std::stoll(q);
      }
    }
    for (const auto& [type, tonnes] : sums) out[type] = std::to_string(tonnes);
    return out;
  };
  const std::map<std::string, std::string> values = {{"Acquisition", "300"}, {"Use", "100"}};
  EXPECT_EQ(actions(""), values);

  const Got csv = Get(route + "&format=csv&table=2");
  ASSERT_EQ(csv.status, 200) << csv.text;
  EXPECT_EQ(csv.text.rfind("Year,Cooperative approach ID,Sector(s),Action type,", 0), 0u)
      << csv.text;
  EXPECT_NE(csv.text.find(",Use,"), std::string::npos) << csv.text;
  const Got xlsx = Get(route + "&format=xlsx");
  ASSERT_EQ(xlsx.status, 200);
  const std::string path = r.dir.File("regular.xlsx");
  std::ofstream(path, std::ios::binary) << xlsx.text;
  auto sheets = report::ReadXlsxSheets(path);
  ASSERT_TRUE(sheets.has_value()) << sheets.error();
  ASSERT_EQ(sheets->size(), 7u);
  EXPECT_EQ((*sheets)[0].name, "21(c) Authorizations");
  EXPECT_EQ((*sheets)[4].name, "37-40 OMGE and adaptation");
  EXPECT_EQ((*sheets)[5].name, "Reversals");
  EXPECT_EQ((*sheets)[1].rows[0][13], "Quantity (t CO2 eq)");

  // JPN claims the Actions quantities: the public sees "Confidential", JPN the sums.
  ASSERT_EQ(Command("report.confidential.set",
                    {{"party", "JPN"},
                     {"table", "Actions"},
                     {"column", "Quantity (t CO2 eq)"},
                     {"basis", "contract volume"}},
                    jpn_focal)
                .status,
            200);
  const std::map<std::string, std::string> hidden = {{"Acquisition", "Confidential"},
                                                     {"Use", "Confidential"}};
  EXPECT_EQ(actions(""), hidden);
  EXPECT_EQ(actions(mng_focal), hidden);
  EXPECT_EQ(actions(jpn_focal), values);
  EXPECT_EQ(actions(admin), values);
  EXPECT_EQ(Get(route + "&format=csv&table=2").text.find(",100\r\n"), std::string::npos);

  for (const std::string& bad :
       {std::string("/v1/reports/regular?party=JPN&year=20x7"),
        std::string("/v1/reports/regular?party=JPN&year=2021"),
        std::string("/v1/reports/regular?party=JPN&year=2027&format=pdf"),
        std::string("/v1/reports/regular?party=JPN&year=2027&format=csv&table=8")}) {
    const Got got = Get(bad);
    EXPECT_EQ(got.status, 400) << bad << " " << got.text;
    EXPECT_NE(got.text.find("field_invalid"), std::string::npos) << bad << " " << got.text;
  }
}

// The documents AEF tables 2 and 5 are built from (the Party's authorizations, its Step 1 in the
// cooperative approach) are withheld from whoever may not see the Party's confidential values
// once it claims a field of those tables; other Parties' documents and its own view are intact.
TEST_F(ConfidentialityApi, DocumentRoutesWithholdTheAuthorizationsOfAClaimingParty) {
  const std::string doc = "/v1/documents/authorization/JPN:MN101";
  const std::string ca = "/v1/documents/cooperative_approach/JPN-MNG";
  ASSERT_EQ(Get(doc).json()["current"]["authorized"].dump().find("1000") != std::string::npos, true)
      << Get(doc).text;
  ASSERT_TRUE(Get(ca).json()["current"]["step1"]["JPN"].contains("c_date")) << Get(ca).text;
  ASSERT_EQ(Command("report.confidential.set", QuantityClaim(), jpn_focal).status, 200);
  for (const std::string& token : {std::string(), mng_focal, account_rep}) {
    const Json pub = Get(doc, token).json();
    for (const Json& v : pub["versions"]) {
      EXPECT_TRUE(v["body"].contains("withheld")) << v.dump();
      EXPECT_FALSE(v["body"].contains("authorized")) << v.dump();
    }
    const Json list = Get("/v1/documents/authorization", token).json();
    for (const Json& row : list["authorizations"]) {
      EXPECT_EQ(row.contains("withheld"), row["party"] == "JPN") << row.dump();
    }
    const Json approach = Get(ca, token).json()["current"];
    EXPECT_TRUE(approach["step1"]["JPN"].contains("withheld")) << approach.dump();
    EXPECT_TRUE(approach["step1"]["MNG"].contains("c_date")) << approach.dump();
  }
  for (const std::string& token : {jpn_focal, admin}) {
    EXPECT_FALSE(Get(doc, token).json()["current"].contains("withheld")) << token;
    EXPECT_TRUE(Get(ca, token).json()["current"]["step1"]["JPN"].contains("c_date"));
  }
  EXPECT_FALSE(Get("/v1/documents/authorization/MNG:MN101").json()["current"].contains("withheld"));
  ASSERT_EQ(Command("report.confidential.clear",
                    {{"party", "JPN"}, {"table", "Authorizations"}, {"column", "Authorized quantity"}, {"row", "JPN-MN101-1"}},
                    jpn_focal)
                .status,
            200);
  EXPECT_FALSE(Get(doc).json()["current"].contains("withheld"));
}

TEST_F(ConfidentialityApi, ChecksRouteWithholdsProblemDetailsFromThePublic) {
  ASSERT_EQ(Command("report.confidential.set",
                    {{"party", "JPN"}, {"table", "Authorizations"}, {"column", "Authorized timeframe"},
                     {"basis", "b"}},
                    jpn_focal)
                .status,
            200);
  const Json pub = Get(std::string("/v1/reports/aef/checks?party=JPN&year=2026")).json();
  const Json own = Get(std::string("/v1/reports/aef/checks?party=JPN&year=2026"), jpn_focal).json();
  ASSERT_EQ(pub["checks"].size(), own["checks"].size());
  for (size_t i = 0; i < pub["checks"].size(); ++i) {
    EXPECT_EQ(pub["checks"][i]["status"], own["checks"][i]["status"]);
    EXPECT_EQ(pub["checks"][i]["problems"].size(), own["checks"][i]["problems"].size());
  }
}

TEST_F(ConfidentialityApi, BadRequestsAreRefusedWithTheDatabaseUnchanged) {
  const std::string state = State();
  struct Bad {
    const char* command;
    Json args;
    int status;
    const char* check;
    const char* words;
  };
  Json no_basis = QuantityClaim();
  no_basis.erase("basis");
  Json blank = QuantityClaim();
  blank["basis"] = " ";
  Json bad_table = QuantityClaim();
  bad_table["table"] = "Table 2";
  Json bad_column = QuantityClaim();
  bad_column["column"] = "Authorised quantity";
  Json unknown_party = QuantityClaim();
  unknown_party["party"] = "THA";
  const std::vector<Bad> bad = {
      {"report.confidential.set", no_basis, 400, "field_missing", "basis"},
      {"report.confidential.set", blank, 400, "field_missing", "blank"},
      {"report.confidential.set", bad_table, 400, "field_invalid", "'Table 2' is not an AEF table"},
      {"report.confidential.set", bad_column, 400, "field_invalid", "'Authorised quantity'"},
      {"report.confidential.set", unknown_party, 404, "unknown_party", "THA"},
      {"report.confidential.clear", no_basis, 404, "not_found", "no confidentiality claim"},
  };
  for (const Bad& b : bad) {
    const Got got = Command(b.command, b.args, admin);
    EXPECT_EQ(got.status, b.status) << got.text;
    const Json body = got.json();
    EXPECT_EQ(body.value("check", ""), b.check) << got.text;
    EXPECT_NE(body.value("message", "").find(b.words), std::string::npos) << got.text;
    EXPECT_EQ(State(), state) << b.args.dump();
  }
  // Outside the focal point's scope or role: refused before anything runs.
  Json mng = QuantityClaim();
  mng["party"] = "MNG";
  EXPECT_EQ(Command("report.confidential.set", mng, jpn_focal).status, 403);
  EXPECT_EQ(Command("report.confidential.set", QuantityClaim(), jpn_registry_auditor).status, 403);
  EXPECT_EQ(State(), state);
  EXPECT_EQ(Get(std::string(kAef) + "&format=csv&table=7").status, 400);
}

}  // namespace
}  // namespace registry::http
