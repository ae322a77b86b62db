// The owner's policies (docs/uma.md §Policies) and the consent receipts of their grants and
// revocations. Private to the uma module.
#pragma once

#include "medallion/storage/db.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "medallion/core/status.h"
#include "medallion/uma/policy.h"

namespace medallion::uma::internal {

// Migration 1: the policy and receipt tables (schema.h composes the migrations).
inline constexpr char kPoliciesV1[] = R"sql(
CREATE TABLE policies (
  id TEXT PRIMARY KEY,
  body TEXT NOT NULL,
  created INTEGER NOT NULL,
  revoked INTEGER              -- NULL while in force
);
)sql";
inline constexpr char kReceiptsV1[] = R"sql(
CREATE TABLE receipts (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  policy_id TEXT NOT NULL,
  action TEXT NOT NULL,
  receipt TEXT NOT NULL,
  hash TEXT NOT NULL,
  ledger TEXT NOT NULL,          -- JSON array of ledger indexes (empty without a ledger)
  created INTEGER NOT NULL
);
)sql";

// A consent receipt: the policy, "grant" | "revoke", the receipt document, its hash (hex), the
// ledger indexes of its entries (a JSON array, empty without a ledger).
struct ReceiptRow {
  std::string policy_id, action;
  nlohmann::json receipt;
  std::string hash;
  nlohmann::json ledger;
  int64_t created = 0;
};

// Where the authorization server keeps the owner's policies and receipts. Not synchronized: the
// server calls it with its lock held (writes inside its transactions).
class PolicyStore {
 public:
  virtual ~PolicyStore() = default;
  // The policies in force, by id (a stored body that no longer parses is skipped).
  virtual std::vector<Policy> Active() = 0;
  // Stores policy `p` (its id set) as `body` (PolicyToJson). Errors: the database's.
  virtual Status Add(const Policy& p, const nlohmann::json& body, int64_t now) = 0;
  // Marks policy `id` revoked at `now` (nothing if it is not in force).
  virtual Status Revoke(std::string_view id, int64_t now) = 0;
  virtual Status AddReceipt(const ReceiptRow& receipt) = 0;
  // The hash of policy `id`'s grant receipt; "" if it has none.
  virtual std::string GrantReceiptHash(std::string_view id) = 0;
  // Every receipt, oldest first. Errors: data_loss for a stored receipt that is not JSON.
  virtual Result<std::vector<ReceiptRow>> Receipts() = 0;
};

// The policies and receipts tables of the consent database `db` (borrowed; outlives the store).
std::unique_ptr<PolicyStore> NewSqlPolicyStore(sql::Db& db);

}  // namespace medallion::uma::internal
