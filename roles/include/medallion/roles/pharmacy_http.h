// The pharmacy's service over HTTP: challenges for holder-bound presentations and the dispense
// endpoint that runs claims::VerifyAndDispense (docs/credentials.md §"The pharmacy").
#pragma once

#include <functional>

#include <nlohmann/json_fwd.hpp>

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
  // Called after each dispense of POST /pharmacy/v1/dispense (the counter's day list).
  std::function<void(const claims::DispenseResult&)> on_dispensed;
};

// The pipeline over a dispense body ({"presentation", "fill_authorization"?} or {"sd_jwt",
// "cosignature"?, "fill_authorization"?}), with `challenges` as the accepted challenges and,
// with `hold`, nothing written (claims::VerifyAndDispense). Errors: invalid_argument for a body
// of another shape (a refusal is a DispenseResult with its reason).
Result<claims::DispenseResult> RunDispense(PharmacyService& service, const nlohmann::json& body,
                                           claims::ChallengeStore& challenges, bool hold);

// POST /pharmacy/v1/challenge → {"nonce", "domain", "expires"} (single use, 5 minutes);
// POST /pharmacy/v1/dispense {"presentation", "fill_authorization"?} → 200 the DispenseResult
// (with the signed receipt) when dispensed; otherwise 422 {"error": <rx reason code>,
// "error_description", "result"} and nothing is written. For a controlled substance the
// patient's phone approval (claims::VerifyFillAuthorization) is required. `service` and what it
// points to must outlive `server`.
void RegisterPharmacyRoutes(httplib::Server& server, PharmacyService& service);

}  // namespace medallion::roles
