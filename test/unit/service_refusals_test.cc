// Goal: every refusal the spine can give comes out of the service with its check, and a refused
// command changes nothing: the projection digest (Store::ProjectionDigest) and the journal length
// are the same before and after. Method: one registry from SetUpBasicRegistry with a few credits,
// then one refused request per check, each compared against the state before it.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "core/limits.h"
#include "service/fields.h"
#include "service/proposal.h"
#include "service/verify.h"
#include "storage/sqlite/sqlite_store.h"
#include "testing/test_util.h"

namespace registry {
namespace {

using service::Json;
using testing::TestRegistry;

using testing::Digest;
using testing::JournalLength;

// The live blocks of `account` (the test registries hold far fewer than 100).
std::vector<Block> LiveBlocks(Store& store, AccountId account) {
  auto tx = store.BeginRead();
  EXPECT_TRUE(tx.has_value());
  if (!tx) return {};
  auto live = (*tx)->LiveBlocks(account, BlockFilter{}, 100);
  EXPECT_TRUE(live.has_value());
  return live ? std::move(*live) : std::vector<Block>{};
}

// Tonnes held in the live blocks of `account`.
int64_t Held(Store& store, AccountId account) {
  int64_t held = 0;
  for (const Block& b : LiveBlocks(store, account)) held += b.range.Count().tonnes;
  return held;
}

class ServiceRefusals : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::SetUpBasicRegistry(r_);
    // Account 7: JPN01 entity holding (entity 1); 8: MNG01 cancellation.
    r_.Ok("entity.add", {{"name", "Trader"}, {"country", "JPN"}});
    r_.Ok("account.open", {{"registry", "JPN01"}, {"type", "entity_holding"}, {"name", "trader"},
                           {"holder", 1}});
    r_.Ok("account.open", {{"registry", "MNG01"}, {"type", "cancellation"}, {"name", "mng can"}});
    r_.Ok("issue", {{"account", 1},
                    {"vintages", {{{"vintage", 2020}, {"quantity", 100}}}},
                    {"project", "MN004"}});
    r_.Ok("issue", {{"account", 5}, {"vintages", {{{"vintage", 2022}, {"quantity", 50}}}}});
    r_.Ok("retire", {{"from", 1}, {"ranges", {"1-10"}}, {"use_year", 2025}});
    r_.Ok("transfer", {{"from", 1}, {"to", 7}, {"ranges", {"11-20"}}});
  }

  // Asserts that `command` is refused with `check` and that nothing changed.
  void ExpectRefusedUnchanged(const std::string& command, const Json& args, Check check,
                              const std::string& key = "") {
    const std::string before = Digest(*r_.store);
    const int64_t length = JournalLength(*r_.store);
    const service::Response response =
        r_.registry->Execute(service::Request{command, args, "test", key});
    ASSERT_FALSE(response.ok()) << command << " " << args.dump() << " was accepted";
    ASSERT_TRUE(response.failure->refusal.has_value()) << response.failure->Message();
    EXPECT_EQ(response.failure->refusal->check, check)
        << command << " " << args.dump() << " got " << CodeOf(response.failure->refusal->check)
        << ": " << response.failure->Message();
    EXPECT_FALSE(response.failure->refusal->message.empty());
    EXPECT_EQ(Digest(*r_.store), before) << command << " " << args.dump();
    EXPECT_EQ(JournalLength(*r_.store), length) << command << " " << args.dump();
  }

  TestRegistry r_;
};

