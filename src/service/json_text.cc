// See json_text.h.
#include "service/json_text.h"

#include <charconv>
#include <optional>
#include <vector>

#include "core/limits.h"

namespace registry::service {
namespace {

class JsonWriter {
 public:
  JsonWriter(std::string& out, int indent, bool lossy)
      : out_(out), indent_(indent), lossy_(lossy) {}

  void Value(const Json& v, int depth) {
    switch (v.type()) {
      case Json::value_t::null:
        out_.append("null");
        return;
      case Json::value_t::boolean:
        out_.append(v.get<bool>() ? "true" : "false");
        return;
      case Json::value_t::number_integer:
        Integer(v.get<int64_t>());
        return;
      case Json::value_t::number_unsigned:
        Integer(v.get<uint64_t>());
        return;
      case Json::value_t::string:
        String(v.get_ref<const std::string&>());
        return;
      case Json::value_t::object:
        Object(v, depth);
        return;
      case Json::value_t::array:
        Array(v, depth);
        return;
      default:  // Floating point, binary, discarded: nlohmann's own format.
        out_.append(
            v.dump(-1, ' ', false,
                   lossy_ ? Json::error_handler_t::replace : Json::error_handler_t::strict));
        return;
    }
  }

 private:
  template <class T>
  void Integer(T n) {
    char buffer[24];
    const auto r = std::to_chars(buffer, buffer + sizeof buffer, n);
    out_.append(buffer, r.ptr);
  }

  void String(const std::string& s) {
    for (const char ch : s) {
      const auto c = static_cast<unsigned char>(ch);
      if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) {
        // Escapes, UTF-8 checks: nlohmann's, byte for byte.
        out_.append(lossy_ ? Json(s).dump(-1, ' ', false, Json::error_handler_t::replace)
                           : Json(s).dump());
        return;
      }
    }
    out_.push_back('"');
    out_.append(s);
    out_.push_back('"');
  }

  // Before a member or element at `depth` (pretty text only).
  void NewLine(int depth) {
    out_.push_back('\n');
    out_.append(static_cast<size_t>(depth) * static_cast<size_t>(indent_), ' ');
  }

  void Object(const Json& v, int depth) {
    Members(v, depth, '{', '}', [&](Json::const_iterator it) {
      String(it.key());
      out_.append(indent_ >= 0 ? ": " : ":");
      Value(it.value(), depth + 1);
    });
  }

  void Array(const Json& v, int depth) {
    Members(v, depth, '[', ']', [&](Json::const_iterator it) { Value(*it, depth + 1); });
  }

  // The members of an object or the elements of an array, between `open` and `close`.
  template <class Write>
  void Members(const Json& v, int depth, char open, char close, const Write& write) {
    out_.push_back(open);
    if (v.empty()) {
      out_.push_back(close);
      return;
    }
    for (auto it = v.cbegin(); it != v.cend(); ++it) {
      if (it != v.cbegin()) out_.push_back(',');
      if (indent_ >= 0) NewLine(depth + 1);
      write(it);
    }
    if (indent_ >= 0) NewLine(depth);
    out_.push_back(close);
  }

  std::string& out_;
  const int indent_;
  const bool lossy_;  // Invalid UTF-8 written as U+FFFD instead of thrown.
};

// The offset of the first byte of `text` that is not part of valid UTF-8 (RFC 3629: no overlong
// form, no surrogate, nothing above U+10FFFF), or nullopt when all of it is.
std::optional<size_t> InvalidUtf8At(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    size_t length = 0;
    unsigned char low = 0x80;  // The range of the second byte, which rules out the bad forms.
    unsigned char high = 0xBF;
    if (lead < 0x80) {
      ++i;
      continue;
    } else if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      if (lead == 0xE0) low = 0xA0;   // Overlong.
      if (lead == 0xED) high = 0x9F;  // Surrogates.
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      if (lead == 0xF0) low = 0x90;   // Overlong.
      if (lead == 0xF4) high = 0x8F;  // Above U+10FFFF.
    } else {
      return i;
    }
    if (i + length > text.size()) return i;
    for (size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if (next < (k == 1 ? low : 0x80) || next > (k == 1 ? high : 0xBF)) return i;
    }
    i += length;
  }
  return std::nullopt;
}

// Builds the document from nlohmann's SAX events, refusing what nlohmann would take (see
// ParseRequestJson). A container being filled is pointed to from `open_`: an object's members
// never move, and an array is not appended to while its last element is still open.
class StrictDocument {
 public:
  using number_integer_t = Json::number_integer_t;
  using number_unsigned_t = Json::number_unsigned_t;
  using number_float_t = Json::number_float_t;
  using string_t = Json::string_t;
  using binary_t = Json::binary_t;

