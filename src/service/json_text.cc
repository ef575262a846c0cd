// See json_text.h.
#include "service/json_text.h"

#include <charconv>

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

}  // namespace

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
