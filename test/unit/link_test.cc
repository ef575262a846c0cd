// The registry link (issue 29; ARCHITECTURE decision 12; docs/link.md) between two installations
// in one process: Mongolia's registry MNG01 in one database, Japan's JPN01 in another, each with
// its own key, the messages handed from one to the other as the link would carry them. The same
// exchange over HTTP between two `jcmreg serve` processes, with faults, is test/system.
#include "core/link.h"

#include <gtest/gtest.h>

#include <map>

#include "article6_fixture.h"
#include "link/statement.h"
#include "report/statistics.h"
#include "service/link.h"
#include "testing/test_util.h"

namespace registry {
namespace {

using service::Json;
using service::LinkMessage;
using testing::TestRegistry;

// An installation hosting one registry: Parties JPN and MNG, the JPN-MNG approach with both
// Step 1s and MN101 registered with both Step 2a's (each installation keeps a copy of both).
// `both_ways`: Mongolia's authorization names Mongolia too as an acquiring Party, so that units
// may go back to it.
void SetUpInstallation(TestRegistry& r, const std::string& party, const std::string& registry,
                       bool both_ways = false) {
  r.Ok("party.add", {{"code", "JPN"}, {"name", "Japan"}});
  r.Ok("party.add", {{"code", "MNG"}, {"name", "Mongolia"}});
  r.Ok("registry.add", {{"code", registry}, {"party", party}, {"name", registry}});
  r.Ok("account.open", {{"registry", registry}, {"type", "government_holding"}, {"name", "gov"}});
  r.Ok("account.open", {{"registry", registry}, {"type", "retirement"}, {"name", "retirement"}});
  testing::LoadNomenclature(r);
  r.Ok("ca.define", {{"key", "JPN-MNG"}, {"parties", {"JPN", "MNG"}}, {"ca_id", "CA0042"}});
  r.Ok("ca.authorize", testing::Step1Args("JPN", "JPN01"));
  r.Ok("ca.authorize", testing::Step1Args("MNG", "MNG01"));
  r.Ok("report.initial.submit", {{"party", party}, {"ca", "JPN-MNG"}, {"date", "2025-06-01"}});
  testing::RegisterProject(r, "MN101");
  Json mng_authorization = testing::Step2aArgs("MNG", "MN101");
  if (both_ways) mng_authorization["acquiring_parties"] = {"JPN", "MNG"};
  r.Ok("authorization.add", mng_authorization);
  r.Ok("authorization.add", testing::Step2aArgs("JPN", "MN101"));
}

class Link : public ::testing::Test {
 protected:
  void SetUp() override {
    SetUpInstallation(mng, "MNG", "MNG01", both_ways_);
    SetUpInstallation(jpn, "JPN", "JPN01", both_ways_);
    // Mongolia's share of a JC decision of 1,000 t (20 %), all vintage 2021, into MNG01 account 1.
    mng.Ok("issue.jcm", {{"account", 1},
                         {"project", "MN101"},
                         {"jc_decision", "JC-ISS-MN101-LINK"},
                         {"decision_date", "2026-01-10"},
                         {"monitoring_start", "2021-01-01"},
                         {"monitoring_end", "2021-12-31"},
                         {"total", 1000},
                         {"shares", {{"MNG", 200}, {"JPN", 800}}},
                         {"vintages", {{{"vintage", 2021}, {"quantity", 200}}}}});
    mng.Ok("peer.set", PeerArgs("jpn", jpn, "JPN01"));
    jpn.Ok("peer.set", PeerArgs("mng", mng, "MNG01"));
  }

  static Json PeerArgs(const std::string& id, const TestRegistry& r, const std::string& registry) {
    return {{"id", id},
            {"url", "http://127.0.0.1:9"},
            {"public_key", journal::ToHex(r.key.public_key)},
            {"registries", {registry}}};
  }

