// The accounting of disclosures: an append-only, hash-chained log of what the authorization
// server decided and released (hash = SHA-256(JCS(entry with seq, ts and prev))), and the ledger
// anchors of its chain head. Private to the uma module.
#pragma once

#include "medallion/storage/db.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "medallion/core/status.h"

namespace medallion::uma::internal {

// Migration 1: the log and anchor tables (schema.h composes the migrations).
inline constexpr char kDisclosuresV1[] = R"sql(
CREATE TABLE disclosures (
  seq INTEGER PRIMARY KEY,
  entry TEXT NOT NULL,
  hash TEXT NOT NULL
);
)sql";
inline constexpr char kAnchorsV1[] = R"sql(
CREATE TABLE anchors (
  seq INTEGER PRIMARY KEY,       -- the last disclosure entry the anchor covers
  hash TEXT NOT NULL,
  ledger_index INTEGER NOT NULL,
  ts INTEGER NOT NULL
);
)sql";

// One entry of the log: its sequence number (from 1), the entry as logged, its hash (hex).
struct LogEntry {
  int64_t seq = 0;
  nlohmann::json entry;
  std::string hash;
};

// A ledger anchor: the chain head `hash` at entry `seq`, appended at `ledger_index`.
struct LogAnchor {
  int64_t seq = 0;
  std::string hash;
  int64_t ledger_index = 0;
  int64_t ts = 0;
};

// Where the authorization server keeps the log. Not synchronized: the server calls it with its
// lock held (writes inside its transactions).
class DisclosureLog {
 public:
  virtual ~DisclosureLog() = default;
  // Appends `entry` with the next seq, ts = `now` and prev = the head's hash. Errors: the
  // entry cannot be canonicalized (JCS); the database's.
  virtual Status Append(nlohmann::json entry, int64_t now) = 0;
  // The entries after `after_seq` in order, at most `limit` (none: all). Errors: data_loss for a
  // stored entry that is not JSON.
  virtual Result<std::vector<LogEntry>> Read(int64_t after_seq, std::optional<size_t> limit) = 0;
  // The chain head (seq 0 and 64 '0's while the log is empty); its entry is not read.
  virtual LogEntry Head() = 0;
  // Every anchor, oldest first; the latest one.
  virtual std::vector<LogAnchor> Anchors() = 0;
  virtual std::optional<LogAnchor> LastAnchor() = 0;
  virtual Status AddAnchor(const LogAnchor& anchor) = 0;
};

// The disclosures and anchors tables of the consent database `db` (borrowed; outlives the log).
std::unique_ptr<DisclosureLog> NewSqlDisclosureLog(sql::Db& db);

}  // namespace medallion::uma::internal
