// AEF action mapping of journaled commands; see article6_aef.h.
#include "service/article6_aef.h"

#include "core/aef_actions.h"
#include "core/authorization.h"

namespace registry::service {
namespace {

int64_t IntOr(const Json& j, const char* name, int64_t fallback) {
  const auto it = j.find(name);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
}

std::string TextOr(const Json& j, const char* name) {
  const auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

AefAction BlockAction(const std::string& type, const std::string& subtype, const Json& block,
                      const char* lot_field) {
  AefAction a;
  a.type = type;
  a.subtype = subtype;
  a.lot = IntOr(block, lot_field, 0);
  a.first = IntOr(block, "first", 0);
  a.last = IntOr(block, "last", 0);
  a.quantity = IntOr(block, "quantity", 0);
  return a;
}

// The actions of one block's event, with the Parties each row names (R-AEF-03).
void Append(const AefEvent& event, const Json& block, const char* lot_field,
            const std::string& transferring, const std::string& acquiring,
            std::vector<AefAction>& out) {
  for (const AefActionKind& kind : AefActionKindsOf(event)) {
    AefAction a = BlockAction(std::string(kind.type), std::string(kind.subtype), block, lot_field);
    if (kind.type == "Acquisition") a.transferring_party = transferring;
    if (kind.type == "Transfer" || kind.subtype == "First transfer to another Party") {
      a.acquiring_party = acquiring;
    }
    if (kind.type == "Use") a.use_year = static_cast<int32_t>(IntOr(block, "use_year", 0));
    out.push_back(a);
  }
}

}  // namespace

std::vector<AefAction> AefActionsFor(const std::string& command, const Json& args,
                                     const Json& result) {
  std::vector<AefAction> out;
  if (!result.is_object()) return out;
  if ((command == "issue.jcm" || command == "issue.itmo") && result.contains("lots")) {
    const std::string acquiring = TextOr(result, "acquiring_party");
    for (const Json& lot : result["lots"]) {
      if (!lot.value("itmo", false)) continue;
      AefEvent event;
      event.movement = AefMovement::kIssuance;
      event.first_transfer = lot.value("first_transferred", false);
      // Issued into the acquiring side's registry (decision 11).
      event.issued_abroad = !acquiring.empty();
      event.definition = ParseFirstTransferDefinition(lot.value("first_transfer_definition", ""))
                             .value_or(FirstTransferDefinition::kNone);
      Append(event, lot, "id", TextOr(result, "first_transferring_party"), acquiring, out);
    }
  } else if ((command == "transfer.international" || command == "link.complete" ||
              command == "link.receive") &&
             result.contains("parts")) {
    // link.complete: the sender's books, once the receiver accepted; link.receive: the
    // receiver's (service/link.h). Each installation reports its own Party's side.
    for (const Json& part : result["parts"]) {
      AefEvent event;
      event.movement = AefMovement::kInternationalTransfer;
      event.first_transfer = part.value("first_transfer", false);
      Append(event, part, "lot", TextOr(result, "transferring_party"),
             TextOr(result, "acquiring_party"), out);
    }
  } else if ((command == "retire" || command == "cancel") && result.contains("blocks")) {
    const Json& a6 = result.contains("article6") ? result["article6"] : Json::array();
    size_t i = 0;
    for (const Json& block : result["blocks"]) {
      const bool itmo = i < a6.size() && a6[i].value("itmo", false);
      const bool first = i < a6.size() && a6[i].value("first_transfer", false);
      ++i;
      if (!itmo) continue;  // JCM credits that are not ITMOs have no AEF action.
      AefEvent event;
      event.movement = command == "retire" ? AefMovement::kRetirement : AefMovement::kCancellation;
      event.first_transfer = first;
      event.purpose =
          ParseCancellationPurpose(TextOr(args, "purpose")).value_or(CancellationPurpose::kOther);
      Append(event, block, "lot", "", "", out);
    }
  }
  return out;
}

}  // namespace registry::service
