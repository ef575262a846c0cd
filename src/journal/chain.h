// The journal's hash chain and signatures (ARCHITECTURE decision 4).
//
// Each entry's hash is SHA-256 over a length-prefixed encoding of, in order: sequence, time,
// actor, idempotency key, command, payload, result and the previous entry's hash (all zero for
// the first entry). The registry signs the hash with its Ed25519 key. Changing any byte of any
// stored entry breaks either its own hash, the next entry's prev_hash, or its signature.
#pragma once

#include <array>
#include <optional>
#include <string>

#include "core/result.h"
#include "storage/store.h"

namespace registry::journal {

using PublicKey = std::array<uint8_t, 32>;
using SecretKey = std::array<uint8_t, 64>;

struct SigningKey {
  SecretKey secret{};
  PublicKey public_key{};
};

// Returns the hash of `entry` (its hash and signature fields are ignored).
Hash EntryHash(const JournalEntry& entry);
Signature Sign(const SigningKey& key, const Hash& hash);
bool VerifySignature(const PublicKey& key, const Hash& hash, const Signature& signature);

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

}  // namespace registry::journal
