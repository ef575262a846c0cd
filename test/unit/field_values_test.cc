// Goal: a live request whose field values are wrong (issue #33, item 3: a date that is no calendar
// date, a range out of order, a value outside the AEF nomenclature, an expires_at that is not a
// real future time within the proposal lifetime) is refused with JCM-102 field_invalid naming the
// field and the value, and changes nothing; a journal's replay still takes what was journaled
// before the check; proposal.create honours the expires_at it is asked for. Method: one registry
// from SetUpBasicRegistry with the sector and activity-type lists loaded, one refused request per
// bad value (the values from the issue), compared against the state before it (journal length and
// projection digest); the message is checked for the field and the value, so that a refusal by some
// other rule of the handler does not pass for this one.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/limits.h"
#include "core/utc_time.h"
#include "service/fields.h"
#include "service/registry.h"
#include "service/values.h"
#include "service/verify.h"
#include "storage/sqlite/sqlite_store.h"
#include "testing/test_util.h"

namespace registry {
namespace {

using service::Json;
using testing::TestRegistry;

using testing::Digest;
using testing::JournalLength;

Json Vintages(int64_t vintage, int64_t quantity) {
  return Json::array({{{"vintage", vintage}, {"quantity", quantity}}});
}

class FieldValues : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::SetUpBasicRegistry(r_);
    r_.Ok("issue", {{"account", 1}, {"vintages", Vintages(2021, 100)}});
  }

  void LoadNomenclature() {
    r_.Ok("nomenclature.set",
          {{"list", "sectors"}, {"values", {"Energy generation", "Waste management"}}});
    r_.Ok("nomenclature.set", {{"list", "activity_types"}, {"values", {"Solar", "Landfill gas"}}});
  }

  // Asserts that `command` is refused with JCM-102 field_invalid, that the message names every one
  // of `named`, and that nothing changed.
  void ExpectInvalid(const std::string& command, const Json& args,
                     const std::vector<std::string>& named) {
    const std::string before = Digest(*r_.store);
    const int64_t length = JournalLength(*r_.store);
    const service::Response response =
        r_.registry->Execute(service::Request{command, args, "test", ""});
    ASSERT_FALSE(response.ok()) << command << " " << args.dump() << " was accepted";
    ASSERT_TRUE(response.failure->refusal.has_value()) << response.failure->Message();
    const Refusal& refusal = *response.failure->refusal;
    EXPECT_EQ(refusal.check, Check::kFieldInvalid)
        << command << " " << args.dump() << ": " << CodeOf(refusal.check) << " " << refusal.message;
    for (const std::string& word : named) {
      EXPECT_NE(refusal.message.find(word), std::string::npos)
          << "'" << word << "' not in: " << refusal.message;
    }
    EXPECT_EQ(JournalLength(*r_.store), length) << command;
    EXPECT_EQ(Digest(*r_.store), before) << command;
  }

  Json IssueWith(const std::string& field, const Json& value) {
    Json args = {{"account", 1}, {"vintages", Vintages(2022, 10)}};
    args[field] = value;
    return args;
  }

  TestRegistry r_;
};

// Issue #33 break 6: each of these was accepted by `issue` and published by /v1/lots.
TEST_F(FieldValues, IssueRefusesDatesThatAreNoCalendarDate) {
  for (const char* field : {"monitoring_start", "monitoring_end"}) {
    for (const char* bad : {"garbage", "2025-13-45", "2025-02-30", "", "2025-2-3", "2023-02-29",
                            "2025-04-31", "２０２５-01-01", "+025-01-01", "2025-01-01T00:00:00Z"}) {
      ExpectInvalid("issue", IssueWith(field, bad), {"issue", field, std::string("'") + bad + "'"});
    }
    ExpectInvalid("issue", IssueWith(field, 20250101), {field, "20250101"});
  }
}

// A long value is shown cut short, at the start of a UTF-8 character: the message goes into JSON.
TEST_F(FieldValues, ALongValueIsShownCutShortAsValidUtf8) {
  std::string long_text;
  for (int i = 0; i < 3000; ++i) long_text += "\xC3\xA9";  // é
  const service::Response response = r_.registry->Execute(
      service::Request{"issue", IssueWith("monitoring_start", "x" + long_text), "test", ""});
  ASSERT_FALSE(response.ok());
  ASSERT_TRUE(response.failure->refusal.has_value());
  const std::string& message = response.failure->refusal->message;
  EXPECT_LT(message.size(), 200u) << message;
  EXPECT_NE(message.find("..."), std::string::npos) << message;
  EXPECT_NO_THROW(static_cast<void>(Json(message).dump())) << "not valid UTF-8";
}

