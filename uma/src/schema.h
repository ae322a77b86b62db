// The consent database's schema, numbered migrations composed from the parts' tables. The
// tables, their columns and the migration numbers are those of every earlier release (a
// database made by any of them opens unchanged); each part owns the fragments it names.
#pragma once

#include <span>
#include <string>

#include "clients.h"
#include "credentials.h"
#include "disclosure_log.h"
#include "policies.h"
#include "resources.h"
#include "tickets.h"
#include "tokens.h"

namespace medallion::uma::internal {

// Migration 1. Requests awaiting approval (the approvals part).
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
// Migration 2: pairing offers and devices (the devices part).
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
// Migration 2: request kinds (the approvals part).
inline constexpr char kRequestKindsV2[] = R"sql(
ALTER TABLE requests ADD COLUMN kind TEXT NOT NULL DEFAULT 'consent';
)sql";

// The migrations, numbered by position (storage/sqlite.h: OpenDatabase).
inline std::span<const char* const> Migrations() {
  static const std::string v1 = std::string(kClientsV1) + kTokensV1 + kResourcesV1 + kTicketsV1 + kChallengesV1 +
                                kPoliciesV1 + kRequestsV1 + kReceiptsV1 + kDisclosuresV1 + kAnchorsV1;
  static const std::string v2 = std::string(kDevicesV2) + kRequestKindsV2;
  static const char* const list[] = {v1.c_str(), v2.c_str(), kCredentialsV3};
  return list;
}

}  // namespace medallion::uma::internal
