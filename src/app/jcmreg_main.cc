// jcmreg: the registry's command-line tool. Wiring only.
#include "cli/cli.h"

int main(int argc, char** argv) { return registry::cli::RunCli(argc, argv); }
