#include "report/xlsx_reader.h"

#include <libxml/xmlreader.h>
#include <zip.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string_view>

namespace registry::report {
namespace {

// No part of a workbook we read may inflate beyond this (a zip bomb stops here).
constexpr zip_uint64_t kPartMax = zip_uint64_t{1} << 30;
constexpr int64_t kRowsMax = 1048576;   // The XLSX grid: 2^20 rows ...
constexpr int64_t kColumnsMax = 16384;  // ... and 2^14 columns.

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
using ZipPtr = std::unique_ptr<zip_t, ZipCloser>;

struct ReaderFree {
  void operator()(xmlTextReaderPtr r) const { xmlFreeTextReader(r); }
};

// The byte source libxml2 pulls a part from, straight out of the zip (no copy of the part).
struct PartSource {
  zip_file_t* file = nullptr;
  zip_uint64_t read = 0;
  std::string error;  // Set when the zip layer fails or the part is too large.
};

int ReadPart(void* context, char* buffer, int len) {
  auto* source = static_cast<PartSource*>(context);
  const zip_int64_t n = zip_fread(source->file, buffer, static_cast<zip_uint64_t>(len));
  if (n < 0) {
    source->error = zip_file_strerror(source->file);
    return -1;
  }
  source->read += static_cast<zip_uint64_t>(n);
  if (source->read > kPartMax) {
    source->error = "inflates beyond " + std::to_string(kPartMax >> 20) + " MiB";
    return -1;
  }
  return static_cast<int>(n);
}

int ClosePart(void*) { return 0; }

void OnXmlError(void* arg, const char* msg, xmlParserSeverities severity,
                xmlTextReaderLocatorPtr locator) {
  if (severity == XML_PARSER_SEVERITY_WARNING || severity == XML_PARSER_SEVERITY_VALIDITY_WARNING) {
    return;
  }
  auto* error = static_cast<std::string*>(arg);
  if (!error->empty()) return;  // Keep the first.
  std::string text = msg == nullptr ? "malformed XML" : msg;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  *error = "malformed XML at line " + std::to_string(xmlTextReaderLocatorLineNumber(locator)) +
           ": " + text;
}

std::string_view LocalName(xmlTextReaderPtr r) {
  const xmlChar* name = xmlTextReaderConstLocalName(r);
  return name == nullptr ? std::string_view() : std::string_view(reinterpret_cast<const char*>(name));
}

std::optional<std::string> Attribute(xmlTextReaderPtr r, const char* name) {
  xmlChar* value = xmlTextReaderGetAttribute(r, reinterpret_cast<const xmlChar*>(name));
  if (value == nullptr) return std::nullopt;
  std::string out(reinterpret_cast<const char*>(value));
  xmlFree(value);
  return out;
}

// The relationship id attribute (r:id), whatever the namespace prefix (transitional or strict).
std::optional<std::string> RelationshipId(xmlTextReaderPtr r) {
  std::optional<std::string> out;
  if (xmlTextReaderMoveToFirstAttribute(r) != 1) return out;
  do {
    if (LocalName(r) == "id" && xmlTextReaderConstNamespaceUri(r) != nullptr) {
      out = std::string(reinterpret_cast<const char*>(xmlTextReaderConstValue(r)));
    }
  } while (xmlTextReaderMoveToNextAttribute(r) == 1);
  xmlTextReaderMoveToElement(r);
  return out;
}

class Package {
 public:
  static Result<Package, std::string> Open(const std::string& path) {
    int code = 0;
    zip_t* z = zip_open(path.c_str(), ZIP_RDONLY, &code);
    if (z == nullptr) {
      zip_error_t error;
      zip_error_init_with_code(&error, code);
      std::string message = zip_error_strerror(&error);
      zip_error_fini(&error);
      return Fail(path + ": not a readable XLSX workbook (zip: " + message + ")");
    }
    return Package(ZipPtr(z));
  }

  bool Has(const std::string& part) const {
    return zip_name_locate(zip_.get(), part.c_str(), ZIP_FL_NOCASE) >= 0;
  }

