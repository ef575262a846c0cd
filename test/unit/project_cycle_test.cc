// Goal: the JCM project cycle's records (issue 31 item 2) on the real Indonesian project ID034:
// validation report, registration request and registration (which move the project as
// project.transition does), a monitoring report, its verification by a third-party entity, the
// issuance request, the JC's issuance decision and its issue.jcm into Japan's registry, a
// crediting-period renewal; each record journaled with its document's SHA-256 and URL, read back
// by ProjectRecordsJson (the API's and the CLI's reader). Then every new refusal, each changing
// nothing (projection digest and journal length unchanged).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "service/queries.h"
#include "testing/test_util.h"
#include "unit/project_cycle_fixture.h"

namespace registry {
namespace {

using service::Json;
using testing::RecordArgs;
using testing::TestRegistry;

using testing::Digest;
using testing::JournalLength;

Json Records(TestRegistry& r, const std::string& ref = "ID034") {
  auto records = service::ProjectRecordsJson(*r.store, ref);
  EXPECT_TRUE(records.has_value()) << (records ? "" : records.error().Message());
  return records ? *records : Json::object();
}

Json ProjectDoc(TestRegistry& r) {
  auto tx = r.store->BeginRead();
  EXPECT_TRUE(tx.has_value());
  auto doc = (*tx)->GetDocument("project", "ID034");
  EXPECT_TRUE(doc.has_value() && doc->has_value());
  return Json::parse((*doc)->body);
}

const Json kPeriod1 = {{"monitoring_start", "2025-01-01"}, {"monitoring_end", "2025-06-30"}};

TEST(ProjectCycle, Id034FromValidationToIssuanceAndRenewal) {
  TestRegistry r;
  testing::SetUpId034(r);
  EXPECT_EQ(Records(r)["records"].size(), 0u);

  // Validation and registration (R-JCM-04): the request and the JC's registration move it.
  const Json validation =
      r.Ok("project.record", RecordArgs("validation_report", "2024-10-15", 1,
                                        {{"tpe", "Japan Quality Assurance Organization"},
                                         {"report_ref", "JQA-VAL-ID034"}}));
  EXPECT_EQ(validation["number"], 1);
  EXPECT_EQ(validation["form"], "Validation Report");
  EXPECT_FALSE(validation.contains("project_state"));
  EXPECT_EQ(ProjectDoc(r)["state"], "validation");
  const Json request = r.Ok("project.record", RecordArgs("registration_request", "2024-10-30", 2));
  EXPECT_EQ(request["project_state"],
            Json({{"from", "validation"}, {"to", "registration_requested"}}));
  EXPECT_EQ(ProjectDoc(r)["state"], "registration_requested");
  r.Ok("project.record",
       RecordArgs("registration", "2024-12-18", 3, {{"jc_decision", "ID-JC-2024-12-18-ID034"}}));
  Json project = ProjectDoc(r);
  EXPECT_EQ(project["state"], "registered");
  EXPECT_EQ(project["registration_date"], "2024-12-18");  // The real registration date.
  ASSERT_EQ(project["decisions"].size(), 2u);
  EXPECT_EQ(project["decisions"][1], Json({{"id", "ID-JC-2024-12-18-ID034"},
                                           {"date", "2024-12-18"},
                                           {"from", "registration_requested"},
                                           {"to", "registered"},
                                           {"record", 3}}));

  // The first monitoring period through verification, request and decision.
  r.Ok("project.record", RecordArgs("monitoring_report", "2025-07-10", 4, kPeriod1));
  Json verification = kPeriod1;
  verification["tpe"] = "Japan Quality Assurance Organization";
  verification["report_ref"] = "JQA-VER-ID034-01";
  r.Ok("project.record", RecordArgs("verification_report", "2025-09-01", 5, verification));
  r.Ok("project.record", RecordArgs("issuance_request", "2025-09-15", 6, kPeriod1));
  Json decision = kPeriod1;
  decision["jc_decision"] = "JC-ISS-ID034-1";
  r.Ok("project.record", RecordArgs("jc_decision", "2025-11-20", 7, decision));
  EXPECT_EQ(Records(r)["monitoring_periods"],
            Json::array({{{"start", "2025-01-01"},
                          {"end", "2025-06-30"},
                          {"state", "decided"},
                          {"tpe", "Japan Quality Assurance Organization"},
                          {"jc_decision", "JC-ISS-ID034-1"}}}));

  // Japan's side issues the decision (JCM credits: nobody authorized ID034 as ITMOs).
  const Json issued = r.Ok("issue.jcm", {{"account", 1},
                                         {"project", "ID034"},
                                         {"jc_decision", "JC-ISS-ID034-1"},
                                         {"decision_date", "2025-11-20"},
                                         {"monitoring_start", "2025-01-01"},
                                         {"monitoring_end", "2025-06-30"},
                                         {"total", 1000},
                                         {"shares", {{"IDN", 500}, {"JPN", 500}}},
                                         {"vintages", {{{"vintage", 2025}, {"quantity", 500}}}}});
  ASSERT_EQ(issued["lots"].size(), 1u);

  // A post-registration change and, years on, the renewal of the crediting period.
  r.Ok("project.record", RecordArgs("post_registration_change", "2025-12-01", 8,
                                    {{"note", "a second autoclave added at the same factory"}}));
  r.clock.Set("2030-06-01T00:00:00Z");
  r.Ok("project.record", RecordArgs("crediting_period_renewal", "2030-05-15", 9,
                                    {{"crediting_start", "2031-01-01"},
                                     {"crediting_end", "2040-12-31"},
                                     {"jc_decision", "ID-JC-2030-05-15-ID034"}}));

  const Json all = Records(r);
  EXPECT_EQ(all["project"], "ID034");
  EXPECT_EQ(all["state"], "registered");
  std::vector<std::string> kinds;
  int64_t sequence = 0;
  for (const Json& record : all["records"]) {
    kinds.push_back(record["kind"]);
    EXPECT_GT(record["sequence"].get<int64_t>(), sequence) << record.dump();
    sequence = record["sequence"];
    EXPECT_EQ(record["document"]["sha256"].get<std::string>().size(), 64u);
    EXPECT_EQ(record["document"]["url"].get<std::string>().rfind("https://www.jcm.go.jp/", 0), 0u);
    EXPECT_FALSE(record.contains("cycle")) << "the rules' state is not part of the record";
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{
                       "validation_report", "registration_request", "registration",
                       "monitoring_report", "verification_report", "issuance_request",
                       "jc_decision", "post_registration_change", "crediting_period_renewal"}));
  EXPECT_EQ(all["records"][4]["tpe"], "Japan Quality Assurance Organization");
  EXPECT_EQ(all["records"][4]["report_ref"], "JQA-VER-ID034-01");
  EXPECT_EQ(all["records"][8]["crediting_period"],
            Json({{"start", "2031-01-01"}, {"end", "2040-12-31"}}));
  testing::ExpectVerifies(r);  // The journal replays to the same records and project.
}

TEST(ProjectCycle, WithdrawalsMoveTheProjectOrTheRequestBack) {
  TestRegistry r;
  testing::SetUpId034(r);
  testing::RegisterId034ByRecords(r);
  r.Ok("project.record", RecordArgs("monitoring_report", "2025-07-10", 4, kPeriod1));
  Json verification = kPeriod1;
  verification["tpe"] = "JQA";
  verification["report_ref"] = "JQA-VER-1";
  r.Ok("project.record", RecordArgs("verification_report", "2025-09-01", 5, verification));
  r.Ok("project.record", RecordArgs("issuance_request", "2025-09-15", 6, kPeriod1));
  // An issuance request withdrawn makes its period verified again: it may be asked again.
  Json withdraw_request = kPeriod1;
  withdraw_request["withdraws"] = "issuance_request";
  r.Ok("project.record", RecordArgs("withdrawal", "2025-09-20", 7, withdraw_request));
  EXPECT_EQ(Records(r)["monitoring_periods"][0]["state"], "verified");
  r.Ok("project.record", RecordArgs("issuance_request", "2025-10-01", 8, kPeriod1));
  // The project withdrawn: as project.transition would (registered -> project_withdrawn).
  r.Ok("project.record", RecordArgs("withdrawal", "2025-12-01", 9, {{"withdraws", "project"}}));
  EXPECT_EQ(ProjectDoc(r)["state"], "project_withdrawn");
  r.Refused("project.record",
            RecordArgs("monitoring_report", "2025-12-31", 10,
                       {{"monitoring_start", "2025-07-01"}, {"monitoring_end", "2025-12-31"}}),
            Check::kCycleRecordNotAllowed);
  r.Refused("project.transition",
            {{"ref", "ID034"}, {"to", "registered"}, {"jc_decision", "X"}, {"date", "2025-12-02"}},
            Check::kProjectStateTransition);

  // A registration request withdrawn (the state real data shows: "Request for Registration
  // withdrawn").
  TestRegistry other;
  testing::SetUpId034(other);
  other.Ok("project.record", RecordArgs("registration_request", "2024-10-30", 1));
  other.Ok("project.record",
           RecordArgs("withdrawal", "2024-11-30", 2, {{"withdraws", "registration_request"}}));
  EXPECT_EQ(ProjectDoc(other)["state"], "registration_withdrawn");
}

class ProjectCycleRefusals : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::SetUpId034(r_);
    r_.Ok("project.record", RecordArgs("validation_report", "2024-10-15", 1,
                                       {{"tpe", "JQA"}, {"report_ref", "JQA-VAL-ID034"}}));
  }

  void ExpectRefusedUnchanged(const Json& args, Check check) {
    const std::string before = Digest(*r_.store);
    const int64_t length = JournalLength(*r_.store);
    const service::Response response =
        r_.registry->Execute(service::Request{"project.record", args, "test", ""});
    ASSERT_FALSE(response.ok()) << args.dump() << " was accepted";
    ASSERT_TRUE(response.failure->refusal.has_value()) << response.failure->Message();
    EXPECT_EQ(response.failure->refusal->check, check)
        << args.dump() << " got " << CodeOf(response.failure->refusal->check) << ": "
        << response.failure->Message();
    EXPECT_FALSE(response.failure->refusal->message.empty());
    EXPECT_EQ(Digest(*r_.store), before) << args.dump();
    EXPECT_EQ(JournalLength(*r_.store), length) << args.dump();
  }

  Json With(Json args, const std::string& field, Json value) {
    args[field] = std::move(value);
    return args;
  }

  TestRegistry r_;
};

