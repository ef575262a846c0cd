#include "link/link_client.h"

#include <httplib.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string_view>

#include "core/utc_time.h"
#include "service/json_text.h"

namespace registry::link {
namespace {

using service::Json;
using service::LinkMessage;

// "http://HOST:PORT" -> (HOST, PORT); peer.set checked the form.
std::pair<std::string, int> HostPort(const std::string& url) {
  const std::string rest = url.substr(std::string("http://").size());
  const size_t colon = rest.rfind(':');
  return {rest.substr(0, colon), std::stoi(rest.substr(colon + 1))};
}

}  // namespace

Result<LinkMessage, std::string> Exchange(const service::Peer& peer, const LinkMessage& message,
                                          std::chrono::milliseconds timeout) {
  const auto [host, port] = HostPort(peer.url);
  httplib::Client client(host, port);
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  client.set_write_timeout(timeout);
  const std::string body = service::DumpJson(service::LinkMessageJson(message));
  const auto res = client.Post("/v1/link/messages", body, "application/json");
  if (!res) {
    return Fail("peer " + peer.id + " (" + peer.url +
                ") did not answer: " + httplib::to_string(res.error()));
  }
  // An answer is bounded like a request, but a reconcile answer lists every transfer between
  // the two: 64 MiB holds some 500,000 of them.
  constexpr size_t kAnswerBytesMax = size_t{64} << 20;
  if (res->body.size() > kAnswerBytesMax) {
    return Fail("peer " + peer.id + " answered " + std::to_string(res->body.size()) +
                " bytes, over " + std::to_string(kAnswerBytesMax));
  }
  // Strictly, as every request is read: UTF-8, no duplicate keys (service/json_text.h).
  auto parsed = service::ParseRequestJson(res->body);
  if (!parsed) {
    return Fail("peer " + peer.id + " answered HTTP " + std::to_string(res->status) +
                " with a body that is not JSON: " + parsed.error().message);
  }
  const Json& j = *parsed;
  if (res->status != 200) {
    return Fail("peer " + peer.id + " answered HTTP " + std::to_string(res->status) + " " +
                j.value("code", "") + " " + j.value("check", "") + ": " + j.value("message", ""));
  }
  auto answer = service::ParseLinkMessage(j);
  if (!answer) return Fail("peer " + peer.id + "'s answer: " + answer.error().message);
  if (answer->type != "answer" || answer->from != message.to || answer->to != message.from ||
      answer->transaction != message.transaction) {
    return Fail("peer " + peer.id + "'s answer is not the answer to this message");
  }
  if (!service::VerifyLinkMessage(*answer, peer.public_key)) {
    return Fail("peer " + peer.id + "'s answer is not signed by its key");
  }
  return std::move(answer).value();
}

// ---- The outbox ---------------------------------------------------------------------------------

Outbox::Outbox(Store& store, journal::SigningKey key, Submit submit, OutboxOptions options)
    : store_(store), key_(key), submit_(std::move(submit)), options_(options) {}

Outbox::~Outbox() { Stop(); }

void Outbox::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { Run(); });
}

void Outbox::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Outbox::Run() {
  for (;;) {
    RunOnce();
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_for(lock, options_.poll, [this] { return stopping_; })) return;
  }
}

void Outbox::Failed(const std::string& transaction, const std::string& why) {
  Retry& r = retry_[transaction];
  r.delay = std::min(options_.retry_max, std::max(options_.retry_min, r.delay * 2));
  r.next = std::chrono::steady_clock::now() + r.delay;
  std::cerr << "{\"link\":\"retry\",\"transaction\":\"" << transaction
            << "\",\"in_ms\":" << r.delay.count()
            << ",\"why\":" << service::DumpJsonLossy(Json(why)) << "}\n";
}

