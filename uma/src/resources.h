// Registered resources (FedAuthz §3): what each resource server registered for the owner, with
// its scopes. Private to the uma module.
#pragma once

#include "medallion/storage/db.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "medallion/core/status.h"

namespace medallion::uma::internal {

// Migration 1: the resource table (schema.h composes the migrations).
inline constexpr char kResourcesV1[] = R"sql(
CREATE TABLE resources (
  id TEXT PRIMARY KEY,
  client_id TEXT NOT NULL,
  owner TEXT NOT NULL,
  description TEXT NOT NULL,
  created INTEGER NOT NULL
);
CREATE INDEX resources_by_client ON resources(client_id);
)sql";

// A registered resource: the resource server that registered it, its owner, its description
// (FedAuthz §3.1: resource_scopes, name, type, ...).
struct ResourceRow {
  std::string client_id;
  std::string owner;
  nlohmann::json description;
};

// Where the authorization server keeps registered resources. Not synchronized: the server
// calls it with its lock held (writes inside its transactions).
class ResourceStore {
 public:
  virtual ~ResourceStore() = default;
  // The resource `id`; nullopt if unknown (or its stored description is unreadable).
  virtual std::optional<ResourceRow> Get(std::string_view id) = 0;
  // Registers resource `id` of `row.client_id` at `now`. Errors: resource_exhausted when that
  // server has `max_per_server` resources; the database's.
  virtual Status Create(const std::string& id, const ResourceRow& row, int64_t now,
                        size_t max_per_server) = 0;
  // Replaces the description of `client_id`'s resource `id` (nothing if it is not theirs).
  virtual Status Update(std::string_view id, const std::string& client_id,
                        const nlohmann::json& description) = 0;
  // Deletes `client_id`'s resource `id` (nothing if it is not theirs).
  virtual Status Delete(std::string_view id, const std::string& client_id) = 0;
  // The ids of `client_id`'s resources, oldest first.
  virtual std::vector<std::string> List(const std::string& client_id) = 0;
};

// The resources table of the consent database `db` (borrowed; outlives the store).
std::unique_ptr<ResourceStore> NewSqlResourceStore(sql::Db& db);

}  // namespace medallion::uma::internal
