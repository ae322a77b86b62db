// Requests awaiting the owner's approval (UMA Grant §3.3.6 request_submitted; the phone's
// queue, docs/mobile-bridge.md): each with the hash of its canonical summary, its data (summary,
// approvals, payload, the signed result), a status and a kind. Private to the uma module.
#pragma once

#include "medallion/storage/db.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "medallion/core/status.h"

namespace medallion::uma::internal {

// Migration 1: the requests table (schema.h composes the migrations).
inline constexpr char kRequestsV1[] = R"sql(
CREATE TABLE requests (
  id TEXT PRIMARY KEY,
  hash TEXT NOT NULL,
  data TEXT NOT NULL,
  status TEXT NOT NULL,          -- 'pending' | 'approved' | 'denied'
  created INTEGER NOT NULL,
  decided INTEGER
);
CREATE INDEX requests_by_status ON requests(status, created);
)sql";
// Migration 2: request kinds.
inline constexpr char kRequestKindsV2[] = R"sql(
ALTER TABLE requests ADD COLUMN kind TEXT NOT NULL DEFAULT 'consent';
)sql";

// A stored request.
struct RequestRow {
  std::string id;
  std::string hash;     // hex SHA-256 of the canonical summary: what a signed decision names
  nlohmann::json data;  // {"summary", "approvals", "payload"?, "result"?}
  std::string status;   // 'pending' | 'approved' | 'denied'
  std::string kind;     // kRequestConsent, kRequestFill, ... (authorization_server.h)
  int64_t created = 0;
  int64_t decided = 0;  // 0 while pending
};

// Where the authorization server keeps its requests. Not synchronized: the server calls it with
// its lock held (writes inside its transactions). Every error names the consent store; a stored
// `data` that is not JSON is data_loss.
class RequestStore {
 public:
  virtual ~RequestStore() = default;
  // Keeps a new pending request `id` of `kind` created at `created`. Errors: the database's
  // (already existing id included).
  virtual Status Insert(const std::string& id, const std::string& kind, const std::string& hash,
                        const nlohmann::json& data, int64_t created) = 0;
  // How many requests are pending. Errors: the database's.
  virtual Result<size_t> CountPending() = 0;
  // The request `id`. Errors: not_found ("no such request"), the database's, data_loss.
  virtual Result<RequestRow> Get(std::string_view id) = 0;
  // Every request (`pending_only`: the pending ones), oldest first (by created, then id).
  // Errors: the database's, data_loss.
  virtual Result<std::vector<RequestRow>> List(bool pending_only) = 0;
  // Sets the request's data, status and decision time (0: undecided). Errors: the database's.
  virtual Status Decide(std::string_view id, const nlohmann::json& data, const std::string& status,
                        int64_t decided) = 0;
  // Sets the request's data alone. Errors: the database's.
  virtual Status PutData(std::string_view id, const nlohmann::json& data) = 0;
};

// The requests table of the consent database `db` (borrowed; outlives the store).
std::unique_ptr<RequestStore> NewSqlRequestStore(sql::Db& db);

}  // namespace medallion::uma::internal