TEST_F(FieldValues, IssueRefusesAMonitoringPeriodEndingBeforeItStarts) {
  Json args = {{"account", 1},
               {"vintages", Vintages(2025, 10)},
               {"monitoring_start", "2025-06-01"},
               {"monitoring_end", "2025-05-31"}};
  ExpectInvalid("issue", args, {"monitoring_end", "2025-05-31", "monitoring_start", "2025-06-01"});
}

TEST_F(FieldValues, IssueTakesRealDatesInOrderLeapDayIncluded) {
  LoadNomenclature();
  const Json result = r_.Ok("issue", {{"account", 1},
                                      {"vintages", Vintages(2024, 10)},
                                      {"monitoring_start", "2024-02-29"},
                                      {"monitoring_end", "2024-02-29"},
                                      {"sector", "Energy generation"},
                                      {"activity_type", "Solar"}});
  EXPECT_EQ(result["lots"][0]["monitoring_start"], "2024-02-29") << result.dump();
  EXPECT_EQ(result["lots"][0]["sector"], "Energy generation") << result.dump();
  r_.Ok("issue", {{"account", 1},
                  {"vintages", Vintages(2000, 10)},
                  {"monitoring_start", "2000-02-29"},  // Divisible by 400: a leap year.
                  {"monitoring_end", "2000-12-31"}});
  ExpectInvalid("issue", IssueWith("monitoring_start", "1900-02-29"), {"'1900-02-29'"});
}

TEST_F(FieldValues, IssueRefusesASectorOrActivityTypeOutsideTheNomenclature) {
  // Not loaded yet: nothing to check against, so nothing is taken.
  ExpectInvalid("issue", IssueWith("sector", "Energy generation"), {"sector", "not loaded"});
  LoadNomenclature();
  ExpectInvalid("issue", IssueWith("sector", "zzz"), {"sector", "'zzz'", "sectors"});
  ExpectInvalid("issue", IssueWith("sector", ""), {"sector", "''"});
  ExpectInvalid("issue", IssueWith("sector", "energy generation"), {"'energy generation'"});
  ExpectInvalid("issue", IssueWith("activity_type", "zzz"), {"activity_type", "'zzz'"});
  ExpectInvalid("issue", IssueWith("activity_type", Json::array({"Solar"})), {"activity_type"});
}

TEST_F(FieldValues, ProjectAddRefusesAnEmptySectorAndABadRegistrationDate) {
  LoadNomenclature();
  const Json project = {{"ref", "MN101"},
                        {"host_party", "MNG"},
                        {"title", "Solar"},
                        {"methodology", "MN_AM003"},
                        {"allocation", {{"MNG", 20}, {"JPN", 80}}}};
  Json args = project;
  args["sector"] = "";  // The handler read "" as "not known yet".
  ExpectInvalid("project.add", args, {"sector", "''"});
  args = project;
  args["state"] = "registered";
  args["registration_date"] = "2025-02-30";
  ExpectInvalid("project.add", args, {"registration_date", "'2025-02-30'"});
  args["registration_date"] = "2024-02-29";
  r_.Ok("project.add", args);
}

TEST_F(FieldValues, Article6DatesAndPairsAreOrdered) {
  // The pairs are checked before the handler loads anything, so none of these needs its approach or
  // project to exist: without the check each would be refused as unknown instead.
  ExpectInvalid("issue.jcm",
                {{"account", 5},
                 {"project", "MN101"},
                 {"jc_decision", "JC-1"},
                 {"decision_date", "2026-01-10"},
                 {"monitoring_start", "2022-01-01"},
                 {"monitoring_end", "2021-12-31"},
                 {"total", 10},
                 {"vintages", Vintages(2021, 2)}},
                {"monitoring_end", "2021-12-31", "monitoring_start", "2022-01-01"});
  ExpectInvalid("issue.jcm",
                {{"account", 5},
                 {"project", "MN101"},
                 {"jc_decision", "JC-1"},
                 {"decision_date", "2021-06-30"},
                 {"monitoring_start", "2021-01-01"},
                 {"monitoring_end", "2021-12-31"},
                 {"total", 10},
                 {"vintages", Vintages(2021, 2)}},
                {"decision_date", "2021-06-30", "monitoring_end"});
  ExpectInvalid("ca.authorize",
                {{"key", "JPN-MNG"},
                 {"party", "MNG"},
                 {"date", "2025-03-31"},
                 {"valid_from", "2025-03-31"},
                 {"valid_to", "2025-03-30"}},
                {"valid_to", "2025-03-30", "valid_from"});
  ExpectInvalid("ca.authorize",
                {{"key", "JPN-MNG"},
                 {"party", "MNG"},
                 {"date", "2025-03-31"},
                 {"valid_from", "2025-03-31"},
                 {"final_issuance_date", "2024-12-31"}},
                {"final_issuance_date", "2024-12-31"});
  ExpectInvalid("ca.authorize",
                {{"key", "JPN-MNG"},
                 {"party", "MNG"},
                 {"date", "2025-03-31"},
                 {"valid_from", "2025-03-31"},
                 {"vintage_from", 2025},
                 {"vintage_to", 2024}},
                {"vintage_to", "2024", "vintage_from"});
  ExpectInvalid("ca.authorize", {{"key", "JPN-MNG"}, {"party", "MNG"}, {"date", "2025-02-29"}},
                {"'date'", "'2025-02-29'"});
  ExpectInvalid(
      "ndc.configure",
      {{"party", "JPN"}, {"method", "averaging"}, {"first_year", 2030}, {"last_year", 2021}},
      {"last_year", "2021", "first_year", "2030"});
}