  // The message the outbox would send for the open transfer `transaction` of `r`, signed.
  LinkMessage Outgoing(TestRegistry& r, const std::string& transaction) {
    auto tx = r.store->BeginRead();
    EXPECT_TRUE(tx.has_value());
    auto open = service::OpenTransfers(**tx);
    EXPECT_TRUE(open.has_value());
    for (const service::OpenTransfer& t : *open) {
      if (t.transaction != transaction) continue;
      LinkMessage m = t.message;
      m.sequence = ++sequence_;
      m.sent = "2026-01-01T00:00:00Z";
      service::SignLinkMessage(m, r.key);
      return m;
    }
    ADD_FAILURE() << "no open transfer " << transaction;
    return {};
  }

  // The receiver's answer to `m`, signed as its server signs it.
  Json AnswerOf(TestRegistry& receiver, const LinkMessage& m, const Json& answer_body) {
    LinkMessage a = service::AnswerTo(m, answer_body, ++sequence_, "2026-01-01T00:00:01Z");
    service::SignLinkMessage(a, receiver.key);
    return service::LinkMessageJson(a);
  }

  // `quantity` t from MNG01 account 1 to JPN01 account 1, accepted and completed; its message.
  LinkMessage TransferToJapan(int64_t quantity) {
    const std::string tx = mng.Ok("link.transfer", {{"from", 1},
                                                    {"registry", "JPN01"},
                                                    {"account", 1},
                                                    {"quantity", quantity}})["transaction"];
    const LinkMessage m = Outgoing(mng, tx);
    const Json received = jpn.Ok("link.receive", {{"message", service::LinkMessageJson(m)}});
    EXPECT_EQ(received["answer"]["outcome"], "accepted");
    mng.Ok("link.complete",
           {{"transaction", tx}, {"answer", AnswerOf(jpn, m, received["answer"])}});
    return m;
  }

  static int64_t Held(TestRegistry& r, int64_t account) {
    auto tx = r.store->BeginRead();
    auto total = (*tx)->HoldingTotal(AccountId{account}, std::nullopt);
    EXPECT_TRUE(total.has_value());
    return total ? total->second : -1;
  }

  // Every serial of MNG01 1-200 live in exactly one of the two registries' own accounts (the
  // mirror account of the peer's registry holds the units that left, and is not counted).
  void ExpectConserved() {
    const int64_t at_mng = Held(mng, 1) + Held(mng, 4);  // gov + transit (accounts 1, 4)
    const int64_t at_jpn = Held(jpn, 1) + Held(jpn, 2);  // gov + retirement
    EXPECT_EQ(at_mng + at_jpn, 200)
        << "MNG01 serials 1-200 counted " << at_mng + at_jpn << " times";
    EXPECT_EQ(Held(mng, 3), at_jpn) << "the mirror of JPN01 in MNG's books holds what Japan took";
  }

  std::vector<link::TransferView> Views(TestRegistry& r, const std::string& peer) {
    auto tx = r.store->BeginRead();
    auto views = service::LinkViews(**tx, peer);
    EXPECT_TRUE(views.has_value());
    return views ? *views : std::vector<link::TransferView>{};
  }