  // Streams part `name` through libxml2 and calls `visit` on every node; `visit` returns an
  // error message to stop. Documents with a DTD are refused (no entity tricks).
  template <class Visit>
  Status<std::string> Walk(const std::string& name, Visit&& visit) const {
    const zip_int64_t index = zip_name_locate(zip_.get(), name.c_str(), ZIP_FL_NOCASE);
    if (index < 0) return Fail(name + ": missing from the workbook");
    PartSource source;
    source.file = zip_fopen_index(zip_.get(), static_cast<zip_uint64_t>(index), 0);
    if (source.file == nullptr) {
      return Fail(name + ": cannot open (zip: " + zip_strerror(zip_.get()) + ")");
    }
    std::string xml_error;
    std::optional<std::string> stop;
    {
      std::unique_ptr<xmlTextReader, ReaderFree> reader(xmlReaderForIO(
          ReadPart, ClosePart, &source, name.c_str(), nullptr, XML_PARSE_NONET | XML_PARSE_COMPACT));
      if (!reader) {
        zip_fclose(source.file);
        return Fail(name + ": cannot start the XML reader");
      }
      xmlTextReaderSetErrorHandler(reader.get(), OnXmlError, &xml_error);
      int ret = 0;
      while ((ret = xmlTextReaderRead(reader.get())) == 1) {
        if (xmlTextReaderNodeType(reader.get()) == XML_READER_TYPE_DOCUMENT_TYPE) {
          stop = "a DTD is not allowed in a workbook part";
          break;
        }
        stop = visit(reader.get());
        if (stop) break;
      }
      if (!stop && ret < 0 && xml_error.empty()) xml_error = "malformed XML";
    }
    zip_fclose(source.file);
    if (!source.error.empty()) return Fail(name + ": " + source.error);
    if (stop) return Fail(name + ": " + *stop);
    if (!xml_error.empty()) return Fail(name + ": " + xml_error);
    return {};
  }

