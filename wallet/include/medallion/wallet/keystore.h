// The encrypted key store: a person's HD seed sealed at rest in SQLite.
//
// The seed record is encrypted with XChaCha20-Poly1305 (libsodium
// crypto_aead_xchacha20poly1305_ietf) under a key from Argon2id (crypto_pwhash, parameters
// and salt stored beside the record). The associated data binds the format version, the
// record's name and purpose, and the KDF parameters, so a moved, relabelled or re-parameterised
// record fails to open. The file is created with mode 0600 and refused if others can read it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "medallion/core/env.h"
#include "medallion/core/secret.h"
#include "medallion/core/status.h"

struct sqlite3;

namespace medallion::wallet {

// Argon2id cost. Stored with each record; bounded on read so a tampered file cannot make
// unlocking take unbounded memory or time.
struct KdfParams {
  uint64_t opslimit = 0;
  uint64_t memlimit = 0;  // bytes
  static KdfParams Moderate();     // libsodium MODERATE: 3 passes, 256 MiB (the default)
  static KdfParams Interactive();  // libsodium INTERACTIVE: 2 passes, 64 MiB
  static KdfParams ForTests();     // the minimum libsodium allows: fast, for tests only
};

// What the store protects: the BIP-39 entropy (so the mnemonic can be shown or split into
// SLIP-39 shares) and the 64-byte BIP-39 seed (which includes any BIP-39 passphrase).
struct WalletSecret {
  SecretBytes entropy;
  SecretBytes seed;
};

class KeyStore {
 public:
  // Creates a new store file at `path` holding `secret`, sealed under `passphrase`.
  // Errors: already_exists if the file exists; invalid_argument for an empty passphrase;
  // unavailable for I/O errors. On failure no file is left behind.
  static Result<std::unique_ptr<KeyStore>> Create(const std::string& path, std::string_view passphrase,
                                                  const WalletSecret& secret, KdfParams params, Env env);

  // Opens an existing store without unlocking it. Errors: not_found; failed_precondition if
  // the file is readable by group or others, or its schema is newer than this build;
  // data_loss if it is not a key store.
  static Result<std::unique_ptr<KeyStore>> Open(const std::string& path, Env env);

  ~KeyStore();
  KeyStore(const KeyStore&) = delete;
  KeyStore& operator=(const KeyStore&) = delete;

  // Decrypts the wallet secret. Errors: unauthenticated ("wrong passphrase or tampered key
  // store") for a wrong passphrase or any modified byte of the record; data_loss if the
  // record is missing or its parameters are out of bounds. Thread-compatible.
  Result<WalletSecret> Unlock(std::string_view passphrase) const;

  // Re-seals every record under `new_passphrase` with fresh salts and nonces, in one
  // transaction: on any error nothing changes. Errors as Unlock, plus invalid_argument for
  // an empty new passphrase.
  Status ChangePassphrase(std::string_view old_passphrase, std::string_view new_passphrase, KdfParams params);

  // Public (not secret) records kept beside the seed: DIDs, relationship indices, ...
  Status PutPublic(std::string_view kind, std::string_view name, std::string_view value);
  Result<std::string> GetPublic(std::string_view kind, std::string_view name) const;
  Result<std::vector<std::pair<std::string, std::string>>> ListPublic(std::string_view kind) const;

  // The stored KDF parameters of the seed record.
  Result<KdfParams> SeedKdfParams() const;
  const std::string& path() const { return path_; }

 private:
  KeyStore(std::string path, sqlite3* db, Env env) : path_(std::move(path)), db_(db), env_(env) {}
  std::string path_;
  sqlite3* db_;
  Env env_;
};

}  // namespace medallion::wallet
