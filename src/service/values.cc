// See values.h.
#include "service/values.h"

#include <algorithm>
#include <array>
#include <vector>
#include <string_view>

#include "core/assert.h"
#include "core/limits.h"
#include "core/utc_time.h"
#include "service/article6_hooks.h"

namespace registry::service {
namespace {

// Two fields of one command where `earlier` may not come after `later`: both dates, or both integer
// years.
struct Ordered {
  std::string_view earlier;
  std::string_view later;
};

// A field whose value must be in a nomenclature list (core/nomenclature.h).
struct Listed {
  std::string_view field;
  std::string_view list;
};

// A field that must be a JSON array or object when present (the handler skipped any other).
struct Shaped {
  std::string_view field;
  Json::value_t type;
};

struct ValueSpec {
  std::string_view command;
  std::vector<std::string_view> dates;
  std::vector<Ordered> ordered;
  std::vector<Listed> listed;
  // Integer years: four digits. The handlers read them as int32_t, so 4294969317 was 2021.
  std::vector<std::string_view> years = {};
  std::vector<Shaped> shaped = {};
};

// Every command with a date, an ordered pair or a nomenclature field. The other fields of every
// command are checked by its handler (service/fields.h lists them all).
const std::array kValueSpecs = {
    ValueSpec{"issue",
              {"monitoring_start", "monitoring_end"},
              {{"monitoring_start", "monitoring_end"}},
              {{"sector", "sectors"}, {"activity_type", "activity_types"}}},
    ValueSpec{"issue.jcm",
              {"decision_date", "monitoring_start", "monitoring_end"},
              {{"monitoring_start", "monitoring_end"},
               {"monitoring_start", "decision_date"},
               {"monitoring_end", "decision_date"}},
              {}},
    ValueSpec{"issue.itmo",
              {"date", "monitoring_start", "monitoring_end"},
              {{"monitoring_start", "monitoring_end"},
               {"monitoring_start", "date"},
               {"monitoring_end", "date"}},
              {}},
    ValueSpec{"ca.authorize",
              {"date", "valid_from", "valid_to", "final_issuance_date", "final_use_or_cancel_date"},
              {{"valid_from", "valid_to"},
               {"valid_from", "final_issuance_date"},
               {"valid_from", "final_use_or_cancel_date"},
               {"vintage_from", "vintage_to"}},
              {},
              {"vintage_from", "vintage_to"}},
    ValueSpec{"project.add",
              {"registration_date"},
              {},
              {{"sector", "sectors"}, {"activity_type", "activity_types"}}},
    ValueSpec{"project.transition", {"date"}, {}, {}},
    ValueSpec{"project.record",
              {"date", "monitoring_start", "monitoring_end", "crediting_start", "crediting_end"},
              {{"monitoring_start", "monitoring_end"}, {"crediting_start", "crediting_end"}},
              {},
              {},
              {{"document", Json::value_t::object}}},
    ValueSpec{"authorization.add", {"date"}, {}, {}},
    ValueSpec{"authorization.change", {"effective_date"}, {}, {}},
    ValueSpec{"report.initial.submit", {"date"}, {}, {}},
    ValueSpec{"report.aef.submit", {"date"}, {}, {}, {"year"}},
    ValueSpec{"notification.record", {"date"}, {}, {}},
    ValueSpec{"project.reversal", {"date"}, {}, {}},
    ValueSpec{"inconsistency.record", {}, {}, {}, {"year"}},
    ValueSpec{"ndc.configure", {}, {{"first_year", "last_year"}}, {}, {"first_year", "last_year"}},
    ValueSpec{"ndc.inventory", {}, {}, {}, {"first_year", "year"}},
    ValueSpec{"ndc.finalize", {}, {}, {}, {"first_year"}},
    ValueSpec{"transfer", {}, {}, {}, {"vintage"}},
    ValueSpec{"transfer.international", {}, {}, {}, {"vintage"}},
    ValueSpec{"retire", {}, {}, {}, {"vintage", "use_year"}},
    ValueSpec{"cancel", {}, {}, {}, {"vintage"}},
    ValueSpec{"authorization.add",
              {},
              {},
              {},
              {},
              {{"entities", Json::value_t::array}, {"change_terms", Json::value_t::object}}},
};

// `text` as a message shows it: whole up to 64 bytes, else its first 64 bytes (backing off to the
// start of a UTF-8 character, so that the message stays valid UTF-8) and "...".
std::string Shown(const std::string& text) {
  constexpr size_t kShownBytesMax = 64;
  if (text.size() <= kShownBytesMax) return text;
  size_t end = kShownBytesMax;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end) + "...";
}

// A value that is not the string a rule wants, as JSON text.
std::string ShownJson(const Json& value) { return Shown(value.dump()); }

Failure Invalid(const std::string& command, std::string_view field, const std::string& why) {
  return Failure::Refused(Check::kFieldInvalid,
                          command + ": field '" + std::string(field) + "' " + why);
}

// The value of `field` in `args`, or nullptr when it is absent or null (the handlers read a null as
// absent).
const Json* Present(const Json& args, std::string_view field) {
  const auto it = args.find(field);
  if (it == args.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<Failure> CheckDate(const std::string& command, const Json& args,
                                 std::string_view field) {
  const Json* value = Present(args, field);
  if (value == nullptr) return std::nullopt;
  if (!value->is_string()) {
    return Invalid(command, field, ShownJson(*value) + " is not a date like 2025-12-31");
  }
  const std::string& text = value->get_ref<const std::string&>();
  if (!ParseCalendarDate(text)) {
    return Invalid(command, field,
                   "'" + Shown(text) + "' is not a calendar date YYYY-MM-DD (like 2025-12-31)");
  }
  return std::nullopt;
}

// Dates compare as text once both are calendar dates (CheckDate ran first); years as integers. A
// pair of other types is left to the handler.
std::optional<Failure> CheckOrdered(const std::string& command, const Json& args,
                                    const Ordered& pair) {
  const Json* earlier = Present(args, pair.earlier);
  const Json* later = Present(args, pair.later);
  if (earlier == nullptr || later == nullptr) return std::nullopt;
  const bool dates = earlier->is_string() && later->is_string();
  const bool years = IsInt64(*earlier) && IsInt64(*later);
  if (!dates && !years) return std::nullopt;
  if (dates ? earlier->get_ref<const std::string&>() <= later->get_ref<const std::string&>()
            : earlier->get<int64_t>() <= later->get<int64_t>()) {
    return std::nullopt;
  }
  return Invalid(command, pair.later,
                 later->dump() + " is before " + std::string(pair.earlier) + " " + earlier->dump());
}

CommandResult<bool> CheckListed(Transaction& tx, const std::string& command, const Json& args,
                                const Listed& listed) {
  const Json* value = Present(args, listed.field);
  if (value == nullptr) return true;
  if (!value->is_string()) {
    return Fail(
        Invalid(command, listed.field,
                "must be a value of the AEF nomenclature list '" + std::string(listed.list) + "'"));
  }
  ASSIGN_OR_RETURN(const auto doc,
                   Lift(tx.GetDocument(kNomenclatureKind, std::string(listed.list))));
  if (!doc) {
    return Fail(Invalid(command, listed.field,
                        "needs the nomenclature list '" + std::string(listed.list) +
                            "', which is not loaded; run nomenclature.set first"));
  }
  const Json list = Json::parse(doc->body);
  for (const Json& known : list.at("values")) {
    if (known == *value) return true;
  }
  return Fail(Invalid(command, listed.field,
                      "'" + Shown(value->get<std::string>()) +
                          "' is not in the AEF nomenclature list '" + std::string(listed.list) +
                          "'"));
}

std::optional<Failure> CheckYear(const std::string& command, const Json& args,
                                 std::string_view field) {
  const Json* value = Present(args, field);
  if (value == nullptr || !value->is_number_integer()) return std::nullopt;  // IntArg refuses.
  if (IsInt64(*value) && value->get<int64_t>() >= 1000 && value->get<int64_t>() <= 9999) {
    return std::nullopt;
  }
  return Invalid(command, field, ShownJson(*value) + " is not a calendar year like 2025");
}

std::optional<Failure> CheckShape(const std::string& command, const Json& args,
                                  const Shaped& shaped) {
  const Json* value = Present(args, shaped.field);
  if (value == nullptr || value->type() == shaped.type) return std::nullopt;
  return Invalid(command, shaped.field,
                 ShownJson(*value) + " is not " +
                     (shaped.type == Json::value_t::array ? "a list" : "an object"));
}

// proposal.create's expires_at: a real time after `now`, at most the longest lifetime after it.
std::optional<Failure> CheckExpiry(const Json& args, const std::string& now) {
  const Json* value = Present(args, "expires_at");
  if (value == nullptr) return std::nullopt;
  const std::string command = "proposal.create";
  if (!value->is_string()) {
    return Invalid(command, "expires_at", ShownJson(*value) + " is not a UTC time like " + now);
  }
  const std::string& text = value->get_ref<const std::string&>();
  const auto at = ParseCalendarTime(text);
  if (!at) {
    return Invalid(
        command, "expires_at",
        "'" + Shown(text) + "' is not a UTC time YYYY-MM-DDTHH:MM:SSZ (like " + now + ")");
  }
  const auto created = ParseUtcTime(now);
  REGISTRY_ASSERT(created.has_value());  // The registry's own clock.
  if (*at <= *created) {
    return Invalid(command, "expires_at",
                   "'" + text + "' is not after the proposal's creation at " + now);
  }
  if (*at - *created > kProposalLifetimeSecondsMax) {
    return Invalid(command, "expires_at",
                   "'" + text + "' is more than " +
                       std::to_string(kProposalLifetimeSecondsMax / 86400) +
                       " days after the proposal's creation at " + now + " (latest " +
                       FormatUtcTime(*created + kProposalLifetimeSecondsMax) + ")");
  }
  return std::nullopt;
}

// The name of the first string or field name under `value` holding a NUL, as a path like
// "args.vintages[0].vintage"; nullopt when there is none. `depth` bounds the walk.
std::optional<std::string> NulAt(const Json& value, const std::string& path, size_t depth) {
  if (value.is_string()) {
    if (value.get_ref<const std::string&>().find('\0') != std::string::npos) return path;
    return std::nullopt;
  }
  if (depth >= kJsonDepthMax) return std::nullopt;  // ParseRequestJson refuses deeper text.
  if (value.is_object()) {
    for (const auto& [key, member] : value.items()) {
      std::string name = key;  // The message must not carry the NUL itself.
      for (size_t at = name.find('\0'); at != std::string::npos; at = name.find('\0', at)) {
        name.replace(at, 1, "\\u0000");
      }
      const std::string inner = path.empty() ? name : path + "." + name;
      if (name != key) return inner;
      if (auto found = NulAt(member, inner, depth + 1)) return found;
    }
  } else if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i) {
      if (auto found = NulAt(value[i], path + "[" + std::to_string(i) + "]", depth + 1)) {
        return found;
      }
    }
  }
  return std::nullopt;
}

}  // namespace

