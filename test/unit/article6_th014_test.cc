// Issue 27: Article 6 accounting as it really happens. The host Party first-transfers, Japan
// acquires (ARCHITECTURE decision 11), replayed on the real TH014 flow: the JC decision of
// 30 Oct 2025 issued 1,009 t of vintage 2021 as ITMOs straight into the Government of Japan's
// holding account in Japan's registry on 11 Nov 2025 (DOMAIN R-JCM-10). Thailand's registry is
// not hosted here; Japan's is. Both Parties' AEF Actions rows, the cross-Party check both ways,
// both Parties' first transfers and uses, and the refusals of the old silent paths.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <map>
#include <string>
#include <vector>

#include "core/itmo_id.h"
#include "report/aef_builder.h"
#include "report/regular_info.h"
#include "service/adjustments.h"
#include "service/verify.h"
#include "storage/sqlite/sqlite_store.h"
#include "testing/test_util.h"
#include "unit/article6_fixture.h"

namespace registry {
namespace {

using service::Json;
using testing::TestRegistry;

Json V(int year, int64_t quantity) { return Json{{"vintage", year}, {"quantity", quantity}}; }

// Japan's registry JPN01 (accounts 1-4 of the basic set-up, 1 the Government of Japan's holding
// account, 2 its retirement account), Thailand as a Party whose registry (THA01) is elsewhere,
// the JPN-THA approach with its CARP id and both Step 1s, TH014 registered with the whole
// issuance allocated to Japan.
class Th014 : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::SetUpBasicRegistry(r);
    testing::LoadNomenclature(r);
    r.Ok("party.add", {{"code", "THA"}, {"name", "Thailand"}});
    r.Ok("ca.define", {{"key", "JPN-THA"}, {"parties", {"JPN", "THA"}}, {"ca_id", "CA0101"}});
    for (const auto& [party, registry] : {std::pair{"JPN", "JPN01"}, std::pair{"THA", "THA01"}}) {
      Json step1 = testing::Step1Args(party, registry);
      step1["key"] = "JPN-THA";
      r.Ok("ca.authorize", step1);
      r.Ok("report.initial.submit", {{"party", party}, {"ca", "JPN-THA"}, {"date", "2025-09-01"}});
    }
    Json project = testing::ProjectArgs("TH014");
    project["host_party"] = "THA";
    project["title"] =
        "Introduction of 5MW Floating Solar Power System on Industrial Water Reservoir";
    project["methodology"] = "TH_AM001";
    project["methodology_version"] = "Ver1.0";
    project["allocation"] = {{"THA", 0}, {"JPN", 100}};
    project["ca_key"] = "JPN-THA";
    r.Ok("project.add", project);
    r.Ok("project.transition", {{"ref", "TH014"},
                                {"to", "registration_requested"},
                                {"jc_decision", "TH-JC-REQ"},
                                {"date", "2020-09-01"}});
    r.Ok("project.transition", {{"ref", "TH014"},
                                {"to", "registered"},
                                {"jc_decision", "TH-JC-REG"},
                                {"date", "2020-09-28"}});
  }

  // Step 2a of `party`: TH014's estimated ITMOs of vintage 2021 for NDC use, Japan acquiring.
  Json Step2a(const std::string& party, int64_t quantity = 1200) {
    Json args = testing::Step2aArgs(party, "TH014");
    args["vintages"] = {V(2021, quantity)};
    return args;
  }

  // The JC decision of 30 Oct 2025, Japan's side (all of it), into account 1 on 11 Nov 2025.
  Json IssueTh014() {
    return {{"account", 1},
            {"project", "TH014"},
            {"jc_decision", "TH-JC7-2025-10-30"},
            {"decision_date", "2025-10-30"},
            {"monitoring_start", "2021-01-01"},
            {"monitoring_end", "2021-12-31"},
            {"total", 1009},
            {"shares", {{"THA", 0}, {"JPN", 1009}}},
            {"vintages", {V(2021, 1009)}}};
  }

  report::AefWorkbook Aef(const std::string& party, int32_t year) {
    auto wb = report::BuildAef(*r.store, report::AefRequest{PartyCode{party}, year, "1.0", ""});
    EXPECT_TRUE(wb.has_value()) << (wb ? "" : wb.error().Message());
    return wb ? *wb : report::EmptyAefWorkbook();
  }

