// Containers sharing one PostgreSQL consent database (docs/scale-out.md §"The container host on
// PostgreSQL"): each container's connection reads and writes only its own rows, even with SQL
// written by hand over that connection; a connection that names no container sees nothing; two
// containers may hold the same ids; a role that row-level security would not bind is refused.
// Runs in the PostgreSQL registration of the suite (uma_tests_pg:*, MEDALLION_UMA_BACKEND).
#include <libpq-fe.h>

#include <catch2/catch.hpp>

#include "medallion/oid4vc/verifier.h"
#include "medallion/storage/sqlite.h"
#include "medallion/uma/record_store.h"
#include "uma/reply_http.h"
#include "uma/uma_world.h"

using namespace medallion;
using medallion::testing::Http;
using medallion::testing::UmaWorld;
using medallion::uma::Reply;

namespace {

// A connection as sql::Db makes it for `container`, with no migrations of its own to apply.
std::unique_ptr<sql::Db> Connect(const std::string& url, const std::string& container) {
  auto db = sql::Db::Open(url, "isolation", {}, container);
  if (!db) throw std::runtime_error(db.error().ToString());
  return std::move(*db);
}

int64_t Count(sql::Db& db, const char* statement) {
  sql::Stmt q(db, statement);
  REQUIRE(q.Step() == SQLITE_ROW);
  return q.ColInt(0);
}

// What a statement does over `db`: the rows it changed, or -1 if it failed.
int64_t Run(sql::Db& db, const char* statement) {
  sql::Stmt s(db, statement);
  if (s.Step() != SQLITE_DONE) return -1;
  return db.Changes();
}

}  // namespace

