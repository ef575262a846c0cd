// `jcmreg backup --db DB --out FILE` and `jcmreg restore --from FILE --db DB` (issue 7, part 4,
// SQLite half): a consistent copy of a live registry with SQLite's online backup API, and its
// restoration, each followed by PRAGMA integrity_check and a full `verify` of the copy.
//
// Keys: the backup carries the signing key beside it (FILE.key, mode 0600, and FILE.pub), written
// with journal::SaveKey, so a restored registry can go on signing with the same key and verify
// its whole journal. Keep backups where the key may live (or move FILE.key to a vault and put it
// back before `restore`). Neither command overwrites an existing file: restoring onto a live
// registry is refused; remove or move it first.
#pragma once

namespace registry::cli {

// Registers `backup` and `restore` as jcmreg subcommands (call before RunCli; once is enough).
void RegisterBackupCommands();

// `jcmreg ARGV...` with argv[0] "backup" or "restore" (the tests' entry); a jcmreg exit code.
int RunBackup(int argc, char** argv);
int RunRestore(int argc, char** argv);

}  // namespace registry::cli