  // The Actions rows of a workbook as "type|subtype|FTP|registry|first ID|quantity|vintage|
  // transferring|acquiring|using|use year".
  static std::vector<std::string> Actions(const report::AefWorkbook& wb) {
    std::vector<std::string> out;
    for (const auto& row : wb.tables[report::kActions].rows) {
      out.push_back(row[1] + "|" + row[2] + "|" + row[5] + "|" + row[6] + "|" + row[7] + "|" +
                    row[15] + "|" + row[18] + "|" + row[19] + "|" + row[20] + "|" + row[22] + "|" +
                    row[24]);
    }
    return out;
  }

  void ExpectVerifies() { testing::ExpectVerifies(r); }

  TestRegistry r;
};

TEST_F(Th014, TheHostsFirstTransferIsJapansAcquisitionAndJapanUsesIt) {
  r.Ok("authorization.add", Step2a("THA"));
  r.Ok("authorization.add", Step2a("JPN"));
  r.clock.Set("2025-11-11T09:00:00Z");
  const Json issued = r.Ok("issue.jcm", IssueTh014());
  EXPECT_EQ(issued["first_transferring_party"], "THA");
  EXPECT_EQ(issued["acquiring_party"], "JPN");
  ASSERT_EQ(issued["lots"].size(), 1u);
  EXPECT_EQ(issued["lots"][0]["first_transferred"], true);
  // The ITMO identifier carries the host: CA, Japan's registry, Thailand, serial, vintage.
  auto tx = r.store->BeginRead();
  ASSERT_TRUE(tx.has_value());
  auto lot = (*tx)->GetLot(IssuanceId{issued["lots"][0]["id"].get<int64_t>()});
  ASSERT_TRUE(lot.has_value() && lot->has_value());
  EXPECT_EQ((*lot)->first_transferring_party.value, "THA");
  EXPECT_EQ(FormatItmoId(ItmoId{(*lot)->cooperative_approach, (*lot)->registry,
                                (*lot)->first_transferring_party, 1, (*lot)->vintage}),
            "CA0101-JPN01-THA-1-2021");
  tx->reset();
  // Step 2b for both Parties: each authorization records what was issued under it.
  for (const char* party : {"THA", "JPN"}) {
    auto doc = (*r.store->BeginRead())->GetDocument("authorization", std::string(party) + ":TH014");
    ASSERT_TRUE(doc.has_value() && doc->has_value());
    const Json body = Json::parse((*doc)->body);
    EXPECT_EQ(body["version"], 2) << party;
    EXPECT_EQ(body["issued"]["2021"], 1009) << party << body.dump();
  }

  // 2025: Thailand's AEF has the first transfer to Japan, Japan's the acquisition from Thailand.
  const auto tha = Aef("THA", 2025);
  const auto jpn = Aef("JPN", 2025);
  const std::string first_id = "CA0101-JPN01-THA-1-2021";
  EXPECT_EQ(Actions(tha),
            std::vector<std::string>{"First transfer|First transfer to another Party|THA|"
                                     "JPN01|" +
                                     first_id + "|1009|2021|NA|JPN|NA|NA"});
  EXPECT_EQ(Actions(jpn), std::vector<std::string>{"Acquisition|NA|THA|JPN01|" + first_id +
                                                   "|1009|2021|THA|NA|NA|NA"});
  // The cross-Party check passes in both directions.
  for (const auto& [ours, theirs] : {std::pair{&tha, &jpn}, std::pair{&jpn, &tha}}) {
    for (const auto& c : report::PreConsistencyChecks(*ours, theirs, 2021, 2030)) {
      EXPECT_NE(c.status, "Checked, inconsistencies identified")
          << c.item << " " << c.name << ": " << (c.problems.empty() ? "" : c.problems[0]);
    }
  }
  // Thailand's corresponding adjustment adds the tonnes in the vintage year; Japan's nothing yet.
  {
    auto read = r.store->BeginRead();
    ASSERT_TRUE(read.has_value());
    auto tha_flows = service::FlowsOf(**read, PartyCode{"THA"});
    ASSERT_TRUE(tha_flows.has_value());
    ASSERT_EQ(tha_flows->size(), 1u);
    EXPECT_EQ((*tha_flows)[0].kind, ItmoFlow::Kind::kFirstTransfer);
    EXPECT_EQ((*tha_flows)[0].vintage.year, 2021);
    EXPECT_EQ((*tha_flows)[0].quantity.tonnes, 1009);
    auto jpn_flows = service::FlowsOf(**read, PartyCode{"JPN"});
    ASSERT_TRUE(jpn_flows.has_value());
    EXPECT_TRUE(jpn_flows->empty());
  }

  // 2026: Japan uses 500 t towards its NDC; it subtracts them then, Thailand adds nothing more.
  r.clock.Set("2026-03-01T09:00:00Z");
  r.Ok("retire", {{"from", 1}, {"quantity", 500}, {"use_year", 2026}});
  EXPECT_EQ(Actions(Aef("JPN", 2026)),
            std::vector<std::string>{
                "Use|NA|THA|JPN01|CA0101-JPN01-THA-510-2021|500|2021|NA|NA|JPN|2026"});
  EXPECT_TRUE(Actions(Aef("THA", 2026)).empty());
  {
    auto read = r.store->BeginRead();
    auto jpn_flows = service::FlowsOf(**read, PartyCode{"JPN"});
    ASSERT_TRUE(jpn_flows.has_value());
    ASSERT_EQ(jpn_flows->size(), 1u);
    EXPECT_EQ((*jpn_flows)[0].kind, ItmoFlow::Kind::kUse);
    EXPECT_EQ((*jpn_flows)[0].quantity.tonnes, 500);
    auto tha_flows = service::FlowsOf(**read, PartyCode{"THA"});
    ASSERT_EQ(tha_flows->size(), 1u);  // Still only the first transfer.
  }
  ExpectVerifies();
}

