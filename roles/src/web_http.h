// The browser side of a container (docs/web.md): the patient's app at "/", passkey sign-in
// (WebAuthn Level 3, verified here through webauthn/), sign-in approved on her paired phone,
// browser sessions in HttpOnly SameSite=Strict cookies with CSRF tokens, the owner API and her
// own FHIR records reachable with that cookie, her notifications as Server-Sent Events, the
// pairing QR code and the disclosure log's check.
#pragma once

#include <httplib.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "medallion/core/env.h"
#include "medallion/core/secret.h"
#include "medallion/core/status.h"
#include "medallion/web/sessions.h"
#include "medallion/webauthn/webauthn.h"
#include "mounted_routes.h"
#include "physician_desk.h"
#include "web_gate.h"
#include "web_rx.h"

namespace medallion::uma {
class AuthorizationServer;
}
namespace medallion::roles {
class LedgerClient;
}

namespace medallion::roles {

struct ContainerWebOptions {
  std::string origin;     // the app's origin, "http://localhost:8090" (no path, no trailing '/')
  std::string base_path;  // "" for a container of its own, "/c/alice" when mounted
  bool tls = false;
  std::string owner_did;
  std::string display_name;  // shown by the authenticator ("Alice's container")
  // The owner's seed (from her wallet, when the container holds it): her pairwise pseudonyms
  // for relationships on the ledger (uma/relationship.h). Null: the relationships page says so.
  const SecretBytes* seed = nullptr;
  // Her prescriptions at a pharmacy (web_rx.h): her authentication key, the resolver of her
  // DID's phone key, the prescribers' license status.
  PrescriptionDeskOptions prescriptions;
  // Her key store's path ("" without one): the layout of her guardian shares (files.h).
  std::string store;
  // Serve the physician's workspace instead of the patient's app (physician_desk.h).
  bool physician = false;
  // Her OpenID4VP wallet may talk plain http to loopback verifiers (tests; web_oid4vc.h).
  bool allow_insecure_loopback = false;
};

class ContainerWeb {
 public:
  // Opens (or creates) `dir`/web.sqlite. `as` (and `ledger`, which may be null) outlive this.
  static Result<std::unique_ptr<ContainerWeb>> Open(const std::string& dir,
                                                    uma::AuthorizationServer& as,
                                                    std::shared_ptr<roles::LedgerClient> ledger,
                                                    ContainerWebOptions options, Env env);
  ~ContainerWeb();

  // Registers the app, /web/v1/... and the cookie's bridge to the owner API on `server` (the
  // container's own listener, or its MountedRoutes). Call before the other routes' owners
  // register theirs; sets the server's pre- and post-routing handlers.
  void RegisterRoutes(httplib::Server& server);
  void RegisterRoutes(MountedRoutes& mounted);

  // A one-time link that registers a passkey and signs the browser in:
  // "<origin><base>/#setup=<token>", live for SessionOptions::link_ttl_s.
  Result<std::string> SetupLink();

  // The app's URL, "<origin><base>/".
  std::string AppUrl() const { return options_.origin + options_.base_path + "/"; }

 private:
  void Register(httplib::Server& server, MountedRoutes* mounted);
  class Handlers;
  void RegisterPhysicianRoutes(httplib::Server& server, const std::shared_ptr<Handlers>& h);
  ContainerWeb(uma::AuthorizationServer& as, std::shared_ptr<roles::LedgerClient> ledger,
               ContainerWebOptions options, Env env);
  friend class Handlers;

  uma::AuthorizationServer& as_;
  std::shared_ptr<roles::LedgerClient> ledger_;
  ContainerWebOptions options_;
  Env env_;
  std::unique_ptr<web::BrowserStore> store_;
  std::unique_ptr<WebGate> gate_;  // cookie "mdl_session_<port>", passkeys, CSRF
  PrescriptionDesk desk_;
  std::unique_ptr<PhysicianDesk> physician_;  // with options_.physician

  // The owner session standing for each browser session (by session hash), in memory only:
  // after a restart a live browser session gets a new one.
  std::mutex mu_;
  struct OwnerSession {
    std::string token;
    int64_t expires_at = 0;  // the browser session's absolute end: dropped from here after it
  };
  std::map<std::string, OwnerSession> owner_sessions_;
  struct PhoneAttempt {
    std::string request_id;
    int64_t expires_at = 0;
    bool done = false;
  };
  std::map<std::string, PhoneAttempt> phone_attempts_;  // by hex SHA-256 of the attempt token
};

}  // namespace medallion::roles
