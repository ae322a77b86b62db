// HTTP binding of the container's consent endpoints and its FHIR resource server.
#include "medallion/roles/uma_http.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "medallion/core/encoding.h"
#include "medallion/http/http.h"
#include "medallion/http/rate_limit.h"

namespace medallion::roles {
namespace {

using nlohmann::json;

// The one conversion of the authorization server's answers to HTTP: a failure's status through
// the Status → HTTP table, a success as 200, 201 (created) or 204 (nothing to return).
void Send(httplib::Response& res, const uma::Reply& reply) {
  for (const auto& [k, v] : reply.headers) res.set_header(k, v);
  // RFC 6749 §5.1: token responses are not cached.
  res.set_header("Cache-Control", "no-store");
  res.set_header("Pragma", "no-cache");
  if (!reply.ok()) return http::SendJson(res, reply.body, http::HttpStatusFor(reply.status));
  if (reply.success == uma::Reply::Success::kEmpty) {
    res.status = 204;
    return;
  }
  http::SendJson(res, reply.body, reply.success == uma::Reply::Success::kCreated ? 201 : 200);
}

// RFC 6750 §2.1: "Authorization: Bearer <token>" (scheme case-insensitive). "" if absent.
std::string BearerToken(const httplib::Request& req) {
  const std::string h = req.get_header_value("Authorization");
  if (h.size() < 7) return "";
  std::string scheme = h.substr(0, 7);
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (scheme != "bearer ") return "";
  std::string token = h.substr(7);
  while (!token.empty() && token.front() == ' ') token.erase(token.begin());
  return token;
}

// The JSON body (ReadJsonBody: media type, size, depth); on failure the error is sent.
std::optional<json> JsonBody(const httplib::Request& req, httplib::Response& res,
                             std::string_view error = "invalid_request") {
  return http::ReadJsonBody(req, res, error);
}

bool IsFormRequest(const httplib::Request& req) {
  std::string ct = req.get_header_value("Content-Type");
  std::transform(ct.begin(), ct.end(), ct.begin(), [](unsigned char c) { return std::tolower(c); });
  return ct.rfind("application/x-www-form-urlencoded", 0) == 0;
}

// RFC 6749 §2.3.1: client_secret_basic (id and secret form-urlencoded, then Basic) or
// client_secret_post; using both is invalid_request.
Result<uma::ClientCredentials> ClientAuth(const httplib::Request& req,
                                          std::map<std::string, std::string>& form) {
  uma::ClientCredentials c;
  const std::string h = req.get_header_value("Authorization");
  const bool basic =
      h.size() > 6 && std::equal(h.begin(), h.begin() + 6, "Basic ", [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) ==
               std::tolower(static_cast<unsigned char>(b));
      });
  const bool post = form.count("client_id") > 0 || form.count("client_secret") > 0;
  if (basic && post)
    return Status::InvalidArgument("use one client authentication method, not two");
  if (basic) {
    auto decoded = Base64Decode(h.substr(6));
    if (!decoded) return Status::InvalidArgument("malformed Basic credentials");
    const std::string pair = ToString(*decoded);
    const size_t colon = pair.find(':');
    if (colon == std::string::npos) return Status::InvalidArgument("malformed Basic credentials");
    c.client_id = httplib::detail::decode_url(pair.substr(0, colon), true);
    c.client_secret = httplib::detail::decode_url(pair.substr(colon + 1), true);
  } else if (post) {
    c.client_id = form["client_id"];
    c.client_secret = form["client_secret"];
  }
  form.erase("client_id");
  form.erase("client_secret");
  return c;
}

void BadRequest(httplib::Response& res, const std::string& why) {
  http::SendError(res, 400, "invalid_request", why);
}

// Reads the optional unsigned query parameter `name` into *out (left as is when absent).
// A malformed value is answered with 400 and false.
bool OptionalQuery(const httplib::Request& req, httplib::Response& res, const char* name,
                   uint64_t* out) {
  if (!req.has_param(name)) return true;
  auto v = http::QueryU64(req, name);
  if (!v) {
    BadRequest(res, v.error().message());
    return false;
  }
  *out = *v;
  return true;
}

// RFC 6750 §3.1: the owner's session is missing or not live. Sent before a body is looked at,
// so nothing is said about the request to someone who is not the owner.
void OwnerRequired(httplib::Response& res, const uma::AuthorizationServer& a) {
  res.set_header("WWW-Authenticate",
                 "Bearer realm=\"" + a.options().realm + "\", error=\"invalid_token\"");
  res.set_header("Cache-Control", "no-store");
  res.set_header("Pragma", "no-cache");
  http::SendError(res, 401, "invalid_token", "the owner's session is required (sign in)");
}

}  // namespace