// Issue 31 item 5: the regular information of the BTR of 2027 (the AEFs of 2025 and 2026) of
// both Parties, read side by side: Thailand's first transfer to Japan is Japan's acquisition from
// Thailand, Japan's use and its voluntary OMGE cancellation are there, each table's sums equal
// the AEFs' rows of the same years, and the adjustments rows are service/adjustments'.
TEST_F(Th014, BothPartiesRegularInformationIsTheirAefsSummed) {
  r.Ok("authorization.add", Step2a("THA"));
  r.Ok("authorization.add", Step2a("JPN"));
  for (const char* party : {"JPN", "THA"}) {
    r.Ok("ndc.configure",
         {{"party", party}, {"first_year", 2021}, {"last_year", 2030}, {"method", "trajectory"}});
  }
  r.clock.Set("2025-11-11T09:00:00Z");
  r.Ok("issue.jcm", IssueTh014());
  r.clock.Set("2026-03-01T09:00:00Z");
  r.Ok("retire", {{"from", 1}, {"quantity", 500}, {"use_year", 2026}});
  r.Ok("cancel", {{"from", 1}, {"quantity", 9}, {"purpose", "omge"}});

  std::map<std::string, report::RegularInfo> info;
  for (const char* party : {"JPN", "THA"}) {
    auto built = report::BuildRegularInformation(*r.store, {PartyCode{party}, 2027});
    ASSERT_TRUE(built.has_value()) << built.error().Message();
    EXPECT_EQ(built->first_year, 2025);
    EXPECT_EQ(built->last_year, 2026);
    ASSERT_EQ(built->tables.size(), 7u);
    info[party] = *built;
  }
  const auto rows = [&](const std::string& party, size_t table) {
    std::vector<std::string> out;
    for (const auto& row : info[party].tables[table].rows) {
      std::string line;
      for (const std::string& cell : row) line += (line.empty() ? "" : "|") + cell;
      out.push_back(line);
    }
    return out;
  };
  // Per cooperative approach, sector, action, Parties, vintage: Thailand's first transfer to
  // Japan is Japan's acquisition from Thailand, the same 1,009 t of 2021 in 2025.
  EXPECT_EQ(rows("THA", report::kRegularActions),
            std::vector<std::string>{"2025|CA0101|Energy generation|First transfer|First transfer "
                                     "to another Party|THA|NA|JPN|NA|NA|2021|NA|1|1009"});
  EXPECT_EQ(rows("JPN", report::kRegularActions),
            (std::vector<std::string>{
                "2025|CA0101|Energy generation|Acquisition|NA|THA|THA|NA|NA|NA|2021|NA|1|1009",
                "2026|CA0101|Energy generation|Cancellation|Voluntary cancellation to deliver "
                "OMGE|THA|NA|NA|JPN|NA|2021|NA|1|9",
                "2026|CA0101|Energy generation|Use|NA|THA|NA|NA|JPN|NA|2021|2026|1|500"}));
  // Para 21(c): both authorizations of 2025 (Step 2b made version 2 at issuance).
  for (const char* party : {"JPN", "THA"}) {
    const auto authorizations = rows(party, report::kRegularAuthorizations);
    ASSERT_EQ(authorizations.size(), 2u) << party;
    EXPECT_NE(authorizations[0].find("|1|Authorization|"), std::string::npos) << authorizations[0];
    EXPECT_NE(authorizations[1].find("|2|Change to an earlier authorization (version 2)|"),
              std::string::npos)
        << authorizations[1];
  }
  EXPECT_EQ(rows("JPN", report::kRegularAmbition),
            std::vector<std::string>{"2026|Voluntary cancellation to deliver OMGE (2/CMA.3 annex "
                                     "paras 39-40)|CA0101|Energy generation|2021|1|9"});
  EXPECT_TRUE(rows("THA", report::kRegularAmbition).empty());
  EXPECT_EQ(rows("JPN", report::kRegularHoldings),
            (std::vector<std::string>{"2025|CA0101|Energy generation|THA|JPN01|2021|1|1009",
                                      "2026|CA0101|Energy generation|THA|JPN01|2021|1|500"}));
  EXPECT_TRUE(rows("THA", report::kRegularHoldings).empty());  // THA01 is not hosted here.

  // Every quantity is the sum of the AEFs' rows of the same year (4/CMA.6 para 23).
  for (const char* party : {"JPN", "THA"}) {
    std::map<std::string, int64_t> aef, regular;
    for (int32_t year : {2025, 2026}) {
      const auto wb = Aef(party, year);
      for (const auto& row : wb.tables[report::kActions].rows) {
        aef[std::to_string(year) + " " + row[1] + " " + row[2] + " " + row[18]] +=
            std::stoll(row[15]);
      }
      for (const auto& row : wb.tables[report::kHoldings].rows) {
        aef[std::to_string(year) + " held " + row[15]] += std::stoll(row[12]);
      }
    }
    for (const auto& row : info[party].tables[report::kRegularActions].rows) {
      regular[row[0] + " " + row[3] + " " + row[4] + " " + row[10]] += std::stoll(row[13]);
    }
    for (const auto& row : info[party].tables[report::kRegularHoldings].rows) {
      regular[row[0] + " held " + row[5]] += std::stoll(row[7]);
    }
    EXPECT_EQ(regular, aef) << party;
    EXPECT_FALSE(aef.empty()) << party;
  }
  // 23(c)-(h) per year up to 2026: Thailand's first transfer counts in 2021, its vintage;
  // Japan's use in 2026.
  const auto adjustment = [&](const std::string& party, const std::string& year) {
    for (const std::string& row : rows(party, report::kRegularAdjustments)) {
      if (row.rfind(year + "|", 0) == 0) return row;
    }
    return std::string();
  };
  EXPECT_EQ(rows("JPN", report::kRegularAdjustments).size(), 6u);  // 2021-2026.
  EXPECT_EQ(adjustment("THA", "2021"), "2021|2021-2030|trajectory|1009|0|0|1009|1009|1009");
  EXPECT_EQ(adjustment("JPN", "2026"), "2026|2021-2030|trajectory|0|0|500|-500|-500|-500");

  // A BTR year with no AEF year to cover is refused.
  auto early = report::BuildRegularInformation(*r.store, {PartyCode{"JPN"}, 2021});
  ASSERT_FALSE(early.has_value());
  ASSERT_TRUE(early.error().refusal.has_value());
  EXPECT_EQ(early.error().refusal->check, Check::kFieldInvalid);
}

