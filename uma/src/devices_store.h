// The owner's devices (docs/mobile-bridge.md): one-time pairing offers, kept only as the
// SHA-256 of their secret and burned after a few wrong proofs, and the paired devices with their
// Ed25519 keys. Private to the uma module.
#pragma once

#include "medallion/storage/db.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "medallion/core/bytes.h"
#include "medallion/core/hash.h"
#include "medallion/core/status.h"

namespace medallion::uma::internal {

// Migration 2: pairing offers and devices (schema.h composes the migrations).
inline constexpr char kDevicesV2[] = R"sql(
CREATE TABLE pairings (
  id TEXT PRIMARY KEY,
  secret_hash BLOB NOT NULL,
  expires INTEGER NOT NULL,
  used INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  created INTEGER NOT NULL
);
CREATE TABLE devices (
  id TEXT PRIMARY KEY,
  public_key BLOB NOT NULL,
  name TEXT NOT NULL,
  created INTEGER NOT NULL,
  revoked INTEGER               -- NULL while in use
);
)sql";

// A stored pairing offer.
struct PairingRow {
  Hash256 secret_hash{};  // SHA-256 of the offer's secret
  int64_t expires = 0;
  bool used = false;
  int64_t attempts = 0;  // wrong proofs so far
};

// A paired device.
struct DeviceRow {
  std::string id;
  Bytes public_key;  // Ed25519, 32 bytes
  std::string name;
  int64_t created = 0;
  int64_t revoked = 0;  // when it was revoked; 0 while in use
};

// Where the authorization server keeps pairing offers and devices. Not synchronized: the server
// calls it with its lock held (writes inside its transactions). Every error names the consent
// store.
class DeviceStore {
 public:
  virtual ~DeviceStore() = default;

  // --- pairing offers ---

  // Keeps the offer `id` (the SHA-256 of its secret) until `expires`, after dropping offers that
  // expired over a day before `now`. Errors: the database's.
  virtual Status PutPairing(const std::string& id, const Hash256& secret_hash, int64_t expires,
                            int64_t now) = 0;
  // The offer `id`, used or not. Errors: not_found, the database's.
  virtual Result<PairingRow> FindPairing(std::string_view id) = 0;
  // Counts one wrong proof against the offer `id`. Errors: the database's.
  virtual Status BurnAttempt(std::string_view id) = 0;
  // Marks the offer `id` used: true if this call did, false if it was already used (or unknown).
  // Errors: the database's.
  virtual Result<bool> ConsumePairing(std::string_view id) = 0;

  // --- devices ---

  // Keeps the device `id` with its key and name, in use from `created`. Errors: the database's.
  virtual Status AddDevice(const std::string& id, ByteView public_key, const std::string& name,
                           int64_t created) = 0;
  // How many devices are in use (not revoked). Errors: the database's.
  virtual Result<size_t> CountActive() = 0;
  // Every device, revoked ones too, oldest first (by created, then id). Errors: the database's.
  virtual Result<std::vector<DeviceRow>> ListDevices() = 0;
  // The public key of the device `id` if it is in use. Errors: not_found (unknown or revoked),
  // the database's.
  virtual Result<Bytes> ActiveKey(std::string_view id) = 0;
  // Marks the device `id` revoked at `now`. Errors: the database's.
  virtual Status Revoke(std::string_view id, int64_t now) = 0;
};

// The pairings and devices tables of the consent database `db` (borrowed; outlives the store).
std::unique_ptr<DeviceStore> NewSqlDeviceStore(sql::Db& db);

}  // namespace medallion::uma::internal