TEST_F(ServiceRefusals, RequestShape) {
  ExpectRefusedUnchanged("no.such.command", Json::object(), Check::kUnknownCommand);
  ExpectRefusedUnchanged("transfer", Json::array(), Check::kMalformedRequest);
  ExpectRefusedUnchanged("transfer", {{"to", 4}, {"quantity", 1}}, Check::kFieldMissing);
  ExpectRefusedUnchanged("transfer", {{"from", 1}, {"quantity", 1}}, Check::kFieldMissing);
  ExpectRefusedUnchanged("transfer", {{"from", 1}, {"to", 4}}, Check::kFieldMissing);
  ExpectRefusedUnchanged("transfer", {{"from", 1}, {"to", 4}, {"quantity", 1}, {"ranges", {"30"}}},
                         Check::kFieldMissing);
  ExpectRefusedUnchanged("transfer", {{"from", "one"}, {"to", 4}, {"quantity", 1}},
                         Check::kFieldInvalid);
  // 2^64-1 parses as an unsigned integer; it is refused as too large, not wrapped to -1.
  const Json huge = Json::parse("18446744073709551615");
  ExpectRefusedUnchanged("transfer", {{"from", 1}, {"to", 4}, {"quantity", huge}},
                         Check::kFieldInvalid);
  const service::Response wrapped = r_.registry->Execute(
      service::Request{"transfer", {{"from", 1}, {"to", 4}, {"quantity", huge}}, "test", ""});
  ASSERT_FALSE(wrapped.ok());
  EXPECT_EQ(wrapped.failure->Message(), "field 'quantity' is larger than 9223372036854775807");
  ExpectRefusedUnchanged("transfer",
                         {{"from", 1}, {"to", 4}, {"ranges", {"30-40"}}, {"vintage", 2020}},
                         Check::kFieldInvalid);
  ExpectRefusedUnchanged("transfer", {{"from", 1}, {"to", 4}, {"quantity", 1}, {"project", "X"}},
                         Check::kFieldInvalid);
  ExpectRefusedUnchanged("cancel", {{"from", 1}, {"quantity", 1}, {"purpose", "fun"}},
                         Check::kFieldInvalid);
  ExpectRefusedUnchanged("cancel", {{"from", 1}, {"quantity", 1}}, Check::kFieldMissing);
  ExpectRefusedUnchanged("retire", {{"from", 1}, {"quantity", 1}}, Check::kFieldMissing);
  ExpectRefusedUnchanged("retire", {{"from", 1}, {"quantity", 1}, {"use_year", 1900}},
                         Check::kFieldInvalid);
  ExpectRefusedUnchanged("account.set_status", {{"account", 1}, {"status", "frozen"}},
                         Check::kFieldInvalid);
  ExpectRefusedUnchanged("account.open", {{"registry", "JPN01"}, {"type", "x"}, {"name", "n"}},
                         Check::kFieldInvalid);
  ExpectRefusedUnchanged("issue", {{"account", 1}}, Check::kFieldMissing);
  ExpectRefusedUnchanged(
      "issue",
      {{"account", 1},
       {"vintages", {{{"vintage", 2020}, {"quantity", 1}}, {{"vintage", 2020}, {"quantity", 2}}}}},
      Check::kFieldInvalid);
  Json many = Json::array();
  for (size_t i = 0; i <= kVintagesPerIssuanceMax; ++i) {
    many.push_back({{"vintage", 2000 + static_cast<int>(i)}, {"quantity", 1}});
  }
  ExpectRefusedUnchanged("issue", {{"account", 1}, {"vintages", many}}, Check::kTooManyItems);
  Json ranges = Json::array();
  for (size_t i = 0; i <= kRangesPerRequestMax; ++i) ranges.push_back(std::to_string(30 + i));
  ExpectRefusedUnchanged("transfer", {{"from", 1}, {"to", 4}, {"ranges", ranges}},
                         Check::kTooManyItems);
}

// A field its command does not take is refused (JCM-106) naming it and the fields the command
// takes: at the top level, in the items of "vintages", in authorization.add's "change_terms" and
// in the command a proposal proposes. A misspelt filter used to be ignored, so the transfer
// below moved 5 t of any project instead of refusing.
TEST_F(ServiceRefusals, FieldsNoCommandTakes) {
  ExpectRefusedUnchanged("transfer", {{"from", 1}, {"to", 7}, {"quantity", 5}, {"projet", "MN004"}},
                         Check::kUnknownField);
  const service::Response r = r_.registry->Execute(
      service::Request{"transfer", {{"from", 1}, {"to", 7}, {"quantity", 5}, {"vintge", 2022}},
                       "test", ""});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.failure->Message(),
            "transfer takes no field 'vintge' (its fields: from, to, quantity, ranges, project, "
            "vintage)");
  ExpectRefusedUnchanged("retire", {{"from", 1}, {"quantity", 1}, {"use_year", 2025}, {"to", 2},
                                    {"purpose", "voluntary"}},
                         Check::kUnknownField);
  ExpectRefusedUnchanged("party.add", {{"code", "KHM"}, {"name", "Cambodia"}, {"colour", "red"}},
                         Check::kUnknownField);
  ExpectRefusedUnchanged(
      "issue", {{"account", 1}, {"vintages", {{{"vintage", 2023}, {"quantity", 5}, {"qty", 4}}}}},
      Check::kUnknownField);
  ExpectRefusedUnchanged("authorization.add", {{"party", "JPN"}, {"change_terms", {{"revokation", true}}}},
                         Check::kUnknownField);
  const Json proposal = {{"command", "transfer"},
                         {"args", {{"from", 1}, {"to", 7}, {"quantity", 5}, {"projet", "MN004"}}}};
  ExpectRefusedUnchanged("proposal.create", proposal, Check::kUnknownField);
  const service::Response p = r_.registry->Execute(service::Request{"proposal.create", proposal, "test", ""});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.failure->Message().rfind("the proposed transfer takes no field 'projet'", 0), 0u)
      << p.failure->Message();
  ExpectRefusedUnchanged("proposal.create", {{"command", "transfer"}, {"args", {{"from", 1}}}, {"note", "x"}},
                         Check::kUnknownField);
  // Each command the registry runs lists its fields, and a request with exactly those is not
  // refused for its fields.
  for (const auto& [command, handler] : service::Handlers()) {
    static_cast<void>(handler);
    const auto fields = service::CommandFields(command);
    EXPECT_FALSE(fields.empty()) << command;
    Json args = Json::object();
    for (const std::string_view f : fields) args[std::string(f)] = nullptr;
    EXPECT_FALSE(service::CheckFields(command, args).has_value()) << command;
  }
  // Replay goes through ApplyCommand, which does not check fields: an entry journaled before the
  // check with a field its handler ignored replays as it was.
  auto tx = r_.store->Begin();
  ASSERT_TRUE(tx.has_value());
  const auto replayed = service::ApplyCommand(
      **tx, "party.add", {{"code", "KHM"}, {"name", "Cambodia"}, {"colour", "red"}},
      service::Context{Sequence{1000}, "2026-01-01T00:00:00Z", "test"});
  EXPECT_TRUE(replayed.has_value()) << replayed.error().Message();
}