Result<std::map<std::string, std::string>> ParseForm(std::string_view body) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while (pos <= body.size()) {
    size_t amp = body.find('&', pos);
    if (amp == std::string_view::npos) amp = body.size();
    std::string_view pair = body.substr(pos, amp - pos);
    pos = amp + 1;
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    const std::string key = httplib::detail::decode_url(std::string(pair.substr(0, eq)), true);
    const std::string value =
        eq == std::string_view::npos
            ? ""
            : httplib::detail::decode_url(std::string(pair.substr(eq + 1)), true);
    if (value.empty())
      continue;  // RFC 6749 §3.1: "sent without a value MUST be treated as if omitted"
    if (!out.emplace(key, value).second) {
      return Status::InvalidArgument("parameter '" + key + "' is repeated (RFC 6749 §3.2)");
    }
  }
  return out;
}

namespace {

// Per client address, in a sliding window (docs/limits.md).
constexpr size_t kRegistrationsPerWindow = 30;
constexpr size_t kAuthFailuresPerWindow = 20;
constexpr std::chrono::seconds kRateWindow{600};

// The OAuth endpoints: discovery, client registration, token, introspection, revocation.
void RegisterOAuthRoutes(httplib::Server& server, uma::AuthorizationServer* a) {
  // UMA Grant §2 / FedAuthz §2: discovery.
  server.Get("/.well-known/uma2-configuration",
             [a](const httplib::Request&, httplib::Response& res) {
               http::SendJson(res, a->Discovery());
             });
  server.Get("/.well-known/oauth-authorization-server",
             [a](const httplib::Request&, httplib::Response& res) {
               http::SendJson(res, a->Discovery());
             });

  // Per-address limits (docs/limits.md): registrations are open to any requesting party
  // (RFC 7591 §3 without an initial access token), so each address gets kRegistrations per
  // window; failed client authentications at the token endpoint are counted and, over
  // kAuthFailures per window, the address is refused before its credentials are checked.
  auto registrations = std::make_shared<http::RateLimiter>(kRegistrationsPerWindow, kRateWindow);
  auto auth_failures = std::make_shared<http::RateLimiter>(kAuthFailuresPerWindow, kRateWindow);

  // RFC 7591 §3.
  server.Post("/register", [a, registrations](const httplib::Request& req,
                                              httplib::Response& res) {
    auto body = JsonBody(req, res, "invalid_client_metadata");
    if (!body) return;
    if (Status limited = registrations->Count(req.remote_addr, "client registrations");
        !limited.ok()) {
      return http::SendOAuthError(res, limited, nlohmann::json::object());
    }
    Send(res, a->RegisterClient(*body, BearerToken(req)));
  });

  // RFC 6749 §3.2 + UMA Grant §3.3.1.
  server.Post("/token", [a, auth_failures](const httplib::Request& req, httplib::Response& res) {
    if (!IsFormRequest(req))
      return BadRequest(res, "the token endpoint takes application/x-www-form-urlencoded");
    auto form = ParseForm(req.body);
    if (!form) return BadRequest(res, form.error().message());
    auto client = ClientAuth(req, *form);
    if (!client) return BadRequest(res, client.error().message());
    if (Status limited = auth_failures->Check(req.remote_addr, "failed client authentications");
        !limited.ok()) {
      return http::SendOAuthError(res, limited, nlohmann::json::object());
    }
    uma::Reply reply = a->Token(*form, *client);
    if (reply.status.reason() == "invalid_client") auth_failures->Record(req.remote_addr);
    Send(res, reply);
  });

  // UMA Grant §3.3.2: the claims interaction endpoint, where the requesting party's browser is
  // sent; answered with a redirect to her wallet (the OpenID4VP request, openid4vp://...), or
  // with the request as JSON when the caller asks for JSON (a client driving the wallet itself).
  // A refused client or redirect URI is answered as JSON, never redirected.
  server.Get(uma::kClaimsInteractionPath, [a](const httplib::Request& req,
                                              httplib::Response& res) {
    std::map<std::string, std::string> query;
    for (const auto& [k, v] : req.params) {
      if (!query.emplace(k, v).second)
        return BadRequest(res, "parameter '" + k + "' is repeated");
    }
    uma::Reply reply = a->ClaimsInteraction(query);
    const bool wants_json =
        req.get_header_value("Accept").find("application/json") != std::string::npos;
    if (!reply.ok() || wants_json || !reply.body.contains("redirect_to")) return Send(res, reply);
    // The 302 also carries the request as JSON (a client that drives the wallet itself reads
    // the parameters there rather than from the Location).
    http::SendJson(res, reply.body, 302);
    res.set_header("Cache-Control", "no-store");
    res.set_header("Location", reply.body["redirect_to"].get<std::string>());
  });
  // OpenID4VP §8.2: the response endpoint the wallet posts its direct_post form to.
  server.Post(uma::kClaimsResponsePath, [a](const httplib::Request& req, httplib::Response& res) {
    if (!IsFormRequest(req))
      return BadRequest(res, "the response endpoint takes application/x-www-form-urlencoded");
    auto form = ParseForm(req.body);
    if (!form) return BadRequest(res, form.error().message());
    Send(res, a->ClaimsPresentation(*form));
  });

  // RFC 7662 §2.1 with the PAT (FedAuthz §5).
  server.Post("/introspect", [a](const httplib::Request& req, httplib::Response& res) {
    if (!IsFormRequest(req))
      return BadRequest(res, "introspection takes application/x-www-form-urlencoded");
    auto form = ParseForm(req.body);
    if (!form) return BadRequest(res, form.error().message());
    Send(res, a->Introspect(BearerToken(req), (*form)["token"]));
  });

  // RFC 7009 §2.1.
  server.Post("/revoke", [a](const httplib::Request& req, httplib::Response& res) {
    if (!IsFormRequest(req))
      return BadRequest(res, "revocation takes application/x-www-form-urlencoded");
    auto form = ParseForm(req.body);
    if (!form) return BadRequest(res, form.error().message());
    auto client = ClientAuth(req, *form);
    if (!client) return BadRequest(res, client.error().message());
    Send(res, a->Revoke(*client, (*form)["token"]));
  });
}

// FedAuthz §3–4: resource registration, permission tickets, an approver's signed decision.
void RegisterResourceRoutes(httplib::Server& server, uma::AuthorizationServer* a) {
  // FedAuthz §3.2: resource registration.
  server.Post("/uma/resource_set", [a](const httplib::Request& req, httplib::Response& res) {
    auto body = JsonBody(req, res);
    if (!body) return;
    Send(res, a->CreateResource(BearerToken(req), *body));
  });
  server.Get("/uma/resource_set", [a](const httplib::Request& req, httplib::Response& res) {
    Send(res, a->ListResources(BearerToken(req)));
  });
  server.Get(R"(/uma/resource_set/([A-Za-z0-9_-]{1,64}))",
             [a](const httplib::Request& req, httplib::Response& res) {
               Send(res, a->ReadResource(BearerToken(req), req.matches[1].str()));
             });
  server.Put(R"(/uma/resource_set/([A-Za-z0-9_-]{1,64}))",
             [a](const httplib::Request& req, httplib::Response& res) {
               auto body = JsonBody(req, res);
               if (!body) return;
               Send(res, a->UpdateResource(BearerToken(req), req.matches[1].str(), *body));
             });
  server.Delete(R"(/uma/resource_set/([A-Za-z0-9_-]{1,64}))",
                [a](const httplib::Request& req, httplib::Response& res) {
                  Send(res, a->DeleteResource(BearerToken(req), req.matches[1].str()));
                });

  // FedAuthz §3.2 / §4: a method an endpoint does not support is 405 with Allow.
  auto not_allowed = [&server](const std::string& pattern, const std::string& allow,
                               std::initializer_list<const char*> methods) {
    auto h = [allow](const httplib::Request&, httplib::Response& res) {
      res.set_header("Allow", allow);
      http::SendError(res, 405, "method_not_allowed", "this endpoint allows " + allow);
    };
    for (const char* m : methods) {
      const std::string method(m);
      if (method == "GET") server.Get(pattern, h);
      if (method == "POST") server.Post(pattern, h);
      if (method == "PUT") server.Put(pattern, h);
      if (method == "PATCH") server.Patch(pattern, h);
      if (method == "DELETE") server.Delete(pattern, h);
    }
  };
  not_allowed("/uma/resource_set", "GET, POST", {"PUT", "PATCH", "DELETE"});
  not_allowed(R"(/uma/resource_set/([A-Za-z0-9_-]{1,64}))", "GET, PUT, DELETE", {"POST", "PATCH"});
  not_allowed("/uma/permission", "POST", {"GET", "PUT", "PATCH", "DELETE"});
  not_allowed("/token", "POST", {"GET", "PUT", "PATCH", "DELETE"});
  not_allowed("/introspect", "POST", {"GET", "PUT", "PATCH", "DELETE"});
  not_allowed("/revoke", "POST", {"GET", "PUT", "PATCH", "DELETE"});
  not_allowed("/register", "POST", {"GET", "PUT", "PATCH", "DELETE"});

  // FedAuthz §4: permission tickets.
  server.Post("/uma/permission", [a](const httplib::Request& req, httplib::Response& res) {
    auto body = JsonBody(req, res);
    if (!body) return;
    Send(res, a->RequestPermission(BearerToken(req), *body));
  });

  // An approver's signed decision (the phone, a co-approving provider).
  server.Post(R"(/uma/requests/([A-Za-z0-9_-]{1,64})/decision)", [a](const httplib::Request& req,
                                                                     httplib::Response& res) {
    auto body = JsonBody(req, res);
    if (!body) return;
    if (!body->is_object() || !(*body)["token"].is_string())
      return BadRequest(res, "the body is {\"token\": <did-auth+jwt>}");
    Send(res, a->DecideSigned(req.matches[1].str(), (*body)["token"].get<std::string>()));
  });
}

// The owner API: sign-in, policies, requests, the disclosure log, receipts.
void RegisterOwnerRoutes(httplib::Server& server, uma::AuthorizationServer* a) {
  // The owner API.
  server.Post("/owner/v1/challenge", [a](const httplib::Request&, httplib::Response& res) {
    Send(res, a->OwnerChallenge());
  });
  server.Post("/owner/v1/session", [a](const httplib::Request& req, httplib::Response& res) {
    auto body = JsonBody(req, res);
    if (!body) return;
    if (!body->is_object() || !(*body)["token"].is_string())
      return BadRequest(res, "the body is {\"token\": <did-auth+jwt>}");
    Send(res, a->OwnerSignIn((*body)["token"].get<std::string>()));
  });
  server.Get("/owner/v1/policies", [a](const httplib::Request& req, httplib::Response& res) {
    Send(res, a->ListPolicies(BearerToken(req)));
  });
  server.Post("/owner/v1/policies", [a](const httplib::Request& req, httplib::Response& res) {
    if (!a->CheckOwner(BearerToken(req)).ok()) return OwnerRequired(res, *a);
    auto body = JsonBody(req, res);
    if (!body) return;
    Send(res, a->AddPolicy(BearerToken(req), *body));
  });
  server.Get(R"(/owner/v1/policies/([A-Za-z0-9_-]{1,64}))",
             [a](const httplib::Request& req, httplib::Response& res) {
               Send(res, a->GetPolicy(BearerToken(req), req.matches[1].str()));
             });
  server.Delete(R"(/owner/v1/policies/([A-Za-z0-9_-]{1,64}))",
                [a](const httplib::Request& req, httplib::Response& res) {
                  Send(res, a->DeletePolicy(BearerToken(req), req.matches[1].str()));
                });
  server.Get("/owner/v1/requests", [a](const httplib::Request& req, httplib::Response& res) {
    Send(res, a->ListRequests(BearerToken(req), req.get_param_value("status")));
  });
  server.Post(R"(/owner/v1/requests/([A-Za-z0-9_-]{1,64})/decision)",
              [a](const httplib::Request& req, httplib::Response& res) {
                if (!a->CheckOwner(BearerToken(req)).ok()) return OwnerRequired(res, *a);
                auto body = JsonBody(req, res);
                if (!body) return;
                if (!body->is_object() || !(*body)["decision"].is_string()) {
                  return BadRequest(res, "the body is {\"decision\": \"approve\" | \"deny\"}");
                }
                Send(res, a->DecideAsOwner(BearerToken(req), req.matches[1].str(),
                                           (*body)["decision"].get<std::string>()));
              });
  server.Get("/owner/v1/disclosures", [a](const httplib::Request& req, httplib::Response& res) {
    uint64_t after = 0, limit = 100;
    if (!OptionalQuery(req, res, "after", &after) || !OptionalQuery(req, res, "limit", &limit))
      return;
    Send(res, a->ReadDisclosures(BearerToken(req), after,
                                 static_cast<size_t>(std::min<uint64_t>(limit, 1000))));
  });
  server.Get("/owner/v1/disclosures/export",
             [a](const httplib::Request& req, httplib::Response& res) {
               Send(res, a->ExportDisclosures(BearerToken(req)));
             });
  server.Post("/owner/v1/disclosures/anchor",
              [a](const httplib::Request& req, httplib::Response& res) {
                Send(res, a->AnchorDisclosures(BearerToken(req)));
              });
  server.Get("/owner/v1/receipts", [a](const httplib::Request& req, httplib::Response& res) {
    Send(res, a->ListReceipts(BearerToken(req)));
  });
}

// Credentials, notifications and the owner's own approval requests.
void RegisterCredentialRoutes(httplib::Server& server, uma::AuthorizationServer* a) {
  // The inbox (anyone delivers a credential addressed to the owner), her credential store and
  // her notifications (long polling: ?after=<seq>&wait=<seconds ≤ 30>).
  server.Post("/inbox/v1/credentials", [a](const httplib::Request& req, httplib::Response& res) {
    auto body = JsonBody(req, res);
    if (!body) return;
    Send(res, a->DeliverCredential(*body));
  });
  server.Get("/owner/v1/credentials", [a](const httplib::Request& req, httplib::Response& res) {
    Send(res, a->ListCredentials(BearerToken(req)));
  });
  server.Post("/owner/v1/credentials", [a](const httplib::Request& req, httplib::Response& res) {
    if (!a->CheckOwner(BearerToken(req)).ok()) return OwnerRequired(res, *a);
    auto body = JsonBody(req, res);
    if (!body) return;
    Send(res, a->StoreCredential(BearerToken(req), *body));
  });
  server.Get("/owner/v1/events", [a](const httplib::Request& req, httplib::Response& res) {
    uint64_t after = 0, wait = 0;
    if (!OptionalQuery(req, res, "after", &after) || !OptionalQuery(req, res, "wait", &wait))
      return;
    wait = std::min<uint64_t>(wait, 30);
    Send(res, a->Events(BearerToken(req), after, static_cast<int>(wait)));
  });

  // The owner's own approval requests for her phone (a prescription to co-sign, a fill to
  // authorize): queue one, read its state and result.
  server.Post("/owner/v1/approvals", [a](const httplib::Request& req, httplib::Response& res) {
    if (!a->CheckOwner(BearerToken(req)).ok()) return OwnerRequired(res, *a);
    auto body = JsonBody(req, res);
    if (!body) return;
    if (!body->is_object() || !(*body)["kind"].is_string()) {
      return BadRequest(res, "the body is {\"kind\", \"summary\", \"payload\"}");
    }
    auto id = a->QueueApproval((*body)["kind"], body->value("summary", nlohmann::json::object()),
                               body->value("payload", nlohmann::json::object()));
    if (!id) return http::SendError(res, id.error());
    http::SendJson(res, {{"id", *id}}, 201);
  });
  server.Get(R"(/owner/v1/approvals/([A-Za-z0-9_-]{1,64}))",
             [a](const httplib::Request& req, httplib::Response& res) {
               if (!a->CheckOwner(BearerToken(req)).ok()) return OwnerRequired(res, *a);
               auto r = a->GetRequest(req.matches[1].str());
               if (!r) return http::SendError(res, r.error());
               http::SendJson(res, *r);
             });
}

void RegisterDeviceRoutes(httplib::Server& server, uma::AuthorizationServer* a) {
  // Devices (docs/mobile-bridge.md): pairing offers and the device list for the owner; the
  // phone's half of pairing, its session, its queue and its decisions.
  server.Post("/owner/v1/pairings", [a](const httplib::Request& req, httplib::Response& res) {
    int64_t ttl = 0;
    if (!req.body.empty()) {
      auto body = JsonBody(req, res);
      if (!body) return;
      if (!body->is_object()) return BadRequest(res, "the body is {} or {\"ttl\": seconds}");
      if (body->contains("ttl")) {
        if (!(*body)["ttl"].is_number_integer()) return BadRequest(res, "ttl is an integer");
        ttl = (*body)["ttl"].get<int64_t>();
      }
    }
    Send(res, a->CreatePairing(BearerToken(req), ttl));
  });
  server.Get("/owner/v1/devices", [a](const httplib::Request& req, httplib::Response& res) {
    Send(res, a->ListDevices(BearerToken(req)));
  });
  server.Delete(R"(/owner/v1/devices/([A-Za-z0-9_-]{1,64}))",
                [a](const httplib::Request& req, httplib::Response& res) {
                  Send(res, a->RevokeDevice(BearerToken(req), req.matches[1].str()));
                });
  server.Post("/pairing/v1/complete", [a](const httplib::Request& req, httplib::Response& res) {
    auto body = JsonBody(req, res);
    if (!body) return;
    Send(res, a->CompletePairing(*body));
  });
  server.Post("/device/v1/challenge", [a](const httplib::Request&, httplib::Response& res) {
    Send(res, a->OwnerChallenge());
  });
  server.Post("/device/v1/session", [a](const httplib::Request& req, httplib::Response& res) {
    auto body = JsonBody(req, res);
    if (!body) return;
    Send(res, a->DeviceSignIn(*body));
  });
  server.Get("/device/v1/requests", [a](const httplib::Request& req, httplib::Response& res) {
    Send(res, a->DeviceRequests(BearerToken(req)));
  });
  server.Post(R"(/device/v1/requests/([A-Za-z0-9_-]{1,64})/decision)",
              [a](const httplib::Request& req, httplib::Response& res) {
                auto body = JsonBody(req, res);
                if (!body) return;
                Send(res, a->DeviceDecide(BearerToken(req), req.matches[1].str(), *body));
              });
}

}  // namespace

