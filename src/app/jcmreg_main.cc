// jcmreg: the registry's command-line tool. Wiring only: the CLI plus the `serve` and `user`
// subcommands of app/serve.cc.
#include "app/report_commands.h"
#include "app/serve.h"
#include "cli/backup.h"
#include "cli/cli.h"
#include "cli/import.h"

int main(int argc, char** argv) {
  registry::cli::RegisterImportCommand();
  registry::cli::RegisterBackupCommands();
  registry::app::RegisterAppCommands();
  registry::app::RegisterReportCommands();
  return registry::cli::RunCli(argc, argv);
}