TEST_CASE("one container never reads or writes another's rows in a shared PostgreSQL database",
          "[uma][postgresql][isolation]") {
  if (!testing::UmaOnPostgres()) {
    SUCCEED("a PostgreSQL test: the uma_tests_pg registration runs it");
    return;
  }
  UmaWorld a("uma-tenant-a");
  if (!a.pg) {
    WARN(ledger::testing::kPgSkipMessage);
    return;
  }
  const std::string url = a.consent;
  const std::string container_a = a.patient.Did();  // the default: the owner's DID

  // Container A: a resource server's PAT and resource, a client, a policy, a session.
  const std::string pat = *a.as->InternalPat("fhir");
  Reply r = a.as->CreateResource(pat, {{"name", "Medication requests"},
                                       {"type", "MedicationRequest"},
                                       {"resource_scopes", {"read"}}});
  REQUIRE(Http(r) == 201);
  const std::string resource = r.body["_id"];
  REQUIRE(Http(a.as->RegisterClient({{"client_name", "Dr. app"}}, "")) == 201);
  (void)a.OwnerSession();

  // Container B: another authorization server on the same database and schema.
  uma::AuthorizationServerOptions ob = a.Options();
  ob.container = "container-b";
  auto b = uma::AuthorizationServer::Open(url, ob, a.env);
  REQUIRE(b);
  // B does not know A's PAT nor A's resource; its own internal client has the same name as A's
  // and coexists with it (keys are per container: no conflict reveals A's row).
  CHECK(Http((*b)->Introspect(pat, "x")) == 401);
  const std::string pat_b = *(*b)->InternalPat("fhir");
  CHECK(pat_b != pat);
  Reply listed = (*b)->ListResources(pat_b);
  REQUIRE(Http(listed) == 200);
  CHECK(listed.body.dump().find(resource) == std::string::npos);

  auto conn_a = Connect(url, container_a);
  auto conn_b = Connect(url, "container-b");
  const int64_t a_clients = Count(*conn_a, "SELECT COUNT(*) FROM clients");
  const int64_t a_tokens = Count(*conn_a, "SELECT COUNT(*) FROM tokens");
  REQUIRE(a_clients >= 2);  // the internal "fhir" client and the registered one
  REQUIRE(a_tokens >= 2);   // the PAT and the owner's session
  REQUIRE(Count(*conn_a, "SELECT COUNT(*) FROM resources") == 1);

  SECTION("hand-written reads see the connection's container only") {
    CHECK(Count(*conn_b, "SELECT COUNT(*) FROM resources") == 0);
    CHECK(Count(*conn_b, "SELECT COUNT(*) FROM clients") == 1);  // B's own "fhir"
    CHECK(Count(*conn_b, "SELECT COUNT(DISTINCT container_id) FROM tokens") == 1);
    const std::string by_name =
        "SELECT COUNT(*) FROM tokens WHERE container_id = '" + container_a + "'";
    CHECK(Count(*conn_b, by_name.c_str()) == 0);
    CHECK(Count(*conn_a, by_name.c_str()) == a_tokens);
  }
  SECTION("hand-written writes cannot touch or create another container's rows") {
    CHECK(Run(*conn_b, "UPDATE tokens SET revoked = 1") == 1);  // B's own PAT only
    CHECK(Run(*conn_b, "DELETE FROM resources") == 0);
    const std::string forged =
        "INSERT INTO clients (container_id, client_id, secret_hash, kind, metadata, created) "
        "VALUES ('" +
        container_a + "', 'forged', '\\x00', 'client', '{}', 0)";
    CHECK(Run(*conn_b, forged.c_str()) == -1);  // WITH CHECK refuses it
    CHECK(Count(*conn_a, "SELECT COUNT(*) FROM resources") == 1);
    CHECK(Count(*conn_a, "SELECT COUNT(*) FROM tokens WHERE revoked = 1") == 0);
    CHECK(Count(*conn_a, "SELECT COUNT(*) FROM clients WHERE client_id = 'forged'") == 0);
    // A still introspects with its PAT: its rows are untouched.
    CHECK(Http(a.as->Introspect(pat, "unknown")) == 200);
  }
  SECTION("a connection that names no container sees and writes nothing") {
    PGconn* raw = PQconnectdb(url.c_str());
    REQUIRE(PQstatus(raw) == CONNECTION_OK);
    PGresult* q = PQexec(raw, "SELECT COUNT(*) FROM tokens");
    REQUIRE(PQresultStatus(q) == PGRES_TUPLES_OK);
    CHECK(std::string(PQgetvalue(q, 0, 0)) == "0");
    PQclear(q);
    PGresult* ins = PQexec(raw,
                           "INSERT INTO challenges (container_id, nonce, expires) "
                           "VALUES ('container-b', 'n', 1)");
    CHECK(PQresultStatus(ins) == PGRES_FATAL_ERROR);
    PQclear(ins);
    PQfinish(raw);
    CHECK(Count(*conn_b, "SELECT COUNT(*) FROM challenges") == 0);
  }
  SECTION("the record store: one container's FHIR resources are not another's") {
    const nlohmann::json mr = {{"resourceType", "MedicationRequest"},
                               {"status", "active"},
                               {"intent", "order"},
                               {"medicationReference", {{"reference", "Medication/m1"}}},
                               {"subject", {{"reference", "Patient/alice"}}}};
    auto created = a.records->Create(mr);
    REQUIRE(created);
    const std::string id = (*created)["id"];
    auto rb = uma::RecordStore::Open(url, a.env, "container-b");
    REQUIRE(rb);
    CHECK((*rb)->Read("MedicationRequest", id).error().code() == StatusCode::kNotFound);
    CHECK((*rb)->Search("MedicationRequest", std::nullopt)->empty());
    auto stolen = nlohmann::json(*created);
    CHECK_FALSE((*rb)->Update("MedicationRequest", id, stolen));
    CHECK(Count(*conn_b, "SELECT COUNT(*) FROM fhir_resources") == 0);
    CHECK(Count(*conn_a, "SELECT COUNT(*) FROM fhir_resources") == 1);
    CHECK(a.records->Read("MedicationRequest", id));
  }
  SECTION("one container's pending OpenID4VP request is not another's to read, answer or spend") {
    // A's claims interaction (docs/uma.md §"Claims interaction"): a need_info ticket, then the
    // OpenID4VP request, kept by A's verifier as A's rows of the shared database.
    const std::string redirect = "https://drapp.example/claims-done";
    Reply c = a.as->RegisterClient({{"client_name", "Dr. app"}, {"redirect_uris", {redirect}}}, "");
    REQUIRE(Http(c) == 201);
    const std::string client_id = c.body["client_id"], secret = c.body["client_secret"];
    Reply t =
        a.as->RequestPermission(pat, {{"resource_id", resource}, {"resource_scopes", {"read"}}});
    REQUIRE(Http(t) == 201);
    Reply need = a.as->Token({{"grant_type", uma::kUmaTicketGrant}, {"ticket", t.body["ticket"]}},
                             {client_id, secret});
    REQUIRE(need.body["error"] == "need_info");
    Reply interaction = a.as->ClaimsInteraction({{"client_id", client_id},
                                                 {"ticket", need.body["ticket"]},
                                                 {"claims_redirect_uri", redirect},
                                                 {"state", "s1"}});
    INFO(interaction.body.dump());
    REQUIRE(interaction.ok());
    std::map<std::string, std::string> params;
    for (const auto& [k, v] : interaction.body["authorization_request"].items())
      params[k] = v.get<std::string>();
    auto request = oid4vc::ParseAuthorizationRequest(params);
    REQUIRE(request);
    auto answer = oid4vc::BuildResponse(*request, {a.LicenseSdJwt(a.physician)},
                                        a.physician.Signer(), a.env);
    REQUIRE(answer);
    const std::string by_state = "SELECT COUNT(*) FROM oid4vp_requests WHERE state = '" +
                                 request->state + "' AND answered = 0";
    REQUIRE(Count(*conn_a, by_state.c_str()) == 1);

    // Read: B's connection sees none of A's requests, by hand or by state.
    CHECK(Count(*conn_b, "SELECT COUNT(*) FROM oid4vp_requests") == 0);
    CHECK(Count(*conn_b, by_state.c_str()) == 0);
    // Answer: B's response endpoint does not know the state (not terminal: nothing spent).
    Reply at_b = (*b)->ClaimsPresentation(*answer);
    CHECK_FALSE(at_b.ok());
    CHECK(at_b.body["error"] == "invalid_request");
    CHECK(at_b.body.dump().find("claims_submitted") == std::string::npos);
    // Spend: B's hand-written writes change none of A's requests.
    CHECK(Run(*conn_b, "UPDATE oid4vp_requests SET answered = 1") == 0);
    CHECK(Run(*conn_b, "DELETE FROM oid4vp_requests") == 0);
    const std::string forged =
        "INSERT INTO oid4vp_requests (container_id, state, nonce, dcql, created, expires) "
        "VALUES ('" +
        container_a + "', 'forged', 'n', '{}', 0, 9999999999)";
    CHECK(Run(*conn_b, forged.c_str()) == -1);  // WITH CHECK refuses it
    CHECK(Count(*conn_a, by_state.c_str()) == 1);
    CHECK(Count(*conn_a, "SELECT COUNT(*) FROM oid4vp_requests WHERE state = 'forged'") == 0);
    // A's own physician still answers A's request, once.
    Reply at_a = a.as->ClaimsPresentation(*answer);
    INFO(at_a.body.dump());
    REQUIRE(at_a.ok());
    CHECK(at_a.body["redirect_uri"].get<std::string>().find("claims_submitted") !=
          std::string::npos);
    CHECK(Count(*conn_a, by_state.c_str()) == 0);  // now answered
    CHECK_FALSE(a.as->ClaimsPresentation(*answer).ok());
  }
  SECTION("the OpenID4VP verifier itself: by id, encrypted, outcome — per container") {
    oid4vc::VerifierOptions vo;
    vo.response_uri = "https://verifier.example/response";
    vo.client_id = std::string(oid4vc::kRedirectUriPrefix) + vo.response_uri;
    auto va = oid4vc::Verifier::Open(url, container_a, vo, a.env);
    auto vb = oid4vc::Verifier::Open(url, "container-b", vo, a.env);
    REQUIRE(va);
    REQUIRE(vb);
    auto none = oid4vc::Verifier::Open(url, "", vo, a.env);  // PostgreSQL needs its container
    REQUIRE_FALSE(none);
    CHECK(none.error().code() == StatusCode::kInvalidArgument);
    const nlohmann::json query = {
        {"credentials",
         {{{"id", "license"}, {"format", "dc+sd-jwt"}, {"meta", {{"vct_values", {"x"}}}}}}}};
    oid4vc::RequestOptions ro;
    ro.encrypted_response = true;
    auto made = (*va)->CreateRequest(query, ro);
    REQUIRE(made);
    const std::string id = made->id, state = made->state;
    // B neither reads it (by id, its request object), nor records on it, nor spends it.
    CHECK((*vb)->Lookup(id).error().code() == StatusCode::kNotFound);
    CHECK((*vb)->RequestObject(id).error().code() == StatusCode::kNotFound);
    CHECK((*vb)->RecordOutcome(id, {{"status", "forged"}}).ok());  // updates no row
    CHECK_FALSE((*vb)->Spend(state).ok());
    // An encrypted response to A's request key (kid = A's id) is unknown at B.
    const auto metadata = nlohmann::json::parse(made->params.at("client_metadata"));
    auto jwe = oid4vc::EncryptResponse({{"state", state}, {"error", "access_denied"}},
                                       metadata["jwks"]["keys"][0], "A128GCM");
    REQUIRE(jwe);
    auto at_b = (*vb)->ReadResponse({{"response", *jwe}});
    REQUIRE_FALSE(at_b);
    CHECK(at_b.error().message().find("unknown state") != std::string::npos);
    // A has it all, untouched, and reads the same response.
    auto at_a = (*va)->ReadResponse({{"response", *jwe}});
    REQUIRE(at_a);
    CHECK(at_a->error == "access_denied");
    auto record = (*va)->Lookup(id);
    REQUIRE(record);
    CHECK_FALSE(record->answered);
    CHECK_FALSE(record->outcome.has_value());
    CHECK((*va)->RequestObject(id).has_value());
    CHECK((*va)->Spend(state).ok());
    CHECK((*va)->Lookup(id)->answered);
  }
  SECTION("a role that bypasses row-level security is refused, and so is no container") {
    auto super = sql::Db::Open(*ledger::testing::PgBaseUrl(), "isolation", {}, "container-b");
    REQUIRE_FALSE(super);
    CHECK(super.error().code() == StatusCode::kInvalidArgument);
    auto none = sql::Db::Open(url, "isolation", {}, "");
    REQUIRE_FALSE(none);
    CHECK(none.error().code() == StatusCode::kInvalidArgument);
  }
}
