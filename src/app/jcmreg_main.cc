// jcmreg: the registry's command-line tool. Wiring only.
#include "cli/backup.h"
#include "cli/cli.h"

int main(int argc, char** argv) {
  registry::cli::RegisterBackupCommands();
  return registry::cli::RunCli(argc, argv);
}
