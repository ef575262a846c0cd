#include "core/checks.h"

#include <array>

#include "core/assert.h"

namespace registry {
namespace {

constexpr std::string_view kAct = "Act on Promotion of Global Warming Countermeasures art. 57-11";

constexpr std::array kCatalogue = {
    CheckInfo{Check::kMalformedRequest, "malformed_request", 400, "input validation",
              "The request is not well-formed JSON or not an object."},
    CheckInfo{Check::kFieldMissing, "field_missing", 400, "input validation",
              "A required field is absent."},
    CheckInfo{Check::kFieldInvalid, "field_invalid", 400, "input validation",
              "A field has the wrong type or form."},
    CheckInfo{Check::kRequestTooLarge, "request_too_large", 413, "limits (core/limits.h)",
              "The request body exceeds the size limit."},
    CheckInfo{Check::kTooManyItems, "too_many_items", 400, "limits (core/limits.h)",
              "A list in the request has more items than allowed."},
    CheckInfo{Check::kUnknownCommand, "unknown_command", 400, "input validation",
              "The command type is not one the registry knows."},
    CheckInfo{Check::kUnknownField, "unknown_field", 400, "input validation",
              "The request names a field its command does not take (a misspelt optional field "
              "would otherwise be ignored and the command do more than asked)."},
    CheckInfo{Check::kInvalidText, "invalid_text", 400, "input validation (RFC 3629)",
              "Text from outside (path, query, header, body, idempotency key, command-line "
              "argument, imported file) is not valid UTF-8 or holds a control character."},
    CheckInfo{Check::kLengthRequired, "length_required", 411, "HTTP (RFC 9110 15.5.12)",
              "A request with a body must say its length in Content-Length (no chunked bodies)."},
    CheckInfo{Check::kRequestHeadTooLarge, "request_head_too_large", 431, "limits (RFC 6585 5)",
              "The request line and headers exceed the size or count limit."},
    CheckInfo{Check::kRequestTimeout, "request_timeout", 408, "limits (docs/operations.md)",
              "The request did not arrive whole within the request deadline."},
    CheckInfo{Check::kDocumentReferenceInvalid, "document_reference_invalid", 400,
              "input validation (docs/article6.md, project cycle records)",
              "A document reference is not a SHA-256 digest of 64 hexadecimal digits and an "
              "https URL of at most 2,048 bytes with a host."},
    CheckInfo{Check::kUnknownAccount, "unknown_account", 404, "JCM Common Specifications def. 2",
              "The account does not exist."},
    CheckInfo{Check::kAccountBlocked, "account_blocked", 422,
              "registry ordinance; enforcement order art. 10 (restriction on disposal)",
              "The account is blocked: nothing may enter or leave it."},
    CheckInfo{Check::kAccountClosed, "account_closed", 422, "registry ordinance art. 2-3",
              "The account is closed."},
    CheckInfo{Check::kSameAccount, "same_account", 422, "JCM Common Specifications def. 2",
              "Source and destination are the same account."},
    CheckInfo{Check::kUnknownParty, "unknown_party", 404, "2/CMA.3 annex para 3",
              "The Party is not registered."},
    CheckInfo{Check::kUnknownRegistry, "unknown_registry", 404, "6/CMA.4 annex I para 5(b)",
              "The Party ITMO registry is not registered."},
    CheckInfo{Check::kUnknownEntity, "unknown_entity", 404, "registry ordinance art. 3",
              "The entity is not registered."},
    CheckInfo{Check::kAlreadyExists, "already_exists", 409, "identifiers are unique",
              "Something with this identifier already exists."},
    CheckInfo{Check::kCrossRegistryTransfer, "cross_registry_transfer", 422,
              "JCM Common Specifications def. 2 (transfer is within one registry)",
              "A domestic transfer must stay within one registry; use an international transfer."},
    CheckInfo{Check::kWrongDestinationType, "wrong_destination_type", 422, kAct,
              "The destination account is of the wrong type for this operation."},
    CheckInfo{Check::kAccountNotEmpty, "account_not_empty", 422, "registry ordinance",
              "An account that holds credits cannot be closed."},
    CheckInfo{Check::kUnknownSerial, "unknown_serial", 404, "6/CMA.4 annex I para 5(d)",
              "No block ever held this serial number."},
    CheckInfo{Check::kUnknownProject, "unknown_project", 404, "JCM Project Cycle Procedure",
              "The project is not registered in this system."},
    CheckInfo{Check::kUnknownCooperativeApproach, "unknown_cooperative_approach", 404,
              "4/CMA.6 para 5(a)", "The cooperative approach is not recorded."},
    CheckInfo{Check::kUnknownAuthorization, "unknown_authorization", 404, "4/CMA.6 para 5",
              "The authorization is not recorded."},
    CheckInfo{Check::kUnknownProposal, "unknown_proposal", 404, "four-eyes approval",
              "The proposal does not exist."},
    CheckInfo{Check::kQuantityNotPositive, "quantity_not_positive", 422,
              "quantities are positive integers of t CO2e",
              "The quantity must be a positive integer."},
    CheckInfo{Check::kQuantityAboveHolding, "quantity_above_holding", 422, kAct,
              "The account holds fewer matching credits than requested."},
    CheckInfo{Check::kSerialRangeNotHeld, "serial_range_not_held", 422,
              "Act art. 57-11 (identification numbers)",
              "The account does not hold every serial of the range."},
    CheckInfo{Check::kTerminalAccountCannotSend, "terminal_account_cannot_send", 422,
              "JCM Common Specifications defs. 4-5; 2/CMA.3 annex para 21(e)",
              "Nothing ever leaves a retirement or cancellation account."},
    CheckInfo{Check::kQuantityTooLarge, "quantity_too_large", 422, "limits (core/limits.h)",
              "The quantity exceeds the largest block the registry issues."},
    CheckInfo{Check::kVintageOutOfRange, "vintage_out_of_range", 422, "6/CMA.4 decision para 5",
              "The vintage is not a plausible calendar year."},
    CheckInfo{Check::kSerialRangeInvalid, "serial_range_invalid", 400, "R-ID-02",
              "A serial range must be N or N-M with 1 <= N <= M."},
    CheckInfo{Check::kSerialsReserved, "serials_reserved", 409, "four-eyes approval",
              "Some serials are reserved by a pending proposal."},
    CheckInfo{Check::kIdempotencyKeyReused, "idempotency_key_reused", 409,
              "idempotent requests (ARCHITECTURE decision 8)",
              "The idempotency key was already used with a different request."},
    CheckInfo{Check::kItmoVintageBefore2021, "itmo_vintage_before_2021", 422,
              "2/CMA.3 annex para 1(e)", "Mitigation before 2021 cannot become an ITMO."},
    CheckInfo{Check::kOimpWithoutFirstTransferDefinition, "oimp_without_first_transfer_definition",
              422, "2/CMA.3 annex para 2(b); 4/CMA.6 para 5(d)",
              "An authorization for OIMP must define when the first transfer happens."},
    CheckInfo{Check::kConflictingFirstTransferDefinition, "conflicting_first_transfer_definition",
              422, "4/CMA.6 para 15",
              "The first-transfer definition must be the same within one cooperative approach."},
    CheckInfo{Check::kNotAuthorized, "not_authorized", 422, "4/CMA.6 para 11",
              "Only authorized mitigation outcomes can be first transferred."},
    CheckInfo{Check::kAuthorizedQuantityExceeded, "authorized_quantity_exceeded", 422,
              "4/CMA.6 para 5(h); MOEJ Step 2b",
              "The quantity exceeds what the authorization allows and is not yet issued."},
    CheckInfo{Check::kRetirementNeedsBothAuthorizations, "retirement_needs_both_authorizations",
              422, "Act art. 57-11 as amended by Act No. 56 of 2024 (R-AUTH-07)",
              "Use towards Japan's NDC needs the authorization of Japan and of the partner."},
    CheckInfo{Check::kPurposeNotAuthorized, "purpose_not_authorized", 422, "4/CMA.6 para 5(e)",
              "The use is not among the authorized purposes."},
    CheckInfo{Check::kAuthorizationRevoked, "authorization_revoked", 422, "4/CMA.6 paras 7-9",
              "The authorization in force no longer covers these units."},
    CheckInfo{Check::kChangeNotAllowedByTerms, "change_not_allowed_by_terms", 422,
              "4/CMA.6 paras 5(g), 8",
              "The authorization's change terms do not allow this change."},
    CheckInfo{Check::kVintageNotAuthorized, "vintage_not_authorized", 422, "4/CMA.6 para 5(k)",
              "The vintage is outside the vintages the authorization covers."},
    CheckInfo{Check::kEntityNotAuthorized, "entity_not_authorized", 422, "4/CMA.6 para 3",
              "The entity is not among the authorized entities."},
    CheckInfo{Check::kProjectStateTransition, "project_state_transition", 422,
              "JCM Project Cycle Procedure (R-JCM-04)",
              "The project cannot move from its current state to the requested one."},
    CheckInfo{Check::kAllocationMismatch, "allocation_mismatch", 422,
              "JCM Credit Allocation Form (R-JCM-08)",
              "The shares do not match the project's credit allocation."},
    CheckInfo{Check::kIssuanceSplitMismatch, "issuance_split_mismatch", 422,
              "JCM issuance decision (R-JCM-09)",
              "The per-vintage split does not add up to this side's share."},
    CheckInfo{Check::kAuthorizationExpired, "authorization_expired", 422, "4/CMA.6 para 5(c)",
              "The action falls outside the authorization's timeframe."},
    CheckInfo{Check::kUseYearOutsideNdcPeriod, "use_year_outside_ndc_period", 422,
              "2/CMA.3 annex para 8(b)",
              "The year of use must be in the same NDC period as the mitigation."},
    CheckInfo{Check::kBlockHeldInconsistent, "block_held_inconsistent", 422, "4/CMA.6 para 40",
              "The units are flagged inconsistent and cannot be used towards an NDC."},
    CheckInfo{Check::kNdcPeriodFinalized, "ndc_period_finalized", 422, "2/CMA.3 annex para 12",
              "The NDC period's corresponding adjustments are final."},
    CheckInfo{Check::kCaMethodFixed, "ca_method_fixed", 422, "2/CMA.3 annex para 7",
              "The corresponding-adjustment method is fixed for the NDC period."},
    CheckInfo{Check::kInitialReportNotOnFile, "initial_report_not_on_file", 422,
              "4/CMA.6 paras 26-27 (R-REP-04)",
              "The AEF would report ITMOs of a cooperative approach whose initial report is not "
              "on file (report.initial.submit)."},
    CheckInfo{Check::kOwnOriginUse, "own_origin_use", 422,
              "2/CMA.3 annex para 1(b); ARCHITECTURE decision 11",
              "A Party never uses towards its own NDC ITMOs of its own origin: mitigation outcomes "
              "count as ITMOs only once internationally transferred, and the host's inventory "
              "already holds them."},
    CheckInfo{Check::kCaIdNotAssigned, "ca_id_not_assigned", 422, "6/CMA.4 annex I paras 5, 33",
              "ITMOs are issued only once their cooperative approach has its CARP identifier, so "
              "that their unique identifiers are complete and never change."},
    CheckInfo{Check::kNotFirstTransferredToUser, "not_first_transferred_to_user", 422,
              "2/CMA.3 annex para 2(a); ARCHITECTURE decision 11",
              "An ITMO is used towards an NDC only after its first transfer to the using Party."},
    CheckInfo{Check::kProjectNotRemovals, "project_not_removals", 422,
              "4/CMA.6 annex I (non-permanence and reversals); docs/article6.md",
              "A reversal is recorded only against a project whose units are removals (mitigation "
              "type Removals or Emission reductions and removals)."},
    CheckInfo{Check::kReversalExceedsIssued, "reversal_exceeds_issued", 422,
              "4/CMA.6 annex I (non-permanence and reversals); docs/article6.md",
              "The reversals of a project would exceed the units issued for it here."},
    CheckInfo{Check::kReversalOverRemediated, "reversal_over_remediated", 422,
              "4/CMA.6 annex I (non-permanence and reversals); docs/article6.md",
              "The cancellation is more than what remains to remediate of the reversal it names."},
    CheckInfo{Check::kInconsistencyUnresolved, "inconsistency_unresolved", 422,
              "4/CMA.6 para 40 (R-CC-04)",
              "The units are affected by an inconsistency identified in an AEF and not yet "
              "corrected (inconsistency.correct): until then they are neither first transferred "
              "nor used towards an NDC."},
    CheckInfo{Check::kCycleRecordNotAllowed, "cycle_record_not_allowed", 422,
              "JCM Project Cycle Procedure (R-JCM-02, R-JCM-04)",
              "The project's cycle does not allow this record now: its kind in the project's "
              "state (a verification before registration), or a monitoring period's records out "
              "of their order (report, verification, issuance request, JC decision)."},
    CheckInfo{Check::kCycleRecordDateOrder, "cycle_record_date_order", 422,
              "JCM Project Cycle Procedure (R-JCM-02)",
              "The record's dates are out of order: after today, before the project's latest "
              "record, before the end of the period it reports, or a period overlapping the "
              "previous one."},
    CheckInfo{Check::kUnauthenticated, "unauthenticated", 401, "ARCHITECTURE decision 9",
              "A valid API token is required."},
    CheckInfo{Check::kForbidden, "forbidden", 403, "ARCHITECTURE decision 9",
              "The user's role or scope does not allow this."},
    CheckInfo{Check::kSelfApproval, "self_approval", 403, "four-eyes principle",
              "The initiator of a proposal can never approve it."},
    CheckInfo{Check::kProposalNotPending, "proposal_not_pending", 409, "four-eyes approval",
              "The proposal was already approved, rejected or expired."},
    CheckInfo{Check::kRateLimited, "rate_limited", 429, "ARCHITECTURE decision 9",
              "Too many requests; retry later."},
    CheckInfo{Check::kOverloaded, "overloaded", 503, "ARCHITECTURE decision 8",
              "The writer queue is full; retry later."},
    CheckInfo{Check::kNotFound, "not_found", 404, "HTTP", "No such resource."},
    CheckInfo{Check::kInternalError, "internal_error", 500, "operational error",
              "The registry failed on this request (a bug or a broken disk); nothing was "
              "changed, it keeps serving, and the failure is counted in /metrics."},
    CheckInfo{Check::kStorageUnavailable, "storage_unavailable", 503, "operational error",
              "The database is busy or unreachable; nothing was changed; retry later."},
    CheckInfo{Check::kLinkUnknownPeer, "link_unknown_peer", 403, "ARCHITECTURE decision 12",
              "A link message names a sending registry that no configured peer hosts: only "
              "configured peers are believed."},
    CheckInfo{Check::kLinkSignatureInvalid, "link_signature_invalid", 401,
              "ARCHITECTURE decision 12 (docs/link.md)",
              "A link message is not signed by its peer's key: forged, or altered on the way."},
    CheckInfo{Check::kLinkMisdirected, "link_misdirected", 421, "ARCHITECTURE decision 12",
              "A link message is addressed to a registry this installation does not host."},
    CheckInfo{Check::kLinkReplayed, "link_replayed", 409, "ARCHITECTURE decision 12",
              "A link message's sequence is not above the last one taken from its peer: a "
              "replay, or a message overtaken by a later one (the sender retries with a new "
              "sequence)."},
    CheckInfo{Check::kLinkUnitsAlreadyKnown, "link_units_already_known", 409,
              "R-ID-03; ITL check: units already in the acquiring registry",
              "Units offered by another registry overlap units this registry already holds "
              "records of: taking them would count them twice."},
    CheckInfo{Check::kLinkTransactionState, "link_transaction_state", 409,
              "ARCHITECTURE decision 12 (docs/link.md)",
              "A link transaction is not in a state that allows this step."},
    CheckInfo{Check::kLinkAttributesMismatch, "link_attributes_mismatch", 422,
              "4/CMA.6 para 5; 2/CMA.3 annex para 18",
              "Units offered by another registry carry an authorization that differs from this "
              "registry's copy of it (its id, or a version not yet on file here)."},
    CheckInfo{Check::kLinkPeerUnreachable, "link_peer_unreachable", 503, "operational error",
              "The peer registry did not answer; nothing was changed."},
    CheckInfo{Check::kLinkReconciliationMismatch, "link_reconciliation_mismatch", 409,
              "ITL reconciliation (DES annex)",
              "Two registries' views of a link transaction differ: its state, or the serials it "
              "moved."},
};

}  // namespace

const CheckInfo& InfoOf(Check check) {
  for (const CheckInfo& info : kCatalogue) {
    if (info.check == check) return info;
  }
  REGISTRY_ASSERT(false && "check missing from the catalogue");
  return kCatalogue[0];
}

std::span<const CheckInfo> CheckCatalogue() { return kCatalogue; }

std::string CodeOf(Check check) {
  return "JCM-" + std::to_string(static_cast<int>(check));
}

}  // namespace registry