void RegisterUmaRoutes(httplib::Server& server, uma::AuthorizationServer& as) {
  uma::AuthorizationServer* a = &as;
  RegisterOAuthRoutes(server, a);
  RegisterResourceRoutes(server, a);
  RegisterOwnerRoutes(server, a);
  RegisterCredentialRoutes(server, a);
  RegisterDeviceRoutes(server, a);
}

// --- FHIR ---

namespace {
constexpr const char* kFhirTypes[] = {"MedicationRequest", "AllergyIntolerance", "Condition",
                                      "Observation", "DocumentReference"};
constexpr char kFhirJson[] = "application/fhir+json";
constexpr char kServerName[] = "medallion-fhir";

std::string TypeUri(const std::string& type) {
  return "http://hl7.org/fhir/StructureDefinition/" + type;
}
}  // namespace

Result<std::unique_ptr<FhirResourceServer>> FhirResourceServer::Create(uma::AuthorizationServer& as,
                                                                       uma::RecordStore& records,
                                                                       PatSource pat_source) {
  std::unique_ptr<FhirResourceServer> rs(new FhirResourceServer(as, records));
  uma::AuthorizationServer* a = &as;
  rs->pat_source_ =
      pat_source ? std::move(pat_source) : PatSource([a] { return a->InternalPat(kServerName); });
  MDL_ASSIGN_OR_RETURN(rs->pat_, rs->pat_source_());
  // After a restart the same internal client finds its resources again.
  uma::Reply list = as.ListResources(rs->pat_);
  if (!list.ok())
    return Status::Internal("fhir: cannot list the registered resources: " + list.body.dump());
  for (const json& id : list.body) {
    uma::Reply r = as.ReadResource(rs->pat_, id.get<std::string>());
    if (!r.ok()) continue;
    const std::string type = r.body.value("type", "");
    for (const char* t : kFhirTypes) {
      if (type == TypeUri(t)) rs->resource_ids_[t] = id.get<std::string>();
    }
  }
  for (const char* t : kFhirTypes) {
    if (rs->resource_ids_.count(t)) continue;
    json description = {
        {"name", std::string("My ") + t + " records"},
        {"type", TypeUri(t)},
        {"description", std::string("FHIR R4 ") + t + " resources in this container"},
        {"resource_scopes", {kScopeRead, kScopeSearch, kScopeCreate, kScopeUpdate}}};
    uma::Reply created = as.CreateResource(rs->pat_, description);
    if (!created.ok())
      return Status::Internal("fhir: cannot register " + std::string(t) + ": " +
                              created.body.dump());
    rs->resource_ids_[t] = created.body["_id"];
  }
  return rs;
}

