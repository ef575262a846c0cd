// Goal: the one mapping from block events to AEF Table 3 actions (core/aef_actions.h), which the
// AEF builder and service::AefActionsFor both use, gives every action of every kind of event,
// and nothing for the events that are not AEF actions. Method: a table of events and the
// (type, subtype, reporting Party) rows each must give, in order.
#include "core/aef_actions.h"

#include <gtest/gtest.h>

namespace registry {
namespace {

AefEvent Event(AefMovement movement, bool first_transfer) {
  AefEvent e;
  e.movement = movement;
  e.first_transfer = first_transfer;
  return e;
}

TEST(AefActionKindsOf, IssuanceIsAnActionOnlyWhenItIsTheFirstTransfer) {
  EXPECT_TRUE(AefActionKindsOf(Event(AefMovement::kIssuance, false)).empty());
  AefEvent oimp = Event(AefMovement::kIssuance, true);
  oimp.definition = FirstTransferDefinition::kIssuance;
  EXPECT_EQ(AefActionKindsOf(oimp),
            (std::vector<AefActionKind>{
                {"First transfer", "Issuance", AefReporter::kFirstTransferringParty}}));
  oimp.definition = FirstTransferDefinition::kAuthorization;
  EXPECT_EQ(AefActionKindsOf(oimp),
            (std::vector<AefActionKind>{
                {"First transfer", "Authorization", AefReporter::kFirstTransferringParty}}));
  AefEvent abroad = Event(AefMovement::kIssuance, true);
  abroad.issued_abroad = true;  // Japan's share issued into JPN01 (decision 11).
  EXPECT_EQ(AefActionKindsOf(abroad),
            (std::vector<AefActionKind>{{"First transfer", "First transfer to another Party",
                                         AefReporter::kFirstTransferringParty},
                                        {"Acquisition", "", AefReporter::kAcquiringParty}}));
}

TEST(AefActionKindsOf, InternationalTransferIsAFirstTransferOnlyTheFirstTime) {
  EXPECT_EQ(AefActionKindsOf(Event(AefMovement::kInternationalTransfer, true)),
            (std::vector<AefActionKind>{{"First transfer", "First transfer to another Party",
                                         AefReporter::kTransferringParty},
                                        {"Acquisition", "", AefReporter::kAcquiringParty}}));
  EXPECT_EQ(AefActionKindsOf(Event(AefMovement::kInternationalTransfer, false)),
            (std::vector<AefActionKind>{{"Transfer", "", AefReporter::kTransferringParty},
                                        {"Acquisition", "", AefReporter::kAcquiringParty}}));
}

TEST(AefActionKindsOf, UseAndCancellationsCarryTheirFirstTransferAndSubtype) {
  EXPECT_EQ(AefActionKindsOf(Event(AefMovement::kRetirement, false)),
            (std::vector<AefActionKind>{{"Use", "", AefReporter::kUsingParty}}));
  EXPECT_EQ(AefActionKindsOf(Event(AefMovement::kRetirement, true)),
            (std::vector<AefActionKind>{
                {"First transfer", "Use or cancellation", AefReporter::kFirstTransferringParty},
                {"Use", "", AefReporter::kUsingParty}}));
  AefEvent omge = Event(AefMovement::kCancellation, true);
  omge.purpose = CancellationPurpose::kOmge;
  EXPECT_EQ(AefActionKindsOf(omge),
            (std::vector<AefActionKind>{{"First transfer", "Voluntary cancellation to deliver OMGE",
                                         AefReporter::kFirstTransferringParty},
                                        {"Cancellation", "Voluntary cancellation to deliver OMGE",
                                         AefReporter::kUsingParty}}));
  AefEvent oimp = Event(AefMovement::kCancellation, true);
  oimp.purpose = CancellationPurpose::kOimp;
  EXPECT_EQ(AefActionKindsOf(oimp),
            (std::vector<AefActionKind>{
                {"First transfer", "Use or cancellation", AefReporter::kFirstTransferringParty},
                {"Cancellation", "Other cancellations", AefReporter::kUsingParty}}));
  AefEvent voluntary = Event(AefMovement::kCancellation, false);
  voluntary.purpose = CancellationPurpose::kVoluntary;
  EXPECT_EQ(AefActionKindsOf(voluntary),
            (std::vector<AefActionKind>{{"Voluntary Cancellation", "", AefReporter::kUsingParty}}));
}

TEST(AefActionKindsOf, MitigationTypesAreTheNomenclaturesAndDefaultFromTheActivity) {
  EXPECT_TRUE(IsMitigationType("Emission reductions"));
  EXPECT_TRUE(IsMitigationType("Removals"));
  EXPECT_TRUE(IsMitigationType("Emission reductions and removals"));
  EXPECT_FALSE(IsMitigationType("removals"));
  EXPECT_FALSE(IsMitigationType("GHG"));
  EXPECT_EQ(DefaultMitigationType("Afforestation"), "Removals");
  EXPECT_EQ(DefaultMitigationType("Hydro"), "Emission reductions");
}

}  // namespace
}  // namespace registry
