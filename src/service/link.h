// The registry link's service side (ARCHITECTURE decision 12; docs/link.md): its signed
// messages, its commands and what each installation knows of the transfers between them.
//
// Commands (each journaled like any other, so `verify` replays them):
//   peer.set {id, url, public_key, registries}   an installation believed for those registries
//                                                (four-eyes; a mirror account per registry);
//   link.transfer {from, registry, account, quantity | ranges, project?, vintage?}
//                                                the sender's first phase: every rule of
//                                                transfer.international, the units moved into
//                                                the peer's transit account, "proposed";
//   link.cancel {transaction}                    the sender asks to terminate ("terminating");
//   link.complete {transaction, answer}          a signed "accepted": transit -> mirror, the
//                                                international transfer in the sender's books;
//   link.release {transaction, answer}           a signed "rejected"/"terminated": transit ->
//                                                the source account;
//   link.receive {message}                       the receiver's side of a signed transfer or
//                                                terminate message: accepted (lots and blocks
//                                                with the same serials), rejected (with its
//                                                check) or terminated; idempotent.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/link.h"
#include "journal/chain.h"
#include "service/command.h"

namespace registry::service {

// Document kinds of the link.
inline constexpr const char* kPeerKind = "link_peer";        // key: the peer's id
inline constexpr const char* kLinkOutKind = "link_out";      // key: transaction id
inline constexpr const char* kLinkInKind = "link_in";        // key: transaction id
inline constexpr const char* kLinkStateKind = "link_state";  // "outbox", "seq:PEER", ...

inline constexpr const char* kLinkProtocol = "jcm-link/1";
// Units in one transfer message, and the message's bytes (the HTTP body limit also holds).
inline constexpr size_t kLinkUnitsMax = 1000;

struct LinkMessage {
  // "transfer", "terminate", "reconcile" (requests), "answer", or "statement" (a signed file
  // for a partner with no connected registry: link/statement.h).
  std::string type;
  std::string from;         // The sending registry ("THA01").
  std::string to;           // The receiving registry ("JPN01").
  std::string transaction;  // "THA01-57"; empty for "reconcile".
  int64_t sequence = 0;     // Above every earlier one from the same sender to the same peer.
  std::string sent;         // ISO 8601 UTC, informative.
  Json body = Json::object();
  std::string signature;  // Hex Ed25519 over SigningText.
};

// Parses a message strictly: every field present with its type, no other field, sizes bounded.
Result<LinkMessage, Refusal> ParseLinkMessage(const Json& j);
Json LinkMessageJson(const LinkMessage& m);
// What is signed: "jcm-link/1\n" and the message without its signature as canonical JSON (keys
// sorted, no whitespace; docs/link.md).
std::string LinkSigningText(const LinkMessage& m);
void SignLinkMessage(LinkMessage& m, const journal::SigningKey& key);
bool VerifyLinkMessage(const LinkMessage& m, const journal::PublicKey& key);

struct Peer {
  std::string id;
  std::string url;  // http://HOST:PORT
  journal::PublicKey public_key{};
  std::vector<std::string> registries;
};

// The peer hosting `registry` (its registry document names it), or nullopt for a registry
// hosted here or unknown.
CommandResult<std::optional<Peer>> PeerOfRegistry(Transaction& tx, const std::string& registry);
CommandResult<std::vector<Peer>> ListPeers(Transaction& tx);
// Whether `registry` is hosted here: registered, and no peer's.
CommandResult<bool> HostedHere(Transaction& tx, const std::string& registry);

// The checks the receiving side makes of a message before it is journaled (link.receive makes
// them again): its peer, the signature, the addressee and, with `check_sequence` (every request
// but a reconcile, which changes nothing), the sequence. Returns the peer.
CommandResult<Peer> CheckIncoming(Transaction& tx, const LinkMessage& m,
                                  bool check_sequence = true);

// The receiver's answer to a transaction it has decided, unsigned (nullopt when undecided).
CommandResult<std::optional<Json>> StoredAnswer(Transaction& tx, const std::string& transaction);

// The lots this registry created for units that came in by the link (accepted transfers).
CommandResult<std::set<int64_t>> LinkedInLots(Transaction& tx);

// Transfers with `peer` as this installation sees them (for reconciliation), and as JSON.
CommandResult<std::vector<link::TransferView>> LinkViews(Transaction& tx, const std::string& peer);
CommandResult<Json> LinkTransfersJson(Transaction& tx);
// The open outgoing transfers (what the link's sender still has to send).
struct OpenTransfer {
  std::string transaction;
  std::string peer;
  link::SenderState state = link::SenderState::kProposed;
  std::string created;  // Journal time of link.transfer.
  LinkMessage message;  // Unsigned, sequence 0: the sender sets both.
};
CommandResult<std::vector<OpenTransfer>> OpenTransfers(Transaction& tx);

// A message's sequence: microseconds since the epoch, above every one this process gave before.
// Across restarts it keeps rising as long as the clock does (docs/link.md "Sequences").
int64_t NextLinkSequence();

// A reconciliation's result as the API and `jcmreg link reconcile --json` give it:
// {peer, agreed, in_flight, mismatches [{code, check, transaction, message}]}.
Json ReconciliationJson(const std::string& peer, const link::Reconciliation& r);
Json MismatchesJson(const std::vector<link::Mismatch>& mismatches);

// A view as the reconcile answer carries it, and back (strictly: an error names what is wrong).
Json ViewsJson(const std::vector<link::TransferView>& views);
Result<std::vector<link::TransferView>, std::string> ViewsFromJson(const Json& j);

// The unsigned answer to `request`, from its addressee back to its sender.
LinkMessage AnswerTo(const LinkMessage& request, Json body, int64_t sequence, std::string sent);

// Test hook for the link's crash tests (test/system/link_system_test.cc): when
// $JCMREG_LINK_CRASH_AT names `point`, the process kills itself with SIGKILL there, as kill -9
// would at that moment. Points: "sender_before_send", "sender_after_answer" (the answer received,
// not yet journaled), "receiver_before_commit", "receiver_after_commit" (journaled, not yet
// answered). Unset in production: one getenv per step.
void LinkCrashPoint(const char* point);

void AddLinkCommands(HandlerTable& table);

}  // namespace registry::service
