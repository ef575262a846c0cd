#include "core/text.h"

#include <cstdint>
#include <cstdio>

namespace registry {
namespace {

std::string Hex(unsigned char c) {
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "0x%02X", c);
  return buffer;
}

// The length of the UTF-8 sequence at text[i], or 0 when it is not one (RFC
// 3629 table 3-7).
size_t SequenceLength(std::string_view text, size_t i) {
  const auto at = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = at(i);
  if (c < 0x80) return 1;
  size_t n = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;  // The range of the second byte.
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) low = 0xA0;   // No overlong three-byte form.
    if (c == 0xED) high = 0x9F;  // No surrogates (U+D800-U+DFFF).
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) low = 0x90;   // No overlong four-byte form.
    if (c == 0xF4) high = 0x8F;  // Nothing above U+10FFFF.
  } else {
    return 0;  // 0x80-0xC1 (a continuation or an overlong lead) and 0xF5-0xFF.
  }
  if (i + n > text.size()) return 0;
  if (at(i + 1) < low || at(i + 1) > high) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (at(i + k) < 0x80 || at(i + k) > 0xBF) return 0;
  }
  return n;
}

}  // namespace

std::optional<size_t> FirstBadByte(std::string_view text, Controls controls) {
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7F) {
      const bool whitespace = c == '\t' || c == '\n' || c == '\r';
      if (controls == Controls::kRefuse || !whitespace) return i;
    }
    const size_t n = SequenceLength(text, i);
    if (n == 0) return i;
    i += n;
  }
  return std::nullopt;
}

std::optional<std::string> TextProblem(std::string_view text, Controls controls) {
  const auto at = FirstBadByte(text, controls);
  if (!at) return std::nullopt;
  const auto c = static_cast<unsigned char>(text[*at]);
  if (c < 0x20 || c == 0x7F) {
    return "a control character (" + Hex(c) + ") at offset " + std::to_string(*at);
  }
  return "byte " + Hex(c) + " at offset " + std::to_string(*at) + " is not UTF-8";
}

bool IsUtf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const size_t n = SequenceLength(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string GroupThousands(int64_t n) {
  const std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

}  // namespace registry