TEST_F(ServiceRefusals, UnknownThings) {
  ExpectRefusedUnchanged("transfer", {{"from", 99}, {"to", 4}, {"quantity", 1}},
                         Check::kUnknownAccount);
  ExpectRefusedUnchanged("transfer", {{"from", 1}, {"to", 99}, {"quantity", 1}},
                         Check::kUnknownAccount);
  ExpectRefusedUnchanged("issue",
                         {{"account", 99}, {"vintages", {{{"vintage", 2020}, {"quantity", 1}}}}},
                         Check::kUnknownAccount);
  ExpectRefusedUnchanged("account.set_status", {{"account", 99}, {"status", "blocked"}},
                         Check::kUnknownAccount);
  ExpectRefusedUnchanged("registry.add", {{"code", "KOR01"}, {"party", "KOR"}, {"name", "k"}},
                         Check::kUnknownParty);
  ExpectRefusedUnchanged("account.open", {{"registry", "KOR01"}, {"type", "retirement"}, {"name", "n"}},
                         Check::kUnknownRegistry);
  ExpectRefusedUnchanged(
      "account.open",
      {{"registry", "JPN01"}, {"type", "entity_holding"}, {"name", "n"}, {"holder", 99}},
      Check::kUnknownEntity);
  ExpectRefusedUnchanged(
      "project.transition",
      {{"ref", "XX999"}, {"to", "registered"}, {"jc_decision", "JC-1"}, {"date", "2025-01-01"}},
      Check::kUnknownProject);
  ExpectRefusedUnchanged("party.add", {{"code", "JPN"}, {"name", "again"}}, Check::kAlreadyExists);
  ExpectRefusedUnchanged("registry.add", {{"code", "JPN01"}, {"party", "JPN"}, {"name", "again"}},
                         Check::kAlreadyExists);
  // MNG01 has no open retirement account once account 6 is blocked: the default destination is
  // missing.
  r_.Ok("account.set_status", {{"account", 6}, {"status", "blocked"}});
  ExpectRefusedUnchanged("retire", {{"from", 5}, {"quantity", 1}, {"use_year", 2025}},
                         Check::kUnknownAccount);
}

TEST_F(ServiceRefusals, AccountStates) {
  r_.Ok("account.set_status", {{"account", 4}, {"status", "blocked"}});
  ExpectRefusedUnchanged("transfer", {{"from", 1}, {"to", 4}, {"quantity", 1}},
                         Check::kAccountBlocked);
  ExpectRefusedUnchanged("transfer", {{"from", 4}, {"to", 1}, {"quantity", 1}},
                         Check::kAccountBlocked);
  ExpectRefusedUnchanged("issue",
                         {{"account", 4}, {"vintages", {{{"vintage", 2020}, {"quantity", 1}}}}},
                         Check::kAccountBlocked);
  r_.Ok("account.set_status", {{"account", 4}, {"status", "closed"}});  // 4 holds nothing.
  ExpectRefusedUnchanged("transfer", {{"from", 1}, {"to", 4}, {"quantity", 1}},
                         Check::kAccountClosed);
  ExpectRefusedUnchanged("transfer", {{"from", 4}, {"to", 1}, {"quantity", 1}},
                         Check::kAccountClosed);
  ExpectRefusedUnchanged("account.set_status", {{"account", 4}, {"status", "open"}},
                         Check::kAccountClosed);
  ExpectRefusedUnchanged("account.set_status", {{"account", 1}, {"status", "closed"}},
                         Check::kAccountNotEmpty);
}

TEST_F(ServiceRefusals, MovementRules) {
  ExpectRefusedUnchanged("transfer", {{"from", 1}, {"to", 1}, {"quantity", 1}},
                         Check::kSameAccount);
  ExpectRefusedUnchanged("transfer", {{"from", 1}, {"to", 5}, {"quantity", 1}},
                         Check::kCrossRegistryTransfer);
  ExpectRefusedUnchanged("transfer", {{"from", 1}, {"to", 2}, {"quantity", 1}},
                         Check::kWrongDestinationType);
  ExpectRefusedUnchanged("retire", {{"from", 1}, {"to", 3}, {"quantity", 1}, {"use_year", 2025}},
                         Check::kWrongDestinationType);
  ExpectRefusedUnchanged("cancel", {{"from", 1}, {"to", 2}, {"quantity", 1}, {"purpose", "omge"}},
                         Check::kWrongDestinationType);
  ExpectRefusedUnchanged("cancel", {{"from", 5}, {"to", 3}, {"quantity", 1}, {"purpose", "omge"}},
                         Check::kCrossRegistryTransfer);
  ExpectRefusedUnchanged("issue",
                         {{"account", 2}, {"vintages", {{{"vintage", 2020}, {"quantity", 1}}}}},
                         Check::kWrongDestinationType);
  ExpectRefusedUnchanged("transfer", {{"from", 2}, {"to", 1}, {"quantity", 1}},
                         Check::kTerminalAccountCannotSend);
  ExpectRefusedUnchanged("transfer", {{"from", 2}, {"to", 1}, {"ranges", {"1-10"}}},
                         Check::kTerminalAccountCannotSend);
  r_.Ok("cancel", {{"from", 1}, {"quantity", 5}, {"purpose", "voluntary"}});
  ExpectRefusedUnchanged("transfer", {{"from", 3}, {"to", 1}, {"quantity", 1}},
                         Check::kTerminalAccountCannotSend);
}

