// The JCM project cycle's records; see project_cycle.h.
#include "core/project_cycle.h"

#include <algorithm>
#include <array>

namespace registry {
namespace {

Refusal Refuse(Check check, std::string message) { return Refusal{check, std::move(message)}; }

struct KindInfo {
  RecordKind kind;
  std::string_view name;
  std::string_view form;
};

constexpr std::array kKinds = {
    KindInfo{RecordKind::kRegistrationRequest, "registration_request",
             "Project Registration Request"},
    KindInfo{RecordKind::kValidationReport, "validation_report", "Validation Report"},
    KindInfo{RecordKind::kRegistration, "registration", "Joint Committee registration decision"},
    KindInfo{RecordKind::kMonitoringReport, "monitoring_report",
             "Monitoring Report (Project Implementation Report)"},
    KindInfo{RecordKind::kVerificationReport, "verification_report", "Verification Report"},
    KindInfo{RecordKind::kIssuanceRequest, "issuance_request", "Credits Issuance Request"},
    KindInfo{RecordKind::kJcDecision, "jc_decision", "Joint Committee issuance decision"},
    KindInfo{RecordKind::kWithdrawal, "withdrawal",
             "Project Withdrawal / Registration Request Withdrawal / Issuance Request Withdrawal"},
    KindInfo{RecordKind::kPostRegistrationChange, "post_registration_change",
             "Post-Registration Changes Request"},
    KindInfo{RecordKind::kCreditingPeriodRenewal, "crediting_period_renewal",
             "Renewal of Crediting Period Request"},
};

const KindInfo& InfoOf(RecordKind kind) {
  for (const KindInfo& info : kKinds) {
    if (info.kind == kind) return info;
  }
  return kKinds[0];  // Unreachable: every enumerator has a row.
}

constexpr std::array kWithdrawn = {
    std::pair{Withdrawn::kProject, std::string_view("project")},
    std::pair{Withdrawn::kRegistrationRequest, std::string_view("registration_request")},
    std::pair{Withdrawn::kIssuanceRequest, std::string_view("issuance_request")},
};

constexpr std::array kPeriodStates = {
    std::pair{PeriodState::kReported, std::string_view("reported")},
    std::pair{PeriodState::kVerified, std::string_view("verified")},
    std::pair{PeriodState::kRequested, std::string_view("requested")},
    std::pair{PeriodState::kDecided, std::string_view("decided")},
};

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

std::string Shown(const std::string& text) {
  return text.size() <= 64 ? text : text.substr(0, 64) + "...";
}

std::string PeriodText(const CyclePeriod& p) { return p.start + " to " + p.end; }

// Which optional fields each kind takes; a field given to a kind that does not take it is refused
// rather than stored unread.
struct Takes {
  bool tpe = false, jc_decision = false, withdraws = false, monitoring = false, crediting = false;
};

Takes TakesOf(RecordKind kind) {
  switch (kind) {
    case RecordKind::kValidationReport:
      return {.tpe = true};
    case RecordKind::kVerificationReport:
      return {.tpe = true, .monitoring = true};
    case RecordKind::kRegistration:
    case RecordKind::kPostRegistrationChange:
      return {.jc_decision = true};
    case RecordKind::kMonitoringReport:
    case RecordKind::kIssuanceRequest:
      return {.monitoring = true};
    case RecordKind::kJcDecision:
      return {.jc_decision = true, .monitoring = true};
    case RecordKind::kWithdrawal:
      return {.jc_decision = true, .withdraws = true, .monitoring = true};
    case RecordKind::kCreditingPeriodRenewal:
      return {.jc_decision = true, .crediting = true};
    case RecordKind::kRegistrationRequest:
      return {};
  }
  return {};
}

Status<Refusal> CheckFieldsOfKind(const CycleRecord& r) {
  const std::string kind(NameOf(r.kind));
  const Takes takes = TakesOf(r.kind);
  const auto not_taken = [&](const char* field) {
    return Fail(Refuse(Check::kFieldInvalid, "a " + kind + " record takes no '" + field + "' (" +
                                                 std::string(FormOf(r.kind)) + ")"));
  };
  if (!takes.tpe && (!r.tpe.empty() || !r.report_ref.empty())) {
    return not_taken(r.tpe.empty() ? "report_ref" : "tpe");
  }
  if (!takes.jc_decision && !r.jc_decision.empty()) return not_taken("jc_decision");
  if (!takes.withdraws && r.withdraws) return not_taken("withdraws");
  if (!takes.monitoring && r.monitoring) return not_taken("monitoring_start");
  if (!takes.crediting && r.crediting) return not_taken("crediting_start");
  const auto missing = [&](const std::string& what) {
    return Fail(Refuse(Check::kFieldMissing, "a " + kind + " record needs " + what));
  };
  if (takes.tpe && r.tpe.empty()) {
    return missing("the third-party entity that wrote the report ('tpe')");
  }
  if (takes.tpe && r.report_ref.empty()) {
    return missing("the reference of the third-party entity's report ('report_ref')");
  }
  const bool decision = r.kind == RecordKind::kRegistration || r.kind == RecordKind::kJcDecision;
  if (decision && r.jc_decision.empty()) return missing("the JC decision ('jc_decision')");
  if (r.kind == RecordKind::kWithdrawal && !r.withdraws) {
    return missing(
        "what it withdraws ('withdraws': project, registration_request or issuance_request)");
  }
  const bool period = r.kind == RecordKind::kWithdrawal ? r.withdraws == Withdrawn::kIssuanceRequest
                                                        : takes.monitoring;
  if (period && !r.monitoring) {
    return missing("the monitoring period ('monitoring_start' and 'monitoring_end')");
  }
  if (!period && r.monitoring) return not_taken("monitoring_start");
  if (takes.crediting && !r.crediting) {
    return missing("the renewed crediting period ('crediting_start' and 'crediting_end')");
  }
  if (r.kind == RecordKind::kPostRegistrationChange && r.note.empty()) {
    return missing("a 'note' saying what changes");
  }
  return {};
}

Status<Refusal> CheckDates(const CycleState& cycle, const CycleRecord& r,
                           const std::string& today) {
  const auto refuse = [](std::string message) {
    return Fail(Refuse(Check::kCycleRecordDateOrder, std::move(message)));
  };
  if (r.date > today) return refuse("the record's date " + r.date + " is after today " + today);
  if (r.date < cycle.last_date) {
    return refuse("the record's date " + r.date + " is before the project's latest record, of " +
                  cycle.last_date + ": records are appended in the order of their dates");
  }
  for (const auto& [period, what] :
       {std::pair{&r.monitoring, "monitoring"}, std::pair{&r.crediting, "crediting"}}) {
    if (*period && (*period)->end < (*period)->start) {
      return refuse(std::string("the ") + what + " period " + PeriodText(**period) +
                    " ends before it starts");
    }
  }
  if (r.kind == RecordKind::kMonitoringReport || r.kind == RecordKind::kVerificationReport) {
    if (r.monitoring->end > r.date) {
      return refuse("a report dated " + r.date + " cannot cover a monitoring period ending " +
                    r.monitoring->end);
    }
  }
  if (r.kind == RecordKind::kMonitoringReport && !cycle.last_period_end.empty() &&
      r.monitoring->start <= cycle.last_period_end) {
    return refuse("the monitoring period " + PeriodText(*r.monitoring) +
                  " starts before the end of the previous one, " + cycle.last_period_end +
                  ": monitoring periods do not overlap");
  }
  if (r.kind == RecordKind::kCreditingPeriodRenewal && !cycle.crediting_end.empty() &&
      r.crediting->start <= cycle.crediting_end) {
    return refuse("the renewed crediting period " + PeriodText(*r.crediting) +
                  " starts before the end of the previous renewal, " + cycle.crediting_end);
  }
  return {};
}

// The project's monitoring period equal to `period`, or nullptr.
MonitoringPeriod* FindPeriod(CycleState& cycle, const CyclePeriod& period) {
  for (MonitoringPeriod& p : cycle.periods) {
    if (p.period.start == period.start && p.period.end == period.end) return &p;
  }
  return nullptr;
}

}  // namespace

std::optional<RecordKind> ParseRecordKind(std::string_view name) {
  for (const KindInfo& info : kKinds) {
    if (info.name == name) return info.kind;
  }
  return std::nullopt;
}

std::string_view NameOf(RecordKind kind) { return InfoOf(kind).name; }
std::string_view FormOf(RecordKind kind) { return InfoOf(kind).form; }

std::string KindNames() {
  std::string out;
  for (const KindInfo& info : kKinds) out += (out.empty() ? "" : ", ") + std::string(info.name);
  return out;
}

std::optional<Withdrawn> ParseWithdrawn(std::string_view name) {
  for (const auto& [w, n] : kWithdrawn) {
    if (n == name) return w;
  }
  return std::nullopt;
}

std::string_view NameOf(Withdrawn withdrawn) {
  for (const auto& [w, n] : kWithdrawn) {
    if (w == withdrawn) return n;
  }
  return "";
}

std::string_view NameOf(PeriodState state) {
  for (const auto& [s, n] : kPeriodStates) {
    if (s == state) return n;
  }
  return "";
}

std::optional<PeriodState> ParsePeriodState(std::string_view name) {
  for (const auto& [s, n] : kPeriodStates) {
    if (n == name) return s;
  }
  return std::nullopt;
}

Status<Refusal> CheckDocumentRef(const DocumentRef& document) {
  const auto refuse = [](std::string message) {
    return Fail(Refuse(Check::kDocumentReferenceInvalid, std::move(message)));
  };
  if (document.sha256.size() != 64 ||
      !std::all_of(document.sha256.begin(), document.sha256.end(), IsHex)) {
    return refuse("the document's sha256 '" + Shown(document.sha256) +
                  "' is not a SHA-256 digest of 64 hexadecimal digits");
  }
  const std::string& url = document.url;
  if (url.size() > kDocumentUrlMax) {
    return refuse("the document's URL is " + std::to_string(url.size()) + " bytes long, above " +
                  std::to_string(kDocumentUrlMax));
  }
  constexpr std::string_view kScheme = "https://";
  if (url.compare(0, kScheme.size(), kScheme) != 0) {
    return refuse("the document's URL '" + Shown(url) +
                  "' is not an https URL (like https://www.jcm.go.jp/...)");
  }
  for (const char c : url) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) {
      return refuse("the document's URL '" + Shown(url) +
                    "' holds a space or control character (percent-encode it)");
    }
  }
  const std::string host =
      url.substr(kScheme.size(), url.find_first_of("/?#", kScheme.size()) - kScheme.size());
  if (host.empty() || host.find('@') != std::string::npos) {
    return refuse("the document's URL '" + Shown(url) + "' names no host (or names a user)");
  }
  return {};
}