// The old silent paths, each refused now with its check, nothing changed.
TEST_F(Th014, WithoutTheHostsAuthorizationNothingIsIssuedAsAnItmo) {
  r.Ok("authorization.add", Step2a("JPN"));
  // Japan's authorization alone made Japanese-origin ITMOs that Japan then used.
  r.Refused("issue.jcm", IssueTh014(), Check::kNotAuthorized);
  // Thailand authorizes another acquiring Party only.
  Json other = Step2a("THA");
  other["acquiring_parties"] = {"MNG"};
  r.Ok("authorization.add", other);
  r.Refused("issue.jcm", IssueTh014(), Check::kNotAuthorized);
}

TEST_F(Th014, TheHostsAuthorizedQuantityCountsBothSides) {
  r.Ok("authorization.add", Step2a("THA", 1000));
  r.Ok("authorization.add", Step2a("JPN"));
  r.Refused("issue.jcm", IssueTh014(), Check::kAuthorizedQuantityExceeded);
}

TEST_F(Th014, NoThaiStep1MeansNoThaiStep2a) {
  r.Ok("ca.define", {{"key", "JPN-THA-2"}, {"parties", {"JPN", "THA"}}, {"ca_id", "CA0102"}});
  Json project = testing::ProjectArgs("TH099");
  project["host_party"] = "THA";
  project["allocation"] = {{"THA", 0}, {"JPN", 100}};
  project["ca_key"] = "JPN-THA-2";
  r.Ok("project.add", project);
  r.Ok("project.transition", {{"ref", "TH099"},
                              {"to", "registration_requested"},
                              {"jc_decision", "TH-JC-REQ-99"},
                              {"date", "2025-09-01"}});
  Json step2a = testing::Step2aArgs("THA", "TH099");
  r.Refused("authorization.add", step2a, Check::kNotAuthorized);
}

