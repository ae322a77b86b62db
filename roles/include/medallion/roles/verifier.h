// What every verifying role needs: a resolver (did:key, did:web over HTTPS — plain
// HTTP on loopback only when asked —, did:mdl through the verifying ledger client) and a
// license status check over the trusted societies' signed status lists.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "medallion/claims/pharmacy.h"
#include "medallion/claims/status_list.h"
#include "medallion/did/resolver.h"
#include "medallion/roles/did_web_http.h"
#include "medallion/roles/ledger_client.h"

namespace medallion::roles {

struct VerifierOptions {
  std::vector<std::string> trusted;  // medical societies (DIDs)
  bool allow_insecure_loopback = false;
  std::string ca_file;
  Status Check() const;  // every --trust is a DID
};

class Verifier {
 public:
  // `ledger` may be null (no did:mdl then).
  Verifier(const VerifierOptions& options, std::shared_ptr<roles::LedgerClient> ledger);
  Verifier(const Verifier&) = delete;
  Verifier& operator=(const Verifier&) = delete;
  did::Resolver& resolver() { return resolver_; }
  // OK if active; failed_precondition revoked/suspended; unavailable if it cannot tell.
  claims::LicenseStatusCheck LicenseStatus() { return claims::MakeLicenseStatusCheck(checker_); }
  const std::vector<std::string>& trusted() const { return trusted_; }

 private:
  class Fetcher final : public claims::StatusListFetcher {
   public:
    explicit Fetcher(roles::HttpsFetcherOptions o) : fetcher_(std::move(o)) {}
    Result<std::string> Fetch(const std::string& url) override { return fetcher_.Fetch(url); }

   private:
    roles::HttpsDocumentFetcher fetcher_;
  };
  std::vector<std::string> trusted_;
  did::Resolver resolver_;
  Fetcher fetcher_;
  claims::StatusChecker checker_;
};

}  // namespace medallion::roles