TEST_F(ServiceRefusals, QuantitiesAndSerials) {
  ExpectRefusedUnchanged("transfer", {{"from", 1}, {"to", 4}, {"quantity", 0}},
                         Check::kQuantityNotPositive);
  ExpectRefusedUnchanged("transfer", {{"from", 1}, {"to", 4}, {"quantity", -3}},
                         Check::kQuantityNotPositive);
  ExpectRefusedUnchanged("issue",
                         {{"account", 1}, {"vintages", {{{"vintage", 2020}, {"quantity", 0}}}}},
                         Check::kQuantityNotPositive);
  // Account 1 holds 21-100 (80 t).
  ExpectRefusedUnchanged("transfer", {{"from", 1}, {"to", 4}, {"quantity", 81}},
                         Check::kQuantityAboveHolding);
  ExpectRefusedUnchanged("transfer", {{"from", 1}, {"to", 4}, {"quantity", 1}, {"vintage", 2030}},
                         Check::kQuantityAboveHolding);
  ExpectRefusedUnchanged("transfer", {{"from", 1}, {"to", 4}, {"quantity", 1}, {"project", "TH014"}},
                         Check::kQuantityAboveHolding);
  ExpectRefusedUnchanged("transfer", {{"from", 1}, {"to", 4}, {"ranges", {"15-25"}}},
                         Check::kSerialRangeNotHeld);
  ExpectRefusedUnchanged("transfer", {{"from", 1}, {"to", 4}, {"ranges", {"101"}}},
                         Check::kSerialRangeNotHeld);
  ExpectRefusedUnchanged("transfer", {{"from", 7}, {"to", 4}, {"ranges", {"21"}}},
                         Check::kSerialRangeNotHeld);
  // Serials 1-10 were retired; MNG01's own serials 1-50 are another registry's.
  ExpectRefusedUnchanged("transfer", {{"from", 1}, {"to", 4}, {"ranges", {"1-5"}}},
                         Check::kSerialRangeNotHeld);
  ExpectRefusedUnchanged("transfer", {{"from", 1}, {"to", 4}, {"ranges", {"30-21"}}},
                         Check::kSerialRangeInvalid);
  ExpectRefusedUnchanged("transfer", {{"from", 1}, {"to", 4}, {"quantity", 1.5}},
                         Check::kFieldInvalid);
  ExpectRefusedUnchanged("transfer", {{"from", 1}, {"to", 4}, {"ranges", {"30-40", "35-45"}}},
                         Check::kSerialRangeInvalid);
  ExpectRefusedUnchanged("transfer", {{"from", 1}, {"to", 4}, {"ranges", {"30-40", "50-60"}}},
                         Check::kSerialRangeInvalid);
  ExpectRefusedUnchanged("issue", {{"account", 1}, {"vintages", {{{"vintage", 1999}, {"quantity", 1}}}}},
                         Check::kVintageOutOfRange);
  ExpectRefusedUnchanged(
      "issue",
      {{"account", 1}, {"vintages", {{{"vintage", 2020}, {"quantity", kIssuanceQuantityMax + 1}}}}},
      Check::kQuantityTooLarge);
}

TEST_F(ServiceRefusals, IdempotencyKeyReusedWithAnotherPayload) {
  const service::Request first{"transfer", Json{{"from", 1}, {"to", 4}, {"quantity", 5}}, "test",
                               "key-1"};
  const service::Response applied = r_.registry->Execute(first);
  ASSERT_TRUE(applied.ok()) << applied.failure->Message();
  // The same request again is answered from the journal and changes nothing.
  const std::string before = Digest(*r_.store);
  const int64_t length = JournalLength(*r_.store);
  const service::Response again = r_.registry->Execute(first);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.sequence, applied.sequence);
  EXPECT_EQ(again.result, applied.result);
  EXPECT_EQ(Digest(*r_.store), before);
  EXPECT_EQ(JournalLength(*r_.store), length);
  ExpectRefusedUnchanged("transfer", {{"from", 1}, {"to", 4}, {"quantity", 6}},
                         Check::kIdempotencyKeyReused, "key-1");
  ExpectRefusedUnchanged("cancel", {{"from", 1}, {"to", 4}, {"quantity", 5}},
                         Check::kIdempotencyKeyReused, "key-1");
  ExpectRefusedUnchanged("transfer", {{"from", 1}, {"to", 4}, {"quantity", 1}}, Check::kFieldInvalid,
                         std::string(kIdempotencyKeyBytesMax + 1, 'k'));
}

TEST_F(ServiceRefusals, RefusalInABatchLeavesTheOthers) {
  const int64_t length = JournalLength(*r_.store);
  const auto responses = r_.registry->ExecuteBatch({
      {"transfer", Json{{"from", 1}, {"to", 4}, {"quantity", 5}}, "test", ""},
      {"transfer", Json{{"from", 1}, {"to", 4}, {"quantity", 1000}}, "test", ""},
      {"transfer", Json{{"from", 1}, {"to", 4}, {"quantity", 7}}, "test", ""},
  });
  ASSERT_EQ(responses.size(), 3u);
  EXPECT_TRUE(responses[0].ok());
  ASSERT_FALSE(responses[1].ok());
  EXPECT_EQ(responses[1].failure->refusal->check, Check::kQuantityAboveHolding);
  EXPECT_TRUE(responses[2].ok());
  EXPECT_EQ(responses[2].sequence.value, responses[0].sequence.value + 1);
  EXPECT_EQ(JournalLength(*r_.store), length + 2);
  EXPECT_EQ(Held(*r_.store, AccountId{4}), 12);
}

