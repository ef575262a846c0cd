// AEF action mapping of journaled commands; see article6_aef.h.
#include "service/article6_aef.h"

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

}  // namespace

std::vector<AefAction> AefActionsFor(const std::string& command, const Json& args,
                                     const Json& result) {
  std::vector<AefAction> out;
  if (!result.is_object()) return out;
  if (command == "issue.jcm" && result.contains("lots")) {
    const std::string acquiring = TextOr(result, "acquiring_party");
    for (const Json& lot : result["lots"]) {
      if (!lot.value("itmo", false) || !lot.value("first_transferred", false)) continue;
      if (!acquiring.empty()) {  // Issued into the acquiring side's registry (decision 11).
        AefAction out_action =
            BlockAction("First transfer", "First transfer to another Party", lot, "id");
        out_action.acquiring_party = acquiring;
        out.push_back(out_action);
        AefAction in_action = BlockAction("Acquisition", "", lot, "id");
        in_action.transferring_party = TextOr(result, "first_transferring_party");
        out.push_back(in_action);
        continue;
      }
      const std::string subtype = lot.value("first_transfer_definition", "") == "Authorization"
                                      ? "Authorization" : "Issuance";
      out.push_back(BlockAction("First transfer", subtype, lot, "id"));
    }
  } else if (command == "authorization.add") {
    if (TextOr(result, "first_transfer_definition") == "Authorization") {
      AefAction a;
      a.type = "Authorization";
      a.subtype = "Authorization";
      for (const auto& [year, q] : result["authorized"].items()) a.quantity += q.get<int64_t>();
      out.push_back(a);
    }
  } else if (command == "transfer.international" && result.contains("parts")) {
    const std::string transferring = TextOr(result, "transferring_party");
    const std::string acquiring = TextOr(result, "acquiring_party");
    for (const Json& part : result["parts"]) {
      const bool first = part.value("first_transfer", false);
      AefAction out_action = BlockAction(first ? "First transfer" : "Transfer",
                                         first ? "First transfer to another Party" : "", part, "lot");
      out_action.acquiring_party = acquiring;
      out.push_back(out_action);
      AefAction in_action = BlockAction("Acquisition", "", part, "lot");
      in_action.transferring_party = transferring;
      out.push_back(in_action);
    }
  } else if ((command == "retire" || command == "cancel") && result.contains("blocks")) {
    const Json& a6 = result.contains("article6") ? result["article6"] : Json::array();
    const std::string purpose = TextOr(args, "purpose");
    size_t i = 0;
    for (const Json& block : result["blocks"]) {
      const bool itmo = i < a6.size() && a6[i].value("itmo", false);
      const bool first = i < a6.size() && a6[i].value("first_transfer", false);
      ++i;
      if (!itmo) continue;  // JCM credits that are not ITMOs have no AEF action.
      if (command == "retire") {
        AefAction use = BlockAction("Use", "", block, "lot");
        use.use_year = static_cast<int32_t>(IntOr(block, "use_year", 0));
        out.push_back(use);
        continue;
      }
      if (first) {
        out.push_back(BlockAction("First transfer",
                                  purpose == "omge" ? "Voluntary cancellation to deliver OMGE"
                                                    : "Use or cancellation",
                                  block, "lot"));
      }
      if (purpose == "voluntary") {
        out.push_back(BlockAction("Voluntary Cancellation", "Other cancellations", block, "lot"));
      } else {
        out.push_back(BlockAction("Cancellation",
                                  purpose == "omge" ? "Voluntary cancellation to deliver OMGE"
                                                    : "Other cancellations",
                                  block, "lot"));
      }
    }
  }
  return out;
}

}  // namespace registry::service