TEST_F(ProjectCycleRefusals, UnknownProjectKindAndFields) {
  ExpectRefusedUnchanged(With(RecordArgs("registration_request", "2024-10-30", 2), "ref", "ID999"),
                         Check::kUnknownProject);
  ExpectRefusedUnchanged(RecordArgs("registration_approval", "2024-10-30", 2),
                         Check::kFieldInvalid);
  ExpectRefusedUnchanged(With(RecordArgs("registration_request", "2024-10-30", 2), "tpe", "JQA"),
                         Check::kFieldInvalid);
  ExpectRefusedUnchanged(
      With(RecordArgs("registration_request", "2024-10-30", 2), "withdraws", "project"),
      Check::kFieldInvalid);
  ExpectRefusedUnchanged(With(RecordArgs("registration_request", "2024-10-30", 2), "colour", 1),
                         Check::kUnknownField);
  Json no_document = RecordArgs("registration_request", "2024-10-30", 2);
  no_document.erase("document");
  ExpectRefusedUnchanged(no_document, Check::kFieldMissing);
  ExpectRefusedUnchanged(
      With(RecordArgs("registration_request", "2024-10-30", 2), "document",
           {{"sha256", testing::Sha(2)}, {"url", "https://example.org/a"}, {"size", 1}}),
      Check::kUnknownField);
  // The third-party entity and its report reference of a validation or verification report.
  ExpectRefusedUnchanged(RecordArgs("validation_report", "2024-10-20", 2, {{"report_ref", "R"}}),
                         Check::kFieldMissing);
  ExpectRefusedUnchanged(RecordArgs("validation_report", "2024-10-20", 2, {{"tpe", "JQA"}}),
                         Check::kFieldMissing);
  ExpectRefusedUnchanged(RecordArgs("withdrawal", "2024-10-20", 2), Check::kFieldMissing);
}

