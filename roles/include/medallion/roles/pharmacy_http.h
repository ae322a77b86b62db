// The pharmacy's service over HTTP: challenges for holder-bound presentations and the dispense
// endpoint that runs claims::VerifyAndDispense (docs/credentials.md §"The pharmacy").
#pragma once

#include "medallion/claims/pharmacy.h"
#include "medallion/claims/presentation.h"
#include "medallion/core/env.h"
#include "medallion/did/resolver.h"

namespace httplib {
class Server;
}

namespace medallion::roles {

struct PharmacyService {
  claims::PharmacyConfig config;
  const did::Resolver* resolver = nullptr;
  claims::ChallengeStore* challenges = nullptr;
  claims::LedgerPort* ledger = nullptr;
  claims::LicenseStatusCheck license_status;
  Env env{nullptr, nullptr};
};

// POST /pharmacy/v1/challenge → {"nonce", "domain", "expires"} (single use, 5 minutes);
// POST /pharmacy/v1/dispense {"presentation", "fill_authorization"?} → 200 the DispenseResult
// (with the signed receipt) when dispensed; otherwise 422 {"error": <rx reason code>,
// "error_description", "result"} and nothing is written. For a controlled substance the
// patient's phone approval (claims::VerifyFillAuthorization) is required. `service` and what it
// points to must outlive `server`.
void RegisterPharmacyRoutes(httplib::Server& server, PharmacyService& service);

}  // namespace medallion::roles