  bool null() { return Place(Json(nullptr)); }

  bool boolean(bool value) { return Place(Json(value)); }

  bool number_integer(number_integer_t value) { return Place(Json(value)); }

  bool number_unsigned(number_unsigned_t value) { return Place(Json(value)); }

  bool number_float(number_float_t value, const string_t& text) {
    static_cast<void>(text);
    return Place(Json(value));
  }

  bool string(string_t& value) {
    if (value.find('\0') != std::string::npos) return Refuse("refused: a string holds a NUL character");
    return Place(Json(std::move(value)));
  }

  bool binary(binary_t& value) {  // Only binary formats (CBOR, ...) have these, never JSON text.
    static_cast<void>(value);
    return Refuse("refused: binary values are not JSON");
  }

  bool start_object(size_t elements) {
    static_cast<void>(elements);
    return Open(Json::object());
  }

  bool key(string_t& name) {
    if (name.find('\0') != std::string::npos) return Refuse("refused: a key holds a NUL character");
    if (open_.back()->contains(name)) {
      return Refuse("refused: the key '" + name + "' appears twice in one object");
    }
    key_ = std::move(name);
    return true;
  }

  bool end_object() {
    open_.pop_back();
    return true;
  }

  bool start_array(size_t elements) {
    static_cast<void>(elements);
    return Open(Json::array());
  }

  bool end_array() {
    open_.pop_back();
    return true;
  }

  bool parse_error(size_t position, const std::string& last_token, const Json::exception& e) {
    static_cast<void>(position);
    static_cast<void>(last_token);
    std::string what = e.what();  // "[json.exception.parse_error.101] parse error at ..."
    if (const size_t end = what.find("] ");
        what.rfind("[json.exception.", 0) == 0 && end != std::string::npos) {
      what.erase(0, end + 2);
    }
    return Refuse("not valid JSON: " + what);
  }

  Json& root() { return root_; }

  const std::optional<std::string>& problem() const { return problem_; }

 private:
  // Puts `value` where the document is at: the root, the next element of the open array or the
  // member of the open object named by the last key. Returns where it went.
  Json* Put(Json value) {
    if (open_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    Json& parent = *open_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(value));
      return &parent.back();
    }
    Json& member = parent[key_];
    member = std::move(value);
    return &member;
  }

  bool Place(Json value) {
    Put(std::move(value));
    return true;
  }

  bool Open(Json container) {
    if (open_.size() >= kJsonDepthMax) {
      return Refuse("refused: objects and arrays nest more than " + std::to_string(kJsonDepthMax) + " deep");
    }
    open_.push_back(Put(std::move(container)));
    return true;
  }

  bool Refuse(std::string problem) {
    if (!problem_) problem_ = std::move(problem);
    return false;  // Stops the parser.
  }

  Json root_;
  std::vector<Json*> open_;
  std::string key_;
  std::optional<std::string> problem_;
};

Unexpected<Refusal> Malformed(const std::string& problem) {
  return Fail(Refusal{Check::kMalformedRequest, "the request is " + problem});
}

}  // namespace

Result<Json, Refusal> ParseRequestJson(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") {
    return Malformed("not JSON as sent: it begins with a UTF-8 byte order mark (EF BB BF)");
  }
  if (const auto at = InvalidUtf8At(text)) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    const auto byte = static_cast<unsigned char>(text[*at]);
    return Malformed("not valid UTF-8: byte " + std::to_string(*at) + " (0x" + kHex[byte >> 4] +
                     kHex[byte & 0xF] + ") does not begin a well-formed UTF-8 character");
  }
  if (const size_t at = text.find('\0'); at != std::string_view::npos) {
    return Malformed("not valid JSON: it holds a NUL character at byte " + std::to_string(at));
  }
  StrictDocument document;
  const bool parsed = Json::sax_parse(text.begin(), text.end(), &document);
  if (!parsed || document.problem()) {
    return Malformed(document.problem().value_or("not valid JSON"));
  }
  return std::move(document.root());
}

std::string DumpJson(const Json& value, int indent) {
  std::string out;
  JsonWriter(out, indent, false).Value(value, 0);
  return out;
}

std::string DumpJsonLossy(const Json& value, int indent) {
  std::string out;
  JsonWriter(out, indent, true).Value(value, 0);
  return out;
}

}  // namespace registry::service
