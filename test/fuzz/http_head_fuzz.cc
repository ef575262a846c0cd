// Fuzz target: the HTTP transport's request-head parser (http/transport.h), the first code a
// request from the network meets. Properties: no crash; a refusal has one of the transport's
// statuses and a message; an accepted head has a method token, HTTP/1.0 or 1.1, a target that
// is a path without spaces or control bytes, a body within the limit, a Content-Length on every
// POST and no Transfer-Encoding, header names and values free of line breaks, and a path, query
// and header values that are UTF-8 (the path and query without control characters).
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/text.h"
#include "fuzz_check.h"
#include "http/transport.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  constexpr size_t kHeadMax = 4096;
  constexpr size_t kBodyMax = 1000;
  httplib::Request req;
  registry::http::RequestHead head;
  std::string message;
  size_t length = 0;
  bool invalid_text = false;
  const int status = registry::http::ParseRequestHead(text, kHeadMax, kBodyMax, req, head, length,
                                                      message, &invalid_text);
  if (status != 0) {
    FUZZ_CHECK(status == 400 || status == 411 || status == 413 || status == 431);
    FUZZ_CHECK(!message.empty());
    FUZZ_CHECK(!invalid_text || status == 400);
    return 0;
  }
  FUZZ_CHECK(!invalid_text);
  FUZZ_CHECK(message.empty());
  if (length == 0) {
    // Not whole yet: no blank line within the limit, and nothing refused so far.
    FUZZ_CHECK(text.size() < kHeadMax + 4);
    return 0;
  }
  FUZZ_CHECK(length <= text.size() && length <= kHeadMax);
  FUZZ_CHECK(text.substr(length - 4, 4) == "\r\n\r\n");
  // What the router, the log and the handlers see is text (issue 33).
  FUZZ_CHECK(!registry::TextProblem(req.path).has_value());
  for (const auto& [name, value] : req.params) {
    FUZZ_CHECK(!registry::TextProblem(name).has_value());
    FUZZ_CHECK(!registry::TextProblem(value).has_value());
  }
  for (const auto& [name, value] : req.headers) {
    FUZZ_CHECK(registry::IsUtf8(value));
  }
  FUZZ_CHECK(!req.method.empty() && req.method.size() <= 16);
  FUZZ_CHECK(std::none_of(req.method.begin(), req.method.end(), [](char c) {
    return static_cast<unsigned char>(c) <= 0x20 || c == ':' || c == '/';
  }));
  FUZZ_CHECK(req.version == "HTTP/1.1" || req.version == "HTTP/1.0");
  FUZZ_CHECK(!req.target.empty() && req.target.front() == '/');
  FUZZ_CHECK(std::none_of(req.target.begin(), req.target.end(), [](char c) {
    return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
  }));
  FUZZ_CHECK(head.content_length <= kBodyMax);
  FUZZ_CHECK(!req.has_header("Transfer-Encoding"));
  if (req.method == "POST") FUZZ_CHECK(req.has_header("Content-Length"));
  for (const auto& [name, value] : req.headers) {
    FUZZ_CHECK(!name.empty());
    FUZZ_CHECK(name.find_first_of(" \t\r\n:") == std::string::npos);
    FUZZ_CHECK(value.find_first_of("\r\n") == std::string::npos);
    FUZZ_CHECK(value.empty() || (value.front() != ' ' && value.back() != ' '));
  }
  if (req.version == "HTTP/1.0") FUZZ_CHECK(!head.expect_continue);
  return 0;
}
