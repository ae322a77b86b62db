// The encrypted key store: a person's HD seed sealed at rest in SQLite, or (a container on a
// host with a shared database) in PostgreSQL rows of that container's tenant.
//
// The seed record is encrypted with XChaCha20-Poly1305 (libsodium
// crypto_aead_xchacha20poly1305_ietf) under a key from Argon2id (crypto_pwhash, parameters
// and salt stored beside the record). The associated data binds the format version, the
// record's name and purpose, and the KDF parameters, so a moved, relabelled or re-parameterised
// record fails to open. The file is created with mode 0600 and refused if group or others can
// access it, if it is a symlink or if another user owns it.
//
// On PostgreSQL (docs/scale-out.md §"The container host on PostgreSQL") the same records are
// rows keyed by (container_id, name), kept apart by row-level security enabled and forced: the
// database only ever holds what the file holds (ciphertext, salt, nonce, KDF parameters and the
// public records); the passphrase and the keys derived from it never leave the process.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "medallion/core/env.h"
#include "medallion/core/secret.h"
#include "medallion/core/status.h"

namespace medallion::sql {
class Db;  // medallion/storage/db.h
}

namespace medallion::wallet {

// Argon2id cost. Stored with each record; bounded on read so a tampered file cannot make
// unlocking take unbounded memory or time.
struct KdfParams {
  uint64_t opslimit = 0;
  uint64_t memlimit = 0;           // bytes
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
  // Errors: already_exists if the file (or a symlink) exists; not_found if its directory does
  // not; permission_denied if it cannot be created there; invalid_argument for an empty
  // passphrase or out-of-bounds parameters; unavailable for I/O errors. On failure no file is
  // left behind. Connections use WAL, synchronous=FULL and secure_delete.
  static Result<std::unique_ptr<KeyStore>> Create(const std::string& path,
                                                  std::string_view passphrase,
                                                  const WalletSecret& secret, KdfParams params,
                                                  Env env);

  // Opens an existing store without unlocking it. The file must be a regular file (a symlink
  // is refused, as with O_NOFOLLOW), owned by the effective user and not accessible by group or
  // others. It is first opened read-only and must hold the key store tables: a file that is
  // not a key store is never written to. Errors: not_found; failed_precondition for a symlink,
  // a non-regular file, another owner, a group/other mode bit, a schema newer than this build,
  // or a file replaced while being opened; data_loss if it is not a key store (not SQLite,
  // corrupt, or without our tables); unavailable for I/O errors.
  static Result<std::unique_ptr<KeyStore>> Open(const std::string& path, Env env);

  // The key store of `tenant` in the PostgreSQL database at `url` (a postgresql:// URL; the
  // connection is fixed to the tenant as sql::Db::Open does, and the role must not bypass
  // row-level security). Migrations (versioned, keystore_schema_migrations) are applied first.
  // Create: as the file Create, all in one transaction; already_exists if the tenant has a key
  // store. Open: not_found if the tenant has none. Errors also: invalid_argument for a URL that
  // is not PostgreSQL or an empty tenant, unavailable (cannot connect), failed_precondition (a
  // newer schema). A write is acknowledged only after its COMMIT succeeded.
  static Result<std::unique_ptr<KeyStore>> CreateInDatabase(const std::string& url,
                                                            const std::string& tenant,
                                                            std::string_view passphrase,
                                                            const WalletSecret& secret,
                                                            KdfParams params, Env env);
  static Result<std::unique_ptr<KeyStore>> OpenInDatabase(const std::string& url,
                                                          const std::string& tenant, Env env);
  // Copies every record of `from` into a new key store of `tenant` at `url`: the sealed records
  // byte for byte (nothing is decrypted, so no passphrase is needed) and the public records, in
  // one transaction. Errors: data_loss if `from` has no seed record, already_exists if the
  // tenant has a key store, and those of OpenInDatabase.
  static Result<std::unique_ptr<KeyStore>> ImportIntoDatabase(const KeyStore& from,
                                                              const std::string& url,
                                                              const std::string& tenant, Env env);

  ~KeyStore();
  KeyStore(const KeyStore&) = delete;
  KeyStore& operator=(const KeyStore&) = delete;

  // Decrypts the wallet secret. Errors: unauthenticated ("wrong passphrase or tampered key
  // store") for a wrong passphrase or any modified byte of the record; data_loss if the
  // record is missing or its parameters are out of bounds. Thread-compatible.
  Result<WalletSecret> Unlock(std::string_view passphrase) const;

  // Re-seals every record under `new_passphrase` with fresh salts and nonces, all or nothing:
  // the wallet-seed record must exist and open under `old_passphrase`, then every record is
  // opened before any is re-sealed, and all writes happen in one transaction. Afterwards the
  // WAL is checkpointed and truncated (best effort) so the old ciphertext does not linger
  // (on PostgreSQL the old row versions stay until VACUUM reclaims them).
  // Errors as Unlock (data_loss if the wallet-seed record is missing), plus invalid_argument
  // for an empty new passphrase or out-of-bounds parameters, unavailable for SQLite errors.
  Status ChangePassphrase(std::string_view old_passphrase, std::string_view new_passphrase,
                          KdfParams params);

  // Public (not secret) records kept beside the seed: DIDs, relationship indices, ...
  Status PutPublic(std::string_view kind, std::string_view name, std::string_view value);
  Result<std::string> GetPublic(std::string_view kind, std::string_view name) const;
  Result<std::vector<std::pair<std::string, std::string>>> ListPublic(std::string_view kind) const;

  // The stored KDF parameters of the seed record.
  Result<KdfParams> SeedKdfParams() const;
  // The file's path, or "postgresql (<tenant>)" for a key store in a database.
  const std::string& path() const { return path_; }
  bool in_database() const;

 private:
  KeyStore(std::string path, std::unique_ptr<sql::Db> db, Env env);
  std::string path_;
  std::unique_ptr<sql::Db> db_;
  Env env_;
};

}  // namespace medallion::wallet