// A batch runs without a savepoint per command (service/registry.cc) and falls back to them
// when a refused command had written rows. The approval below writes (it releases the
// proposal's reservation) and is then refused because its source account is blocked: the
// batch must still apply the others and leave no trace of the approval.
TEST_F(ServiceRefusals, RefusalAfterAWriteInABatchLeavesNoTraceAndKeepsTheOthers) {
  const Json proposal = r_.Ok("proposal.create",
                              {{"command", "transfer"},
                               {"args", {{"from", 1}, {"to", 4}, {"ranges", {"30-34"}}}}},
                              "alice");
  const int64_t id = proposal.at("id").get<int64_t>();
  r_.Ok("account.set_status", {{"account", 1}, {"status", "blocked"}});
  const int64_t length = JournalLength(*r_.store);
  const auto responses = r_.registry->ExecuteBatch({
      {"transfer", Json{{"from", 7}, {"to", 4}, {"quantity", 1}}, "test", ""},
      {"proposal.approve", Json{{"id", id}}, "bob", ""},
      {"transfer", Json{{"from", 7}, {"to", 4}, {"quantity", 2}}, "test", ""},
  });
  ASSERT_EQ(responses.size(), 3u);
  ASSERT_TRUE(responses[0].ok()) << responses[0].failure->Message();
  ASSERT_FALSE(responses[1].ok());
  ASSERT_TRUE(responses[1].failure->refusal.has_value()) << responses[1].failure->Message();
  EXPECT_EQ(responses[1].failure->refusal->check, Check::kAccountBlocked)
      << responses[1].failure->Message();
  ASSERT_TRUE(responses[2].ok()) << responses[2].failure->Message();
  EXPECT_EQ(responses[2].sequence.value, responses[0].sequence.value + 1);
  EXPECT_EQ(JournalLength(*r_.store), length + 2);
  // The proposal is still pending and its serials still reserved.
  auto tx = r_.store->BeginRead();
  ASSERT_TRUE(tx.has_value());
  const auto stored = (*tx)->GetDocument("proposal", service::ProposalKey(id));
  ASSERT_TRUE(stored.has_value() && stored->has_value());
  EXPECT_EQ(Json::parse((*stored)->body).at("status"), "pending");
  const auto reserved = (*tx)->ReservationsOverlapping(AccountId{1}, SerialRange{1, 1000}, 10);
  ASSERT_TRUE(reserved.has_value());
  ASSERT_EQ(reserved->size(), 1u);
  EXPECT_EQ((*reserved)[0].range, (SerialRange{30, 34}));
  EXPECT_EQ((*reserved)[0].proposal, id);
  EXPECT_EQ(Held(*r_.store, AccountId{4}), 3);
}

// Within one batch a command sees what the commands before it wrote: the store's per-batch
// caches of accounts and documents follow every write.
TEST_F(ServiceRefusals, ACommandInABatchSeesTheWritesOfTheOnesBefore) {
  const auto responses = r_.registry->ExecuteBatch({
      {"transfer", Json{{"from", 1}, {"to", 4}, {"quantity", 1}}, "test", ""},
      {"proposal.create",
       Json{{"command", "transfer"}, {"args", {{"from", 1}, {"to", 4}, {"ranges", {"40-44"}}}}},
       "alice", ""},
      {"transfer", Json{{"from", 1}, {"to", 4}, {"ranges", {"42"}}}, "test", ""},
      {"account.set_status", Json{{"account", 1}, {"status", "blocked"}}, "test", ""},
      {"transfer", Json{{"from", 1}, {"to", 4}, {"quantity", 1}}, "test", ""},
      {"account.set_status", Json{{"account", 1}, {"status", "open"}}, "test", ""},
      {"transfer", Json{{"from", 1}, {"to", 4}, {"quantity", 1}}, "test", ""},
  });
  ASSERT_EQ(responses.size(), 7u);
  EXPECT_TRUE(responses[0].ok());
  EXPECT_TRUE(responses[1].ok());
  ASSERT_FALSE(responses[2].ok());
  EXPECT_EQ(responses[2].failure->refusal->check, Check::kSerialsReserved);
  EXPECT_TRUE(responses[3].ok());
  ASSERT_FALSE(responses[4].ok());
  EXPECT_EQ(responses[4].failure->refusal->check, Check::kAccountBlocked);
  EXPECT_TRUE(responses[5].ok());
  EXPECT_TRUE(responses[6].ok()) << responses[6].failure->Message();
}

