// A fault-injecting SQLite VFS for the crash-safety tests, after SQLite's test6.c and LevelDB's
// FaultInjectionTestEnv. It wraps the default VFS under the name "faulty" and, once armed, counts
// the xWrite / xSync / xRead calls on every file it opened and:
//   - kWriteError / kSyncError / kReadError: fails the Nth such call with SQLITE_IOERR_*, once or
//     (persistent) that call and every later one of the same kind;
//   - kPowerLoss: at the Nth xSync the "power fails": every write not yet made durable by an
//     xSync of its file is undone (the file is restored to its content and size at its last sync),
//     and from then on every I/O call fails, as nothing more can reach the disk.
// Unsynced writes are tracked with a per-file undo log (the bytes a write overwrote, and the size
// at the last sync), so reads see the writes as the real OS page cache would.
// Test-only code: it is not thread-safe (the fault tests use one thread).
#pragma once

#include <cstdint>
#include <string>

namespace registry::fault {

enum class FaultMode { kNone, kWriteError, kSyncError, kReadError, kPowerLoss };

inline constexpr const char* kFaultVfsName = "faulty";

// Registers the VFS (idempotent). Returns false if SQLite refused it.
bool RegisterFaultVfs();

// Arms a fault at the `nth` (1-based) call of the mode's kind, counted from now.
void Arm(FaultMode mode, int64_t nth, bool persistent);
// Stops injecting; files keep working normally (after a power loss they keep failing until closed).
void Disarm();
// How many faults were injected since the last Arm (a power loss counts once).
int64_t FaultsInjected();
// How many calls of each kind were seen since the last Arm.
int64_t WritesSeen();
int64_t SyncsSeen();
int64_t ReadsSeen();

std::string ModeName(FaultMode mode);

}  // namespace registry::fault
