#include "journal/chain.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

namespace registry::journal {
namespace {

void AddField(crypto_hash_sha256_state* state, const std::string& field) {
  const uint64_t size = field.size();
  uint8_t prefix[8];
  for (int i = 0; i < 8; ++i) prefix[i] = static_cast<uint8_t>(size >> (8 * i));
  crypto_hash_sha256_update(state, prefix, sizeof prefix);
  crypto_hash_sha256_update(state, reinterpret_cast<const uint8_t*>(field.data()), size);
}

}  // namespace

Hash EntryHash(const JournalEntry& entry) {
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  AddField(&state, std::to_string(entry.sequence.value));
  AddField(&state, entry.time);
  AddField(&state, entry.actor);
  AddField(&state, entry.idempotency_key);
  AddField(&state, entry.command);
  AddField(&state, entry.payload);
  AddField(&state, entry.result);
  crypto_hash_sha256_update(&state, entry.prev_hash.data(), entry.prev_hash.size());
  Hash hash{};
  crypto_hash_sha256_final(&state, hash.data());
  return hash;
}

Signature Sign(const SigningKey& key, const Hash& hash) {
  Signature signature{};
  crypto_sign_detached(signature.data(), nullptr, hash.data(), hash.size(), key.secret.data());
  return signature;
}

bool VerifySignature(const PublicKey& key, const Hash& hash, const Signature& signature) {
  return crypto_sign_verify_detached(signature.data(), hash.data(), hash.size(), key.data()) == 0;
}

SigningKey GenerateKey() {
  SigningKey key;
  crypto_sign_keypair(key.public_key.data(), key.secret.data());
  return key;
}

std::string KeyPath(const std::string& db_path) { return db_path + ".key"; }
std::string PublicKeyPath(const std::string& db_path) { return db_path + ".pub"; }

std::string ToHex(const uint8_t* data, size_t size) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out += kHex[data[i] >> 4];
    out += kHex[data[i] & 15];
  }
  return out;
}

bool FromHex(const std::string& hex, uint8_t* out, size_t size) {
  if (hex.size() != size * 2) return false;
  size_t bin_len = 0;
  return sodium_hex2bin(out, size, hex.data(), hex.size(), nullptr, &bin_len, nullptr) == 0 &&
         bin_len == size;
}

Status<std::string> SaveKey(const std::string& db_path, const SigningKey& key) {
  const std::string path = KeyPath(db_path);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return Fail("cannot create " + path + ": " + std::strerror(errno));
  const std::string hex = ToHex(key.secret) + "\n";
  const bool written = ::write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size());
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!written || !synced) return Fail("cannot write " + path);
  std::ofstream pub(PublicKeyPath(db_path), std::ios::trunc);
  pub << ToHex(key.public_key) << "\n";
  if (!pub) return Fail("cannot write " + PublicKeyPath(db_path));
  return {};
}

Result<SigningKey, std::string> LoadKey(const std::string& db_path) {
  const std::string path = KeyPath(db_path);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Fail("signing key " + path + " not found");
  if ((st.st_mode & 077) != 0) {
    return Fail("signing key " + path + " is readable by others; chmod 600 it");
  }
  std::ifstream in(path);
  std::string hex;
  in >> hex;
  SigningKey key;
  if (!FromHex(hex, key.secret.data(), key.secret.size())) {
    return Fail("signing key " + path + " is malformed");
  }
  crypto_sign_ed25519_sk_to_pk(key.public_key.data(), key.secret.data());
  return key;
}

Result<PublicKey, std::string> LoadPublicKey(const std::string& db_path) {
  const std::string path = PublicKeyPath(db_path);
  std::ifstream in(path);
  if (!in) return Fail("public key " + path + " not found");
  std::string hex;
  in >> hex;
  PublicKey key{};
  if (!FromHex(hex, key.data(), key.size())) return Fail("public key " + path + " is malformed");
  return key;
}

}  // namespace registry::journal
