#include "testing/xlsx_package.h"

#include <zip.h>

#include "report/aef_format.h"

namespace registry::testing {
namespace {

constexpr char kMain[] = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
constexpr char kRel[] = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
constexpr char kPackageRel[] = "http://schemas.openxmlformats.org/package/2006/relationships";

std::string Escape(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '<') {
      out += "&lt;";
    } else if (c == '&') {
      out += "&amp;";
    } else if (c == '"') {
      out += "&quot;";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::vector<XlsxPart> WorkbookParts(const std::vector<std::pair<std::string, std::string>>& sheets,
                                    const std::vector<std::string>& shared) {
  std::vector<XlsxPart> parts;
  parts.emplace_back("_rels/.rels",
                     std::string("<?xml version=\"1.0\"?><Relationships xmlns=\"") + kPackageRel +
                         "\"><Relationship Id=\"rId1\" Type=\"" + kRel +
                         "/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>");
  std::string workbook = std::string("<?xml version=\"1.0\"?><workbook xmlns=\"") + kMain +
                         "\" xmlns:r=\"" + kRel + "\"><sheets>";
  std::string rels =
      std::string("<?xml version=\"1.0\"?><Relationships xmlns=\"") + kPackageRel + "\">";
  for (size_t i = 0; i < sheets.size(); ++i) {
    const std::string n = std::to_string(i + 1);
    workbook += "<sheet name=\"" + Escape(sheets[i].first) + "\" sheetId=\"" + n + "\" r:id=\"rId" +
                n + "\"/>";
    rels += "<Relationship Id=\"rId" + n + "\" Type=\"" + kRel +
            "/worksheet\" Target=\"worksheets/sheet" + n + ".xml\"/>";
    parts.emplace_back("xl/worksheets/sheet" + n + ".xml",
                       std::string("<?xml version=\"1.0\"?><worksheet xmlns=\"") + kMain +
                           "\"><sheetData>" + sheets[i].second + "</sheetData></worksheet>");
  }
  if (!shared.empty()) {
    rels += std::string("<Relationship Id=\"rIdS\" Type=\"") + kRel +
            "/sharedStrings\" Target=\"sharedStrings.xml\"/>";
    std::string sst = std::string("<?xml version=\"1.0\"?><sst xmlns=\"") + kMain + "\">";
    for (const std::string& s : shared) sst += "<si><t>" + Escape(s) + "</t></si>";
    parts.emplace_back("xl/sharedStrings.xml", sst + "</sst>");
  }
  parts.emplace_back("xl/workbook.xml", workbook + "</sheets></workbook>");
  parts.emplace_back("xl/_rels/workbook.xml.rels", rels + "</Relationships>");
  return parts;
}

std::vector<std::pair<std::string, std::string>> AefHeaderSheets() {
  std::vector<std::pair<std::string, std::string>> sheets;
  for (const auto& table : report::EmptyAefWorkbook().tables) {
    std::string header = "<row r=\"1\">";
    for (const auto& label : table.columns) {
      header += "<c t=\"inlineStr\"><is><t>" + Escape(label) + "</t></is></c>";
    }
    sheets.emplace_back(table.name, header + "</row>");
  }
  return sheets;
}

std::string WriteXlsxPackage(const std::string& path, const std::vector<XlsxPart>& parts) {
  int code = 0;
  zip_t* zip = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
  if (zip == nullptr) return path + ": zip_open failed (" + std::to_string(code) + ")";
  for (const auto& [name, text] : parts) {
    // libzip reads the buffer at zip_close; `parts` outlives it.
    zip_source_t* source = zip_source_buffer(zip, text.data(), text.size(), 0);
    if (source == nullptr || zip_file_add(zip, name.c_str(), source, ZIP_FL_OVERWRITE) < 0) {
      if (source != nullptr) zip_source_free(source);
      const std::string error = name + ": " + zip_strerror(zip);
      zip_discard(zip);
      return error;
    }
  }
  if (zip_close(zip) != 0) {
    const std::string error = path + ": " + zip_strerror(zip);
    zip_discard(zip);
    return error;
  }
  return "";
}

}  // namespace registry::testing