// A batch's journal entries are written at its end (service/registry.cc), so a key repeated
// within one batch must be found among them: the same request again is a replay of the entry
// the batch made, another request under the key is refused. The journal verifies afterwards:
// the entries signed on the second core chain and sign as the inline ones did.
TEST_F(ServiceRefusals, AnIdempotencyKeyRepeatedWithinABatchIsFoundBeforeTheBatchIsWritten) {
  const int64_t length = JournalLength(*r_.store);
  const service::Request transfer{"transfer", Json{{"from", 1}, {"to", 4}, {"quantity", 2}},
                                  "test", "batch-key"};
  std::vector<service::Request> batch = {
      transfer,
      {"transfer", Json{{"from", 1}, {"to", 4}, {"quantity", 1}}, "test", ""},
      transfer,
      {"transfer", Json{{"from", 1}, {"to", 4}, {"quantity", 3}}, "test", "batch-key"},
      {"retire", Json{{"from", 1}, {"quantity", 2}, {"use_year", 2025}}, "test", "other-key"},
  };
  const auto responses = r_.registry->ExecuteBatch(batch);
  ASSERT_EQ(responses.size(), 5u);
  ASSERT_TRUE(responses[0].ok()) << responses[0].failure->Message();
  EXPECT_FALSE(responses[0].replayed);
  EXPECT_TRUE(responses[1].ok());
  ASSERT_TRUE(responses[2].ok());
  EXPECT_TRUE(responses[2].replayed);
  EXPECT_EQ(responses[2].sequence, responses[0].sequence);
  EXPECT_EQ(responses[2].result, responses[0].result);
  ASSERT_FALSE(responses[3].ok());
  EXPECT_EQ(responses[3].failure->refusal->check, Check::kIdempotencyKeyReused);
  EXPECT_TRUE(responses[4].ok());
  EXPECT_EQ(responses[4].sequence.value, responses[1].sequence.value + 1);
  EXPECT_EQ(JournalLength(*r_.store), length + 3);
  EXPECT_EQ(Held(*r_.store, AccountId{4}), 3);

  // After the commit the key is found in the journal itself.
  const service::Response later = r_.registry->Execute(transfer);
  ASSERT_TRUE(later.ok());
  EXPECT_TRUE(later.replayed);
  EXPECT_EQ(later.sequence, responses[0].sequence);

  // Many batches in a row, each with 5 keys used 17 times, then the whole journal verifies.
  for (int round = 0; round < 20; ++round) {
    std::vector<service::Request> many;
    for (int i = 0; i < 17; ++i) {
      const int from = round % 2 == 0 ? 1 : 4;  // Back and forth: 5 t one way, then back.
      many.push_back({"transfer", Json{{"from", from}, {"to", 5 - from}, {"quantity", 1}}, "test",
                      "round-" + std::to_string(round) + "-" + std::to_string(i % 5)});
    }
    for (const service::Response& r : r_.registry->ExecuteBatch(many)) {
      ASSERT_TRUE(r.ok()) << r.failure->Message();
    }
  }
  const service::VerifyReport report = service::Verify(*r_.store, r_.key.public_key, [] {
    return sqlite::Open(sqlite::Options{":memory:", false});
  });
  EXPECT_TRUE(report.ok()) << report.problems.front();
  EXPECT_EQ(report.entries, length + 3 + 20 * 5);
}

// R-ID-03 for four-eyes transfers by quantity: a proposal reserves exactly the serials a direct
// transfer of that quantity would move (blocks in ascending order, the mover taking the last
// serials of each, the holder keeping the first); with serials reserved it takes the last free
// run of each block; a quantity that would need two runs of one block is refused, naming both
// totals.
TEST(FourEyesQuantity, AProposalReservesWhatADirectTransferWouldMove) {
  testing::TestRegistry direct;
  testing::TestRegistry proposed;
  for (testing::TestRegistry* r : {&direct, &proposed}) {
    testing::SetUpBasicRegistry(*r);
    r->Ok("issue",
          {{"account", 1},
           {"vintages",
            {{{"vintage", 2020}, {"quantity", 30}}, {{"vintage", 2022}, {"quantity", 50}}}}});
  }
  for (const int64_t quantity : {int64_t{7}, int64_t{23}, int64_t{30}, int64_t{12}}) {
    const Json moved = direct.Ok("transfer", {{"from", 1}, {"to", 4}, {"quantity", quantity}});
    const Json proposal = proposed.Ok(
        "proposal.create",
        {{"command", "transfer"}, {"args", {{"from", 1}, {"to", 4}, {"quantity", quantity}}}},
        "alice");
    proposed.Ok("proposal.approve", {{"id", proposal.at("id")}}, "bob");
    EXPECT_EQ(Held(*direct.store, AccountId{4}), Held(*proposed.store, AccountId{4}));
    // The same blocks on both sides: every live block of account 4 has the same range.
    auto ranges = [](Store& store, AccountId account) {
      auto tx = store.BeginRead();
      std::vector<std::pair<int64_t, int64_t>> out;
      for (const Block& b : (*tx)->LiveBlocks(account, BlockFilter{}, 100).value()) {
        out.emplace_back(b.range.first, b.range.last);
      }
      return out;
    };
    EXPECT_EQ(ranges(*direct.store, AccountId{4}), ranges(*proposed.store, AccountId{4}))
        << "quantity " << quantity << ": " << moved.dump();
    EXPECT_EQ(ranges(*direct.store, AccountId{1}), ranges(*proposed.store, AccountId{1}));
  }
  // One block of 100 t in account 1 of a fresh registry: holes made by reservations.
  testing::TestRegistry r;
  testing::SetUpBasicRegistry(r);
  r.Ok("issue", {{"account", 1}, {"vintages", {{{"vintage", 2023}, {"quantity", 100}}}}});
  const auto blocks = [&] {
    auto tx = r.store->BeginRead();
    return (*tx)->LiveBlocks(AccountId{1}, BlockFilter{}, 10).value();
  }();
  ASSERT_EQ(blocks.size(), 1u);
  const int64_t first = blocks[0].range.first;
  const int64_t last = blocks[0].range.last;
  auto propose = [&](const Json& args) {
    Json full = args;
    full["from"] = 1;
    full["to"] = 4;
    return r.Run("proposal.create", {{"command", "transfer"}, {"args", full}}, "alice");
  };
  // [last-9, last-5] reserved by ranges; a quantity of 5 takes the 5 above it.
  const auto held = propose({{"ranges", {FormatSerialRange({last - 9, last - 5})}}});
  ASSERT_TRUE(held.ok()) << held.failure->Message();
  const auto five = propose({{"quantity", 5}});
  ASSERT_TRUE(five.ok()) << five.failure->Message();
  EXPECT_EQ(five.result.at("reserved"), Json::array({FormatSerialRange({last - 4, last})}));
  // Then the run below the hole.
  const auto three = propose({{"quantity", 3}});
  ASSERT_TRUE(three.ok()) << three.failure->Message();
  EXPECT_EQ(three.result.at("reserved"), Json::array({FormatSerialRange({last - 12, last - 10})}));
  // Free now: [first, last-13], 87 units in one run: 88 is refused.
  ASSERT_EQ(last - 13 - first + 1, 87);
  const auto too_many = propose({{"quantity", 88}});
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.failure->refusal->check, Check::kQuantityAboveHolding);
  // Release the 5 at the top: 92 free in two runs of one block. One movement takes one run per
  // block, the last: 87 is refused, naming both totals; 5 is not.
  r.Ok("proposal.reject", {{"id", five.result.at("id")}}, "bob");
  const auto split = propose({{"quantity", 87}});
  ASSERT_FALSE(split.ok());
  EXPECT_EQ(split.failure->refusal->check, Check::kQuantityAboveHolding);
  EXPECT_NE(split.failure->Message().find("holds only 5 matching units"), std::string::npos)
      << split.failure->Message();
  EXPECT_NE(split.failure->Message().find("92 in all"), std::string::npos)
      << split.failure->Message();
  EXPECT_TRUE(propose({{"quantity", 5}}).ok());
}

