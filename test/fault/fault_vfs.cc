// The fault-injecting SQLite VFS (see fault_vfs.h): a shim over the default VFS that counts and
// fails I/O calls, and models a power loss with a per-file undo log of unsynced writes.
#include "fault/fault_vfs.h"

#include <sqlite3.h>

#include <cstring>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace registry::fault {
namespace {

// Per-file state kept beside the real sqlite3_file.
struct FileState {
  std::string name;
  int64_t synced_size = 0;                             // Size at the last successful xSync.
  std::vector<std::pair<int64_t, std::string>> undo;  // Bytes overwritten since that sync.
};

// The file object SQLite allocates (szOsFile bytes): our header, then the real file.
struct FaultFile {
  sqlite3_file base;
  FileState* state;
  sqlite3_file* real;
};

struct Globals {
  sqlite3_vfs vfs{};
  sqlite3_vfs* real = nullptr;
  bool registered = false;
  FaultMode mode = FaultMode::kNone;
  int64_t nth = 0;
  bool persistent = false;
  int64_t writes = 0, syncs = 0, reads = 0;
  int64_t injected = 0;
  bool crashed = false;             // After a power loss every I/O fails.
  std::set<FaultFile*> open_files;  // For the power loss: every file with an undo log.
};

Globals& G() {
  static auto* g = new Globals();  // Lives for the process (SQLite keeps a pointer to vfs).
  return *g;
}

// Counts one call of a kind and says whether it must fail.
bool ShouldFail(FaultMode kind, int64_t& counter) {
  Globals& g = G();
  if (g.mode == FaultMode::kNone) return false;
  ++counter;
  if (g.mode != kind) return false;
  const bool fail = counter == g.nth || (g.persistent && counter > g.nth);
  if (fail) ++g.injected;
  return fail;
}

int64_t RealSize(sqlite3_file* real) {
  sqlite3_int64 size = 0;
  if (real->pMethods->xFileSize(real, &size) != SQLITE_OK) return 0;
  return size;
}

// Remembers the bytes in [offset, offset + amount) that exist now, before they are overwritten.
void RecordUndo(FaultFile* f, int64_t offset, int64_t amount) {
  if (G().mode != FaultMode::kPowerLoss) return;
  const int64_t size = RealSize(f->real);
  const int64_t end = std::min(offset + amount, size);
  if (end <= offset) return;
  std::string old(static_cast<size_t>(end - offset), '\0');
  if (f->real->pMethods->xRead(f->real, old.data(), static_cast<int>(old.size()), offset) !=
      SQLITE_OK) {
    return;
  }
  f->state->undo.emplace_back(offset, std::move(old));
}

// The power fails: every file goes back to its content at its last sync.
void PowerLoss() {
  Globals& g = G();
  for (FaultFile* f : g.open_files) {
    sqlite3_file* real = f->real;
    for (auto it = f->state->undo.rbegin(); it != f->state->undo.rend(); ++it) {
      real->pMethods->xWrite(real, it->second.data(), static_cast<int>(it->second.size()),
                             it->first);
    }
    real->pMethods->xTruncate(real, f->state->synced_size);
    real->pMethods->xSync(real, SQLITE_SYNC_NORMAL);
    f->state->undo.clear();
  }
  g.crashed = true;
  ++g.injected;
}

FaultFile* Self(sqlite3_file* file) { return reinterpret_cast<FaultFile*>(file); }

int Close(sqlite3_file* file) {
  FaultFile* f = Self(file);
  const int rc = f->real->pMethods->xClose(f->real);
  G().open_files.erase(f);
  delete f->state;
  f->state = nullptr;
  return rc;
}

int Read(sqlite3_file* file, void* buffer, int amount, sqlite3_int64 offset) {
  FaultFile* f = Self(file);
  if (G().crashed) return SQLITE_IOERR_READ;
  if (ShouldFail(FaultMode::kReadError, G().reads)) return SQLITE_IOERR_READ;
  return f->real->pMethods->xRead(f->real, buffer, amount, offset);
}

int Write(sqlite3_file* file, const void* buffer, int amount, sqlite3_int64 offset) {
  FaultFile* f = Self(file);
  if (G().crashed) return SQLITE_IOERR_WRITE;
  if (ShouldFail(FaultMode::kWriteError, G().writes)) return SQLITE_IOERR_WRITE;
  RecordUndo(f, offset, amount);
  return f->real->pMethods->xWrite(f->real, buffer, amount, offset);
}

int Truncate(sqlite3_file* file, sqlite3_int64 size) {
  FaultFile* f = Self(file);
  if (G().crashed) return SQLITE_IOERR_TRUNCATE;
  const int64_t now = RealSize(f->real);
  if (size < now) RecordUndo(f, size, now - size);
  return f->real->pMethods->xTruncate(f->real, size);
}

int Sync(sqlite3_file* file, int flags) {
  FaultFile* f = Self(file);
  Globals& g = G();
  if (g.crashed) return SQLITE_IOERR_FSYNC;
  if (ShouldFail(FaultMode::kSyncError, g.syncs)) return SQLITE_IOERR_FSYNC;
  if (g.mode == FaultMode::kPowerLoss && g.syncs == g.nth) {
    PowerLoss();
    return SQLITE_IOERR_FSYNC;
  }
  const int rc = f->real->pMethods->xSync(f->real, flags);
  if (rc == SQLITE_OK) {
    f->state->undo.clear();
    f->state->synced_size = RealSize(f->real);
  }
  return rc;
}

int FileSize(sqlite3_file* file, sqlite3_int64* size) {
  FaultFile* f = Self(file);
  return f->real->pMethods->xFileSize(f->real, size);
}
int Lock(sqlite3_file* file, int level) {
  FaultFile* f = Self(file);
  return f->real->pMethods->xLock(f->real, level);
}
int Unlock(sqlite3_file* file, int level) {
  FaultFile* f = Self(file);
  return f->real->pMethods->xUnlock(f->real, level);
}
int CheckReservedLock(sqlite3_file* file, int* out) {
  FaultFile* f = Self(file);
  return f->real->pMethods->xCheckReservedLock(f->real, out);
}
int FileControl(sqlite3_file* file, int op, void* arg) {
  FaultFile* f = Self(file);
  if (op == SQLITE_FCNTL_MMAP_SIZE) return SQLITE_NOTFOUND;  // Keep every read in xRead.
  return f->real->pMethods->xFileControl(f->real, op, arg);
}
int SectorSize(sqlite3_file* file) {
  FaultFile* f = Self(file);
  return f->real->pMethods->xSectorSize(f->real);
}
int DeviceCharacteristics(sqlite3_file* file) {
  FaultFile* f = Self(file);
  return f->real->pMethods->xDeviceCharacteristics(f->real);
}
int ShmMap(sqlite3_file* file, int page, int size, int extend, void volatile** out) {
  FaultFile* f = Self(file);
  return f->real->pMethods->xShmMap(f->real, page, size, extend, out);
}
int ShmLock(sqlite3_file* file, int offset, int n, int flags) {
  FaultFile* f = Self(file);
  return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}
void ShmBarrier(sqlite3_file* file) {
  FaultFile* f = Self(file);
  f->real->pMethods->xShmBarrier(f->real);
}
int ShmUnmap(sqlite3_file* file, int delete_flag) {
  FaultFile* f = Self(file);
  return f->real->pMethods->xShmUnmap(f->real, delete_flag);
}
int Fetch(sqlite3_file*, sqlite3_int64, int, void** out) {
  *out = nullptr;  // No memory mapping: SQLite falls back to xRead.
  return SQLITE_OK;
}
int Unfetch(sqlite3_file*, sqlite3_int64, void*) { return SQLITE_OK; }

const sqlite3_io_methods kMethods = {
    3,        Close,      Read,        Write,           Truncate,
    Sync,     FileSize,   Lock,        Unlock,          CheckReservedLock,
    FileControl, SectorSize, DeviceCharacteristics, ShmMap, ShmLock,
    ShmBarrier,  ShmUnmap,   Fetch,       Unfetch,
};

int Open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  Globals& g = G();
  FaultFile* f = Self(file);
  f->base.pMethods = nullptr;
  if (g.crashed) return SQLITE_CANTOPEN;
  f->real = reinterpret_cast<sqlite3_file*>(f + 1);
  std::memset(f->real, 0, static_cast<size_t>(g.real->szOsFile));
  const int rc = g.real->xOpen(g.real, name, f->real, flags, out_flags);
  if (rc != SQLITE_OK) {
    // The real file may still need closing if it set its methods.
    if (f->real->pMethods != nullptr) f->real->pMethods->xClose(f->real);
    return rc;
  }
  if (f->real->pMethods->iVersion < 3) {
    f->real->pMethods->xClose(f->real);
    return SQLITE_CANTOPEN;
  }
  f->state = new FileState();
  f->state->name = name != nullptr ? name : "";
  f->state->synced_size = RealSize(f->real);
  f->base.pMethods = &kMethods;
  g.open_files.insert(f);
  return SQLITE_OK;
}

