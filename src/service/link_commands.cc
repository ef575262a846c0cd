// The registry link's messages and commands; see service/link.h and docs/link.md.
#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <map>
#include <set>

#include "core/limits.h"
#include "core/text.h"
#include "service/article6_hooks.h"
#include "service/json_text.h"
#include "service/ledger_write.h"
#include "service/link.h"

namespace registry::service {
namespace {

Unexpected<Failure> Refuse(Check check, std::string message) {
  return Fail(Failure::Refused(check, std::move(message)));
}

bool IsPeerId(const std::string& id) {
  return !id.empty() && id.size() <= 32 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

// "http://HOST:PORT" with no path, user or query: where the peer's /v1/link/messages is.
bool IsPeerUrl(const std::string& url) {
  constexpr std::string_view kScheme = "http://";
  if (url.size() > 200 || url.compare(0, kScheme.size(), kScheme) != 0) return false;
  const std::string rest = url.substr(kScheme.size());
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size()) return false;
  for (size_t i = 0; i < colon; ++i) {
    const char c = rest[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-') return false;
  }
  for (size_t i = colon + 1; i < rest.size(); ++i) {
    if (rest[i] < '0' || rest[i] > '9') return false;
  }
  return rest.size() - colon - 1 <= 5 && std::stol(rest.substr(colon + 1)) <= 65535;
}

Peer PeerFromJson(const Json& j) {
  Peer p;
  p.id = j.at("id").get<std::string>();
  p.url = j.at("url").get<std::string>();
  const bool ok = journal::FromHex(j.at("public_key").get<std::string>(), p.public_key.data(),
                                   p.public_key.size());
  REGISTRY_ASSERT(ok);  // Checked by peer.set.
  p.registries = j.at("registries").get<std::vector<std::string>>();
  return p;
}

CommandResult<Peer> LoadPeer(Transaction& tx, const std::string& id) {
  ASSIGN_OR_RETURN(const auto doc, LoadJson(tx, kPeerKind, id));
  if (!doc) return Refuse(Check::kLinkUnknownPeer, "no peer '" + id + "' is configured");
  return PeerFromJson(*doc);
}

// ---- peer.set -----------------------------------------------------------------------------------

// peer.set {id, url, public_key, registries}: believes the installation `id` for `registries`.
// Each registry new to this installation gets its registry document (marked as the peer's) and a
// mirror account: a blocked account that holds, in this registry's books, what was sent there.
// A registry once a peer's stays its: the history of the units sent there refers to it.
CommandResult<Json> SetPeer(Transaction& tx, const Json& args, const Context& ctx) {
  ASSIGN_OR_RETURN(const std::string id, TextArg(args, "id", 32));
  ASSIGN_OR_RETURN(const std::string url, TextArg(args, "url", 200));
  ASSIGN_OR_RETURN(const std::string key_hex, TextArg(args, "public_key", 64));
  if (!IsPeerId(id)) {
    return Refuse(Check::kFieldInvalid, "peer id '" + id + "' must be 1-32 of a-z, 0-9 and '-'");
  }
  if (!IsPeerUrl(url)) {
    return Refuse(Check::kFieldInvalid, "url '" + url + "' must be http://HOST:PORT");
  }
  journal::PublicKey key{};
  if (key_hex.size() != 64 || !journal::FromHex(key_hex, key.data(), key.size())) {
    return Refuse(Check::kFieldInvalid,
                  "public_key must be the peer's Ed25519 public key as 64 hex digits");
  }
  const auto list = args.find("registries");
  if (list == args.end()) return Refuse(Check::kFieldMissing, "field 'registries' is required");
  if (!list->is_array() || list->empty() || list->size() > 16) {
    return Refuse(Check::kFieldInvalid, "field 'registries' must list 1 to 16 registry codes");
  }
  std::vector<std::string> registries;
  for (const Json& r : *list) {
    const auto code = r.is_string() ? ParseRegistryCode(r.get<std::string>()) : std::nullopt;
    if (!code) {
      return Refuse(Check::kFieldInvalid,
                    "registries: '" + DumpJsonLossy(r) + "' is not a registry code like JPN01");
    }
    if (std::find(registries.begin(), registries.end(), code->value) != registries.end()) {
      return Refuse(Check::kFieldInvalid, "registries: " + code->value + " is listed twice");
    }
    registries.push_back(code->value);
  }
  ASSIGN_OR_RETURN(const auto before, LoadJson(tx, kPeerKind, id));
  if (before) {
    for (const std::string& r : before->at("registries").get<std::vector<std::string>>()) {
      if (std::find(registries.begin(), registries.end(), r) == registries.end()) {
        return Refuse(Check::kFieldInvalid,
                      "registries: " + r + " is peer " + id + "'s and stays so; list it again");
      }
    }
  }
  Json mirrors = Json::object();
  for (const std::string& r : registries) {
    ASSIGN_OR_RETURN(const auto doc, LoadJson(tx, "registry", r));
    if (doc) {
      if (doc->value("peer", "") != id) {
        return Refuse(
            Check::kAlreadyExists,
            "registry " + r + " is " +
                (doc->contains("peer") ? "peer " + doc->at("peer").get<std::string>() + "'s"
                                       : std::string("hosted here")));
      }
      mirrors[r] = doc->at("mirror_account");
      continue;
    }
    const PartyCode party = PartyOfRegistry(RegistryCode{r});
    ASSIGN_OR_RETURN(const auto party_doc, Lift(tx.GetDocument("party", party.value)));
    if (!party_doc) return Refuse(Check::kUnknownParty, "Party " + party.value + " is unknown");
    Account mirror{AccountId{},
                   RegistryCode{r},
                   AccountType::kGovernmentHolding,
                   AccountStatus::kBlocked,
                   "Sent to " + r + " at peer " + id,
                   EntityId{}};
    ASSIGN_OR_RETURN(const AccountId mirror_id, Lift(tx.InsertAccount(mirror)));
    mirrors[r] = mirror_id.value;
    RETURN_IF_ERROR(PutJson(tx, "registry", r,
                            Json{{"code", r},
                                 {"party", party.value},
                                 {"name", r + " (at peer " + id + ")"},
                                 {"peer", id},
                                 {"mirror_account", mirror_id.value}},
                            ctx));
  }
  const Json body = {{"id", id}, {"url", url}, {"public_key", key_hex}, {"registries", registries}};
  RETURN_IF_ERROR(PutJson(tx, kPeerKind, id, body, ctx));
  Json out = body;
  out["mirror_accounts"] = mirrors;
  return out;
}

// ---- The sender: link.transfer, link.cancel, link.complete, link.release -------------------

CommandResult<Json> LoadOutbox(Transaction& tx) {
  ASSIGN_OR_RETURN(const auto doc, LoadJson(tx, kLinkStateKind, "outbox"));
  return doc ? *doc : Json{{"open", Json::array()}};
}

CommandResult<bool> SetOpen(Transaction& tx, const std::string& transaction, bool open,
                            const Context& ctx) {
  ASSIGN_OR_RETURN(Json outbox, LoadOutbox(tx));
  auto ids = outbox.at("open").get<std::vector<std::string>>();
  ids.erase(std::remove(ids.begin(), ids.end(), transaction), ids.end());
  if (open) ids.push_back(transaction);
  outbox["open"] = ids;
  return PutJson(tx, kLinkStateKind, "outbox", outbox, ctx);
}

// The transit account of `registry` towards `peer`: where units wait, still this registry's,
// while a transfer to the peer is open. Blocked, so that nothing else moves them.
CommandResult<Account> TransitAccount(Transaction& tx, const RegistryCode& registry,
                                      const std::string& peer, const Context& ctx) {
  const std::string key = "transit:" + registry.value + ":" + peer;
  ASSIGN_OR_RETURN(const auto doc, LoadJson(tx, kLinkStateKind, key));
  if (doc) return LoadAccount(tx, AccountId{doc->at("account").get<int64_t>()});
  Account transit{AccountId{},
                  registry,
                  AccountType::kGovernmentHolding,
                  AccountStatus::kBlocked,
                  "In transit to peer " + peer,
                  EntityId{}};
  ASSIGN_OR_RETURN(transit.id, Lift(tx.InsertAccount(transit)));
  RETURN_IF_ERROR(PutJson(tx, kLinkStateKind, key, Json{{"account", transit.id.value}}, ctx));
  return transit;
}

// link.transfer {from, registry, account, quantity | ranges, project?, vintage?}.
CommandResult<Json> LinkTransfer(Transaction& tx, const Json& args, const Context& ctx) {
  ASSIGN_OR_RETURN(const RegistryCode registry, RegistryArg(args, "registry"));
  ASSIGN_OR_RETURN(const int64_t remote_account, IntArg(args, "account"));
  if (remote_account <= 0) {
    return Refuse(Check::kFieldInvalid, "account must be the peer's account number (positive)");
  }
  ASSIGN_OR_RETURN(const auto peer, PeerOfRegistry(tx, registry.value));
  if (!peer) {
    ASSIGN_OR_RETURN(const bool here, HostedHere(tx, registry.value));
    if (here) {
      return Refuse(Check::kFieldInvalid,
                    "registry " + registry.value + " is hosted here: use transfer.international");
    }
    return Refuse(Check::kUnknownRegistry,
                  "registry " + registry.value + " is neither hosted here nor a peer's");
  }
  ASSIGN_OR_RETURN(const auto registry_doc, LoadJson(tx, "registry", registry.value));
  Json move_args = args;
  move_args.erase("registry");
  move_args.erase("account");
  move_args["to"] = registry_doc->at("mirror_account");
  ASSIGN_OR_RETURN(MoveRequest request, ParseMoveRequest(tx, move_args, MovementKind::kTransfer));
  if (request.from.status != AccountStatus::kOpen) {
    return Refuse(Check::kAccountBlocked,
                  "account " + std::to_string(request.from.id.value) + " is not open");
  }
  if (IsTerminal(request.from.type)) {
    return Refuse(Check::kTerminalAccountCannotSend,
                  "nothing leaves a retirement or cancellation account");
  }
  ASSIGN_OR_RETURN(const bool from_here, HostedHere(tx, request.from.registry.value));
  if (!from_here) {
    return Refuse(Check::kFieldInvalid, "account " + std::to_string(request.from.id.value) +
                                            " is not an account of a registry hosted here");
  }
  const PartyCode transferring = PartyOfRegistry(request.from.registry);
  const PartyCode acquiring = PartyOfRegistry(registry);
  if (transferring == acquiring) {
    return Refuse(Check::kFieldInvalid,
                  "an international transfer goes to another Party's registry");
  }
  ASSIGN_OR_RETURN(const std::vector<SelectedPart> parts, SelectParts(tx, request));
  ASSIGN_OR_RETURN(const InternationalParts checked,
                   CheckInternationalParts(tx, request, parts, acquiring));
  if (parts.size() > kLinkUnitsMax) {
    return Refuse(Check::kTooManyItems, "a link transfer moves at most " +
                                            std::to_string(kLinkUnitsMax) + " blocks; this one " +
                                            std::to_string(parts.size()));
  }
  const std::string transaction =
      request.from.registry.value + "-" + std::to_string(ctx.sequence.value);
  Json units = Json::array();
  for (size_t i = 0; i < parts.size(); ++i) {
    ASSIGN_OR_RETURN(const auto lot, Lift(tx.GetLot(parts[i].block.lot)));
    REGISTRY_ASSERT(lot.has_value());
    const bool first_transfer = checked.details[i].at("first_transfer").get<bool>();
    units.push_back(
        Json{{"registry", lot->registry.value},
             {"first", parts[i].moved.first},
             {"last", parts[i].moved.last},
             {"project", lot->project.value},
             {"vintage", lot->vintage.year},
             {"cooperative_approach", lot->cooperative_approach.value},
             {"first_transferring_party", lot->first_transferring_party.value},
             {"itmo", lot->itmo},
             {"authorization_id", lot->authorization_id},
             {"authorization_version", lot->authorization_version},
             {"purposes", lot->purposes},
             {"mitigation_type", lot->mitigation_type},
             {"sector", lot->sector},
             {"activity_type", lot->activity_type},
             {"jc_decision", lot->jc_decision},
             {"monitoring_start", lot->monitoring_start},
             {"monitoring_end", lot->monitoring_end},
             // After this transfer, and whether this transfer is the first one.
             {"first_transferred", parts[i].block.first_transferred || checked.first[i]},
             {"first_transfer", first_transfer}});
  }
  // Phase one: into the transit account, a movement inside this registry (no AEF action).
  ASSIGN_OR_RETURN(const Account transit, TransitAccount(tx, request.from.registry, peer->id, ctx));
  MoveRequest into_transit = request;
  into_transit.to = transit;
  into_transit.destination.account = transit.id;
  ASSIGN_OR_RETURN(Json moved, WriteMovement(tx, into_transit, parts,
                                             std::vector<bool>(parts.size(), false), ctx));
  const Json out = {{"transaction", transaction},
                    {"peer", peer->id},
                    {"state", std::string(ToString(link::SenderState::kProposed))},
                    {"from_registry", request.from.registry.value},
                    {"to_registry", registry.value},
                    {"account", remote_account},
                    {"source_account", request.from.id.value},
                    {"transit_account", transit.id.value},
                    {"mirror_account", request.to.id.value},
                    {"transferring_party", transferring.value},
                    {"acquiring_party", acquiring.value},
                    {"created", ctx.time},
                    {"quantity", moved.value("quantity", int64_t{0})},
                    {"parts", checked.details},
                    {"units", units}};
  RETURN_IF_ERROR(PutJson(tx, kLinkOutKind, transaction, out, ctx));
  RETURN_IF_ERROR(SetOpen(tx, transaction, true, ctx));
  return out;
}

CommandResult<Json> LoadOpenOut(Transaction& tx, const Json& args, link::SenderState& state) {
  ASSIGN_OR_RETURN(const std::string transaction, TextArg(args, "transaction", 32));
  ASSIGN_OR_RETURN(const auto doc, LoadJson(tx, kLinkOutKind, transaction));
  if (!doc)
    return Refuse(Check::kNotFound, "no link transfer " + transaction + " was sent from here");
  state = *link::ParseSenderState(doc->at("state").get<std::string>());
  if (!link::IsOpen(state)) {
    return Refuse(Check::kLinkTransactionState,
                  "link transfer " + transaction + " is " + std::string(ToString(state)));
  }
  return *doc;
}

// link.cancel {transaction}: the sender asks the receiver to terminate an open transfer (its
// time-out, or an operator). Only the receiver's answer ends it.
CommandResult<Json> LinkCancel(Transaction& tx, const Json& args, const Context& ctx) {
  link::SenderState state{};
  ASSIGN_OR_RETURN(Json doc, LoadOpenOut(tx, args, state));
  if (state == link::SenderState::kTerminating) {
    return Refuse(
        Check::kLinkTransactionState,
        "link transfer " + doc.at("transaction").get<std::string>() + " is already terminating");
  }
  doc["state"] = std::string(ToString(link::SenderState::kTerminating));
  doc["terminating_since"] = ctx.time;
  RETURN_IF_ERROR(PutJson(tx, kLinkOutKind, doc.at("transaction").get<std::string>(), doc, ctx));
  return Json{{"transaction", doc.at("transaction")}, {"state", doc.at("state")}};
}

// The receiver's signed answer to an open transfer of ours: checked against its peer's key, the
// transaction and the addressee. Returns the outcome.
CommandResult<link::Outcome> CheckAnswer(Transaction& tx, const Json& doc, const Json& args) {
  const auto it = args.find("answer");
  if (it == args.end()) return Refuse(Check::kFieldMissing, "field 'answer' is required");
  auto parsed = ParseLinkMessage(*it);
  if (!parsed) return Fail(Failure::Of(parsed.error()));
  const LinkMessage& answer = *parsed;
  ASSIGN_OR_RETURN(const Peer peer, LoadPeer(tx, doc.at("peer").get<std::string>()));
  if (answer.type != "answer" || answer.transaction != doc.at("transaction") ||
      answer.from != doc.at("to_registry") || answer.to != doc.at("from_registry")) {
    return Refuse(Check::kLinkMisdirected,
                  "the answer is not " + doc.at("to_registry").get<std::string>() +
                      "'s answer to " + doc.at("transaction").get<std::string>());
  }
  if (!VerifyLinkMessage(answer, peer.public_key)) {
    return Refuse(Check::kLinkSignatureInvalid,
                  "the answer is not signed by peer " + peer.id + "'s key");
  }
  const auto outcome = link::ParseOutcome(answer.body.value("outcome", ""));
  if (!outcome) return Refuse(Check::kFieldInvalid, "the answer's outcome is unknown");
  return *outcome;
}

// Moves the open transfer's units out of the transit account to `to`.
CommandResult<Json> MoveOutOfTransit(Transaction& tx, const Json& doc, AccountId to_id,
                                     const Context& ctx, bool international) {
  MoveRequest request;
  request.kind = MovementKind::kTransfer;
  ASSIGN_OR_RETURN(request.from,
                   LoadAccount(tx, AccountId{doc.at("transit_account").get<int64_t>()}));
  ASSIGN_OR_RETURN(request.to, LoadAccount(tx, to_id));
  request.destination.account = to_id;
  // One range per unit; units of different registries do not share a transit account's lot.
  std::map<std::pair<int64_t, int64_t>, bool> first_of;
  for (const Json& u : doc.at("units")) {
    const SerialRange r{u.at("first").get<int64_t>(), u.at("last").get<int64_t>()};
    request.ranges.push_back(r);
    first_of[{r.first, r.last}] = international && u.at("first_transferred").get<bool>();
  }
  ASSIGN_OR_RETURN(const std::vector<SelectedPart> parts, SelectParts(tx, request));
  std::vector<bool> first;
  for (const SelectedPart& p : parts) {
    bool f = false;
    for (const auto& [range, value] : first_of) {
      if (range.first <= p.moved.first && p.moved.last <= range.second) f = value;
    }
    first.push_back(f && !p.block.first_transferred);
  }
  return WriteMovement(tx, request, parts, first, ctx);
}

// Ends an open transfer on the receiver's signed answer: `target` completed (the units from
// transit to the mirror account: the international transfer in this registry's books) or
// released (back to the source account). Returns the closed record and the movement.
CommandResult<std::pair<Json, Json>> EndTransfer(Transaction& tx, const Json& args,
                                                 const Context& ctx, link::SenderState target) {
  link::SenderState state{};
  ASSIGN_OR_RETURN(Json doc, LoadOpenOut(tx, args, state));
  ASSIGN_OR_RETURN(const link::Outcome outcome, CheckAnswer(tx, doc, args));
  const bool complete = target == link::SenderState::kCompleted;
  if (link::AfterAnswer(state, outcome) != target) {
    return Refuse(Check::kLinkTransactionState, "the answer is " + std::string(ToString(outcome)) +
                                                    (complete ? ": use link.release"
                                                     : outcome == link::Outcome::kAccepted
                                                         ? ": use link.complete"
                                                         : ": the transfer was never terminated"));
  }
  const char* to = complete ? "mirror_account" : "source_account";
  ASSIGN_OR_RETURN(Json moved,
                   MoveOutOfTransit(tx, doc, AccountId{doc.at(to).get<int64_t>()}, ctx, complete));
  const std::string transaction = doc.at("transaction").get<std::string>();
  doc["state"] = std::string(ToString(target));
  doc["ended"] = ctx.time;
  const Json& body = args.at("answer").at("body");
  doc["outcome"] = std::string(ToString(outcome));
  for (const char* field : {"check", "message"}) {
    if (body.contains(field)) doc[field] = body.at(field);
  }
  RETURN_IF_ERROR(PutJson(tx, kLinkOutKind, transaction, doc, ctx));
  RETURN_IF_ERROR(SetOpen(tx, transaction, false, ctx));
  return std::pair{std::move(doc), std::move(moved)};
}

// link.complete {transaction, answer}: the receiver accepted; the international transfer.
CommandResult<Json> LinkComplete(Transaction& tx, const Json& args, const Context& ctx) {
  ASSIGN_OR_RETURN(const auto ended, EndTransfer(tx, args, ctx, link::SenderState::kCompleted));
  const auto& [doc, moved] = ended;
  // What the AEF maps (article6_aef.cc), as transfer.international gives it.
  return Json{{"transaction", doc.at("transaction")},
              {"state", doc.at("state")},
              {"transferring_party", doc.at("transferring_party")},
              {"acquiring_party", doc.at("acquiring_party")},
              {"quantity", moved.value("quantity", int64_t{0})},
              {"parts", doc.at("parts")}};
}

// link.release {transaction, answer}: the receiver rejected or terminated; the units go back.
CommandResult<Json> LinkRelease(Transaction& tx, const Json& args, const Context& ctx) {
  ASSIGN_OR_RETURN(const auto ended, EndTransfer(tx, args, ctx, link::SenderState::kReleased));
  const auto& [doc, moved] = ended;
  return Json{{"transaction", doc.at("transaction")},
              {"state", doc.at("state")},
              {"outcome", doc.at("outcome")},
              {"quantity", moved.value("quantity", int64_t{0})}};
}

// ---- The receiver: link.receive ------------------------------------------------------------

// The units of a transfer message, checked against this registry: each a known project whose
// first transferring Party's authorization this registry has on file with the same id, not
// revoked, naming the acquiring Party; none overlapping a lot this registry already has. A refusal
// rejects the transfer (journaled, answered with its check); nothing is written before all hold.
// The parts of the mirror account of the sender's registry that hold every serial of `lot`
// (offered again by the registry they were sent to), or none when it does not hold them all or
// the offered attributes are not those of the lot `known` they belong to.
CommandResult<std::vector<SelectedPart>> ReturningParts(Transaction& tx, const LinkMessage& m,
                                                        const IssuanceLot& lot,
                                                        const IssuanceLot& known) {
  if (known.project != lot.project || known.vintage.year != lot.vintage.year ||
      known.authorization_id != lot.authorization_id ||
      !(known.range.first <= lot.range.first && lot.range.last <= known.range.last)) {
    return std::vector<SelectedPart>{};
  }
  ASSIGN_OR_RETURN(const auto doc, LoadJson(tx, "registry", m.from));
  if (!doc || !doc->contains("mirror_account")) return std::vector<SelectedPart>{};
  const AccountId mirror{doc->at("mirror_account").get<int64_t>()};
  ASSIGN_OR_RETURN(auto candidates,
                   Lift(tx.LiveBlocksOverlapping(mirror, lot.registry, lot.range)));
  auto parts = SelectRanges({lot.range}, candidates);
  if (!parts) return std::vector<SelectedPart>{};
  return std::move(parts).value();
}

// Units that left this registry for the sender's and now come back are not new: the mirror
// account of the sender's registry holds them, and they move back out of it (`returns`: per unit,
// the parts of the mirror's blocks; empty for a unit new here).
CommandResult<std::vector<IssuanceLot>> CheckOfferedUnits(
    Transaction& tx, const LinkMessage& m, std::vector<bool>& first_transferred,
    const Account& account, std::vector<std::vector<SelectedPart>>& returns) {
  const auto it = m.body.find("units");
  if (it == m.body.end() || !it->is_array() || it->empty() || it->size() > kLinkUnitsMax) {
    return Refuse(Check::kFieldInvalid,
                  "body.units must list 1 to " + std::to_string(kLinkUnitsMax) + " units");
  }
  ASSIGN_OR_RETURN(const std::vector<IssuanceLot> known, Lift(tx.ListLots()));
  const PartyCode acquiring = PartyOfRegistry(account.registry);
  std::vector<IssuanceLot> lots;
  for (const Json& u : *it) {
    IssuanceLot lot;
    try {
      const auto registry = ParseRegistryCode(u.at("registry").get<std::string>());
      const auto project = ParseActivityRef(u.at("project").get<std::string>());
      const auto party = ParsePartyCode(u.at("first_transferring_party").get<std::string>());
      lot.range = SerialRange{u.at("first").get<int64_t>(), u.at("last").get<int64_t>()};
      if (!registry || !project || !party || lot.range.first < 1 ||
          lot.range.last < lot.range.first) {
        return Refuse(Check::kFieldInvalid,
                      "a unit's registry, project, Party or serials are malformed");
      }
      lot.registry = *registry;
      lot.project = *project;
      lot.first_transferring_party = *party;
      lot.vintage = Vintage{u.at("vintage").get<int32_t>()};
      lot.cooperative_approach = CaId{u.at("cooperative_approach").get<std::string>()};
      lot.itmo = u.at("itmo").get<bool>();
      lot.authorization_id = u.at("authorization_id").get<std::string>();
      lot.authorization_version = u.at("authorization_version").get<int32_t>();
      lot.purposes = u.at("purposes").get<std::string>();
      lot.mitigation_type = u.at("mitigation_type").get<std::string>();
      lot.sector = u.at("sector").get<std::string>();
      lot.activity_type = u.at("activity_type").get<std::string>();
      lot.jc_decision = u.at("jc_decision").get<std::string>();
      lot.monitoring_start = u.at("monitoring_start").get<std::string>();
      lot.monitoring_end = u.at("monitoring_end").get<std::string>();
      first_transferred.push_back(u.at("first_transferred").get<bool>());
    } catch (const Json::exception& e) {
      return Refuse(Check::kFieldInvalid, std::string("a unit is malformed: ") + e.what());
    }
    // Every text of the unit bounded and printable; the serials within what one issuance may
    // hold; a vintage of the Paris era.
    for (const std::string* text :
         {&lot.cooperative_approach.value, &lot.authorization_id, &lot.purposes,
          &lot.mitigation_type, &lot.sector, &lot.activity_type, &lot.jc_decision,
          &lot.monitoring_start, &lot.monitoring_end}) {
      if (text->size() > 256)
        return Refuse(Check::kFieldInvalid, "a unit's text is over 256 bytes");
      if (auto problem = TextProblem(*text)) {
        return Refuse(Check::kInvalidText, "a unit's text: " + *problem);
      }
    }
    if (lot.range.last - lot.range.first >= kIssuanceQuantityMax || lot.vintage.year < 2000 ||
        lot.vintage.year > 2100) {
      return Refuse(Check::kFieldInvalid, "units " + FormatSerialRange(lot.range) + " of vintage " +
                                              std::to_string(lot.vintage.year) +
                                              " are out of range");
    }
    if (!lot.itmo) {
      return Refuse(Check::kNotAuthorized, "units " + FormatSerialRange(lot.range) + " of " +
                                               lot.registry.value +
                                               " are not ITMOs: only ITMOs cross registries");
    }
    ASSIGN_OR_RETURN(const auto project, Lift(tx.GetDocument("project", lot.project.value)));
    if (!project) {
      return Refuse(Check::kUnknownProject,
                    "project " + lot.project.value + " is not on file here");
    }
    ASSIGN_OR_RETURN(const auto auth,
                     LoadAuthorization(tx, lot.first_transferring_party, lot.project));
    // The same authorization by id. Its version may differ: the host's registry records Step 2b
    // (what it issued) as a new version, which the acquirer's copy need not have yet.
    if (!auth || auth->authorization_id != lot.authorization_id) {
      return Refuse(Check::kLinkAttributesMismatch,
                    lot.first_transferring_party.value + "'s authorization " +
                        lot.authorization_id + " of " + lot.project.value + " is not on file here" +
                        (auth ? " (here: " + auth->authorization_id + ")" : std::string()));
    }
    if (auth->revoked) {
      return Refuse(Check::kAuthorizationRevoked, lot.first_transferring_party.value +
                                                      "'s authorization " + lot.authorization_id +
                                                      " of " + lot.project.value + " is revoked");
    }
    if (std::find(auth->acquiring_parties.begin(), auth->acquiring_parties.end(), acquiring) ==
            auth->acquiring_parties.end() &&
        !auth->acquiring_parties.empty()) {
      return Refuse(Check::kNotAuthorized, lot.first_transferring_party.value +
                                               "'s authorization " + auth->authorization_id +
                                               " does not name " + acquiring.value +
                                               " as an acquiring Party");
    }
    std::vector<SelectedPart> back;
    for (const IssuanceLot& k : known) {
      if (k.registry != lot.registry || k.range.first > lot.range.last ||
          lot.range.first > k.range.last) {
        continue;
      }
      ASSIGN_OR_RETURN(back, ReturningParts(tx, m, lot, k));
      if (back.empty()) {
        return Refuse(Check::kLinkUnitsAlreadyKnown,
                      "serials " + FormatSerialRange(lot.range) + " of " + lot.registry.value +
                          " overlap lot " + std::to_string(k.id.value) + " (" +
                          FormatSerialRange(k.range) + ") already recorded here");
      }
      break;
    }
    returns.push_back(std::move(back));
    for (const IssuanceLot& l : lots) {
      if (l.registry == lot.registry && l.range.first <= lot.range.last &&
          lot.range.first <= l.range.last) {
        return Refuse(Check::kLinkUnitsAlreadyKnown,
                      "the message offers serials " + FormatSerialRange(lot.range) + " twice");
      }
    }
    lots.push_back(std::move(lot));
  }
  return lots;
}

CommandResult<Account> AcquiringAccount(Transaction& tx, const LinkMessage& m) {
  const auto it = m.body.find("account");
  if (it == m.body.end() || !IsInt64(*it) || it->get<int64_t>() <= 0) {
    return Refuse(Check::kFieldInvalid, "body.account must be an account number");
  }
  ASSIGN_OR_RETURN(const Account account, LoadAccount(tx, AccountId{it->get<int64_t>()}));
  if (account.registry.value != m.to) {
    return Refuse(Check::kLinkMisdirected, "account " + std::to_string(account.id.value) +
                                               " is in " + account.registry.value + ", not " +
                                               m.to);
  }
  if (account.status != AccountStatus::kOpen) {
    return Refuse(Check::kAccountBlocked,
                  "account " + std::to_string(account.id.value) + " is not open");
  }
  if (IsTerminal(account.type)) {
    return Refuse(Check::kWrongDestinationType,
                  "an international transfer goes to a holding account");
  }
  return account;
}

// Decides a transfer message: accepted (lots and blocks written, or units back out of the
// mirror account) or a refusal (nothing written).
CommandResult<Json> Acquire(Transaction& tx, const LinkMessage& m, const Context& ctx) {
  ASSIGN_OR_RETURN(const Account account, AcquiringAccount(tx, m));
  std::vector<bool> first_transferred;
  std::vector<std::vector<SelectedPart>> returns;
  ASSIGN_OR_RETURN(std::vector<IssuanceLot> lots,
                   CheckOfferedUnits(tx, m, first_transferred, account, returns));
  Json parts = Json::array();
  Json units = Json::array();
  int64_t quantity = 0;
  const Json& offered = m.body.at("units");
  std::vector<SelectedPart> back;
  Json new_lots = Json::array();  // Lots created here: the rest came back out of the mirror.
  for (size_t i = 0; i < lots.size(); ++i) {
    IssuanceLot& lot = lots[i];
    units.push_back(Json{
        {"registry", lot.registry.value}, {"first", lot.range.first}, {"last", lot.range.last}});
    quantity += lot.range.Count().tonnes;
    if (!returns[i].empty()) {
      for (SelectedPart& p : returns[i]) {
        parts.push_back(Json{{"lot", p.block.lot.value},
                             {"first", p.moved.first},
                             {"last", p.moved.last},
                             {"quantity", p.moved.Count().tonnes},
                             {"first_transfer", false}});
        back.push_back(std::move(p));
      }
      continue;
    }
    lot.created = ctx.sequence;
    ASSIGN_OR_RETURN(lot.id, Lift(tx.InsertLot(lot)));
    new_lots.push_back(lot.id.value);
    Block block;
    block.lot = lot.id;
    block.range = lot.range;
    block.account = account.id;
    block.first_transferred = first_transferred[i];
    block.created = ctx.sequence;
    ASSIGN_OR_RETURN(block.id, Lift(tx.InsertBlock(block)));
    parts.push_back(Json{{"lot", lot.id.value},
                         {"first", lot.range.first},
                         {"last", lot.range.last},
                         {"quantity", lot.range.Count().tonnes},
                         {"first_transfer", offered[i].value("first_transfer", false)}});
  }
  if (!back.empty()) {
    // Back from the mirror account of the sender's registry: a movement between registries in
    // this registry's books (the peer's transfer, this Party's acquisition).
    ASSIGN_OR_RETURN(const auto doc, LoadJson(tx, "registry", m.from));
    MoveRequest request;
    request.kind = MovementKind::kTransfer;
    ASSIGN_OR_RETURN(request.from,
                     LoadAccount(tx, AccountId{doc->at("mirror_account").get<int64_t>()}));
    request.to = account;
    request.destination.account = account.id;
    RETURN_IF_ERROR(WriteMovement(tx, request, back, std::vector<bool>(back.size(), false), ctx));
  }
  return Json{{"account", account.id.value},
              {"quantity", quantity},
              {"parts", parts},
              {"units", units},
              {"lots", new_lots}};
}

// link.receive {message}: a signed transfer or terminate message of a peer. Its answer is stored
// and given again to every later message of the same transaction (idempotent).
CommandResult<Json> LinkReceive(Transaction& tx, const Json& args, const Context& ctx) {
  const auto it = args.find("message");
  if (it == args.end()) return Refuse(Check::kFieldMissing, "field 'message' is required");
  auto parsed = ParseLinkMessage(*it);
  if (!parsed) return Fail(Failure::Of(parsed.error()));
  const LinkMessage& m = *parsed;
  if (m.type != "transfer" && m.type != "terminate") {
    return Refuse(Check::kFieldInvalid, "link.receive takes transfer and terminate messages");
  }
  ASSIGN_OR_RETURN(const Peer peer, CheckIncoming(tx, m));
  RETURN_IF_ERROR(PutJson(tx, kLinkStateKind, "seq:" + peer.id, Json{{"last", m.sequence}}, ctx));
  ASSIGN_OR_RETURN(const auto stored, StoredAnswer(tx, m.transaction));
  if (stored) return Json{{"answer", *stored}, {"transaction", m.transaction}, {"again", true}};
  Json record = {{"transaction", m.transaction}, {"peer", peer.id},      {"from_registry", m.from},
                 {"to_registry", m.to},          {"received", ctx.time}, {"sequence", m.sequence}};
  Json answer;
  Json out = {{"transaction", m.transaction}};
  if (m.type == "terminate") {
    answer = {{"outcome", std::string(ToString(link::Outcome::kTerminated))}};
  } else {
    // Acquire checks everything before it writes: a refusal leaves nothing to undo.
    auto acquired = Acquire(tx, m, ctx);
    if (!acquired && acquired.error().error) return Fail(std::move(acquired).error());
    if (acquired) {
      answer = {{"outcome", std::string(ToString(link::Outcome::kAccepted))}};
      record["account"] = acquired->at("account");
      record["units"] = acquired->at("units");
      record["lots"] = acquired->at("lots");
      out["transferring_party"] = PartyOfRegistry(RegistryCode{m.from}).value;
      out["acquiring_party"] = PartyOfRegistry(RegistryCode{m.to}).value;
      out["quantity"] = acquired->at("quantity");
      out["parts"] = acquired->at("parts");
    } else {
      const Refusal& refusal = *acquired.error().refusal;
      answer = {{"outcome", std::string(ToString(link::Outcome::kRejected))},
                {"check", CodeOf(refusal.check)},
                {"check_name", std::string(InfoOf(refusal.check).name)},
                {"message", refusal.message}};
    }
  }
  record["state"] = answer.at("outcome");
  record["answer"] = answer;
  RETURN_IF_ERROR(PutJson(tx, kLinkInKind, m.transaction, record, ctx));
  out["answer"] = answer;
  return out;
}

}  // namespace

// ---- Messages -----------------------------------------------------------------------------------

Result<LinkMessage, Refusal> ParseLinkMessage(const Json& j) {
  auto bad = [](std::string what) {
    return Fail(Refusal{Check::kMalformedRequest, "link message: " + std::move(what)});
  };
  if (!j.is_object()) return bad("not a JSON object");
  static const std::set<std::string> kFields = {
      "protocol", "type", "from", "to", "transaction", "sequence", "sent", "body", "signature"};
  for (const auto& [k, v] : j.items()) {
    if (!kFields.count(k))
      return Fail(Refusal{Check::kUnknownField, "link message: unknown field '" + k + "'"});
  }
  for (const std::string& k : kFields) {
    if (!j.contains(k))
      return Fail(Refusal{Check::kFieldMissing, "link message: field '" + k + "' is required"});
  }
  if (j["protocol"] != kLinkProtocol) return bad("protocol must be " + std::string(kLinkProtocol));
  LinkMessage m;
  for (auto [name, field] : {std::pair{"type", &m.type}, std::pair{"from", &m.from},
                             std::pair{"to", &m.to}, std::pair{"transaction", &m.transaction},
                             std::pair{"sent", &m.sent}, std::pair{"signature", &m.signature}}) {
    if (!j[name].is_string() || j[name].get_ref<const std::string&>().size() > 200) {
      return bad(std::string("field '") + name + "' must be a short string");
    }
    *field = j[name].get<std::string>();
  }
  static const std::set<std::string> kTypes = {"transfer", "terminate", "answer", "reconcile",
                                               "statement"};
  if (!kTypes.count(m.type)) return bad("type '" + m.type + "' is unknown");
  if (!ParseRegistryCode(m.from) || !ParseRegistryCode(m.to)) {
    return bad("from and to must be registry codes");
  }
  // A reconcile message, and the answer to one, name no transaction.
  if (m.transaction.empty() ? m.type != "reconcile" && m.type != "answer" && m.type != "statement"
                            : !link::IsTransactionId(m.transaction)) {
    return bad("transaction '" + m.transaction + "' is not REGISTRY-SEQUENCE");
  }
  if (!IsInt64(j["sequence"]) || j["sequence"].get<int64_t>() <= 0) {
    return bad("sequence must be a positive integer");
  }
  m.sequence = j["sequence"].get<int64_t>();
  if (!j["body"].is_object()) return bad("body must be an object");
  m.body = j["body"];
  if (m.signature.size() != 128) return bad("signature must be 128 hex digits");
  return m;
}

Json LinkMessageJson(const LinkMessage& m) {
  return Json{
      {"protocol", kLinkProtocol},    {"type", m.type},         {"from", m.from}, {"to", m.to},
      {"transaction", m.transaction}, {"sequence", m.sequence}, {"sent", m.sent}, {"body", m.body},
      {"signature", m.signature}};
}

std::string LinkSigningText(const LinkMessage& m) {
  Json unsigned_message = LinkMessageJson(m);
  unsigned_message.erase("signature");
  return std::string(kLinkProtocol) + "\n" + DumpJson(unsigned_message);
}

void SignLinkMessage(LinkMessage& m, const journal::SigningKey& key) {
  const Signature s = journal::Sign(key, journal::Digest(LinkSigningText(m)));
  m.signature = journal::ToHex(s);
}

bool VerifyLinkMessage(const LinkMessage& m, const journal::PublicKey& key) {
  Signature s{};
  if (m.signature.size() != 2 * s.size() || !journal::FromHex(m.signature, s.data(), s.size())) {
    return false;
  }
  return journal::VerifySignature(key, journal::Digest(LinkSigningText(m)), s);
}

// ---- Peers and views ----------------------------------------------------------------------------

CommandResult<std::optional<Peer>> PeerOfRegistry(Transaction& tx, const std::string& registry) {
  ASSIGN_OR_RETURN(const auto doc, LoadJson(tx, "registry", registry));
  if (!doc || !doc->contains("peer")) return std::optional<Peer>();
  ASSIGN_OR_RETURN(Peer peer, LoadPeer(tx, doc->at("peer").get<std::string>()));
  return std::optional<Peer>(std::move(peer));
}

CommandResult<std::vector<Peer>> ListPeers(Transaction& tx) {
  ASSIGN_OR_RETURN(const auto docs, Lift(tx.ListDocuments(kPeerKind, "", SIZE_MAX)));
  std::vector<Peer> out;
  for (const Document& d : docs) out.push_back(PeerFromJson(Json::parse(d.body)));
  return out;
}

CommandResult<bool> HostedHere(Transaction& tx, const std::string& registry) {
  ASSIGN_OR_RETURN(const auto doc, LoadJson(tx, "registry", registry));
  return doc.has_value() && !doc->contains("peer");
}

CommandResult<Peer> CheckIncoming(Transaction& tx, const LinkMessage& m, bool check_sequence) {
  ASSIGN_OR_RETURN(const auto peer, PeerOfRegistry(tx, m.from));
  if (!peer) {
    return Refuse(Check::kLinkUnknownPeer,
                  "registry " + m.from + " is not hosted by any configured peer");
  }
  if (!VerifyLinkMessage(m, peer->public_key)) {
    return Refuse(Check::kLinkSignatureInvalid,
                  "the message is not signed by peer " + peer->id + "'s key");
  }
  ASSIGN_OR_RETURN(const bool here, HostedHere(tx, m.to));
  if (!here) {
    return Refuse(Check::kLinkMisdirected, "registry " + m.to + " is not hosted here");
  }
  if (!check_sequence) return *peer;
  ASSIGN_OR_RETURN(const auto seq, LoadJson(tx, kLinkStateKind, "seq:" + peer->id));
  const int64_t last = seq ? seq->at("last").get<int64_t>() : 0;
  if (m.sequence <= last) {
    return Refuse(Check::kLinkReplayed, "sequence " + std::to_string(m.sequence) +
                                            " is not above " + std::to_string(last) +
                                            ", the last taken from peer " + peer->id);
  }
  return *peer;
}

CommandResult<std::optional<Json>> StoredAnswer(Transaction& tx, const std::string& transaction) {
  ASSIGN_OR_RETURN(const auto doc, LoadJson(tx, kLinkInKind, transaction));
  if (!doc) return std::optional<Json>();
  return std::optional<Json>(doc->at("answer"));
}

namespace {

std::vector<link::LinkUnits> UnitsOf(const Json& doc) {
  std::vector<link::LinkUnits> out;
  for (const Json& u : doc.value("units", Json::array())) {
    out.push_back(
        link::LinkUnits{u.at("registry").get<std::string>(),
                        SerialRange{u.at("first").get<int64_t>(), u.at("last").get<int64_t>()}});
  }
  return out;
}

}  // namespace

CommandResult<std::set<int64_t>> LinkedInLots(Transaction& tx) {
  ASSIGN_OR_RETURN(const auto docs, Lift(tx.ListDocuments(kLinkInKind, "", SIZE_MAX)));
  std::set<int64_t> out;
  for (const Document& d : docs) {
    const Json doc = Json::parse(d.body);
    for (const Json& id : doc.value("lots", Json::array())) out.insert(id.get<int64_t>());
  }
  return out;
}

CommandResult<std::vector<link::TransferView>> LinkViews(Transaction& tx, const std::string& peer) {
  std::vector<link::TransferView> out;
  for (const auto& [kind, outgoing] :
       {std::pair{kLinkOutKind, true}, std::pair{kLinkInKind, false}}) {
    ASSIGN_OR_RETURN(const auto docs, Lift(tx.ListDocuments(kind, "", SIZE_MAX)));
    for (const Document& d : docs) {
      const Json doc = Json::parse(d.body);
      if (doc.at("peer") != peer) continue;
      out.push_back(link::TransferView{doc.at("transaction").get<std::string>(), outgoing,
                                       doc.at("state").get<std::string>(), UnitsOf(doc)});
    }
  }
  return out;
}

CommandResult<Json> LinkTransfersJson(Transaction& tx) {
  Json out = {{"outgoing", Json::array()}, {"incoming", Json::array()}};
  for (const auto& [kind, list] :
       {std::pair{kLinkOutKind, "outgoing"}, std::pair{kLinkInKind, "incoming"}}) {
    ASSIGN_OR_RETURN(const auto docs, Lift(tx.ListDocuments(kind, "", SIZE_MAX)));
    for (const Document& d : docs) {
      Json doc = Json::parse(d.body);
      doc.erase("parts");
      out[list].push_back(std::move(doc));
    }
  }
  return out;
}

CommandResult<std::vector<OpenTransfer>> OpenTransfers(Transaction& tx) {
  ASSIGN_OR_RETURN(const Json outbox, LoadOutbox(tx));
  std::vector<OpenTransfer> out;
  for (const Json& id : outbox.at("open")) {
    ASSIGN_OR_RETURN(const auto doc, LoadJson(tx, kLinkOutKind, id.get<std::string>()));
    REGISTRY_ASSERT(doc.has_value());
    OpenTransfer t;
    t.transaction = id.get<std::string>();
    t.peer = doc->at("peer").get<std::string>();
    t.state = *link::ParseSenderState(doc->at("state").get<std::string>());
    t.created = doc->at("created").get<std::string>();
    t.message.type = t.state == link::SenderState::kTerminating ? "terminate" : "transfer";
    t.message.from = doc->at("from_registry").get<std::string>();
    t.message.to = doc->at("to_registry").get<std::string>();
    t.message.transaction = t.transaction;
    if (t.message.type == "transfer") {
      t.message.body = {{"account", doc->at("account")},
                        {"quantity", doc->at("quantity")},
                        {"units", doc->at("units")}};
    }
    out.push_back(std::move(t));
  }
  return out;
}

Json MismatchesJson(const std::vector<link::Mismatch>& mismatches) {
  Json out = Json::array();
  for (const link::Mismatch& m : mismatches) {
    out.push_back(Json{{"code", CodeOf(m.check)},
                       {"check", std::string(InfoOf(m.check).name)},
                       {"transaction", m.transaction},
                       {"message", m.message}});
  }
  return out;
}

Json ReconciliationJson(const std::string& peer, const link::Reconciliation& r) {
  return Json{{"peer", peer},
              {"agreed", r.agreed},
              {"in_flight", r.in_flight},
              {"mismatches", MismatchesJson(r.mismatches)}};
}

Json ViewsJson(const std::vector<link::TransferView>& views) {
  Json out = Json::array();
  for (const link::TransferView& v : views) {
    Json units = Json::array();
    for (const link::LinkUnits& u : v.units) {
      units.push_back(
          Json{{"registry", u.registry}, {"first", u.range.first}, {"last", u.range.last}});
    }
    out.push_back(Json{{"transaction", v.transaction},
                       {"outgoing", v.outgoing},
                       {"state", v.state},
                       {"units", units}});
  }
  return out;
}

Result<std::vector<link::TransferView>, std::string> ViewsFromJson(const Json& j) {
  if (!j.is_array() || j.size() > 1000000) return Fail(std::string("transfers must be a list"));
  std::vector<link::TransferView> out;
  try {
    for (const Json& v : j) {
      link::TransferView view{v.at("transaction").get<std::string>(),
                              v.at("outgoing").get<bool>(),
                              v.at("state").get<std::string>(),
                              {}};
      for (const Json& u : v.at("units")) {
        view.units.push_back(link::LinkUnits{
            u.at("registry").get<std::string>(),
            SerialRange{u.at("first").get<int64_t>(), u.at("last").get<int64_t>()}});
      }
      out.push_back(std::move(view));
    }
  } catch (const Json::exception& e) {
    return Fail(std::string("a transfer is malformed: ") + e.what());
  }
  return out;
}

LinkMessage AnswerTo(const LinkMessage& request, Json body, int64_t sequence, std::string sent) {
  LinkMessage answer;
  answer.type = "answer";
  answer.from = request.to;
  answer.to = request.from;
  answer.transaction = request.transaction;
  answer.sequence = sequence;
  answer.sent = std::move(sent);
  body["in_reply_to"] = request.sequence;
  answer.body = std::move(body);
  return answer;
}

int64_t NextLinkSequence() {
  static std::atomic<int64_t> last{0};
  const int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  int64_t seen = last.load();
  int64_t next = std::max(now, seen + 1);
  while (!last.compare_exchange_weak(seen, next)) next = std::max(now, seen + 1);
  return next;
}

void LinkCrashPoint(const char* point) {
  const char* at = std::getenv("JCMREG_LINK_CRASH_AT");
  if (at != nullptr && std::string_view(at) == point) ::raise(SIGKILL);
}

void AddLinkCommands(HandlerTable& table) {
  table.emplace("peer.set", SetPeer);
  table.emplace("link.transfer", LinkTransfer);
  table.emplace("link.cancel", LinkCancel);
  table.emplace("link.complete", LinkComplete);
  table.emplace("link.release", LinkRelease);
  table.emplace("link.receive", LinkReceive);
}

}  // namespace registry::service
