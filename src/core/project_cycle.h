// The JCM project cycle's records (issue 31 item 2; DOMAIN R-JCM-02 forms, R-JCM-04 states):
// registration request, validation report, registration, monitoring reports, verification
// reports, issuance requests, the JC's issuance decisions, withdrawals, post-registration changes
// and crediting-period renewals, each with the reference of its document (SHA-256 and https URL).
// Records are appended, never edited. A record that moves the project (registration request,
// registration, withdrawal of the project or of its registration request) moves it by the
// R-JCM-04 transitions of core/approach.h (CheckTransition), the same as project.transition.
// No I/O: the service reads the cycle so far, calls ApplyRecord and writes what it decides.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/approach.h"
#include "core/checks.h"
#include "core/result.h"

namespace registry {

enum class RecordKind {
  kRegistrationRequest,
  kValidationReport,
  kRegistration,
  kMonitoringReport,
  kVerificationReport,
  kIssuanceRequest,
  kJcDecision,
  kWithdrawal,
  kPostRegistrationChange,
  kCreditingPeriodRenewal,
};

// "registration_request", ...; nullopt for a name not in the list.
std::optional<RecordKind> ParseRecordKind(std::string_view name);
std::string_view NameOf(RecordKind kind);
// The JCM Project Cycle Procedure's form or act the record stands for (R-JCM-02), e.g.
// "Project Registration Request".
std::string_view FormOf(RecordKind kind);
// Every kind's name, in the cycle's order (for messages and documentation).
std::string KindNames();

// What a withdrawal withdraws (R-JCM-02: Project Withdrawal, Registration Request Withdrawal,
// Issuance Request Withdrawal).
enum class Withdrawn { kProject, kRegistrationRequest, kIssuanceRequest };
std::optional<Withdrawn> ParseWithdrawn(std::string_view name);
std::string_view NameOf(Withdrawn withdrawn);

// Where a record's document is: its SHA-256 (64 hex digits, stored in lower case) and an https
// URL of at most kDocumentUrlMax bytes with a host and no space or control character.
struct DocumentRef {
  std::string sha256;
  std::string url;
};
inline constexpr size_t kDocumentUrlMax = 2048;

// Refuses a document reference that is not as above (JCM-111 document_reference_invalid).
Status<Refusal> CheckDocumentRef(const DocumentRef& document);

struct CyclePeriod {
  std::string start;  // YYYY-MM-DD
  std::string end;    // YYYY-MM-DD, not before start
};

// One record as asked: its kind, its date (the document's date), its document and what its kind
// takes (empty / nullopt when not given).
struct CycleRecord {
  RecordKind kind = RecordKind::kRegistrationRequest;
  std::string date;
  DocumentRef document;
  std::string tpe;          // The third-party entity (validation and verification reports).
  std::string report_ref;   // The TPE's report reference (validation and verification reports).
  std::string jc_decision;  // The JC decision (registration and issuance decisions; optional on a
                            // withdrawal, change or renewal).
  std::optional<Withdrawn> withdraws;     // Withdrawals only.
  std::optional<CyclePeriod> monitoring;  // Monitoring, verification, issuance request, decision.
  std::optional<CyclePeriod> crediting;   // The renewed crediting period (renewals only).
  std::string note;                       // What changed (post-registration changes); any kind.
};

// A monitoring period's way through the cycle: reported (monitoring report), verified
// (verification report), requested (issuance request; a withdrawn request makes it verified
// again), decided (the JC's issuance decision).
enum class PeriodState { kReported, kVerified, kRequested, kDecided };
std::string_view NameOf(PeriodState state);
std::optional<PeriodState> ParsePeriodState(std::string_view name);

struct MonitoringPeriod {
  CyclePeriod period;
  PeriodState state = PeriodState::kReported;
  std::string tpe;  // Who verified it, once verified.
};

// What the records so far say, as the rules need it.
struct CycleState {
  int64_t records = 0;                    // How many records the project has.
  std::string last_date;                  // The latest record's date ("" with none).
  bool validated = false;                 // A validation report is recorded.
  // The periods not decided yet, in the order reported; never overlapping. A decided period is
  // final and leaves this list (its records stay).
  std::vector<MonitoringPeriod> periods;
  std::string last_period_end;  // The end of the latest monitoring period reported.
  std::string crediting_end;    // The end of the latest renewed crediting period.
};

// What a record does: the cycle after it and, when it moves the project, the state it moves to.
struct CycleStep {
  CycleState next;
  std::optional<std::string> to;
};

// Refuses a record the project's cycle does not allow, else says what it does:
//  - a field its kind needs is missing (JCM-101: the TPE and its report reference of a validation
//    or verification report, the JC decision of a registration or issuance decision, the
//    monitoring period of monitoring, verification, issuance request and decision, the crediting
//    period of a renewal, what a withdrawal withdraws, the note of a post-registration change),
//    or a field is given that its kind does not take (JCM-102);
//  - the document reference is not a SHA-256 and an https URL (JCM-111);
//  - the date is after `today`, before the project's latest record, before the end of the
//    monitoring period it reports, or a monitoring period starts before the end of the previous
//    one, or a renewed crediting period before the end of the previous renewal (JCM-526
//    cycle_record_date_order);
//  - the kind is not allowed in the project's state or its monitoring period's (JCM-525
//    cycle_record_not_allowed): a validation report outside validation, a registration request
//    outside validation, a registration without a registration request or validation report,
//    anything after registration before it, a verification of a period not reported or already
//    verified, an issuance request of a period not verified, a JC decision on a period not
//    requested, a withdrawal of an issuance request not pending, a withdrawal the project's state
//    does not allow. (An activity of another approach has no JCM cycle: the service refuses it.)
Result<CycleStep, Refusal> ApplyRecord(const Project& project, const CycleState& cycle,
                                       const CycleRecord& record, const std::string& today);

}  // namespace registry