std::string FhirResourceServer::ResourceIdFor(std::string_view type) const {
  auto it = resource_ids_.find(type);
  return it == resource_ids_.end() ? "" : it->second;
}

std::string FhirResourceServer::Pat() {
  std::lock_guard<std::mutex> lock(mu_);
  return pat_;
}

std::optional<uma::Access> FhirResourceServer::Guard(const httplib::Request& req,
                                                     httplib::Response& res,
                                                     const std::string& type, const char* scope) {
  const std::string resource_id = ResourceIdFor(type);
  if (resource_id.empty()) {
    http::SendError(res, 404, "not_found", "resource type " + type + " is not stored here");
    return std::nullopt;
  }
  uma::Reply refusal;
  auto access = as_.Authorize(Pat(), BearerToken(req), resource_id, scope, &refusal);
  if (!access && access.error().code() == StatusCode::kUnauthenticated) {
    // The PAT expired: take a new one and ask again.
    auto pat = pat_source_();
    if (pat) {
      std::lock_guard<std::mutex> lock(mu_);
      pat_ = *pat;
    }
    access = as_.Authorize(Pat(), BearerToken(req), resource_id, scope, &refusal);
  }
  if (!access) {
    if (refusal.ok()) {
      refusal.status =
          Status::WithReason(StatusCode::kInternal, "server_error", access.error().message());
      refusal.body = {{"error", "server_error"}, {"error_description", access.error().message()}};
    }
    Send(res, refusal);
    return std::nullopt;
  }
  return *access;
}