// Years are read as int32_t by the handlers: 2^32 + 2021 was vintage 2021, so a transfer filtered
// on it moved vintage-2021 credits, and an NDC period configured from it started in 2021.
TEST_F(FieldValues, YearsHaveFourDigits) {
  const int64_t wrapped = (int64_t{1} << 32) + 2021;
  ExpectInvalid("transfer", {{"from", 1}, {"to", 4}, {"quantity", 1}, {"vintage", wrapped}},
                {"transfer", "'vintage'", "4294969317"});
  ExpectInvalid("retire", {{"from", 1}, {"quantity", 1}, {"use_year", wrapped}},
                {"'use_year'", "4294969317"});
  ExpectInvalid("proposal.create",
                {{"command", "cancel"},
                 {"args", {{"from", 1}, {"quantity", 1}, {"vintage", -2021}, {"purpose", "omge"}}}},
                {"the proposed cancel", "'vintage'", "-2021"});
  ExpectInvalid(
      "ndc.configure",
      {{"party", "JPN"}, {"method", "averaging"}, {"first_year", wrapped}, {"last_year", 2030}},
      {"'first_year'", "4294969317"});
  ExpectInvalid("ndc.inventory",
                {{"party", "JPN"}, {"first_year", 2021}, {"year", 99999}, {"emissions", 1}},
                {"'year'", "99999"});
  ExpectInvalid("ca.authorize", {{"key", "JPN-MNG"}, {"party", "MNG"}, {"vintage_from", 20210}},
                {"'vintage_from'", "20210"});
}

// authorization.add skipped entities that were not a list and change_terms that were not an
// object, as if absent (so the default terms applied).
TEST_F(FieldValues, AuthorizationListsAndTermsHaveTheirShape) {
  const Json base = {{"party", "MNG"},
                     {"project", "MN101"},
                     {"authorization_id", "A-1"},
                     {"date", "2025-06-01"},
                     {"purposes", "NDC"}};
  Json args = base;
  args["entities"] = 1;
  ExpectInvalid("authorization.add", args, {"'entities'", "is not a list"});
  args = base;
  args["change_terms"] = "increase";
  ExpectInvalid("authorization.add", args, {"'change_terms'", "is not an object"});
}

// Issue #33 break 5: proposal.create accepted 2027-02-30T00:00:00Z (and any time, however far).
TEST_F(FieldValues, ProposalExpiresAtIsARealFutureTimeWithinTheLifetime) {
  const Json move = {{"from", 1}, {"to", 4}, {"quantity", 1}};
  const auto propose = [&](const Json& expires_at) {
    return Json{{"command", "transfer"}, {"args", move}, {"expires_at", expires_at}};
  };
  // The clock reads 2026-01-01T00:00:00Z.
  for (const char* bad : {"2027-02-30T00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T00:00:60Z",
                          "garbage", "", "2026-01-01 00:00:03Z", "2026-01-01T00:00:03"}) {
    ExpectInvalid("proposal.create", propose(bad), {"expires_at", std::string("'") + bad + "'"});
  }
  ExpectInvalid("proposal.create", propose("2025-12-31T23:59:59Z"),
                {"expires_at", "not after", "2026-01-01T00:00:00Z"});
  ExpectInvalid("proposal.create", propose("2026-01-01T00:00:00Z"), {"not after"});
  ExpectInvalid("proposal.create", propose("2026-01-08T00:00:01Z"),
                {"expires_at", "7 days", "2026-01-08T00:00:00Z"});
  ExpectInvalid("proposal.create", propose(1767225603), {"expires_at"});
}

