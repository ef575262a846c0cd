// The one mapping from block events to AEF actions; see aef_actions.h.
#include "core/aef_actions.h"

namespace registry {

std::vector<AefActionKind> AefActionKindsOf(const AefEvent& event) {
  constexpr std::string_view kFirstTransfer = "First transfer";
  constexpr std::string_view kToAnotherParty = "First transfer to another Party";
  constexpr std::string_view kOmge = "Voluntary cancellation to deliver OMGE";
  std::vector<AefActionKind> out;
  switch (event.movement) {
    case AefMovement::kIssuance:
      if (!event.first_transfer) return out;
      if (event.issued_abroad) {
        out.push_back({kFirstTransfer, kToAnotherParty, AefReporter::kFirstTransferringParty});
        out.push_back({"Acquisition", "", AefReporter::kAcquiringParty});
        return out;
      }
      out.push_back({kFirstTransfer,
                     event.definition == FirstTransferDefinition::kAuthorization ? "Authorization"
                                                                                 : "Issuance",
                     AefReporter::kFirstTransferringParty});
      return out;
    case AefMovement::kInternationalTransfer:
      out.push_back(
          event.first_transfer
              ? AefActionKind{kFirstTransfer, kToAnotherParty, AefReporter::kTransferringParty}
              : AefActionKind{"Transfer", "", AefReporter::kTransferringParty});
      out.push_back({"Acquisition", "", AefReporter::kAcquiringParty});
      return out;
    case AefMovement::kRetirement:
      if (event.first_transfer) {
        out.push_back(
            {kFirstTransfer, "Use or cancellation", AefReporter::kFirstTransferringParty});
      }
      out.push_back({"Use", "", AefReporter::kUsingParty});
      return out;
    case AefMovement::kCancellation: {
      const bool omge = event.purpose == CancellationPurpose::kOmge;
      if (event.first_transfer) {
        out.push_back({kFirstTransfer, omge ? kOmge : "Use or cancellation",
                       AefReporter::kFirstTransferringParty});
      }
      if (event.purpose == CancellationPurpose::kVoluntary) {
        out.push_back({"Voluntary Cancellation", "", AefReporter::kUsingParty});
      } else {
        out.push_back(
            {"Cancellation", omge ? kOmge : "Other cancellations", AefReporter::kUsingParty});
      }
      return out;
    }
  }
  return out;
}

bool IsMitigationType(std::string_view text) {
  return text == "Emission reductions" || text == "Removals" ||
         text == "Emission reductions and removals";
}

std::string_view DefaultMitigationType(std::string_view activity_type) {
  return activity_type == "Afforestation" || activity_type == "Reforestation"
             ? "Removals"
             : "Emission reductions";
}

}  // namespace registry