Status FhirResourceServer::Release(const uma::Access& access, const std::string& type,
                                   const char* scope, const std::vector<std::string>& what) {
  return as_.RecordRelease(access, ResourceIdFor(type), scope, what);
}

namespace {
void ReplyFhir(httplib::Response& res, const json& body, int status) {
  res.status = status;
  res.set_content(body.dump(), kFhirJson);
}
}  // namespace

// FHIR R4 RESTful API §3.1.0.2 read.
void FhirResourceServer::HandleRead(const httplib::Request& req, httplib::Response& res) {
  const std::string type = req.matches[1], id = req.matches[2];
  auto access = Guard(req, res, type, kScopeRead);
  if (!access) return;
  auto r = records_.Read(type, id);
  if (!r) return http::SendError(res, r.error());
  Status logged = Release(*access, type, kScopeRead, {type + "/" + id});
  if (!logged.ok()) return http::SendError(res, logged);
  res.set_header("ETag", "W/\"" + (*r)["meta"]["versionId"].get<std::string>() + "\"");
  ReplyFhir(res, *r, 200);
}

// §3.1.0.3 vread.
void FhirResourceServer::HandleVread(const httplib::Request& req, httplib::Response& res) {
  const std::string type = req.matches[1], id = req.matches[2];
  auto access = Guard(req, res, type, kScopeRead);
  if (!access) return;
  auto r = records_.ReadVersion(type, id, std::stoull(req.matches[3].str()));
  if (!r) return http::SendError(res, r.error());
  Status logged =
      Release(*access, type, kScopeRead, {type + "/" + id + "/_history/" + req.matches[3].str()});
  if (!logged.ok()) return http::SendError(res, logged);
  ReplyFhir(res, *r, 200);
}