int Outbox::RunOnce() {
  std::vector<service::OpenTransfer> open;
  std::map<std::string, service::Peer> peers;
  {
    auto tx = store_.BeginRead();
    if (!tx) return 0;
    auto listed = service::OpenTransfers(**tx);
    auto known = service::ListPeers(**tx);
    if (!listed || !known) return 0;
    open = std::move(*listed);
    for (service::Peer& p : *known) peers[p.id] = std::move(p);
  }
  int ended = 0;
  const auto now = std::chrono::steady_clock::now();
  const int64_t wall = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  for (service::OpenTransfer& t : open) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) break;
    }
    const auto due = retry_.find(t.transaction);
    if (due != retry_.end() && due->second.next > now) continue;
    const auto peer = peers.find(t.peer);
    if (peer == peers.end()) continue;  // Cannot happen: peer.set never removes a peer.
    // Past its time: ask the receiver to terminate (journaled first, so that a restart goes on
    // asking; only the receiver's answer ends it).
    const auto created = ParseUtcTime(t.created);
    if (t.state == SenderState::kProposed && created &&
        wall - *created >= options_.terminate_after.count()) {
      const service::Response r = submit_(
          service::Request{"link.cancel", Json{{"transaction", t.transaction}}, "link", ""});
      if (!r.ok() &&
          !(r.failure->refusal && r.failure->refusal->check == Check::kLinkTransactionState)) {
        Failed(t.transaction, "link.cancel: " + r.failure->Message());
        continue;
      }
      t.state = SenderState::kTerminating;
      t.message.type = "terminate";
      t.message.body = Json::object();
    }
    service::LinkMessage message = t.message;
    message.sequence = service::NextLinkSequence();
    message.sent = service::SystemClock().Now();
    service::SignLinkMessage(message, key_);
    service::LinkCrashPoint("sender_before_send");
    auto answer = Exchange(peer->second, message, options_.exchange_timeout);
    if (answer) service::LinkCrashPoint("sender_after_answer");
    if (!answer) {
      Failed(t.transaction, answer.error());
      continue;
    }
    const auto outcome = ParseOutcome(answer->body.value("outcome", ""));
    const auto next = outcome ? AfterAnswer(t.state, *outcome) : std::nullopt;
    if (!next) {
      Failed(t.transaction, "answer '" + answer->body.value("outcome", "") + "' does not end a " +
                                std::string(ToString(t.state)) + " transfer");
      continue;
    }
    const std::string command = *next == SenderState::kCompleted ? "link.complete" : "link.release";
    const service::Response r = submit_(service::Request{
        command,
        Json{{"transaction", t.transaction}, {"answer", service::LinkMessageJson(*answer)}},
        "link:" + t.peer, ""});
    if (!r.ok() &&
        !(r.failure->refusal && r.failure->refusal->check == Check::kLinkTransactionState)) {
      Failed(t.transaction, command + ": " + r.failure->Message());
      continue;
    }
    retry_.erase(t.transaction);
    ++ended;
  }
  return ended;
}

// ---- Reconciliation -----------------------------------------------------------------------------

Result<Reconciliation, Refusal> ReconcileWithPeer(Store& store, const journal::SigningKey& key,
                                                  const std::string& peer_id) {
  const auto storage = [](std::string why) {
    return Fail(Refusal{Check::kStorageUnavailable, std::move(why)});
  };
  const auto unreachable = [](std::string why) {
    return Fail(Refusal{Check::kLinkPeerUnreachable, std::move(why)});
  };
  service::Peer peer;
  std::vector<TransferView> ours;
  std::string from;
  {
    auto tx = store.BeginRead();
    if (!tx) return storage(tx.error().message);
    auto peers = service::ListPeers(**tx);
    if (!peers) return storage(peers.error().Message());
    const auto it = std::find_if(peers->begin(), peers->end(),
                                 [&](const service::Peer& p) { return p.id == peer_id; });
    if (it == peers->end()) {
      return Fail(Refusal{Check::kNotFound, "no peer '" + peer_id + "' is configured (peer.set)"});
    }
    peer = *it;
    auto views = service::LinkViews(**tx, peer_id);
    if (!views) return storage(views.error().Message());
    ours = std::move(*views);
    auto registries = (*tx)->ListDocuments("registry", "", SIZE_MAX);
    if (!registries) return storage(registries.error().message);
    for (const Document& d : *registries) {
      if (!Json::parse(d.body).contains("peer")) {
        from = d.key;
        break;
      }
    }
  }
  if (from.empty()) {
    return Fail(Refusal{Check::kUnknownRegistry, "this installation hosts no registry"});
  }
  service::LinkMessage message;
  message.type = "reconcile";
  message.from = from;
  message.to = peer.registries.front();
  message.sequence = service::NextLinkSequence();
  message.sent = service::SystemClock().Now();
  service::SignLinkMessage(message, key);
  auto answer = Exchange(peer, message, std::chrono::milliseconds(30000));
  if (!answer) return unreachable(answer.error());
  auto theirs = service::ViewsFromJson(answer->body.value("transfers", Json()));
  if (!theirs) return unreachable("peer " + peer_id + "'s view: " + theirs.error());
  return Reconcile(ours, *theirs);
}

}  // namespace registry::link
