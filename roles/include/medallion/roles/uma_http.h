// The personal container's consent endpoints over HTTP: the UMA 2.0 authorization server
// (discovery, registration, token, introspection, revocation, resource registration,
// permission tickets), the owner API (/owner/v1: sign-in, policies, pending requests,
// disclosure log, receipts), signed approvals, and the FHIR R4 record store as a UMA-protected
// resource server (/fhir). docs/uma.md lists every route. Handlers only move bytes: the
// protocol is uma::AuthorizationServer's.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "medallion/core/status.h"
#include "medallion/uma/authorization_server.h"
#include "medallion/uma/record_store.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace medallion::roles {

// Parses an application/x-www-form-urlencoded body (RFC 6749 §3.2: parameters sent without a
// value are treated as omitted; a parameter repeated is refused). Errors: invalid_argument.
Result<std::map<std::string, std::string>> ParseForm(std::string_view body);

// Registers the authorization server's and the owner's routes. `as` must outlive `server`.
void RegisterUmaRoutes(httplib::Server& server, uma::AuthorizationServer& as);

// The FHIR R4 record store as a UMA resource server: one UMA resource per resource type
// (scopes read, search, create, update), registered with the co-located authorization server
// under its own PAT. Every request needs an RPT with the permission (or the owner's session);
// otherwise 401 with WWW-Authenticate: UMA realm, as_uri, ticket (UMA Grant §3.2). Every
// release is written to the accounting of disclosures.
class FhirResourceServer {
 public:
  // Where the server's PAT comes from: by default the container's internal resource-server
  // client (AuthorizationServer::InternalPat); a deployment that registered the FHIR server as
  // an ordinary client (RFC 7591 + client_credentials) passes its own. Called again when the
  // PAT expires.
  using PatSource = std::function<Result<std::string>()>;
  // Registers (or finds, after a restart) the resources. `as` and `records` must outlive it.
  static Result<std::unique_ptr<FhirResourceServer>> Create(uma::AuthorizationServer& as,
                                                            uma::RecordStore& records,
                                                            PatSource pat_source = {});
  // The UMA resource id of a FHIR type ("" if not a stored type).
  std::string ResourceIdFor(std::string_view type) const;
  // Registers GET/POST /fhir/{type}, GET/PUT /fhir/{type}/{id}, GET
  // /fhir/{type}/{id}/_history/{vid}.
  void RegisterRoutes(httplib::Server& server);

 private:
  FhirResourceServer(uma::AuthorizationServer& as, uma::RecordStore& records)
      : as_(as), records_(records) {}
  std::string Pat();
  // Authorizes `scope` on the type's resource (taking a new PAT once if the old one expired);
  // on refusal writes the 401 with a ticket (or the error) to `res` and returns nullopt.
  std::optional<uma::Access> Guard(const httplib::Request& req, httplib::Response& res,
                                   const std::string& type, const char* scope);
  // Writes the release to the accounting of disclosures; no release without its record.
  Status Release(const uma::Access& access, const std::string& type, const char* scope,
                 const std::vector<std::string>& what);
  // The FHIR interactions (R4 RESTful API §3.1.0): read, vread, search, create, update.
  void HandleRead(const httplib::Request& req, httplib::Response& res);
  void HandleVread(const httplib::Request& req, httplib::Response& res);
  void HandleSearch(const httplib::Request& req, httplib::Response& res);
  void HandleCreate(const httplib::Request& req, httplib::Response& res);
  void HandleUpdate(const httplib::Request& req, httplib::Response& res);
  PatSource pat_source_;
  uma::AuthorizationServer& as_;
  uma::RecordStore& records_;
  std::map<std::string, std::string, std::less<>> resource_ids_;  // FHIR type → UMA resource id
  std::mutex mu_;
  std::string pat_;
};

// The scopes each FHIR interaction needs.
inline constexpr char kScopeRead[] = "read";
inline constexpr char kScopeSearch[] = "search";
inline constexpr char kScopeCreate[] = "create";
inline constexpr char kScopeUpdate[] = "update";

}  // namespace medallion::roles