TEST_F(ProjectCycleRefusals, DocumentReference) {
  const Json args = RecordArgs("registration_request", "2024-10-30", 2);
  const auto with_document = [&](const std::string& sha256, const std::string& url) {
    return With(args, "document", {{"sha256", sha256}, {"url", url}});
  };
  const std::string url = "https://www.jcm.go.jp/id-jp/projects/ID034/request.pdf";
  ExpectRefusedUnchanged(with_document(testing::Sha(2).substr(1), url),
                         Check::kDocumentReferenceInvalid);
  ExpectRefusedUnchanged(with_document(std::string(63, 'a') + "g", url),
                         Check::kDocumentReferenceInvalid);
  ExpectRefusedUnchanged(with_document(testing::Sha(2), "http://www.jcm.go.jp/request.pdf"),
                         Check::kDocumentReferenceInvalid);
  ExpectRefusedUnchanged(with_document(testing::Sha(2), "ftp://www.jcm.go.jp/request.pdf"),
                         Check::kDocumentReferenceInvalid);
  ExpectRefusedUnchanged(with_document(testing::Sha(2), "https:///request.pdf"),
                         Check::kDocumentReferenceInvalid);
  ExpectRefusedUnchanged(with_document(testing::Sha(2), "https://www.jcm.go.jp/a b.pdf"),
                         Check::kDocumentReferenceInvalid);
  ExpectRefusedUnchanged(
      with_document(testing::Sha(2), "https://www.jcm.go.jp/" + std::string(2048, 'x')),
      Check::kDocumentReferenceInvalid);
  // Upper-case hex is a digest, stored in lower case.
  const Json ok = r_.Ok("project.record", with_document(std::string(64, 'A'), url));
  EXPECT_EQ(ok["document"]["sha256"], std::string(64, 'a'));
}