TEST_F(Th014, ACaIdIsNeededAndADecisionIsIssuedOncePerSide) {
  r.Ok("authorization.add", Step2a("THA"));
  Json twice = IssueTh014();
  twice["total"] = 100;
  twice["shares"] = {{"THA", 0}, {"JPN", 100}};
  twice["vintages"] = {V(2021, 100)};
  r.Ok("issue.jcm", twice);
  r.Refused("issue.jcm", twice, Check::kAlreadyExists);
  Json outside = twice;
  outside["jc_decision"] = "TH-JC8";
  outside["vintages"] = {V(2022, 100)};  // Not in the monitoring period 2021.
  r.Refused("issue.jcm", outside, Check::kVintageOutOfRange);
  // An approach without its CARP id yet: Step 1 and Step 2a may come, ITMOs may not.
  r.Ok("ca.define", {{"key", "JPN-THA-3"}, {"parties", {"JPN", "THA"}}});
  Json step1 = testing::Step1Args("THA", "THA01");
  step1["key"] = "JPN-THA-3";
  r.Ok("ca.authorize", step1);
  Json project = testing::ProjectArgs("TH098");
  project["host_party"] = "THA";
  project["allocation"] = {{"THA", 0}, {"JPN", 100}};
  project["ca_key"] = "JPN-THA-3";
  r.Ok("project.add", project);
  r.Ok("project.transition", {{"ref", "TH098"},
                              {"to", "registration_requested"},
                              {"jc_decision", "TH-JC-REQ-98"},
                              {"date", "2025-09-01"}});
  r.Ok("project.transition", {{"ref", "TH098"},
                              {"to", "registered"},
                              {"jc_decision", "TH-JC-REG-98"},
                              {"date", "2025-09-28"}});
  Json step2a = testing::Step2aArgs("THA", "TH098");
  step2a["vintages"] = {V(2021, 500)};
  r.Ok("authorization.add", step2a);
  Json no_id = twice;
  no_id["project"] = "TH098";
  r.Refused("issue.jcm", no_id, Check::kCaIdNotAssigned);
}