 private:
  explicit Package(ZipPtr zip) : zip_(std::move(zip)) {}
  ZipPtr zip_;
};

// The characters of UTF-8 text (its bytes that do not continue a character).
int64_t Characters(const std::string& text) {
  return std::count_if(text.begin(), text.end(),
                       [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

// Collects the text of <t> or <v> elements (and skips phonetic runs, <rPh>). It stops collecting
// past what a cell of kXlsxCellCharsMax characters can take as raw XML text (an escape such as
// _x000D_ is seven characters for one, a character up to four bytes), so one cell cannot grow
// without bound.
class TextCollector {
 public:
  static constexpr size_t kRawBytesMax = 7 * 4 * static_cast<size_t>(kXlsxCellCharsMax);

  void Feed(xmlTextReaderPtr r) {
    const int type = xmlTextReaderNodeType(r);
    if (type == XML_READER_TYPE_ELEMENT) {
      const std::string_view name = LocalName(r);
      if (name == "rPh" && !xmlTextReaderIsEmptyElement(r)) in_phonetic_ = true;
      if ((name == "t" || name == "v") && !in_phonetic_ && !xmlTextReaderIsEmptyElement(r)) {
        collecting_ = true;
      }
    } else if (type == XML_READER_TYPE_END_ELEMENT) {
      const std::string_view name = LocalName(r);
      if (name == "rPh") in_phonetic_ = false;
      if (name == "t" || name == "v") collecting_ = false;
    } else if (collecting_ &&
               (type == XML_READER_TYPE_TEXT || type == XML_READER_TYPE_CDATA ||
                type == XML_READER_TYPE_WHITESPACE ||
                type == XML_READER_TYPE_SIGNIFICANT_WHITESPACE)) {
      const xmlChar* value = xmlTextReaderConstValue(r);
      if (value == nullptr || overflow_) return;
      text_ += reinterpret_cast<const char*>(value);
      if (text_.size() > kRawBytesMax) overflow_ = true;
    }
  }
  // The text collected since the last call, decoded; nullopt when it is longer than
  // kXlsxCellCharsMax characters.
  std::optional<std::string> Take() {
    in_phonetic_ = collecting_ = false;
    std::string text = DecodeXstring(std::exchange(text_, std::string()));
    if (std::exchange(overflow_, false) || Characters(text) > kXlsxCellCharsMax) {
      return std::nullopt;
    }
    return text;
  }
  void Reset() {
    text_.clear();
    in_phonetic_ = collecting_ = overflow_ = false;
  }

 private:
  std::string text_;
  bool collecting_ = false;
  bool in_phonetic_ = false;
  bool overflow_ = false;
};

std::string TooLong() {
  return "more than " + std::to_string(kXlsxCellCharsMax) +
         " characters in one cell (Excel's limit)";
}

// What one read has placed, against its XlsxLimits: each Take* returns a message naming the
// limit when the request would pass it, before the memory is taken.
class Budget {
 public:
  explicit Budget(const XlsxLimits& limits) : limits_(limits) {}
  std::optional<std::string> TakeCells(int64_t n) {
    if (n > limits_.cells_max - cells_) {
      return "more than " + std::to_string(limits_.cells_max) +
             " cells in the workbook, empty ones before a filled one included (the most one read "
             "takes)";
    }
    cells_ += n;
    return std::nullopt;
  }
  std::optional<std::string> TakeText(size_t bytes) {
    if (static_cast<int64_t>(bytes) > limits_.text_bytes_max - text_bytes_) {
      return "more than " + std::to_string(limits_.text_bytes_max) +
             " bytes of cell text in the workbook, each use of a shared string counted (the most "
             "one read takes)";
    }
    text_bytes_ += static_cast<int64_t>(bytes);
    return std::nullopt;
  }
  int64_t columns_max() const { return limits_.columns_max; }

 private:
  const XlsxLimits limits_;
  int64_t cells_ = 0;
  int64_t text_bytes_ = 0;
};

// "A1" -> column 1; "AB12" -> 28. Nullopt when the reference has no letters or is off the grid.
std::optional<int64_t> ColumnOf(const std::string& ref) {
  int64_t col = 0;
  size_t i = 0;
  for (; i < ref.size() && ref[i] >= 'A' && ref[i] <= 'Z'; ++i) {
    col = col * 26 + (ref[i] - 'A' + 1);
    if (col > kColumnsMax) return std::nullopt;
  }
  if (i == 0) return std::nullopt;
  return col;
}

std::optional<int64_t> PositiveInt(const std::string& text) {
  int64_t v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v < 1) return std::nullopt;
  return v;
}

// The text a number cell shows in the AEF: integers as digits, others with 15 significant digits.
std::string NumberText(const std::string& raw) {
  std::string text = raw;
  while (!text.empty() && (text.front() == ' ' || text.front() == '+')) text.erase(0, 1);
  while (!text.empty() && text.back() == ' ') text.pop_back();
  bool digits = !text.empty() && text.size() <= 17;
  for (size_t i = 0; i < text.size() && digits; ++i) {
    digits = (text[i] >= '0' && text[i] <= '9') || (i == 0 && text[i] == '-' && text.size() > 1);
  }
  if (digits) return text == "-0" ? "0" : text;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v)) return raw;
  char buf[40];
  if (v == std::floor(v) && std::fabs(v) < 9007199254740992.0) {
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
  } else {
    std::snprintf(buf, sizeof buf, "%.15g", v);
  }
  return buf;
}

// Resolves a relationship target against the folder of the part that holds the relationship.
std::string ResolveTarget(const std::string& base_dir, const std::string& target) {
  std::string path = !target.empty() && target[0] == '/' ? target.substr(1) : base_dir + target;
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t slash = path.find('/', start);
    const std::string part = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : "/") + p;
  return out;
}

std::string DirOf(const std::string& part) {
  const size_t slash = part.rfind('/');
  return slash == std::string::npos ? "" : part.substr(0, slash + 1);
}

std::string RelsOf(const std::string& part) {
  const size_t slash = part.rfind('/');
  return slash == std::string::npos ? "_rels/" + part + ".rels"
                                    : part.substr(0, slash + 1) + "_rels/" + part.substr(slash + 1) + ".rels";
}

struct Relationship {
  std::string type, target;
};

Result<std::map<std::string, Relationship>, std::string> ReadRels(const Package& pkg,
                                                                  const std::string& part) {
  std::map<std::string, Relationship> out;
  const std::string rels = RelsOf(part);
  if (!pkg.Has(rels)) return out;
  const std::string dir = DirOf(part);
  auto walked = pkg.Walk(rels, [&](xmlTextReaderPtr r) -> std::optional<std::string> {
    if (xmlTextReaderNodeType(r) != XML_READER_TYPE_ELEMENT || LocalName(r) != "Relationship") {
      return std::nullopt;
    }
    const auto id = Attribute(r, "Id");
    const auto target = Attribute(r, "Target");
    if (!id || !target) return "a Relationship without Id or Target";
    if (Attribute(r, "TargetMode").value_or("") == "External") return std::nullopt;
    out[*id] = Relationship{Attribute(r, "Type").value_or(""), ResolveTarget(dir, *target)};
    return std::nullopt;
  });
  if (!walked) return Fail(walked.error());
  return out;
}

bool EndsWith(const std::string& text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Result<std::vector<std::string>, std::string> ReadSharedStrings(const Package& pkg,
                                                                const std::string& part,
                                                                Budget& budget) {
  std::vector<std::string> strings;
  TextCollector text;
  bool in_item = false;
  auto walked = pkg.Walk(part, [&](xmlTextReaderPtr r) -> std::optional<std::string> {
    const int type = xmlTextReaderNodeType(r);
    if (type == XML_READER_TYPE_ELEMENT && LocalName(r) == "si") {
      if (auto over = budget.TakeCells(1)) return over;  // Each string is one more cell held.
      if (xmlTextReaderIsEmptyElement(r)) {
        strings.emplace_back();
      } else {
        in_item = true;
        text.Reset();
      }
      return std::nullopt;
    }
    if (type == XML_READER_TYPE_END_ELEMENT && LocalName(r) == "si") {
      in_item = false;
      auto item = text.Take();
      if (!item) return "shared string " + std::to_string(strings.size()) + ": " + TooLong();
      if (auto over = budget.TakeText(item->size())) return over;
      strings.push_back(std::move(*item));
      return std::nullopt;
    }
    if (in_item) text.Feed(r);
    return std::nullopt;
  });
  if (!walked) return Fail(walked.error());
  return strings;
}

Result<std::vector<std::vector<std::string>>, std::string> ReadSheet(
    const Package& pkg, const std::string& part, const std::vector<std::string>& shared,
    Budget& budget) {
  std::vector<std::vector<std::string>> rows;
  int64_t row = 0, col = 0;
  bool in_cell = false;
  std::string cell_type;
  TextCollector text;
  auto place = [&](const std::string& value) -> std::optional<std::string> {
    if (value.empty()) return std::nullopt;
    if (row < 1 || row > kRowsMax) return "row " + std::to_string(row) + " is off the grid";
    // An empty row before this one counts as one cell; so does each empty cell before this one.
    if (static_cast<size_t>(row) > rows.size()) {
      if (auto over = budget.TakeCells(row - static_cast<int64_t>(rows.size()))) return over;
      rows.resize(static_cast<size_t>(row));
    }
    auto& cells = rows[static_cast<size_t>(row - 1)];
    if (static_cast<size_t>(col) > cells.size()) {
      if (auto over = budget.TakeCells(col - static_cast<int64_t>(cells.size()))) return over;
      cells.resize(static_cast<size_t>(col));
    }
    if (auto over = budget.TakeText(value.size())) return over;
    cells[static_cast<size_t>(col - 1)] = value;
    return std::nullopt;
  };
  auto walked = pkg.Walk(part, [&](xmlTextReaderPtr r) -> std::optional<std::string> {
    const int type = xmlTextReaderNodeType(r);
    const std::string_view name = type == XML_READER_TYPE_ELEMENT || type == XML_READER_TYPE_END_ELEMENT
                                      ? LocalName(r)
                                      : std::string_view();
    if (type == XML_READER_TYPE_ELEMENT && name == "row") {
      const auto r_attr = Attribute(r, "r");
      if (r_attr) {
        const auto n = PositiveInt(*r_attr);
        if (!n || *n > kRowsMax || *n <= row) return "row number '" + *r_attr + "' is invalid or out of order";
        row = *n;
      } else {
        ++row;
      }
      col = 0;
      return std::nullopt;
    }
    if (type == XML_READER_TYPE_ELEMENT && name == "c") {
      const auto ref = Attribute(r, "r");
      if (ref) {
        const auto c = ColumnOf(*ref);
        if (!c) return "cell reference '" + *ref + "' is invalid";
        col = *c;
      } else {
        ++col;
      }
      if (col > kColumnsMax) return "more than " + std::to_string(kColumnsMax) + " columns";
      if (col > budget.columns_max()) {
        return "cell " + std::to_string(row) + ":" + std::to_string(col) + " is beyond column " +
               std::to_string(budget.columns_max()) + ", the last one this read takes";
      }
      cell_type = Attribute(r, "t").value_or("n");
      in_cell = !xmlTextReaderIsEmptyElement(r);
      text.Reset();
      return std::nullopt;
    }
    if (!in_cell) return std::nullopt;
    if (type == XML_READER_TYPE_END_ELEMENT && name == "c") {
      in_cell = false;
      const std::string at = "cell " + std::to_string(row) + ":" + std::to_string(col);
      const auto taken = text.Take();
      if (!taken) return at + ": " + TooLong();
      const std::string& raw = *taken;
      if (cell_type == "s") {
        if (raw.empty()) return std::nullopt;
        size_t i = 0;
        const auto [p, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), i);
        if (ec != std::errc() || p != raw.data() + raw.size() || i >= shared.size()) {
          return at + ": shared string '" + raw + "' does not exist (" +
                 std::to_string(shared.size()) + " strings)";
        }
        return place(shared[i]);
      }
      if (cell_type == "b") return place(raw == "1" || raw == "true" ? "TRUE" : raw.empty() ? "" : "FALSE");
      if (cell_type == "n") return place(raw.empty() ? raw : NumberText(raw));
      if (cell_type == "inlineStr" || cell_type == "str" || cell_type == "e" || cell_type == "d") {
        return place(raw);
      }
      return at + ": unknown cell type '" + cell_type + "'";
    }
    // Only the cached value <v> and inline strings <is><t> are collected; formulas <f> are not.
    text.Feed(r);
    return std::nullopt;
  });
  if (!walked) return Fail(walked.error());
  for (auto& cells : rows) {
    while (!cells.empty() && cells.back().empty()) cells.pop_back();
  }
  return rows;
}

}  // namespace