  TestRegistry mng;
  TestRegistry jpn;
  int64_t sequence_ = 1000;
  bool both_ways_ = false;
};

class LinkBothWays : public Link {
 protected:
  void SetUp() override {
    both_ways_ = true;
    Link::SetUp();
  }
};

TEST_F(Link, TransferAcceptedCompletesBothSidesAndTheirAefsCrossCheck) {
  // Account 3 of MNG is the mirror of JPN01 (peer.set), 4 the transit account (link.transfer).
  const Json sent = mng.Ok("link.transfer",
                           {{"from", 1}, {"registry", "JPN01"}, {"account", 1}, {"quantity", 150}});
  const std::string tx = sent["transaction"];
  EXPECT_EQ(sent["state"], "proposed");
  EXPECT_EQ(sent["transit_account"], 4);
  EXPECT_EQ(Held(mng, 1), 50);
  EXPECT_EQ(Held(mng, 4), 150);
  ExpectConserved();

  const LinkMessage m = Outgoing(mng, tx);
  const Json received =
      jpn.Ok("link.receive", {{"message", service::LinkMessageJson(m)}}, "link:mng");
  EXPECT_EQ(received["answer"]["outcome"], "accepted");
  EXPECT_EQ(Held(jpn, 1), 150);
  // Not yet completed at the sender: the units are in transit there and acquired here; the
  // reconciliation sees the transfer in flight, not a mismatch.
  EXPECT_EQ(link::Reconcile(Views(mng, "jpn"), Views(jpn, "mng")).in_flight, 1);

  const Json done = mng.Ok("link.complete",
                           {{"transaction", tx}, {"answer", AnswerOf(jpn, m, received["answer"])}});
  EXPECT_EQ(done["state"], "completed");
  EXPECT_EQ(Held(mng, 4), 0);
  ExpectConserved();
  const link::Reconciliation rec = link::Reconcile(Views(mng, "jpn"), Views(jpn, "mng"));
  EXPECT_TRUE(rec.clean());
  EXPECT_EQ(rec.agreed, 1);

  // Japan uses 100 t towards its NDC; the AEFs of both Parties show their sides.
  jpn.Ok("retire", {{"from", 1}, {"to", 2}, {"quantity", 100}, {"use_year", 2026}});
  EXPECT_EQ(testing::FlowTonnes(mng, "MNG")["first transfer 2021"], 150);
  EXPECT_EQ(testing::FlowTonnes(jpn, "JPN")["use 2021"], 100);
  // Columns: date, type, subtype, first transferring Party, registry, first ID, last ID,
  // quantity, transferring Party, acquiring Party, using Party.
  auto actions = [](const report::AefWorkbook& wb) {
    std::vector<std::string> out;
    for (const auto& row : wb.tables[report::kActions].rows) {
      out.push_back(row[1] + "|" + row[2] + "|" + row[5] + "|" + row[6] + "|" + row[7] + "|" +
                    row[8] + "|" + row[15] + "|" + row[19] + "|" + row[20] + "|" + row[22]);
    }
    return out;
  };
  EXPECT_EQ(actions(testing::AefOf(mng, "MNG", 2026)),
            (std::vector<std::string>{"First transfer|First transfer to another Party|MNG|MNG01|"
                                      "CA0042-MNG01-MNG-51-2021|CA0042-MNG01-MNG-200-2021|150|NA|"
                                      "JPN|NA"}));
  const auto jpn_actions = actions(testing::AefOf(jpn, "JPN", 2026));
  ASSERT_EQ(jpn_actions.size(), 2u);
  EXPECT_EQ(jpn_actions[0],
            "Acquisition|NA|MNG|MNG01|CA0042-MNG01-MNG-51-2021|"
            "CA0042-MNG01-MNG-200-2021|150|MNG|NA|NA");
  EXPECT_EQ(jpn_actions[1].substr(0, 7), "Use|NA|");
  testing::ExpectVerifies(mng);
  testing::ExpectVerifies(jpn);
}

TEST_F(Link, PublicStatisticsCountAUnitOnceAsIssuedAndOnceAsAcquired) {
  const LinkMessage m = TransferToJapan(60);
  auto row = [](TestRegistry& r, const std::string& registry) {
    auto summary = report::AnnualTransactionsSummary(*r.store, 1000);
    EXPECT_TRUE(summary.has_value());
    for (const Json& y : (*summary)["years"]) {
      if (y["registry"] == registry) return y;
    }
    return Json();
  };
  // Mongolia issued 200 and sent 60 abroad; Japan acquired 60 and issued nothing.
  EXPECT_EQ(row(mng, "MNG01")["issuance"], 200);
  EXPECT_EQ(row(mng, "MNG01")["international_transfer"], 60);
  EXPECT_EQ(row(jpn, "JPN01")["issuance"], 0);
  EXPECT_EQ(row(jpn, "JPN01")["acquisition"], 60);
}

TEST_F(Link, StatementForAPartnerWithoutAConnectionComparesActionByAction) {
  const LinkMessage m = TransferToJapan(70);
  // Mongolia's registry states its actions of 2026; Japan's compares them with what it recorded
  // of Mongolia's side.
  auto statement = link::MakeStatement(*mng.store, mng.key, "MNG01", "JPN01", "MNG", 2026);
  ASSERT_TRUE(statement.has_value()) << statement.error();
  const Json file = service::LinkMessageJson(*statement);
  auto compared = link::CompareStatement(*jpn.store, file, mng.key.public_key);
  ASSERT_TRUE(compared.has_value()) << compared.error();
  EXPECT_EQ(compared->matched, 1);
  EXPECT_TRUE(compared->mismatches.empty());
  // An action Japan has no record of is named; a statement altered or signed by another key is
  // not believed.
  Json more = file;
  more["body"]["actions"].push_back("01/01/2026|First transfer|made up");
  LinkMessage resigned = *service::ParseLinkMessage(more);
  service::SignLinkMessage(resigned, mng.key);
  compared =
      link::CompareStatement(*jpn.store, service::LinkMessageJson(resigned), mng.key.public_key);
  ASSERT_TRUE(compared.has_value());
  ASSERT_EQ(compared->mismatches.size(), 1u);
  EXPECT_EQ(compared->mismatches[0].check, Check::kLinkReconciliationMismatch);
  auto forged = link::CompareStatement(*jpn.store, more, mng.key.public_key);
  ASSERT_FALSE(forged.has_value());
  EXPECT_NE(forged.error().find(CodeOf(Check::kLinkSignatureInvalid)), std::string::npos);
  EXPECT_FALSE(link::MakeStatement(*mng.store, mng.key, "JPN01", "MNG01", "MNG", 2026).has_value())
      << "JPN01 is not hosted at Mongolia's installation";
}

TEST_F(LinkBothWays, UnitsSentBackReturnOutOfTheMirrorNotAsNewUnits) {
  const LinkMessage m = TransferToJapan(60);
  // Japan sends 20 t of them back to Mongolia's government account: they come out of Mongolia's
  // mirror of JPN01, not as a second lot of the same serials.
  const std::string tx2 =
      jpn.Ok("link.transfer",
             {{"from", 1}, {"registry", "MNG01"}, {"account", 1}, {"quantity", 20}})["transaction"];
  const LinkMessage m2 = Outgoing(jpn, tx2);
  const Json returned = mng.Ok("link.receive", {{"message", service::LinkMessageJson(m2)}});
  ASSERT_EQ(returned["answer"]["outcome"], "accepted") << returned.dump();
  jpn.Ok("link.complete",
         {{"transaction", tx2}, {"answer", AnswerOf(mng, m2, returned["answer"])}});
  EXPECT_EQ(Held(mng, 1), 160);
  EXPECT_EQ(Held(mng, 3), 40) << "the mirror of JPN01 gave the 20 t back";
  EXPECT_EQ(Held(jpn, 1), 40);
  ExpectConserved();
  {
    auto tx = mng.store->BeginRead();
    auto lots = (*tx)->ListLots();
    ASSERT_TRUE(lots.has_value());
    EXPECT_EQ(lots->size(), 1u) << "no second lot of the same serials";
  }
  // Offered again under another transaction: no longer in the mirror, so known here.
  LinkMessage again = m2;
  again.transaction = "JPN01-4243";
  again.sequence = ++sequence_;
  service::SignLinkMessage(again, jpn.key);
  EXPECT_EQ(mng.Ok("link.receive",
                   {{"message", service::LinkMessageJson(again)}})["answer"]["check_name"],
            "link_units_already_known");
  EXPECT_EQ(Held(mng, 1), 160);
  const link::Reconciliation rec = link::Reconcile(Views(mng, "jpn"), Views(jpn, "mng"));
  EXPECT_EQ(rec.agreed, 2);
  EXPECT_EQ(rec.mismatches.size(), 1u) << "JPN01-4243 was never sent by Japan's registry";
  testing::ExpectVerifies(mng);
  testing::ExpectVerifies(jpn);
}

TEST_F(Link, UnitTextsAreCheckedBeforeAnythingIsWritten) {
  const std::string tx =
      mng.Ok("link.transfer",
             {{"from", 1}, {"registry", "JPN01"}, {"account", 1}, {"quantity", 10}})["transaction"];
  LinkMessage m = Outgoing(mng, tx);
  m.body["units"][0]["sector"] = std::string("Energy\x01generation");
  service::SignLinkMessage(m, mng.key);
  const Json answer = jpn.Ok("link.receive", {{"message", service::LinkMessageJson(m)}})["answer"];
  EXPECT_EQ(answer["outcome"], "rejected");
  EXPECT_EQ(answer["check_name"], "invalid_text");
  LinkMessage huge = Outgoing(mng, tx);
  huge.transaction = "MNG01-77777";
  huge.body["units"][0]["jc_decision"] = std::string(300, 'x');
  service::SignLinkMessage(huge, mng.key);
  EXPECT_EQ(
      jpn.Ok("link.receive", {{"message", service::LinkMessageJson(huge)}})["answer"]["check_name"],
      "field_invalid");
  EXPECT_EQ(Held(jpn, 1), 0);
}

TEST_F(Link, RepeatedMessagesAreAnsweredAgainAndReplaysRefused) {
  const std::string tx =
      mng.Ok("link.transfer",
             {{"from", 1}, {"registry", "JPN01"}, {"account", 1}, {"quantity", 10}})["transaction"];
  const LinkMessage m = Outgoing(mng, tx);
  jpn.Ok("link.receive", {{"message", service::LinkMessageJson(m)}});
  // The very same message again: its sequence is spent.
  jpn.Refused("link.receive", {{"message", service::LinkMessageJson(m)}}, Check::kLinkReplayed);
  // A retry (a new sequence) gets the same answer and creates nothing more.
  const Json again =
      jpn.Ok("link.receive", {{"message", service::LinkMessageJson(Outgoing(mng, tx))}});
  EXPECT_EQ(again["answer"]["outcome"], "accepted");
  EXPECT_TRUE(again["again"].get<bool>());
  EXPECT_EQ(Held(jpn, 1), 10);
}

TEST_F(Link, ForgedAlteredMisdirectedAndUnknownMessagesAreRefusedAndChangeNothing) {
  const std::string tx =
      mng.Ok("link.transfer",
             {{"from", 1}, {"registry", "JPN01"}, {"account", 1}, {"quantity", 10}})["transaction"];
  LinkMessage m = Outgoing(mng, tx);
  // Signed with another key.
  LinkMessage forged = m;
  service::SignLinkMessage(forged, journal::GenerateKey());
  jpn.Refused("link.receive", {{"message", service::LinkMessageJson(forged)}},
              Check::kLinkSignatureInvalid);
  // Altered after signing: 10 t become 1,000.
  Json altered = service::LinkMessageJson(m);
  altered["body"]["units"][0]["last"] = 1000;
  jpn.Refused("link.receive", {{"message", altered}}, Check::kLinkSignatureInvalid);
  // For a registry this installation does not host.
  LinkMessage misdirected = m;
  misdirected.to = "JPN02";
  service::SignLinkMessage(misdirected, mng.key);
  jpn.Refused("link.receive", {{"message", service::LinkMessageJson(misdirected)}},
              Check::kLinkMisdirected);
  // From a registry no peer hosts.
  LinkMessage stranger = m;
  stranger.from = "KOR01";
  stranger.transaction = "KOR01-5";
  service::SignLinkMessage(stranger, mng.key);
  jpn.Refused("link.receive", {{"message", service::LinkMessageJson(stranger)}},
              Check::kLinkUnknownPeer);
  // Malformed: an unknown field, a missing one.
  Json extra = service::LinkMessageJson(m);
  extra["note"] = "x";
  jpn.Refused("link.receive", {{"message", extra}}, Check::kUnknownField);
  Json missing = service::LinkMessageJson(m);
  missing.erase("sequence");
  jpn.Refused("link.receive", {{"message", missing}}, Check::kFieldMissing);
  EXPECT_EQ(Held(jpn, 1), 0);
  EXPECT_TRUE(Views(jpn, "mng").empty());
  // The genuine message still goes through.
  EXPECT_EQ(jpn.Ok("link.receive", {{"message", service::LinkMessageJson(m)}})["answer"]["outcome"],
            "accepted");
}

TEST_F(Link, ReceiverRulesRejectWithTheirCheckAndTheSenderReleases) {
  // Japan's copy of Mongolia's authorization is another one: the units are rejected.
  Json other = testing::Step2aArgs("MNG", "MN101");
  other["authorization_id"] = "MNG-MN101-OTHER";
  other["date"] = "2025-07-01";
  const std::string tx =
      mng.Ok("link.transfer",
             {{"from", 1}, {"registry", "JPN01"}, {"account", 1}, {"quantity", 20}})["transaction"];
  LinkMessage m = Outgoing(mng, tx);
  Json tampered_units = m.body;
  tampered_units["units"][0]["authorization_id"] = "MNG-MN101-OTHER";
  m.body = tampered_units;
  service::SignLinkMessage(m, mng.key);
  const Json received = jpn.Ok("link.receive", {{"message", service::LinkMessageJson(m)}});
  EXPECT_EQ(received["answer"]["outcome"], "rejected");
  EXPECT_EQ(received["answer"]["check"], CodeOf(Check::kLinkAttributesMismatch));
  EXPECT_EQ(Held(jpn, 1), 0);
  // An accepted answer cannot release, a rejection cannot complete.
  const Json answer = AnswerOf(jpn, m, received["answer"]);
  mng.Refused("link.complete", {{"transaction", tx}, {"answer", answer}},
              Check::kLinkTransactionState);
  mng.Ok("link.release", {{"transaction", tx}, {"answer", answer}});
  mng.Refused("link.release", {{"transaction", tx}, {"answer", answer}},
              Check::kLinkTransactionState);
  EXPECT_EQ(Held(mng, 1), 200);
  ExpectConserved();
  EXPECT_TRUE(link::Reconcile(Views(mng, "jpn"), Views(jpn, "mng")).clean());
  // An answer signed by another key is not believed.
  const std::string tx2 =
      mng.Ok("link.transfer",
             {{"from", 1}, {"registry", "JPN01"}, {"account", 1}, {"quantity", 5}})["transaction"];
  const LinkMessage m2 = Outgoing(mng, tx2);
  LinkMessage fake = service::AnswerTo(m2, Json{{"outcome", "rejected"}}, ++sequence_, "x");
  service::SignLinkMessage(fake, journal::GenerateKey());
  mng.Refused("link.release", {{"transaction", tx2}, {"answer", service::LinkMessageJson(fake)}},
              Check::kLinkSignatureInvalid);
  testing::ExpectVerifies(mng);
  testing::ExpectVerifies(jpn);
}

TEST_F(Link, UnitsAlreadyKnownAreRejected) {
  const std::string tx =
      mng.Ok("link.transfer",
             {{"from", 1}, {"registry", "JPN01"}, {"account", 1}, {"quantity", 30}})["transaction"];
  const LinkMessage m = Outgoing(mng, tx);
  jpn.Ok("link.receive", {{"message", service::LinkMessageJson(m)}});
  // The same serials under another transaction (a sender that double-spends): rejected.
  LinkMessage twice = m;
  twice.transaction = "MNG01-99999";
  twice.sequence = ++sequence_;
  service::SignLinkMessage(twice, mng.key);
  const Json again = jpn.Ok("link.receive", {{"message", service::LinkMessageJson(twice)}});
  EXPECT_EQ(again["answer"]["outcome"], "rejected");
  EXPECT_EQ(again["answer"]["check_name"], "link_units_already_known");
  EXPECT_EQ(Held(jpn, 1), 30);
  // Japan's view now has a transaction Mongolia never sent: reconciliation says so.
  const link::Reconciliation rec = link::Reconcile(Views(mng, "jpn"), Views(jpn, "mng"));
  ASSERT_EQ(rec.mismatches.size(), 1u);
  EXPECT_EQ(rec.mismatches[0].check, Check::kLinkReconciliationMismatch);
  EXPECT_EQ(rec.mismatches[0].transaction, "MNG01-99999");
}

TEST_F(Link, TerminationEndsAnUnansweredTransferOnBothSides) {
  const std::string tx =
      mng.Ok("link.transfer",
             {{"from", 1}, {"registry", "JPN01"}, {"account", 1}, {"quantity", 40}})["transaction"];
  const LinkMessage lost = Outgoing(mng, tx);  // Never arrives.
  EXPECT_EQ(mng.Ok("link.cancel", {{"transaction", tx}})["state"], "terminating");
  mng.Refused("link.cancel", {{"transaction", tx}}, Check::kLinkTransactionState);
  const LinkMessage terminate = Outgoing(mng, tx);
  EXPECT_EQ(terminate.type, "terminate");
  const Json answer = jpn.Ok("link.receive", {{"message", service::LinkMessageJson(terminate)}});
  EXPECT_EQ(answer["answer"]["outcome"], "terminated");
  // The lost transfer message arrives late, with a later sequence: it is answered "terminated"
  // and takes nothing.
  LinkMessage late = lost;
  late.sequence = ++sequence_;
  service::SignLinkMessage(late, mng.key);
  EXPECT_EQ(
      jpn.Ok("link.receive", {{"message", service::LinkMessageJson(late)}})["answer"]["outcome"],
      "terminated");
  EXPECT_EQ(Held(jpn, 1), 0);
  mng.Ok("link.release",
         {{"transaction", tx}, {"answer", AnswerOf(jpn, terminate, answer["answer"])}});
  EXPECT_EQ(Held(mng, 1), 200);
  ExpectConserved();
  const link::Reconciliation rec = link::Reconcile(Views(mng, "jpn"), Views(jpn, "mng"));
  EXPECT_TRUE(rec.clean());
  EXPECT_EQ(rec.agreed, 1);
}

TEST_F(Link, TerminatingTransferThatWasAcceptedCompletes) {
  const std::string tx =
      mng.Ok("link.transfer",
             {{"from", 1}, {"registry", "JPN01"}, {"account", 1}, {"quantity", 25}})["transaction"];
  jpn.Ok("link.receive", {{"message", service::LinkMessageJson(Outgoing(mng, tx))}});
  mng.Ok("link.cancel", {{"transaction", tx}});  // Its answer was lost; the sender gave up waiting.
  const LinkMessage terminate = Outgoing(mng, tx);
  const Json answer = jpn.Ok("link.receive", {{"message", service::LinkMessageJson(terminate)}});
  EXPECT_EQ(answer["answer"]["outcome"], "accepted") << "an accepted transfer stays accepted";
  mng.Ok("link.complete",
         {{"transaction", tx}, {"answer", AnswerOf(jpn, terminate, answer["answer"])}});
  ExpectConserved();
  EXPECT_EQ(Held(jpn, 1), 25);
}

TEST_F(Link, SenderRulesAndPeerConfiguration) {
  // transfer.international's rules hold: more than held, a registry hosted here, an unknown one.
  mng.Refused("link.transfer",
              {{"from", 1}, {"registry", "JPN01"}, {"account", 1}, {"quantity", 201}},
              Check::kQuantityAboveHolding);
  mng.Refused("link.transfer",
              {{"from", 1}, {"registry", "MNG01"}, {"account", 1}, {"quantity", 1}},
              Check::kFieldInvalid);
  mng.Refused("link.transfer",
              {{"from", 1}, {"registry", "KOR01"}, {"account", 1}, {"quantity", 1}},
              Check::kUnknownRegistry);
  // The mirror and transit accounts are blocked: nothing moves through them by hand.
  mng.Ok("link.transfer", {{"from", 1}, {"registry", "JPN01"}, {"account", 1}, {"quantity", 1}});
  mng.Refused("transfer", {{"from", 4}, {"to", 1}, {"quantity", 1}}, Check::kAccountBlocked);
  // peer.set: a registry hosted here is not a peer's; a bad key or URL is refused.
  Json bad = PeerArgs("other", jpn, "MNG01");
  mng.Refused("peer.set", bad, Check::kAlreadyExists);
  bad = PeerArgs("other", jpn, "KOR01");
  bad["public_key"] = "00";
  mng.Refused("peer.set", bad, Check::kFieldInvalid);
  bad = PeerArgs("other", jpn, "KOR01");
  bad["url"] = "ftp://x";
  mng.Refused("peer.set", bad, Check::kFieldInvalid);
  // A peer keeps its registries.
  Json fewer = PeerArgs("jpn", jpn, "JPN01");
  fewer["registries"] = {"KOR01"};
  mng.Refused("peer.set", fewer, Check::kFieldInvalid);
}

TEST(LinkRules, AnswersEndOnlyWhatTheyMayEnd) {
  using link::Outcome;
  using link::SenderState;
  EXPECT_EQ(link::AfterAnswer(SenderState::kProposed, Outcome::kAccepted), SenderState::kCompleted);
  EXPECT_EQ(link::AfterAnswer(SenderState::kProposed, Outcome::kRejected), SenderState::kReleased);
  EXPECT_EQ(link::AfterAnswer(SenderState::kProposed, Outcome::kTerminated), std::nullopt);
  EXPECT_EQ(link::AfterAnswer(SenderState::kTerminating, Outcome::kTerminated),
            SenderState::kReleased);
  EXPECT_EQ(link::AfterAnswer(SenderState::kTerminating, Outcome::kAccepted),
            SenderState::kCompleted);
  EXPECT_EQ(link::AfterAnswer(SenderState::kCompleted, Outcome::kAccepted), std::nullopt);
  EXPECT_TRUE(link::IsTransactionId("THA01-57"));
  EXPECT_FALSE(link::IsTransactionId("THA01-057"));
  EXPECT_FALSE(link::IsTransactionId("THA01-"));
  EXPECT_FALSE(link::IsTransactionId("tha01-5"));
}

TEST(LinkRules, ReconciliationNamesEachDisagreement) {
  const link::LinkUnits units{"THA01", SerialRange{1, 1009}};
  auto view = [&](std::string id, bool out, std::string state) {
    return link::TransferView{std::move(id), out, std::move(state), {units}};
  };
  // Completed at the sender, rejected at the receiver: the units are in neither registry.
  auto rec =
      link::Reconcile({view("THA01-1", true, "completed")}, {view("THA01-1", false, "rejected")});
  ASSERT_EQ(rec.mismatches.size(), 1u);
  EXPECT_NE(rec.mismatches[0].message.find("neither"), std::string::npos);
  // Released at the sender, accepted at the receiver: in both.
  rec = link::Reconcile({view("THA01-2", true, "released")}, {view("THA01-2", false, "accepted")});
  ASSERT_EQ(rec.mismatches.size(), 1u);
  EXPECT_NE(rec.mismatches[0].message.find("both"), std::string::npos);
  // Different serials.
  link::TransferView other = view("THA01-3", false, "accepted");
  other.units[0].range = SerialRange{1, 1000};
  rec = link::Reconcile({view("THA01-3", true, "completed")}, {other});
  ASSERT_EQ(rec.mismatches.size(), 1u);
  // The peer's outgoing against our incoming, too; and agreement.
  rec = link::Reconcile({view("JPN01-4", false, "accepted")}, {view("JPN01-4", true, "completed")});
  EXPECT_TRUE(rec.clean());
  EXPECT_EQ(rec.agreed, 1);
}

}  // namespace
}  // namespace registry