// A registry written under the old rule (Japan's share recorded as Japanese ITMOs) is refused
// by verify, naming the lot, the Party it names and the host.
TEST_F(Th014, VerifyNamesALotWrittenUnderTheOldRule) {
  r.Ok("authorization.add", Step2a("THA"));
  r.Ok("issue.jcm", IssueTh014());
  ExpectVerifies();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(r.db_path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE lots SET ftp = 'JPN'", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  r.Reopen();
  auto pub = journal::LoadPublicKey(r.db_path);
  ASSERT_TRUE(pub.has_value());
  const auto report = service::Verify(*r.store, *pub, [] {
    return sqlite::Open(sqlite::Options{":memory:", false});
  });
  ASSERT_FALSE(report.ok());
  bool named = false;
  for (const std::string& p : report.problems) {
    named = named || (p.find("names JPN as its first transferring Party, not the project's host "
                             "THA") != std::string::npos);
  }
  EXPECT_TRUE(named) << report.problems.front();
}

// Unauthorized JCM credits of 2021 or later may be cancelled, never used towards an NDC.
TEST_F(Th014, UnauthorizedPost2020CreditsAreCancelledNeverUsed) {
  r.Ok("issue", {{"account", 1}, {"vintages", {V(2021, 50), V(2020, 50)}}, {"project", "TH014"}});
  r.Refused("retire", {{"from", 1}, {"quantity", 10}, {"vintage", 2021}, {"use_year", 2026}},
            Check::kNotAuthorized);
  r.Ok("retire", {{"from", 1}, {"quantity", 10}, {"vintage", 2020}, {"use_year", 2026}});
  r.Ok("cancel", {{"from", 1}, {"quantity", 10}, {"vintage", 2021}, {"purpose", "voluntary"}});
}

// 2/CMA.3 annex para 8(b): once Japan has configured its NDC periods, an ITMO is used in the
// period of its vintage: TH014's 2021 tonnes count towards 2021-2030, not towards 2031-2035.
TEST_F(Th014, AnItmoIsUsedInTheNdcPeriodOfItsVintage) {
  r.Ok("authorization.add", Step2a("THA"));
  r.Ok("authorization.add", Step2a("JPN"));
  r.clock.Set("2025-11-11T09:00:00Z");
  r.Ok("issue.jcm", IssueTh014());
  r.Refused("retire", {{"from", 1}, {"quantity", 10}, {"use_year", 2020}},
            Check::kUseYearOutsideNdcPeriod);
  // No period configured yet: only "not before the vintage" is known.
  r.Ok("retire", {{"from", 1}, {"quantity", 10}, {"use_year", 2031}});
  r.Ok("ndc.configure",
       {{"party", "JPN"}, {"first_year", 2021}, {"last_year", 2030}, {"method", "trajectory"}});
  const service::Response outside =
      r.Run("retire", {{"from", 1}, {"quantity", 10}, {"use_year", 2031}});
  ASSERT_FALSE(outside.ok());
  ASSERT_TRUE(outside.failure->refusal.has_value());
  EXPECT_EQ(outside.failure->refusal->check, Check::kUseYearOutsideNdcPeriod);
  EXPECT_NE(outside.failure->Message().find("2031 is in no NDC period of JPN"), std::string::npos)
      << outside.failure->Message();
  r.Ok("ndc.configure",
       {{"party", "JPN"}, {"first_year", 2031}, {"last_year", 2035}, {"method", "trajectory"}});
  const service::Response later =
      r.Run("retire", {{"from", 1}, {"quantity", 10}, {"use_year", 2031}});
  ASSERT_FALSE(later.ok());
  EXPECT_NE(later.failure->Message().find(
                "in JPN's NDC period 2031-2035 and the vintage 2021 in 2021-2030"),
            std::string::npos)
      << later.failure->Message();
  r.Ok("retire", {{"from", 1}, {"quantity", 10}, {"use_year", 2030}});
  ExpectVerifies();
}

// 4/CMA.6 para 3 (JCM-510): where Japan's authorization names the entities it authorizes, ITMOs
// are issued into the account of one of them only.
TEST_F(Th014, OnlyAnAuthorizedEntityReceivesItmos) {
  const int64_t buyer =
      r.Ok("entity.add", {{"name", "Buyer K.K."}, {"country", "JPN"}})["id"].get<int64_t>();
  const int64_t other =
      r.Ok("entity.add", {{"name", "Other K.K."}, {"country", "JPN"}})["id"].get<int64_t>();
  const int64_t account = r.Ok("account.open", {{"registry", "JPN01"},
                                                {"type", "entity_holding"},
                                                {"name", "buyer"},
                                                {"holder", buyer}})["id"]
                              .get<int64_t>();
  r.Ok("authorization.add", Step2a("THA"));
  Json japan = Step2a("JPN");
  japan["entities"] = {other};
  r.Ok("authorization.add", japan);
  Json issue = IssueTh014();
  issue["account"] = account;
  const service::Response refused = r.Run("issue.jcm", issue);
  ASSERT_FALSE(refused.ok());
  ASSERT_TRUE(refused.failure->refusal.has_value());
  EXPECT_EQ(refused.failure->refusal->check, Check::kEntityNotAuthorized);
  EXPECT_NE(refused.failure->Message().find("entity " + std::to_string(buyer) +
                                            " is not among the entities"),
            std::string::npos)
      << refused.failure->Message();
  // Nothing was written: the same decision goes to the account of the entity Japan named.
  issue["account"] = r.Ok("account.open", {{"registry", "JPN01"},
                                           {"type", "entity_holding"},
                                           {"name", "other"},
                                           {"holder", other}})["id"];
  r.Ok("issue.jcm", issue);
}

}  // namespace
}  // namespace registry