int Delete(sqlite3_vfs*, const char* name, int sync_dir) {
  if (G().crashed) return SQLITE_IOERR_DELETE;
  return G().real->xDelete(G().real, name, sync_dir);
}
int Access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return G().real->xAccess(G().real, name, flags, out);
}
int FullPathname(sqlite3_vfs*, const char* name, int size, char* out) {
  return G().real->xFullPathname(G().real, name, size, out);
}
void* DlOpen(sqlite3_vfs*, const char* name) { return G().real->xDlOpen(G().real, name); }
void DlError(sqlite3_vfs*, int size, char* out) { G().real->xDlError(G().real, size, out); }
void (*DlSym(sqlite3_vfs*, void* handle, const char* symbol))(void) {
  return G().real->xDlSym(G().real, handle, symbol);
}
void DlClose(sqlite3_vfs*, void* handle) { G().real->xDlClose(G().real, handle); }
int Randomness(sqlite3_vfs*, int size, char* out) {
  return G().real->xRandomness(G().real, size, out);
}
int Sleep(sqlite3_vfs*, int micros) { return G().real->xSleep(G().real, micros); }
int CurrentTime(sqlite3_vfs*, double* out) { return G().real->xCurrentTime(G().real, out); }
int GetLastError(sqlite3_vfs*, int size, char* out) {
  return G().real->xGetLastError(G().real, size, out);
}
int CurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) {
  return G().real->xCurrentTimeInt64(G().real, out);
}

}  // namespace