TEST_F(ProjectCycleRefusals, KindNotAllowedInTheProjectsState) {
  // Nothing of after registration before it: a verification, a monitoring report, an issuance
  // request, a JC decision, a renewal; a registration without a registration request.
  ExpectRefusedUnchanged(RecordArgs("verification_report", "2024-11-01", 2,
                                    {{"tpe", "JQA"},
                                     {"report_ref", "V"},
                                     {"monitoring_start", "2024-01-01"},
                                     {"monitoring_end", "2024-06-30"}}),
                         Check::kCycleRecordNotAllowed);
  ExpectRefusedUnchanged(
      RecordArgs("monitoring_report", "2024-11-01", 2,
                 {{"monitoring_start", "2024-01-01"}, {"monitoring_end", "2024-06-30"}}),
      Check::kCycleRecordNotAllowed);
  ExpectRefusedUnchanged(RecordArgs("registration", "2024-11-01", 2, {{"jc_decision", "JC-1"}}),
                         Check::kCycleRecordNotAllowed);
  ExpectRefusedUnchanged(RecordArgs("withdrawal", "2024-11-01", 2, {{"withdraws", "project"}}),
                         Check::kCycleRecordNotAllowed);
  ExpectRefusedUnchanged(
      RecordArgs("crediting_period_renewal", "2024-11-01", 2,
                 {{"crediting_start", "2031-01-01"}, {"crediting_end", "2040-12-31"}}),
      Check::kCycleRecordNotAllowed);

  // A registration needs its validation report: a project in validation without one.
  TestRegistry bare;
  testing::SetUpId034(bare);
  bare.Ok("project.record", RecordArgs("registration_request", "2024-10-30", 1));
  bare.Refused("project.record",
               RecordArgs("registration", "2024-12-18", 2, {{"jc_decision", "JC-1"}}),
               Check::kCycleRecordNotAllowed);

  // Registered: each monitoring period goes report, verification, request, decision in order.
  r_.Ok("project.record", RecordArgs("registration_request", "2024-10-30", 2));
  r_.Ok("project.record", RecordArgs("registration", "2024-12-18", 3, {{"jc_decision", "JC-R"}}));
  ExpectRefusedUnchanged(
      RecordArgs("validation_report", "2024-12-20", 4, {{"tpe", "JQA"}, {"report_ref", "V2"}}),
      Check::kCycleRecordNotAllowed);
  ExpectRefusedUnchanged(RecordArgs("issuance_request", "2025-09-15", 4, kPeriod1),
                         Check::kCycleRecordNotAllowed);  // No monitoring report of the period.
  r_.Ok("project.record", RecordArgs("monitoring_report", "2025-07-10", 4, kPeriod1));
  ExpectRefusedUnchanged(RecordArgs("issuance_request", "2025-09-15", 5, kPeriod1),
                         Check::kCycleRecordNotAllowed);  // Not verified.
  Json verification = kPeriod1;
  verification["tpe"] = "JQA";
  verification["report_ref"] = "V";
  r_.Ok("project.record", RecordArgs("verification_report", "2025-09-01", 5, verification));
  ExpectRefusedUnchanged(RecordArgs("verification_report", "2025-09-02", 6, verification),
                         Check::kCycleRecordNotAllowed);  // Verified already.
  Json decision = kPeriod1;
  decision["jc_decision"] = "JC-ISS-1";
  ExpectRefusedUnchanged(RecordArgs("jc_decision", "2025-11-20", 6, decision),
                         Check::kCycleRecordNotAllowed);  // Not requested.
  Json withdraw = kPeriod1;
  withdraw["withdraws"] = "issuance_request";
  ExpectRefusedUnchanged(RecordArgs("withdrawal", "2025-11-20", 6, withdraw),
                         Check::kCycleRecordNotAllowed);  // No request pending.
  ExpectRefusedUnchanged(
      RecordArgs("withdrawal", "2025-11-20", 6, {{"withdraws", "registration_request"}}),
      Check::kCycleRecordNotAllowed);  // Registered already.
}

