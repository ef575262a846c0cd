// The project cycle's records over real HTTP (issue 31 item 2): GET /v1/projects/{ref}/records
// is public like the project (records oldest first, each with its document's SHA-256 and URL);
// an unknown project is 404 unknown_project, a bad reference 400; project.record is a command
// like any other (POST /v1/commands/project.record), its refusals the catalogue's; the project's
// page shows the records with their documents.
#include <gtest/gtest.h>
#include <httplib.h>

#include "http/api_fixture.h"
#include "unit/project_cycle_fixture.h"

namespace registry::http {
namespace {

using testing::RecordArgs;

// ID034 registered through its records (validation report, registration request, registration).
Api WithId034() {
  return Api({}, true, [](testing::TestRegistry& r) {
    r.Ok("party.add", {{"code", "IDN"}, {"name", "Indonesia"}});
    r.Ok("project.add", {{"ref", "ID034"},
                         {"host_party", "IDN"},
                         {"title", "Energy Saving by Introducing High Efficiency Autoclave"},
                         {"methodology", "ID_AM028"},
                         {"participants", {"PT. Otsuka Indonesia"}},
                         {"state", "validation"}});
    testing::RegisterId034ByRecords(r);
  });
}

TEST(ProjectCycleHttp, RecordsArePublicAndRefusalsAreTheCatalogues) {
  const Api api = WithId034();
  const Answer records = api.Get("/v1/projects/ID034/records");  // No token.
  ASSERT_EQ(records.status, 200) << records.body.dump();
  EXPECT_EQ(records.body["project"], "ID034");
  EXPECT_EQ(records.body["state"], "registered");
  ASSERT_EQ(records.body["records"].size(), 3u);
  EXPECT_EQ(records.body["records"][0]["kind"], "validation_report");
  EXPECT_EQ(records.body["records"][0]["tpe"], "Japan Quality Assurance Organization");
  EXPECT_EQ(records.body["records"][0]["document"]["sha256"], testing::Sha(1));
  EXPECT_EQ(records.body["records"][2]["jc_decision"], "ID-JC-2024-12-18-ID034");
  EXPECT_EQ(records.body["records"][2]["project_state"],
            Json({{"from", "registration_requested"}, {"to", "registered"}}));

  const Answer unknown = api.Get("/v1/projects/ID999/records");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.body.value("check", ""), "unknown_project");
  const Answer bad = api.Get("/v1/projects/id034/records");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body.value("check", ""), "field_invalid");

  // A monitoring report by the API; then refusals, which change nothing.
  const Json period = {{"monitoring_start", "2025-01-01"}, {"monitoring_end", "2025-06-30"}};
  const Answer added =
      api.Post("/v1/commands/project.record",
               RecordArgs("monitoring_report", "2025-07-10", 4, period), api.admin());
  ASSERT_EQ(added.status, 200) << added.body.dump();
  const int64_t head = api.Get("/healthz").body.value("journal_sequence", -1);
  Json http_url =
      RecordArgs("monitoring_report", "2025-12-31", 5,
                 {{"monitoring_start", "2025-07-01"}, {"monitoring_end", "2025-12-31"}});
  http_url["document"]["url"] = "http://www.jcm.go.jp/report.pdf";
  const Answer refused_url = api.Post("/v1/commands/project.record", http_url, api.admin());
  EXPECT_EQ(refused_url.status, 400);
  EXPECT_EQ(refused_url.body.value("check", ""), "document_reference_invalid");
  const Answer refused_order =
      api.Post("/v1/commands/project.record",
               RecordArgs("issuance_request", "2025-07-11", 5, period), api.admin());
  EXPECT_EQ(refused_order.status, 422);
  EXPECT_EQ(refused_order.body.value("check", ""), "cycle_record_not_allowed");
  const Answer refused_date =
      api.Post("/v1/commands/project.record",
               RecordArgs("monitoring_report", "2025-07-09", 5,
                          {{"monitoring_start", "2025-07-01"}, {"monitoring_end", "2025-07-09"}}),
               api.admin());
  EXPECT_EQ(refused_date.status, 422);
  EXPECT_EQ(refused_date.body.value("check", ""), "cycle_record_date_order");
  EXPECT_EQ(api.Get("/healthz").body.value("journal_sequence", -1), head);
  EXPECT_EQ(api.Get("/v1/projects/ID034/records").body["records"].size(), 4u);

  // The project's page: the records, each document linked by URL with its SHA-256; the move the
  // registration request made named by its record.
  auto page = api.Client().Get("/projects/ID034");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("Project cycle records"), std::string::npos);
  EXPECT_NE(page->body.find("id=\"project-cycle\""), std::string::npos);
  EXPECT_NE(page->body.find("href=\"https://www.jcm.go.jp/id-jp/projects/ID034/"
                            "monitoring_report-4.pdf\""),
            std::string::npos);
  EXPECT_NE(page->body.find(testing::Sha(4)), std::string::npos);
  EXPECT_NE(page->body.find("TPE Japan Quality Assurance Organization, report JQA-VAL-ID034"),
            std::string::npos);
  EXPECT_NE(page->body.find("monitoring period 2025-01-01 – 2025-06-30"), std::string::npos);
  EXPECT_NE(page->body.find("record 2"), std::string::npos);
  auto ja = api.Client().Get("/projects/ID034?lang=ja");
  ASSERT_TRUE(ja);
  EXPECT_NE(ja->body.find("プロジェクトサイクルの記録"), std::string::npos);
  EXPECT_NE(ja->body.find("モニタリング報告書"), std::string::npos);
}

}  // namespace
}  // namespace registry::http
