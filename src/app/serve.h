// The `serve` and `user` subcommands of jcmreg (they live here because they wire the HTTP
// server and the SQLite store together, which the cli/ library does not depend on).
#pragma once

namespace registry::app {

// Registers `serve` and `user` with cli::RegisterExtraCommand.
void RegisterAppCommands();

}  // namespace registry::app