std::vector<std::string_view> ValueCheckedFields(std::string_view command) {
  std::vector<std::string_view> out;
  const auto add = [&out](std::string_view field) {
    if (std::find(out.begin(), out.end(), field) == out.end()) out.push_back(field);
  };
  for (const ValueSpec& spec : kValueSpecs) {
    if (spec.command != command) continue;
    for (const std::string_view field : spec.dates) add(field);
    for (const Ordered& pair : spec.ordered) {
      add(pair.earlier);
      add(pair.later);
    }
    for (const Listed& listed : spec.listed) add(listed.field);
    for (const std::string_view field : spec.years) add(field);
    for (const Shaped& shaped : spec.shaped) add(shaped.field);
  }
  if (command == "proposal.create") add("expires_at");
  return out;
}

std::optional<Failure> CheckValues(Transaction& tx, const std::string& command, const Json& args,
                                   const std::string& now) {
  if (!args.is_object()) return std::nullopt;
  if (const auto path = NulAt(args, "", 0)) {
    return Failure::Refused(Check::kFieldInvalid,
                            command + ": field '" + *path + "' holds a NUL character");
  }
  for (const ValueSpec& spec : kValueSpecs) {
    if (spec.command != command) continue;
    for (const std::string_view field : spec.dates) {
      if (auto failure = CheckDate(command, args, field)) return failure;
    }
    for (const std::string_view field : spec.years) {
      if (auto failure = CheckYear(command, args, field)) return failure;
    }
    for (const Ordered& pair : spec.ordered) {
      if (auto failure = CheckOrdered(command, args, pair)) return failure;
    }
    for (const Shaped& shaped : spec.shaped) {
      if (auto failure = CheckShape(command, args, shaped)) return failure;
    }
    for (const Listed& listed : spec.listed) {
      if (auto checked = CheckListed(tx, command, args, listed); !checked) {
        return std::move(checked).error();
      }
    }
  }
  if (command == "proposal.create") {
    if (auto failure = CheckExpiry(args, now)) return failure;
    const auto proposed = args.find("command");
    const auto inner = args.find("args");
    if (proposed != args.end() && proposed->is_string() && inner != args.end()) {
      if (auto failure = CheckValues(tx, proposed->get<std::string>(), *inner, now)) {
        if (failure->refusal)
          failure->refusal->message = "the proposed " + failure->refusal->message;
        return failure;
      }
    }
  }
  return std::nullopt;
}

}  // namespace registry::service
