// The check catalogue: every refusal the registry can give, with a stable number, a stable
// snake_case name, the HTTP status it maps to, and the rule it enforces. This table is the single
// source: the CLI messages, the HTTP error bodies and `jcmreg checks` all come from it.
//
// Numbers are stable forever: never renumber or reuse one; add new checks at the end of a group.
// Retired, never to be reused: 216 registry_not_hosted_here and 511 already_first_transferred,
// which no rule raised (issue 27): a registry not hosted here is the registry link's to refuse,
// and a change of authorization does not reach units already first transferred rather than
// being refused (4/CMA.6 paras 7-8; CheckMayMove).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace registry {

enum class Check : uint16_t {
  // 1xx: the request itself.
  kMalformedRequest = 100,
  kFieldMissing = 101,
  kFieldInvalid = 102,
  kRequestTooLarge = 103,
  kTooManyItems = 104,
  kUnknownCommand = 105,
  kUnknownField = 106,
  kInvalidText = 107,
  kLengthRequired = 108,
  kRequestHeadTooLarge = 109,
  kRequestTimeout = 110,
  kDocumentReferenceInvalid = 111,
  // 2xx: references to things that must exist, or must not exist yet.
  kUnknownAccount = 200,
  kAccountBlocked = 201,
  kAccountClosed = 202,
  kSameAccount = 203,
  kUnknownParty = 204,
  kUnknownRegistry = 205,
  kUnknownEntity = 206,
  kAlreadyExists = 207,
  kCrossRegistryTransfer = 208,
  kWrongDestinationType = 209,
  kAccountNotEmpty = 210,
  kUnknownSerial = 211,
  kUnknownProject = 212,
  kUnknownCooperativeApproach = 213,
  kUnknownAuthorization = 214,
  kUnknownProposal = 215,
  // 3xx: quantities and serial numbers.
  kQuantityNotPositive = 300,
  kQuantityAboveHolding = 301,
  kSerialRangeNotHeld = 302,
  kTerminalAccountCannotSend = 303,
  kQuantityTooLarge = 304,
  kVintageOutOfRange = 305,
  kSerialRangeInvalid = 306,
  kSerialsReserved = 307,
  // 4xx: idempotency and concurrency.
  kIdempotencyKeyReused = 400,
  // 401 (conflict) is retired, never to be reused: no command raised it. A storage conflict
  // that outlasts the engine's wait is answered 503 storage_unavailable (JCM-701).
  // 5xx: Article 6.2 authorization (2/CMA.3, 4/CMA.6, Japan's Act).
  kItmoVintageBefore2021 = 500,
  kOimpWithoutFirstTransferDefinition = 501,
  kConflictingFirstTransferDefinition = 502,
  kNotAuthorized = 503,
  kAuthorizedQuantityExceeded = 504,
  kRetirementNeedsBothAuthorizations = 505,
  kPurposeNotAuthorized = 506,
  kAuthorizationRevoked = 507,
  kChangeNotAllowedByTerms = 508,
  kVintageNotAuthorized = 509,
  kEntityNotAuthorized = 510,
  kProjectStateTransition = 512,
  kAllocationMismatch = 513,
  kIssuanceSplitMismatch = 514,
  kAuthorizationExpired = 515,
  kUseYearOutsideNdcPeriod = 516,
  kBlockHeldInconsistent = 517,
  kNdcPeriodFinalized = 518,
  kCaMethodFixed = 519,
  kInitialReportNotOnFile = 520,
  kOwnOriginUse = 521,
  kCaIdNotAssigned = 522,
  kNotFirstTransferredToUser = 523,
  kInconsistencyUnresolved = 524,
  kCycleRecordNotAllowed = 525,
  kCycleRecordDateOrder = 526,
  // Reversals of removals (issue 31 item 7).
  kProjectNotRemovals = 540,
  kReversalExceedsIssued = 541,
  kReversalOverRemediated = 542,
  // 6xx: access and four-eyes.
  kUnauthenticated = 600,
  kForbidden = 601,
  kSelfApproval = 602,
  kProposalNotPending = 603,
  kRateLimited = 604,
  kOverloaded = 605,
  kNotFound = 606,
  // 7xx: operational errors (nothing was changed; the request was not at fault).
  kInternalError = 700,
  kStorageUnavailable = 701,
  // 8xx: the registry link between installations (ARCHITECTURE decision 12; docs/link.md).
  kLinkUnknownPeer = 800,
  kLinkSignatureInvalid = 801,
  kLinkMisdirected = 802,
  kLinkReplayed = 803,
  kLinkUnitsAlreadyKnown = 804,
  kLinkTransactionState = 805,
  kLinkAttributesMismatch = 806,
  kLinkPeerUnreachable = 807,
  kLinkReconciliationMismatch = 808,
};

struct CheckInfo {
  Check check;
  std::string_view name;         // Stable snake_case name, e.g. "quantity_above_holding".
  int http_status;               // 400, 401, 403, 404, 408, 409, 411, 413, 421, 422, 429, 431,
                                 // 500 or 503.
  std::string_view rule;         // The rule enforced, with its source.
  std::string_view description;  // One sentence for documentation.
};

// Returns the catalogue entry of a check. Every enumerator has exactly one entry.
const CheckInfo& InfoOf(Check check);
// Returns every entry in numeric order.
std::span<const CheckInfo> CheckCatalogue();
// Returns "JCM-301" for kQuantityAboveHolding.
std::string CodeOf(Check check);

// A refusal: the check that refused, with a message naming the values involved.
struct Refusal {
  Check check = Check::kMalformedRequest;
  std::string message;
};

}  // namespace registry
