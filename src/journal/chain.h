// The journal's hash chain and seals (ARCHITECTURE decision 4, revised December 2026).
//
// Each entry's hash is SHA-256 over a length-prefixed encoding of, in order: sequence, time,
// actor, idempotency key, command, payload, result and the previous entry's hash (all zero for
// the first entry). The registry's Ed25519 key signs once per committed batch: the seal, carried
// by the batch's last entry, signs SealMessage(first, last, hash of last), so it vouches for the
// range first..last and, through the chain, for every entry before. Changing any byte of any
// stored entry breaks either its own hash, the next entry's prev_hash, or a seal; moving a seal
// to another range breaks its signature; deleting one leaves entries no seal covers.
//
// Registries written before seals (schema 5 and older) signed every entry's bare hash: each such
// signature is a seal of one entry (Seal::key unset) and stays valid as it is.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "storage/store.h"

namespace registry::journal {

using PublicKey = std::array<uint8_t, 32>;
using SecretKey = std::array<uint8_t, 64>;

struct SigningKey {
  SecretKey secret{};
  PublicKey public_key{};
};

// SHA-256 of `bytes` (the registry link's message digests).
Hash Digest(std::string_view bytes);
// Returns the hash of `entry` (its hash and seal fields are ignored).
Hash EntryHash(const JournalEntry& entry);
Signature Sign(const SigningKey& key, const Hash& hash);
bool VerifySignature(const PublicKey& key, const Hash& hash, const Signature& signature);

// What a batch seal signs: a domain tag, the covered range and the last entry's hash. The tag
// and the length (60 bytes) keep it from ever being a bare 32-byte hash, so a seal and a
// signature of the format before seals cannot stand for each other.
std::string SealMessage(Sequence first, Sequence last, const Hash& last_hash);
// Seals the batch first..last.sequence, whose last entry is `last` (its hash already set).
Seal MakeSeal(const SigningKey& key, Sequence first, const JournalEntry& last);
// Whether `entry`'s seal is a good signature by `key` over what it claims: its range ending at
// the entry (SealMessage), or, for a seal of the format before seals, the entry's bare hash.
// False when the entry carries no seal. The seal's named key is not compared here (verify
// reports a named key that is not the key in force on its own).
bool VerifySeal(const PublicKey& key, const JournalEntry& entry);

// Generates a fresh key pair.
SigningKey GenerateKey();

// Key files beside the database: PATH.key (the secret, mode 0600) and PATH.pub (hex public key).
// LoadKey fails when the secret file is missing, unreadable, malformed, or readable by others.
Result<SigningKey, std::string> LoadKey(const std::string& db_path);
Result<PublicKey, std::string> LoadPublicKey(const std::string& db_path);
Status<std::string> SaveKey(const std::string& db_path, const SigningKey& key);
std::string KeyPath(const std::string& db_path);
std::string PublicKeyPath(const std::string& db_path);

std::string ToHex(const uint8_t* data, size_t size);
template <size_t N>
std::string ToHex(const std::array<uint8_t, N>& bytes) {
  return ToHex(bytes.data(), N);
}
bool FromHex(const std::string& hex, uint8_t* out, size_t size);

// ---- Key rotation (issue 7).
//
// A rotation is a journal entry like any other (same hash chain, same field encoding), with
// command "key.rotate", sealed alone by the key in force before it (the OLD key: the rotation
// is a batch of its own, so no seal spans two keys), whose payload names
// both keys: {"new_public_key":"<64 hex>","old_public_key":"<64 hex>"} (canonical JSON, sorted
// keys) and whose result is {"public_key":"<new, 64 hex>","signs_from":<sequence + 1>}. Every
// seal after it must be made by the new key. So the journal carries its own chain of trust:
// from the key that signs entry 1 (the old key of the first rotation, or the only key) through
// each rotation to the key in force now, which must be the public key the verifier trusts
// (DB.pub / $JCMREG_KEY.pub). A journal with no rotation is exactly the format before rotations.
//
// The rotation also writes the document ("signing_key", "journal") = {"public_key":"<new>",
// "since":<sequence + 1>}: a projection row like any other (replayed by verify), read cheaply by
// OpenSession to refuse a key that is no longer in force.
inline constexpr const char* kRotateCommand = "key.rotate";
inline constexpr const char* kKeyDocumentKind = "signing_key";
inline constexpr const char* kKeyDocumentKey = "journal";

struct Rotation {
  int64_t sequence = 0;  // The rotation entry; the new key signs from sequence + 1.
  PublicKey old_key{};
  PublicKey new_key{};
};

std::string RotationPayload(const PublicKey& old_key, const PublicKey& new_key);
std::string RotationResult(int64_t sequence, const PublicKey& new_key);
// Parses a key.rotate entry's payload (strictly: exactly the canonical form RotationPayload
// writes); nullopt when it is anything else.
std::optional<Rotation> ParseRotation(const JournalEntry& entry);
// Applies a rotation entry's effect on the projection (the signing_key document) in `tx` and
// returns the entry's result text. Used by RotateKey and by verify's replay.
StoreResult<std::string> ApplyRotation(Transaction& tx, const Rotation& rotation);

// The key in force according to the projection (nullopt: never rotated, the key of init).
StoreResult<std::optional<PublicKey>> KeyInForce(Store& store);

// Refuses `key` when the registry's journal has rotated to another key (a stale key file, e.g.
// on a server whose key was not updated): empty string when the key may sign, else the reason.
std::string CheckKeyInForce(Store& store, const PublicKey& key);

// Refuses `key` when the journal itself shows that it is not the key that signs the next entry
// (issue 33, break 7: a key pair of another registry copied over PATH.key / PATH.pub would
// otherwise seal entries that only a later `verify`, against the true public key, finds). The
// next batch is sealed by the key that sealed the last entry (the journal's last entry always
// carries a seal) or, when the last one is a key.rotate, by the key it rotated to.
// `completing_rotation` also accepts the key that sealed a last key.rotate (`key rotate`
// completing an interrupted rotation holds the old key). An empty journal accepts any key.
// Costs one signature check. Empty string when the key may seal, else the reason.
std::string CheckKeySignsHead(Store& store, const PublicKey& key, bool completing_rotation);

struct RotateOutcome {
  Rotation rotation;
  bool resumed = false;  // True when an interrupted rotation was completed (no new entry).
};

// Rotates the signing key of the registry in `store` whose key files are at `key_path`
// (key_path.key / key_path.pub):
//   1. a new key pair is written to key_path.key.new (mode 0600, fsync);
//   2. the key.rotate entry, sealed alone by the old key, is appended and committed (one write
//      transaction, under the engine's writer lock);
//   3. key_path.key.new is renamed over key_path.key (the old secret key is gone) and
//      key_path.pub is replaced by the new public key.
// A crash between 2 and 3 leaves the journal rotated and key_path.key.new in place: running it
// again completes step 3 (resumed). A crash before 2 leaves a stale key_path.key.new that the
// next run discards. `time` and `actor` go into the entry.
Result<RotateOutcome, std::string> RotateKey(Store& store, const std::string& key_path,
                                             const std::string& time, const std::string& actor);

}  // namespace registry::journal