// The rule that resolves a proposal's quantity is journaled with it, so that a journal replays to
// the answers it gave whatever the rule of the day: a new proposal by quantity gets "split";
// one that names "lowest" (as every entry journaled before the split rule did by omission) gets
// the lowest free serials; a proposal by ranges carries no rule; another value is refused.
TEST(FourEyesQuantity, TheRuleIsJournaledWithTheProposal) {
  testing::TestRegistry r;
  testing::SetUpBasicRegistry(r);
  r.Ok("issue", {{"account", 1}, {"vintages", {{{"vintage", 2020}, {"quantity", 100}}}}});
  const auto payload_of = [&](int64_t sequence) {
    auto tx = r.store->BeginRead();
    return Json::parse((*tx)->ReadEntries(Sequence{sequence - 1}, 1).value().at(0).payload);
  };
  const auto split = r.Run(
      "proposal.create",
      {{"command", "transfer"}, {"args", {{"from", 1}, {"to", 4}, {"quantity", 10}}}}, "alice");
  ASSERT_TRUE(split.ok()) << split.failure->Message();
  EXPECT_EQ(payload_of(split.sequence.value).value("quantity_rule", ""), "split");
  EXPECT_EQ(split.result.at("reserved"), Json::array({"91-100"}));
  const auto lowest = r.Run("proposal.create",
                            {{"command", "transfer"},
                             {"args", {{"from", 1}, {"to", 4}, {"quantity", 10}}},
                             {"quantity_rule", "lowest"}},
                            "alice");
  ASSERT_TRUE(lowest.ok()) << lowest.failure->Message();
  EXPECT_EQ(lowest.result.at("reserved"), Json::array({"1-10"}));
  const auto ranges = r.Run(
      "proposal.create",
      {{"command", "transfer"}, {"args", {{"from", 1}, {"to", 4}, {"ranges", {"50-51"}}}}},
      "alice");
  ASSERT_TRUE(ranges.ok()) << ranges.failure->Message();
  EXPECT_FALSE(payload_of(ranges.sequence.value).contains("quantity_rule"));
  r.Refused("proposal.create",
            {{"command", "transfer"},
             {"args", {{"from", 1}, {"to", 4}, {"quantity", 1}}},
             {"quantity_rule", "highest"}},
            Check::kFieldInvalid);
  // Replayed, every answer is the same.
  const auto report = service::Verify(*r.store, r.key.public_key, [] {
    return sqlite::Open(sqlite::Options{":memory:", false});
  });
  EXPECT_TRUE(report.ok()) << (report.problems.empty() ? "" : report.problems.front());
}