TEST_F(ProjectCycleRefusals, DatesOutOfOrder) {
  // Before the latest record (the validation report of 15 October 2024); after today (the test
  // clock's 1 January 2026).
  ExpectRefusedUnchanged(RecordArgs("registration_request", "2024-10-14", 2),
                         Check::kCycleRecordDateOrder);
  ExpectRefusedUnchanged(RecordArgs("registration_request", "2026-01-02", 2),
                         Check::kCycleRecordDateOrder);
  // Not a date, or a period ending before it starts (values.cc, before the rules).
  ExpectRefusedUnchanged(RecordArgs("registration_request", "2024-02-30", 2), Check::kFieldInvalid);
  r_.Ok("project.record", RecordArgs("registration_request", "2024-10-30", 2));
  r_.Ok("project.record", RecordArgs("registration", "2024-12-18", 3, {{"jc_decision", "JC-R"}}));
  ExpectRefusedUnchanged(
      RecordArgs("monitoring_report", "2025-07-10", 4,
                 {{"monitoring_start", "2025-06-30"}, {"monitoring_end", "2025-01-01"}}),
      Check::kFieldInvalid);
  // A report dated before the end of the period it reports.
  ExpectRefusedUnchanged(RecordArgs("monitoring_report", "2025-06-29", 4, kPeriod1),
                         Check::kCycleRecordDateOrder);
  r_.Ok("project.record", RecordArgs("monitoring_report", "2025-07-10", 4, kPeriod1));
  // A period overlapping the previous one.
  ExpectRefusedUnchanged(
      RecordArgs("monitoring_report", "2025-12-31", 5,
                 {{"monitoring_start", "2025-06-30"}, {"monitoring_end", "2025-12-31"}}),
      Check::kCycleRecordDateOrder);
  r_.Ok("project.record",
        RecordArgs("monitoring_report", "2025-12-31", 5,
                   {{"monitoring_start", "2025-07-01"}, {"monitoring_end", "2025-12-31"}}));
  // A renewal starting inside the previous renewal.
  r_.Ok("project.record",
        RecordArgs("crediting_period_renewal", "2025-12-31", 6,
                   {{"crediting_start", "2031-01-01"}, {"crediting_end", "2040-12-31"}}));
  ExpectRefusedUnchanged(
      RecordArgs("crediting_period_renewal", "2025-12-31", 7,
                 {{"crediting_start", "2040-12-31"}, {"crediting_end", "2050-12-31"}}),
      Check::kCycleRecordDateOrder);
}

TEST_F(ProjectCycleRefusals, AnotherApproachsActivityHasNoJcmCycle) {
  r_.Ok("party.add", {{"code", "CHE"}, {"name", "Switzerland"}});
  r_.Ok("ca.define", {{"key", "CHE-IDN"}, {"parties", {"CHE", "IDN"}}, {"jcm", false}});
  r_.Ok("project.add", {{"ref", "IDN-COOK-1"},
                        {"host_party", "IDN"},
                        {"title", "Cookstoves"},
                        {"methodology", "GS"},
                        {"ca_key", "CHE-IDN"}});
  ExpectRefusedUnchanged(
      With(RecordArgs("registration_request", "2024-10-30", 2), "ref", "IDN-COOK-1"),
      Check::kFieldInvalid);
}

}  // namespace
}  // namespace registry
