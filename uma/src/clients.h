// Registered clients (RFC 7591): resource servers, requesting parties' clients, and the
// container's own internal resource servers. Only a client secret's SHA-256 is stored. Private to
// the uma module.
#pragma once

#include "medallion/storage/db.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "medallion/core/hash.h"
#include "medallion/core/status.h"

namespace medallion::uma::internal {

// Migration 1: the client table (schema.h composes the migrations).
inline constexpr char kClientsV1[] = R"sql(
CREATE TABLE clients (
  client_id TEXT PRIMARY KEY,
  secret_hash BLOB NOT NULL,
  kind TEXT NOT NULL,            -- 'resource_server' | 'client'
  metadata TEXT NOT NULL,
  created INTEGER NOT NULL
);
)sql";

// A client: its kind ('resource_server' | 'client' | 'internal') and its registered metadata.
struct ClientRow {
  std::string kind;
  nlohmann::json metadata;  // a JSON object
};

// Where the authorization server keeps its clients. Not synchronized: the server calls it with
// its lock held (writes inside its transactions).
class ClientStore {
 public:
  virtual ~ClientStore() = default;
  // Registers `client_id` with the hash of its secret. Errors: the database's.
  virtual Status Insert(const std::string& client_id, const Hash256& secret_hash,
                        const std::string& kind, const nlohmann::json& metadata, int64_t now) = 0;
  // RFC 6749 §2.3.1: the client if `secret` is its secret (compared as a hash, in constant
  // time); nullopt otherwise, also for oversized input.
  virtual std::optional<ClientRow> Authenticate(std::string_view client_id,
                                                std::string_view secret) = 0;
  // The client `client_id` (no authentication: for the claims interaction endpoint, where the
  // browser brings only its id, to check a redirect URI against its registration).
  virtual std::optional<ClientRow> Find(std::string_view client_id) = 0;
  // The id of the internal client called `name`; "" if there is none.
  virtual std::string InternalClient(const std::string& name) = 0;
};

// The clients table of the consent database `db` (borrowed; outlives the store).
std::unique_ptr<ClientStore> NewSqlClientStore(sql::Db& db);

}  // namespace medallion::uma::internal