// An account has at most 1,000 pending proposals (kHoldsPerAccountMax): the 1,001st is refused
// and changes nothing. The store counts rows first and distinct proposals only when the rows
// reach the limit (ReservingProposalsReach); here 100 of the proposals hold two ranges, so the
// account has 1,000 rows before its 1,000th proposal, which must still be accepted.
// A four-eyes proposal is tried when it is made: proposal.create runs its command in a savepoint
// with Context::dry_run, where a movement makes every check and skips writing its blocks. So a
// proposal is refused for whatever its command would be refused for, with the same check, and
// an accepted proposal leaves the blocks as they were; the journal replays to the same state.
TEST_F(ServiceRefusals, AProposalIsRefusedForWhatItsCommandWouldBeAndItsTrialWritesNoBlock) {
  r_.Ok("proposal.create",
        {{"command", "transfer"}, {"args", {{"from", 1}, {"to", 4}, {"ranges", {"30-34"}}}}},
        "alice");
  r_.Ok("account.set_status", {{"account", 7}, {"status", "blocked"}});
  struct Case {
    std::string command;
    Json args;
    Check check;
  };
  const std::vector<Case> cases = {
      {"transfer", {{"from", 1}, {"to", 1}, {"ranges", {"40"}}}, Check::kSameAccount},
      {"transfer", {{"from", 1}, {"to", 2}, {"ranges", {"40"}}}, Check::kWrongDestinationType},
      {"transfer", {{"from", 1}, {"to", 5}, {"ranges", {"40"}}}, Check::kCrossRegistryTransfer},
      {"retire",
       {{"from", 1}, {"to", 3}, {"ranges", {"40"}}, {"use_year", 2025}},
       Check::kWrongDestinationType},
      {"transfer", {{"from", 1}, {"to", 4}, {"ranges", {"15-25"}}}, Check::kSerialRangeNotHeld},
      {"transfer", {{"from", 1}, {"to", 4}, {"quantity", 81}}, Check::kQuantityAboveHolding},
      {"transfer",
       {{"from", 1}, {"to", 4}, {"ranges", {"40-44", "42-45"}}},
       Check::kSerialRangeInvalid},
      {"transfer", {{"from", 1}, {"to", 4}, {"ranges", {"32-36"}}}, Check::kSerialsReserved},
      {"transfer", {{"from", 7}, {"to", 4}, {"ranges", {"11"}}}, Check::kAccountBlocked},
      {"transfer", {{"from", 1}, {"to", 7}, {"ranges", {"40"}}}, Check::kAccountBlocked},
  };
  for (const Case& c : cases) {
    ExpectRefusedUnchanged(c.command, c.args, c.check);
    ExpectRefusedUnchanged("proposal.create", {{"command", c.command}, {"args", c.args}}, c.check);
  }
  auto live = [this](int64_t account) {
    std::vector<std::string> blocks;
    for (const Block& b : LiveBlocks(*r_.store, AccountId{account})) {
      blocks.push_back(std::to_string(b.id.value) + ":" + FormatSerialRange(b.range));
    }
    return blocks;
  };
  const auto from_before = live(1);
  const auto to_before = live(4);
  const Json proposal = r_.Ok(
      "proposal.create",
      {{"command", "transfer"}, {"args", {{"from", 1}, {"to", 4}, {"ranges", {"50-54"}}}}},
      "alice");
  EXPECT_EQ(live(1), from_before);
  EXPECT_EQ(live(4), to_before);
  r_.Ok("proposal.approve", {{"id", proposal.at("id")}}, "bob");
  EXPECT_EQ(Held(*r_.store, AccountId{4}), 5);
  const service::VerifyReport report = service::Verify(*r_.store, r_.key.public_key, [] {
    return sqlite::Open(sqlite::Options{":memory:", false});
  });
  EXPECT_TRUE(report.ok()) << report.problems.front();
}

TEST_F(ServiceRefusals, TheThousandAndFirstPendingProposalOfAnAccountIsRefused) {
  // Two lots (two blocks): a proposal's two ranges must lie in different blocks.
  const Json issued = r_.Ok(
      "issue", {{"account", 1},
                {"vintages",
                 {{{"vintage", 2020}, {"quantity", 600}}, {{"vintage", 2022}, {"quantity", 600}}}},
                {"project", "MN004"}});
  int64_t a = issued.at("lots").at(0).at("first").get<int64_t>();
  int64_t b = issued.at("lots").at(1).at("first").get<int64_t>();
  auto one = [](int64_t serial) { return FormatSerialRange({serial, serial}); };
  std::vector<service::Request> batch;
  for (int i = 0; i < 999; ++i) {
    Json ranges = Json::array({one(i % 2 == 0 ? a++ : b++)});
    if (i < 100) ranges.push_back(one(i % 2 == 0 ? b++ : a++));
    batch.push_back({"proposal.create",
                     Json{{"command", "transfer"}, {"args", {{"from", 1}, {"to", 4}, {"ranges", ranges}}}},
                     "alice", ""});
  }
  for (const service::Response& response : r_.registry->ExecuteBatch(batch)) {
    ASSERT_TRUE(response.ok()) << response.failure->Message();
  }
  const Json last = {{"command", "transfer"}, {"args", {{"from", 1}, {"to", 4}, {"quantity", 1}}}};
  r_.Ok("proposal.create", last, "alice");  // The 1,000th, over 1,100 rows.
  ExpectRefusedUnchanged("proposal.create", last, Check::kTooManyItems);
  // Another account is not limited by account 1's proposals.
  r_.Ok("proposal.create",
        {{"command", "transfer"}, {"args", {{"from", 7}, {"to", 4}, {"quantity", 1}}}}, "alice");
}

}  // namespace
}  // namespace registry
