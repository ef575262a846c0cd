// jcmreg: the registry's command-line tool. Wiring only: the CLI plus the `serve` and `user`
// subcommands of app/serve.cc.
#include "app/serve.h"
#include "cli/backup.h"
#include "cli/cli.h"

int main(int argc, char** argv) {
  registry::cli::RegisterBackupCommands();
  registry::app::RegisterAppCommands();
  return registry::cli::RunCli(argc, argv);
}
