// The society role (`medallion issuer serve`).
#include "medallion/roles/society.h"

#include <httplib.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "medallion/claims/society.h"
#include "medallion/core/json.h"
#include "medallion/did/did_key.h"
#include "medallion/did/did_web.h"
#include "medallion/oid4vc/issuer.h"
#include "medallion/roles/did_web_http.h"
#include "medallion/roles/files.h"
#include "medallion/roles/issuer_http.h"
#include "medallion/roles/ledger_client.h"
#include "medallion/roles/oid4vci_http.h"
#include "medallion/roles/verifier.h"
#include "role_util.h"
#include "society_desk.h"
#include "web_gate.h"

namespace medallion::roles {

using nlohmann::json;
namespace fs = std::filesystem;

SocietyRole::SocietyRole(SocietyOptions options, Env env)
    : options_(std::move(options)), env_(env) {}

SocietyRole::~SocietyRole() { Stop(); }

Status SocietyRole::Start() {
  const SocietyOptions& o = options_;
  MDL_RETURN_IF_ERROR(PrepareDir(o.dir));
  MDL_ASSIGN_OR_RETURN(RoleKeys keys, UnlockRole(o.store, o.passphrase_file, "medallion society"));
  MDL_ASSIGN_OR_RETURN(Bytes dir_bytes, ReadFileBytes(o.directory));
  auto dir_json = ParseJson(ToString(dir_bytes), JsonLimits{size_t{64} << 20, 64});
  if (!dir_json)
    return Status::InvalidArgument(o.directory + " is not JSON: " + dir_json.error().message());
  MDL_ASSIGN_OR_RETURN(auto directory, claims::ParseDirectory(*dir_json));
  MDL_ASSIGN_OR_RETURN(
      std::string token,
      AdminToken(o.admin_token_file.empty() ? (fs::path(o.dir) / "admin.token").string()
                                            : o.admin_token_file,
                 env_));

  MDL_ASSIGN_OR_RETURN(std::unique_ptr<httplib::Server> made, MakeServer(o.tls));
  httplib::Server& http = *made;
  MDL_RETURN_IF_ERROR(Bind(std::move(made), o.listen));
  // did:web of the bound origin (did:web names a host, not an IP: "localhost" on loopback).
  const std::string origin = "https://" + o.public_host + ":" + std::to_string(port());
  MDL_ASSIGN_OR_RETURN(std::string did, did::UrlToDidWeb(origin));
  did::DidDocument doc;
  doc.id = did;
  (void)did::AddKey(doc, did::KeyType::kEd25519, keys.assertion->public_key,
                    {did::Relationship::kAssertionMethod});
  (void)did::AddKey(doc, did::KeyType::kEd25519, keys.auth->public_key,
                    {did::Relationship::kAuthentication});
  const std::string kid =
      did + "#" + *did::MultikeyFromPublicKey(did::KeyType::kEd25519, keys.assertion->public_key);

  claims::SocietyOptions so;
  so.did = did;
  so.signer = claims::WalletSigner(keys.assertion, kid);
  so.base_url = origin;
  so.directory = directory;
  so.status_ttl_millis = o.status_ttl_ms;
  so.review = o.review;
  MDL_ASSIGN_OR_RETURN(society_,
                       claims::Society::Open((fs::path(o.dir) / "society.db").string(), so, env_));
  // Physicians prove control of their DID: did:key, did:web, and did:mdl when a ledger is given.
  std::shared_ptr<roles::LedgerClient> ledger_client;
  if (!o.ledger.log_key.empty()) {
    MDL_ASSIGN_OR_RETURN(roles::LedgerClient client, o.ledger.MakeClient());
    ledger_client = std::make_shared<roles::LedgerClient>(std::move(client));
  }
  VerifierOptions vo;
  vo.allow_insecure_loopback = true;
  verifier_ = std::make_unique<Verifier>(vo, ledger_client);
  roles::RegisterDidWebDocument(
      http, [doc] { return doc; }, "");
  DeskOptions desk;
  desk.dir = o.dir;
  desk.origin = o.web_origin.empty() ? WebOriginFor(url()) : o.web_origin;
  desk.tls = !o.tls.cert.empty();
  desk.name = o.name;
  MDL_ASSIGN_OR_RETURN(desk_, SocietyDesk::Open(*society_, desk, env_));
  desk_->RegisterRoutes(http);
  roles::RegisterSocietyRoutes(http, *society_, verifier_->resolver(), token);
  // OpenID4VCI (docs/openid4vc.md): the society is a credential issuer whose identifier is the
  // origin it is reached at; offers are made for licenses its onboarding has issued.
  oid4vc::IssuerOptions io;
  io.credential_issuer = url();
  io.display_name = o.name;
  io.signer = so.signer;
  MDL_ASSIGN_OR_RETURN(oid4vci_,
                       oid4vc::Issuer::Open((fs::path(o.dir) / "oid4vci.db").string(), io, env_));
  roles::RegisterSocietyOid4vciRoutes(http, *society_, *oid4vci_, token);
  banner_ = {{"role", "issuer"},       {"did", did},
             {"origin", origin},       {"name", o.name},
             {"review", o.review},     {"licenses_in_directory", directory.size()},
             {"app", desk_->AppUrl()}, {"oid4vci", {{"credential_issuer", url()}}}};
  MDL_ASSIGN_OR_RETURN(std::optional<std::string> link, desk_->FirstSetupLink());
  if (link) banner_["setup_link"] = *link;
  Serve();
  return Status::Ok();
}

}  // namespace medallion::roles
