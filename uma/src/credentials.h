// The owner's credential store: credentials delivered to her inbox or kept by her, each under
// its digest. Private to the uma module.
#pragma once

#include "medallion/storage/db.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "medallion/core/status.h"

namespace medallion::uma::internal {

// Migration 3: the credential table (schema.h composes the migrations).
inline constexpr char kCredentialsV3[] = R"sql(
CREATE TABLE credentials (
  id TEXT PRIMARY KEY,          -- the digest (hex SHA-256 of the canonical credential)
  vc TEXT NOT NULL,
  issuer TEXT NOT NULL,
  types TEXT NOT NULL,
  source TEXT NOT NULL,         -- 'inbox' | 'owner'
  received INTEGER NOT NULL
);
)sql";

// Migration 4: a prescription's pharmacy copy (an SD-JWT VC bound to one of her pairwise keys,
// and the prescriber's phone co-signature of it), kept with the prescription: JSON
// {"sd_jwt", "cosignature"?}, NULL when there is none.
inline constexpr char kCredentialCopyV4[] = R"sql(
ALTER TABLE credentials ADD COLUMN pharmacy_copy TEXT;
)sql";

// Migration 5: where the prescriber takes a notice about a prescription (a refusal the patient
// chooses to tell her, docs/web.md §"A refusal reaches the prescriber"): an http(s) URL given
// at delivery, NULL when none.
inline constexpr char kCredentialNoticesV5[] = R"sql(
ALTER TABLE credentials ADD COLUMN notices TEXT;
)sql";

// A kept credential: its digest (hex SHA-256 of the canonical credential), the credential, its
// issuer and types, where it came from ('inbox' | 'owner') and when.
struct CredentialRow {
  std::string id;
  nlohmann::json vc;
  std::string issuer;
  nlohmann::json types;
  std::string source;
  int64_t received = 0;
  nlohmann::json pharmacy_copy;  // null: none
  std::string notices;           // "": none
};

// Where the authorization server keeps the owner's credentials. Not synchronized: the server
// calls it with its lock held (writes inside its transactions).
class CredentialStore {
 public:
  virtual ~CredentialStore() = default;
  // Keeps `row` unless a credential with its id is kept already: true if it is new. A kept
  // credential without a pharmacy copy (notices URL) takes the row's, if it has one.
  virtual Result<bool> Add(const CredentialRow& row) = 0;
  // Every kept credential, oldest first. Errors: data_loss for a stored one that is not JSON.
  virtual Result<std::vector<CredentialRow>> List() = 0;
};

// The credentials table of the consent database `db` (borrowed; outlives the store).
std::unique_ptr<CredentialStore> NewSqlCredentialStore(sql::Db& db);

}  // namespace medallion::uma::internal