// §3.1.0.9 search (by patient), answered as a searchset Bundle.
void FhirResourceServer::HandleSearch(const httplib::Request& req, httplib::Response& res) {
  const std::string type = req.matches[1];
  for (const auto& [k, v] : req.params) {
    if (k != "patient" && k != "_count")
      return BadRequest(res, "search parameter '" + k + "' is not supported");
  }
  auto access = Guard(req, res, type, kScopeSearch);
  if (!access) return;
  std::optional<std::string> patient;
  if (req.has_param("patient")) {
    std::string p = req.get_param_value("patient");
    patient = p.rfind("Patient/", 0) == 0 ? p : "Patient/" + p;
  }
  size_t count = 100;
  if (req.has_param("_count")) {
    auto c = http::QueryU64(req, "_count");
    if (!c || *c == 0) return BadRequest(res, "_count is a positive integer");
    count = static_cast<size_t>(std::min<uint64_t>(*c, 1000));
  }
  auto found = records_.Search(type, patient, count);
  if (!found) return http::SendError(res, found.error());
  json entries = json::array();
  std::vector<std::string> what;
  for (const json& r : *found) {
    what.push_back(type + "/" + r["id"].get<std::string>());
    entries.push_back({{"fullUrl", type + "/" + r["id"].get<std::string>()},
                       {"resource", r},
                       {"search", {{"mode", "match"}}}});
  }
  Status logged = Release(*access, type, kScopeSearch, what);
  if (!logged.ok()) return http::SendError(res, logged);
  ReplyFhir(res,
            {{"resourceType", "Bundle"},
             {"type", "searchset"},
             {"total", entries.size()},
             {"entry", entries}},
            200);
}

