// The consent database's schema, numbered migrations composed from the parts' tables. The
// tables, their columns and the migration numbers are those of every earlier release (a
// database made by any of them opens unchanged); each part owns the fragments it names.
#pragma once

#include <span>
#include <string>

#include "approvals.h"
#include "clients.h"
#include "credentials.h"
#include "devices_store.h"
#include "disclosure_log.h"
#include "policies.h"
#include "resources.h"
#include "tickets.h"
#include "tokens.h"

namespace medallion::uma::internal {

// The migrations, numbered by position (storage/sqlite.h: OpenDatabase).
inline std::span<const char* const> Migrations() {
  static const std::string v1 = std::string(kClientsV1) + kTokensV1 + kResourcesV1 + kTicketsV1 +
                                kChallengesV1 + kPoliciesV1 + kRequestsV1 + kReceiptsV1 +
                                kDisclosuresV1 + kAnchorsV1;
  static const std::string v2 = std::string(kDevicesV2) + kRequestKindsV2;
  static const char* const list[] = {v1.c_str(), v2.c_str(), kCredentialsV3, kCredentialCopyV4,
                                     kCredentialNoticesV5};
  return list;
}

}  // namespace medallion::uma::internal
