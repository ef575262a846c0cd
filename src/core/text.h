// Text from outside (a request's path, query, headers and body, an idempotency
// key, a command line argument, an imported file) is checked here before
// anything keeps or echoes it: valid UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF) and, where asked, free of control
// characters. A byte that is not UTF-8 made the JSON writer throw wherever the
// text was echoed (an access log line, an error message, a journal read), which
// stopped the server and made journal pages unreadable (issue 33).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace registry {

// What `TextProblem` allows besides printable UTF-8.
enum class Controls {
  kRefuse,     // No C0 control (U+0000-U+001F) and no DEL: names, keys, paths,
               // header values.
  kWhitespace  // Tab, LF and CR allowed; any other control refused: free text.
};

// Nullopt when `text` is valid UTF-8 within `controls`; otherwise what is
// wrong, naming the byte and its offset ("byte 0xFF at offset 3 is not UTF-8",
// "a control character (0x00) at offset 0"), for an error message.
std::optional<std::string> TextProblem(std::string_view text,
                                       Controls controls = Controls::kRefuse);

// The offset of the first byte TextProblem objects to, or nullopt.
std::optional<size_t> FirstBadByte(std::string_view text, Controls controls = Controls::kRefuse);

// True when `text` is valid UTF-8 (controls allowed).
bool IsUtf8(std::string_view text);

// A whole number with thousands separated for people: 1234567 -> "1,234,567" (as the portal's
// fmt in app.js).
std::string GroupThousands(int64_t n);

}  // namespace registry