// §3.1.0.5 create.
void FhirResourceServer::HandleCreate(const httplib::Request& req, httplib::Response& res) {
  const std::string type = req.matches[1];
  auto access = Guard(req, res, type, kScopeCreate);
  if (!access) return;
  auto body = JsonBody(req, res);
  if (!body) return;
  if (!body->is_object() || body->value("resourceType", "") != type) {
    return BadRequest(res, "the body's resourceType must be " + type);
  }
  auto created = records_.Create(*body);
  if (!created) return http::SendError(res, created.error());
  const std::string id = (*created)["id"];
  Status logged = Release(*access, type, kScopeCreate, {type + "/" + id});
  if (!logged.ok()) return http::SendError(res, logged);
  res.set_header("Location", "/fhir/" + type + "/" + id + "/_history/1");
  res.set_header("ETag", "W/\"1\"");
  ReplyFhir(res, *created, 201);
}

// §3.1.0.4 update, with If-Match (§3.1.0.4.2 "managing resource contention").
void FhirResourceServer::HandleUpdate(const httplib::Request& req, httplib::Response& res) {
  const std::string type = req.matches[1], id = req.matches[2];
  auto access = Guard(req, res, type, kScopeUpdate);
  if (!access) return;
  auto body = JsonBody(req, res);
  if (!body) return;
  std::optional<uint64_t> if_match;
  if (req.has_header("If-Match")) {
    std::string v = req.get_header_value("If-Match");
    if (v.rfind("W/", 0) == 0) v = v.substr(2);
    if (v.size() < 3 || v.front() != '"' || v.back() != '"')
      return BadRequest(res, "If-Match is W/\"<version>\"");
    try {
      if_match = std::stoull(v.substr(1, v.size() - 2));
    } catch (...) {
      return BadRequest(res, "If-Match is W/\"<version>\"");
    }
  }
  auto updated = records_.Update(type, id, *body, if_match);
  if (!updated) {
    if (updated.error().code() == StatusCode::kFailedPrecondition) {
      return http::SendError(res, 412, "precondition_failed", updated.error().message());
    }
    return http::SendError(res, updated.error());
  }
  Status logged = Release(*access, type, kScopeUpdate, {type + "/" + id});
  if (!logged.ok()) return http::SendError(res, logged);
  res.set_header("ETag", "W/\"" + (*updated)["meta"]["versionId"].get<std::string>() + "\"");
  ReplyFhir(res, *updated, 200);
}

void FhirResourceServer::RegisterRoutes(httplib::Server& server) {
  FhirResourceServer* self = this;
  const std::string types =
      "(MedicationRequest|AllergyIntolerance|Condition|Observation|DocumentReference)";
  server.Get(
      "/fhir/" + types + R"(/([A-Za-z0-9.-]{1,64}))",
      [self](const httplib::Request& req, httplib::Response& res) { self->HandleRead(req, res); });
  server.Get(
      "/fhir/" + types + R"(/([A-Za-z0-9.-]{1,64})/_history/([0-9]{1,9}))",
      [self](const httplib::Request& req, httplib::Response& res) { self->HandleVread(req, res); });
  server.Get("/fhir/" + types, [self](const httplib::Request& req, httplib::Response& res) {
    self->HandleSearch(req, res);
  });
  server.Post("/fhir/" + types, [self](const httplib::Request& req, httplib::Response& res) {
    self->HandleCreate(req, res);
  });
  server.Put("/fhir/" + types + R"(/([A-Za-z0-9.-]{1,64}))",
             [self](const httplib::Request& req, httplib::Response& res) {
               self->HandleUpdate(req, res);
             });
}

}  // namespace medallion::roles
