// The `report` subcommand of jcmreg (AEF, copies of authorizations, initial report, public
// statistics, corresponding adjustments).
#pragma once

namespace registry::app {

// Registers `report` with cli::RegisterExtraCommand.
void RegisterReportCommands();

}  // namespace registry::app
