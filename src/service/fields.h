// The fields each command takes. A live request naming any other field is refused
// (JCM-106 unknown_field) before its command runs: a misspelt optional field ("projet" for
// "project", "vintge" for "vintage") was ignored, so the command did more than was asked, e.g. a
// transfer meant for one project's credits took any project's.
//
// Checked on live requests only (Registry::ApplyOne), never on a journal's replay: entries
// journaled before the check may carry fields their handlers ignored, and they replay as they
// were. A handler that starts reading a new field must list it here, or live requests naming it
// are refused (FieldsTest.EveryCommandHasItsFields and the command tests catch that).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "service/command.h"

namespace registry::service {

// The top-level fields of `command`, in the order the documentation gives them; empty for a
// command the registry does not know.
std::vector<std::string_view> CommandFields(std::string_view command);

// A refusal naming the first field of `args` that `command` does not take (at the top level,
// in the items of "vintages", in authorization.add's "change_terms", and in the arguments of
// the command a proposal.create proposes), with the fields it does take; nullopt when every
// field is known. Arguments that are not a JSON object, and unknown commands, are left to the
// command (which refuses them with their own codes).
std::optional<Failure> CheckFields(const std::string& command, const Json& args);

}  // namespace registry::service
