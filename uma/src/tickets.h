// Permission tickets (FedAuthz §4, UMA Grant §3.3.1 and §3.3.6): opaque, single use,
// short-lived, stored only as their SHA-256. A rotated ticket (need_info, request_submitted)
// carries the state of its chain. Private to the uma module.
#pragma once

#include "medallion/storage/db.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "medallion/core/status.h"

namespace medallion::uma::internal {

// Migration 1: the ticket table (schema.h composes the migrations).
inline constexpr char kTicketsV1[] = R"sql(
CREATE TABLE tickets (
  hash BLOB PRIMARY KEY,
  client_id TEXT NOT NULL,       -- the resource server that asked for it
  data TEXT NOT NULL,
  issued INTEGER NOT NULL,
  expires INTEGER NOT NULL,
  used INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX tickets_expiry ON tickets(expires);
)sql";

inline constexpr char kGatheringOwner[] = "urn:medallion:uma:claims-gathering";

// Where the authorization server keeps its tickets. Not synchronized: the server calls it with
// its lock held, inside its transactions.
class TicketStore {
 public:
  virtual ~TicketStore() = default;
  // Keeps `ticket` (its hash) for the resource server `rs_client` with `data` (the requested
  // permissions, and a rotated ticket's chain state) until `expires`; drops tickets that expired
  // over an hour before `now`. Errors: the database's.
  virtual Status Put(std::string_view ticket, const std::string& rs_client,
                     const nlohmann::json& data, int64_t now, int64_t expires) = 0;
  // Consumes `ticket` (single use, also when expired): its resource server and data.
  // Errors: not_found (unknown or used), failed_precondition (expired), the database's.
  // Claims interaction records (claims_interaction.cpp) are kept here too, under the resource
  // server id kGatheringOwner: only a call with `gathering` consumes one, and such a call
  // consumes nothing else (not_found), so neither can be spent through the other's endpoint.
  virtual Result<std::pair<std::string, nlohmann::json>> Consume(std::string_view ticket,
                                                                 int64_t now,
                                                                 bool gathering = false) = 0;
};

// The tickets table of the consent database `db` (borrowed; outlives the store).
std::unique_ptr<TicketStore> NewSqlTicketStore(sql::Db& db);

}  // namespace medallion::uma::internal
