// JSON text, byte for byte what nlohmann::json::dump writes, made faster where the registry
// spends its time: the journal's payloads and results, the documents and the HTTP answers are
// written once per command or request, and nlohmann decodes every byte of every string as
// UTF-8 (about 4% of the CPU of a four-eyes transfer over HTTP, docs/benchmarks.md). Strings
// that need neither escaping nor UTF-8 checking (printable ASCII without '"' or '\') are copied
// whole; any other string, any floating-point number and any binary value are written by
// nlohmann itself, so its escapes, its number format and its refusal of invalid UTF-8 (a
// json::type_error) stay the same. The bytes matter: the journal hashes the payload text and
// verify compares the documents replay writes with those stored. json_text_test compares the
// two writers over random documents.
#pragma once

#include <string>
#include <string_view>

#include "service/command.h"

namespace registry::service {

// As value.dump(indent): indent < 0 writes compact text; indent >= 0 writes each member and
// element on its own line, indented by `indent` spaces per level.
std::string DumpJson(const Json& value, int indent = -1);

// As DumpJson, but never throws: a string that is not valid UTF-8 is written with U+FFFD for
// each bad byte (nlohmann's error_handler_t::replace). For what is shown rather than kept: HTTP
// answers, log lines and the CLI's output, which may echo text from outside, or an old journal
// entry that holds bytes journaled before the edge refused them (issue 33). Same bytes as
// DumpJson for valid text.
std::string DumpJsonLossy(const Json& value, int indent = -1);

// Parses the JSON text of a request (an HTTP body, the arguments `jcmreg exec` is given) more
// strictly than nlohmann::json::parse, which takes the last of two equal keys, skips a byte order
// mark and lets an escaped NUL into a string. Refuses with JCM-100 malformed_request, naming the
// problem and where it is:
//   - text that is not one JSON value (RFC 8259), as nlohmann's parser reads it;
//   - a byte that is not part of valid UTF-8, in a string or anywhere else (overlong forms,
//     surrogates and code points above U+10FFFF included);
//   - a UTF-8 byte order mark at the start;
//   - a NUL character, raw or escaped as \u0000, in any string or key;
//   - two equal keys in one object (naming the key);
//   - objects and arrays nested more than kJsonDepthMax (64) deep.
// Any JSON value is returned; whether it must be an object is the caller's to say. The text is
// read once by nlohmann's SAX parser, which stops at the first problem; no exception escapes.
Result<Json, Refusal> ParseRequestJson(std::string_view text);

}  // namespace registry::service
