#include "core/link.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "core/ids.h"

namespace registry::link {

std::string_view ToString(SenderState state) {
  switch (state) {
    case SenderState::kProposed:
      return "proposed";
    case SenderState::kTerminating:
      return "terminating";
    case SenderState::kCompleted:
      return "completed";
    case SenderState::kReleased:
      return "released";
  }
  return "proposed";
}

std::string_view ToString(Outcome outcome) {
  switch (outcome) {
    case Outcome::kAccepted:
      return "accepted";
    case Outcome::kRejected:
      return "rejected";
    case Outcome::kTerminated:
      return "terminated";
  }
  return "rejected";
}

std::optional<SenderState> ParseSenderState(std::string_view text) {
  for (SenderState s : {SenderState::kProposed, SenderState::kTerminating, SenderState::kCompleted,
                        SenderState::kReleased}) {
    if (ToString(s) == text) return s;
  }
  return std::nullopt;
}

std::optional<Outcome> ParseOutcome(std::string_view text) {
  for (Outcome o : {Outcome::kAccepted, Outcome::kRejected, Outcome::kTerminated}) {
    if (ToString(o) == text) return o;
  }
  return std::nullopt;
}

std::optional<SenderState> AfterAnswer(SenderState state, Outcome outcome) {
  if (!IsOpen(state)) return std::nullopt;
  switch (outcome) {
    case Outcome::kAccepted:
      return SenderState::kCompleted;
    case Outcome::kRejected:
      return SenderState::kReleased;
    case Outcome::kTerminated:
      // The receiver terminates only when asked, or when it had terminated the transaction
      // before the transfer message reached it (it was asked then): either way the sender asked.
      return state == SenderState::kTerminating ? std::optional(SenderState::kReleased)
                                                : std::nullopt;
  }
  return std::nullopt;
}

bool IsTransactionId(std::string_view id) {
  const size_t dash = id.find('-');
  if (dash == std::string_view::npos || dash + 1 >= id.size() || id.size() > 32) return false;
  if (!ParseRegistryCode(id.substr(0, dash))) return false;
  const std::string_view digits = id.substr(dash + 1);
  if (digits.front() == '0') return false;
  return std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
}

namespace {

std::string UnitsText(const std::vector<LinkUnits>& units) {
  std::string out;
  for (const LinkUnits& u : units) {
    if (!out.empty()) out += ", ";
    out += u.registry + " " + FormatSerialRange(u.range);
  }
  return out.empty() ? "no units" : out;
}

bool SameUnits(std::vector<LinkUnits> a, std::vector<LinkUnits> b) {
  auto order = [](const LinkUnits& x, const LinkUnits& y) {
    return std::tie(x.registry, x.range.first, x.range.last) <
           std::tie(y.registry, y.range.first, y.range.last);
  };
  std::sort(a.begin(), a.end(), order);
  std::sort(b.begin(), b.end(), order);
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const LinkUnits& x, const LinkUnits& y) {
                      return x.registry == y.registry && x.range.first == y.range.first &&
                             x.range.last == y.range.last;
                    });
}

// One direction: the sender's outgoing views against the receiver's incoming ones.
void Compare(const std::vector<const TransferView*>& sent,
             const std::vector<const TransferView*>& received, const std::string& sender,
             const std::string& receiver, Reconciliation& out) {
  std::map<std::string, const TransferView*> by_id;
  for (const TransferView* r : received) by_id[r->transaction] = r;
  for (const TransferView* s : sent) {
    const auto it = by_id.find(s->transaction);
    const TransferView* r = it == by_id.end() ? nullptr : it->second;
    if (r != nullptr) by_id.erase(it);
    const auto state = ParseSenderState(s->state);
    const auto outcome = r != nullptr ? ParseOutcome(r->state) : std::nullopt;
    auto mismatch = [&](const std::string& what) {
      out.mismatches.push_back(Mismatch{Check::kLinkReconciliationMismatch, s->transaction, what});
    };
    if (!state || (r != nullptr && !outcome)) {
      mismatch("unknown state: " + sender + " '" + s->state + "', " + receiver + " '" +
               (r != nullptr ? r->state : "") + "'");
      continue;
    }
    if (r != nullptr && *outcome == Outcome::kAccepted && !SameUnits(s->units, r->units)) {
      mismatch(sender + " sent " + UnitsText(s->units) + " but " + receiver + " took " +
               UnitsText(r->units));
      continue;
    }
    if (IsOpen(*state)) {
      ++out.in_flight;  // Whatever the receiver decided, the sender has not heard it yet.
      continue;
    }
    const bool completed = *state == SenderState::kCompleted;
    if (r == nullptr) {
      mismatch(sender + " has it " + s->state + " but " + receiver + " has no record of it");
    } else if (completed != (*outcome == Outcome::kAccepted)) {
      mismatch(sender + " has it " + s->state + " but " + receiver + " has it " + r->state +
               (completed ? ": the units are in neither registry" : ": the units are in both"));
    } else {
      ++out.agreed;
    }
  }
  for (const auto& [id, r] : by_id) {
    out.mismatches.push_back(
        Mismatch{Check::kLinkReconciliationMismatch, id,
                 receiver + " has it " + r->state + " but " + sender + " never sent it"});
  }
}

}  // namespace

Reconciliation Reconcile(const std::vector<TransferView>& ours,
                         const std::vector<TransferView>& theirs) {
  std::vector<const TransferView*> our_out, our_in, their_out, their_in;
  for (const TransferView& v : ours) (v.outgoing ? our_out : our_in).push_back(&v);
  for (const TransferView& v : theirs) (v.outgoing ? their_out : their_in).push_back(&v);
  Reconciliation out;
  Compare(our_out, their_in, "this registry", "the peer", out);
  Compare(their_out, our_in, "the peer", "this registry", out);
  return out;
}

}  // namespace registry::link
