// The roles' resolver and license status check.
#include "medallion/roles/verifier.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "medallion/claims/credentials.h"
#include "medallion/claims/data_integrity.h"
#include "medallion/did/did_mdl.h"
#include "medallion/did/did_web.h"
#include "medallion/roles/did_http.h"

namespace medallion::roles {
namespace {

roles::HttpsFetcherOptions FetcherOptions(const VerifierOptions& o) {
  roles::HttpsFetcherOptions fo;
  fo.allow_insecure_loopback = o.allow_insecure_loopback;
  fo.ca_file = o.ca_file;
  return fo;
}

}  // namespace

Status VerifierOptions::Check() const {
  for (const std::string& t : trusted) {
    if (!did::IsValidDid(t)) return Status::InvalidArgument("--trust: '" + t + "' is not a DID");
  }
  return Status::Ok();
}

Verifier::Verifier(const VerifierOptions& options, std::shared_ptr<roles::LedgerClient> ledger)
    : trusted_(options.trusted),
      fetcher_(FetcherOptions(options)),
      checker_(fetcher_, *DefaultEnv().clock, [this](const nlohmann::json& list) -> Status {
        // Only a trusted society's own proof makes its list count.
        const std::string issuer = claims::IssuerOf(list);
        if (std::find(trusted_.begin(), trusted_.end(), issuer) == trusted_.end()) {
          return Status::PermissionDenied("the status list's issuer is not trusted");
        }
        claims::ProofCheckOptions po;
        po.now = DefaultEnv().clock->NowSeconds();
        auto proofs = claims::VerifyProofs(list, resolver_, po);
        if (!proofs) return proofs.error();
        for (const auto& p : *proofs) {
          if (p.controller == issuer) return Status::Ok();
        }
        return Status::PermissionDenied("no proof by the status list's issuer");
      }) {
  resolver_.Register(std::make_shared<did::DidWebResolver>(
      std::make_shared<roles::HttpsDocumentFetcher>(FetcherOptions(options)), DefaultEnv(),
      60'000));
  if (ledger)
    resolver_.Register(did::mdl::MakeMdlResolver(roles::MakeLedgerOpFetcher(std::move(ledger))));
}

}  // namespace medallion::roles
