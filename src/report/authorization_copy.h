// Copies of authorizations and the initial report pack, filled from the registry:
//   - the Step 1 text of the MOEJ template (../shared/docs/source/moej-2025-authorization-of-
//     jcm-credits.md) for one Party and cooperative approach, with elements (a)-(n) of 4/CMA.6
//     para 5 from the Party's recorded Step 1 authorization, and the Step 2a and 2b attachments
//     (every version of the Party's authorizations of the approach's projects);
//   - the initial report (2/CMA.3 annex para 18; 6/CMA.4 annex V chapter IV) for one cooperative
//     approach: the sections the registry can fill, and the sections the Party must write,
//     clearly marked.
// Output as Markdown, and as PDF (libharu) from the same text.
#pragma once

#include <string>

#include "service/command.h"

namespace registry::report {

// Markdown of the copy of `party`'s authorization of cooperative approach `ca_key`.
service::CommandResult<std::string> AuthorizationCopyMarkdown(Store& store, const std::string& ca_key,
                                                              const PartyCode& party);

// Markdown of `party`'s initial report for cooperative approach `ca_key`.
service::CommandResult<std::string> InitialReportMarkdown(Store& store, const std::string& ca_key,
                                                          const PartyCode& party);

// Renders Markdown-ish text (headings, paragraphs, bullet and table lines) to a PDF file.
// Characters outside Latin-1 are transliterated or replaced, since the standard PDF fonts
// carry no CJK glyphs. Returns a message on failure.
Status<std::string> WriteTextPdf(const std::string& markdown, const std::string& title,
                                 const std::string& path);

}  // namespace registry::report