TEST_F(FieldValues, ProposalHonoursTheExpiresAtItIsAsked) {
  const Json move = {{"from", 1}, {"to", 4}, {"quantity", 1}};
  // Issue #33: asked now + 3 s, given 7 days.
  const Json soon =
      r_.Ok("proposal.create",
            {{"command", "transfer"}, {"args", move}, {"expires_at", "2026-01-01T00:00:03Z"}});
  EXPECT_EQ(soon["expires_at"], "2026-01-01T00:00:03Z") << soon.dump();
  const Json latest =
      r_.Ok("proposal.create",
            {{"command", "transfer"}, {"args", move}, {"expires_at", "2026-01-08T00:00:00Z"}});
  EXPECT_EQ(latest["expires_at"], "2026-01-08T00:00:00Z");
  const Json unasked = r_.Ok("proposal.create", {{"command", "transfer"}, {"args", move}});
  EXPECT_EQ(unasked["expires_at"],
            FormatUtcTime(*ParseUtcTime("2026-01-01T00:00:00Z") + kProposalLifetimeSecondsMax));
  // Expired three seconds later: it can no longer be approved, and may be expired.
  r_.clock.Set("2026-01-01T00:00:03Z");
  const service::Response late = r_.Run("proposal.approve", {{"id", soon["id"]}}, "approver");
  ASSERT_FALSE(late.ok());
  ASSERT_TRUE(late.failure->refusal.has_value());
  EXPECT_EQ(late.failure->refusal->check, Check::kProposalNotPending);
  const Json expired = r_.Ok("proposal.expire", {{"id", soon["id"]}});
  EXPECT_EQ(expired["status"], "expired");
}

TEST_F(FieldValues, TheProposedCommandsValuesAreCheckedToo) {
  ExpectInvalid("proposal.create",
                {{"command", "authorization.add"},
                 {"args", {{"party", "MNG"}, {"project", "MN101"}, {"date", "2025-02-30"}}}},
                {"the proposed authorization.add", "'date'", "'2025-02-30'"});
}

TEST_F(FieldValues, NulCharactersAreRefused) {
  ExpectInvalid("issue", IssueWith("jc_decision", std::string("JC\0-1", 5)),
                {"'jc_decision'", "NUL"});
  ExpectInvalid("party.add", {{"code", "KHM"}, {"name", std::string("Cam\0bodia", 9)}},
                {"'name'", "NUL"});
  ExpectInvalid("proposal.create",
                {{"command", "transfer"},
                 {"args",
                  {{"from", 1},
                   {"to", 4},
                   {"ranges",
                    {std::string("1-\0"
                                 "2",
                                 4)}}}}},
                {"'args.ranges[0]'", "NUL"});
}

// Replay goes through ApplyCommand, which does not check values: an entry journaled before the
// check, with a date or sector its handler took as text, replays as it was. And the refusals above
// leave a journal that verifies.
TEST_F(FieldValues, ReplayTakesWhatWasJournaledBeforeTheCheck) {
  {
    auto tx = r_.store->Begin();
    ASSERT_TRUE(tx.has_value());
    const auto replayed =
        service::ApplyCommand(**tx, "issue",
                              {{"account", 1},
                               {"vintages", Vintages(2022, 5)},
                               {"monitoring_start", "garbage"},
                               {"monitoring_end", "2025-02-30"},
                               {"sector", "zzz"}},
                              service::Context{Sequence{1000}, "2026-01-01T00:00:00Z", "test"});
    EXPECT_TRUE(replayed.has_value()) << replayed.error().Message();
  }  // Rolled back.
  ExpectInvalid("issue", IssueWith("monitoring_start", "garbage"), {"garbage"});
  const service::VerifyReport report = service::Verify(*r_.store, r_.key.public_key, [] {
    return sqlite::Open(sqlite::Options{":memory:", false});
  });
  EXPECT_TRUE(report.ok()) << report.problems.front();
}

TEST(CheckValues, EveryRuleNamesAFieldItsCommandTakes) {
  // A rule naming a field its command does not take would never fire (CheckFields refuses the field
  // first), and a null is an absent value, as the handlers read it.
  TestRegistry r;
  for (const auto& [command, handler] : service::Handlers()) {
    static_cast<void>(handler);
    const auto fields = service::CommandFields(command);
    for (const std::string_view field : service::ValueCheckedFields(command)) {
      EXPECT_NE(std::find(fields.begin(), fields.end(), field), fields.end())
          << command << " takes no field " << field;
    }
    Json args = Json::object();
    for (const std::string_view f : fields) args[std::string(f)] = nullptr;
    auto tx = r.store->Begin();  // Rolled back: CheckValues only reads.
    ASSERT_TRUE(tx.has_value());
    EXPECT_FALSE(service::CheckValues(**tx, command, args, "2026-01-01T00:00:00Z").has_value())
        << command;
  }
  EXPECT_FALSE(service::ValueCheckedFields("issue").empty());
}

}  // namespace
}  // namespace registry