bool RegisterFaultVfs() {
  Globals& g = G();
  if (g.registered) return true;
  g.real = sqlite3_vfs_find(nullptr);
  if (g.real == nullptr || g.real->iVersion < 2) return false;
  sqlite3_vfs& v = g.vfs;
  v.iVersion = 2;
  v.szOsFile = static_cast<int>(sizeof(FaultFile)) + g.real->szOsFile;
  v.mxPathname = g.real->mxPathname;
  v.zName = kFaultVfsName;
  v.xOpen = Open;
  v.xDelete = Delete;
  v.xAccess = Access;
  v.xFullPathname = FullPathname;
  v.xDlOpen = DlOpen;
  v.xDlError = DlError;
  v.xDlSym = DlSym;
  v.xDlClose = DlClose;
  v.xRandomness = Randomness;
  v.xSleep = Sleep;
  v.xCurrentTime = CurrentTime;
  v.xGetLastError = GetLastError;
  v.xCurrentTimeInt64 = CurrentTimeInt64;
  if (sqlite3_vfs_register(&v, 0) != SQLITE_OK) return false;
  g.registered = true;
  return true;
}

void Arm(FaultMode mode, int64_t nth, bool persistent) {
  Globals& g = G();
  g.mode = mode;
  g.nth = nth;
  g.persistent = persistent;
  g.writes = g.syncs = g.reads = 0;
  g.injected = 0;
  g.crashed = false;
}

void Disarm() {
  Globals& g = G();
  g.mode = FaultMode::kNone;
  if (g.open_files.empty()) g.crashed = false;
}

int64_t FaultsInjected() { return G().injected; }
int64_t WritesSeen() { return G().writes; }
int64_t SyncsSeen() { return G().syncs; }
int64_t ReadsSeen() { return G().reads; }

std::string ModeName(FaultMode mode) {
  switch (mode) {
    case FaultMode::kNone: return "none";
    case FaultMode::kWriteError: return "write_error";
    case FaultMode::kSyncError: return "sync_error";
    case FaultMode::kReadError: return "read_error";
    case FaultMode::kPowerLoss: return "power_loss";
  }
  return "?";
}

}  // namespace registry::fault