Result<CycleStep, Refusal> ApplyRecord(const Project& project, const CycleState& cycle,
                                       const CycleRecord& record, const std::string& today) {
  if (auto fields = CheckFieldsOfKind(record); !fields) return Fail(fields.error());
  if (auto document = CheckDocumentRef(record.document); !document) return Fail(document.error());
  if (auto dates = CheckDates(cycle, record, today); !dates) return Fail(dates.error());

  CycleStep step{cycle, std::nullopt};
  CycleState& next = step.next;
  const std::string kind(NameOf(record.kind));
  const std::string& ref = project.ref.value;
  const auto not_allowed = [&](std::string why) {
    return Fail(Refuse(Check::kCycleRecordNotAllowed,
                       "project " + ref + ": a " + kind + " record " + std::move(why)));
  };
  // A record that moves the project moves it as a JC decision would (R-JCM-04).
  const auto move_to = [&](const std::string& to) -> Status<Refusal> {
    if (auto moved = CheckTransition(project, to); !moved) {
      return Fail(Refuse(Check::kCycleRecordNotAllowed,
                         "project " + ref + ": a " + kind + " record " +
                             "is not allowed while the project is " + project.state + " (" +
                             moved.error().message + ")"));
    }
    step.to = to;
    return {};
  };
  const bool registered = project.state == "registered";
  const auto period_in = [&](PeriodState state) -> Result<MonitoringPeriod*, Refusal> {
    MonitoringPeriod* p = FindPeriod(next, *record.monitoring);
    if (p == nullptr) {
      return Fail(Refuse(Check::kCycleRecordNotAllowed,
                         "project " + ref + ": a " + kind + " record names the monitoring period " +
                             PeriodText(*record.monitoring) +
                             ", which has no monitoring report recorded, or is decided"));
    }
    if (p->state != state) {
      return Fail(Refuse(Check::kCycleRecordNotAllowed,
                         "project " + ref + ": a " + kind + " record needs the monitoring period " +
                             PeriodText(p->period) + " " + std::string(NameOf(state)) + "; it is " +
                             std::string(NameOf(p->state))));
    }
    return p;
  };

  switch (record.kind) {
    case RecordKind::kValidationReport:
      if (project.state != "validation" && project.state != "registration_requested") {
        return not_allowed(
            "is recorded while the project is in validation or its registration "
            "is requested; it is " +
            project.state);
      }
      next.validated = true;
      break;
    case RecordKind::kRegistrationRequest:
      if (auto moved = move_to("registration_requested"); !moved) return Fail(moved.error());
      break;
    case RecordKind::kRegistration:
      if (!cycle.validated) {
        return not_allowed(
            "needs the validation report first (a project is registered on its "
            "validation report)");
      }
      if (auto moved = move_to("registered"); !moved) return Fail(moved.error());
      break;
    case RecordKind::kWithdrawal:
      switch (*record.withdraws) {
        case Withdrawn::kProject:
          if (auto moved = move_to("project_withdrawn"); !moved) return Fail(moved.error());
          break;
        case Withdrawn::kRegistrationRequest:
          if (auto moved = move_to("registration_withdrawn"); !moved) return Fail(moved.error());
          break;
        case Withdrawn::kIssuanceRequest: {
          if (!registered) return not_allowed("needs a registered project; it is " + project.state);
          auto found = period_in(PeriodState::kRequested);
          if (!found) return Fail(found.error());
          MonitoringPeriod* const p = *found;
          p->state = PeriodState::kVerified;  // The request may be made again.
          break;
        }
      }
      break;
    case RecordKind::kMonitoringReport:
    case RecordKind::kVerificationReport:
    case RecordKind::kIssuanceRequest:
    case RecordKind::kJcDecision:
    case RecordKind::kPostRegistrationChange:
    case RecordKind::kCreditingPeriodRenewal:
      if (!registered) {
        return not_allowed("comes after registration; the project is " + project.state);
      }
      if (record.kind == RecordKind::kMonitoringReport) {
        next.periods.push_back(MonitoringPeriod{*record.monitoring, PeriodState::kReported, ""});
        next.last_period_end = record.monitoring->end;
      } else if (record.kind == RecordKind::kVerificationReport) {
        auto found = period_in(PeriodState::kReported);
        if (!found) return Fail(found.error());
        MonitoringPeriod* const p = *found;
        p->state = PeriodState::kVerified;
        p->tpe = record.tpe;
      } else if (record.kind == RecordKind::kIssuanceRequest) {
        auto found = period_in(PeriodState::kVerified);
        if (!found) return Fail(found.error());
        MonitoringPeriod* const p = *found;
        p->state = PeriodState::kRequested;
      } else if (record.kind == RecordKind::kJcDecision) {
        auto found = period_in(PeriodState::kRequested);
        if (!found) return Fail(found.error());
        // Decided is final: the period leaves the state the rules carry, so that a record costs
        // the same however many periods the project had (the records keep it).
        const MonitoringPeriod* const p = *found;
        next.periods.erase(next.periods.begin() + (p - next.periods.data()));
      } else if (record.kind == RecordKind::kCreditingPeriodRenewal) {
        next.crediting_end = record.crediting->end;
      }
      break;
  }
  next.records = cycle.records + 1;
  next.last_date = record.date;
  return step;
}

}  // namespace registry