std::string DecodeXstring(const std::string& text) {
  if (text.find("_x") == std::string::npos) return text;
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '_' && i + 6 < text.size() && text[i + 1] == 'x' && text[i + 6] == '_') {
      unsigned code = 0;
      const auto [p, ec] = std::from_chars(text.data() + i + 2, text.data() + i + 6, code, 16);
      if (ec == std::errc() && p == text.data() + i + 6) {
        if (code < 0x80) {
          out += static_cast<char>(code);
        } else if (code < 0x800) {
          out += static_cast<char>(0xC0 | (code >> 6));
          out += static_cast<char>(0x80 | (code & 0x3F));
        } else {
          out += static_cast<char>(0xE0 | (code >> 12));
          out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
          out += static_cast<char>(0x80 | (code & 0x3F));
        }
        i += 6;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

Result<std::vector<XlsxSheet>, std::string> ReadXlsxSheets(const std::string& path,
                                                           const std::vector<std::string>& wanted,
                                                           const XlsxLimits& limits) {
  Budget budget(limits);
  auto opened = Package::Open(path);
  if (!opened) return Fail(opened.error());
  const Package& pkg = *opened;
  // The workbook part: named by the package relationships, conventionally xl/workbook.xml.
  std::string workbook = "xl/workbook.xml";
  {
    auto root = ReadRels(pkg, "");
    if (!root) return Fail(root.error());
    for (const auto& [id, rel] : *root) {
      if (EndsWith(rel.type, "/officeDocument")) workbook = rel.target;
    }
  }
  if (!pkg.Has(workbook)) return Fail(path + ": not an XLSX workbook (" + workbook + " is missing)");
  auto rels = ReadRels(pkg, workbook);
  if (!rels) return Fail(rels.error());
  std::vector<std::pair<std::string, std::string>> sheets;  // name, relationship id
  auto walked = pkg.Walk(workbook, [&](xmlTextReaderPtr r) -> std::optional<std::string> {
    if (xmlTextReaderNodeType(r) != XML_READER_TYPE_ELEMENT || LocalName(r) != "sheet") {
      return std::nullopt;
    }
    const auto name = Attribute(r, "name");
    const auto id = RelationshipId(r);
    if (!name || !id) return "a sheet without a name or relationship id";
    sheets.emplace_back(*name, *id);
    return std::nullopt;
  });
  if (!walked) return Fail(walked.error());
  std::vector<std::string> shared;
  for (const auto& [id, rel] : *rels) {
    if (!EndsWith(rel.type, "/sharedStrings")) continue;
    auto read = ReadSharedStrings(pkg, rel.target, budget);
    if (!read) return Fail(read.error());
    shared = std::move(read).value();
  }
  std::vector<XlsxSheet> out;
  for (const auto& [name, id] : sheets) {
    if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), name) == wanted.end()) continue;
    const auto rel = rels->find(id);
    if (rel == rels->end()) return Fail(workbook + ": sheet '" + name + "' names no part (" + id + ")");
    if (!EndsWith(rel->second.type, "/worksheet")) continue;  // Chart sheets, dialog sheets.
    auto rows = ReadSheet(pkg, rel->second.target, shared, budget);
    if (!rows) return Fail("sheet '" + name + "': " + rows.error());
    out.push_back(XlsxSheet{name, std::move(rows).value()});
  }
  return out;
}

}  // namespace registry::report
