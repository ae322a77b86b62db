// did:mdl: creation, updates with pre-rotation, recovery, deactivation, versions, and every
// kind of operation replay must ignore (forged, replayed, conflicting, revealed twice).
#include <catch2/catch.hpp>
#include <sodium.h>

#include <nlohmann/json.hpp>

#include "medallion/core/encoding.h"
#include "medallion/core/jcs.h"
#include "medallion/did/did_mdl.h"
#include "medallion/ledger/entry.h"

using namespace medallion;
using namespace medallion::did;
using namespace medallion::did::mdl;
using nlohmann::json;

namespace {

struct Key {
  Bytes pk = Bytes(32);
  Bytes sk = Bytes(64);
  explicit Key(uint8_t seed_byte) {
    Bytes seed(32, seed_byte);
    if (sodium_init() < 0) std::abort();  // static init: no Catch2 context yet
    crypto_sign_seed_keypair(pk.data(), sk.data(), seed.data());
  }
  OpSigner Signer() const {
    return {pk, [this](ByteView m) -> Result<Bytes> {
              Bytes sig(64);
              crypto_sign_detached(sig.data(), nullptr, m.data(), m.size(), sk.data());
              return sig;
            }};
  }
};

Bytes X25519Of(const Key& k) {
  Bytes x(32);
  REQUIRE(crypto_sign_ed25519_pk_to_curve25519(x.data(), k.pk.data()) == 0);
  return x;
}

KeySet Keys(const Key& auth, const Key& assertion,
            std::string service = "https://container.example/alice") {
  KeySet ks;
  ks.authentication = auth.pk;
  ks.assertion = assertion.pk;
  ks.key_agreement = X25519Of(auth);
  ks.service = std::move(service);
  return ks;
}

// A little ledger: operations in order, with their indices.
struct Chain {
  std::vector<OpRecord> ops;
  uint64_t next_index = 10;
  void Add(const std::string& canonical) { ops.push_back({next_index++, canonical}); }
  Replay Play(std::string_view did, ReplayOptions o = {}) const {
    return ReplayOperations(did, ops, o);
  }
};

const Key U0(10), U1(11), U2(12), U3(13), R0(20), R1(21), A0(30), S0(31), A1(32), S1(33), Thief(99);
constexpr int64_t kT0 = 1'700'000'000;

}  // namespace

TEST_CASE("did:mdl create: self-certifying identifier and document", "[did][mdl]") {
  auto create =
      BuildCreate(Keys(A0, S0), U0.Signer(), KeyCommitment(U1.pk), KeyCommitment(R0.pk), kT0);
  REQUIRE(create);
  CHECK(create->did.rfind("did:mdl:z", 0) != 0);  // no multibase prefix: plain base58btc
  CHECK(create->did.rfind("did:mdl:", 0) == 0);
  CHECK(IsValidDid(create->did));
  CHECK(CheckOperation(json::parse(create->canonical)).ok());
  // The canonical form is what goes to the ledger and passes its schema.
  CHECK(ledger::ParseEntry(create->canonical).has_value());

  Chain chain;
  chain.Add(create->canonical);
  Replay r = chain.Play(create->did);
  REQUIRE(r.state);
  CHECK(r.ignored.empty());
  DidDocument doc = ToDocument(*r.state);
  CHECK(doc.id == create->did);
  REQUIRE(doc.verification_methods.size() == 3);
  CHECK(doc.assertion_method.size() == 1);
  CHECK(doc.FindMethodFor(doc.assertion_method[0], Relationship::kAssertionMethod)->public_key ==
        S0.pk);
  CHECK(doc.FindMethodFor(doc.authentication[0], Relationship::kAuthentication)->public_key ==
        A0.pk);
  REQUIRE(doc.FindService("UMAAuthorizationServer"));
  CHECK(doc.FindService("UMAAuthorizationServer")->endpoint ==
        "https://container.example/alice/uma");
  // Round trip through JSON.
  auto back = DidDocument::FromJson(doc.ToJson());
  REQUIRE(back);
  CHECK(back->verification_methods.size() == 3);

  SECTION("a tampered create no longer derives its DID or verifies") {
    json op = json::parse(create->canonical);
    op["service"] = "https://evil.example/";
    CHECK_FALSE(CheckOperation(op).ok());
    Chain bad;
    bad.Add(*jcs::Canonicalize(op));
    Replay rb = bad.Play(create->did);
    CHECK_FALSE(rb.state);
    REQUIRE(rb.ignored.size() == 1);
    CHECK(rb.ignored[0].reason == "bad_signature");
  }
  SECTION("the ledger validator refuses a forged operation") {
    ledger::ValidatorRegistry registry;
    RegisterLedgerValidator(registry);
    auto ok_entry = ledger::ParseEntry(create->canonical);
    CHECK(registry.Validate(*ok_entry).ok());
    json op = json::parse(create->canonical);
    op["ts"] = kT0 + 1;
    auto forged = ledger::ParseEntry(op.dump());
    REQUIRE(forged);
    CHECK(registry.Validate(*forged).code() == StatusCode::kUnauthenticated);
  }
}

// Found by fuzz:did (tests/fuzz/corpus/did/crash-replay-did-not-a-string): replay read "did" (and,
// for a refused operation, "op") with json::value(), which throws when the member is not a
// string. Operations come from a ledger: outside input, ignored as malformed, never thrown.
TEST_CASE("did:mdl replay ignores operations whose did or op is not a string", "[did][mdl]") {
  auto create =
      *BuildCreate(Keys(A0, S0), U0.Signer(), KeyCommitment(U1.pk), KeyCommitment(R0.pk), kT0);
  Chain chain;
  chain.Add(create.canonical);
  chain.Add(R"({"did":1,"op":"update"})");
  chain.Add(R"({"did":")" + create.did + R"(","op":1,"seq":1})");
  chain.Add(R"({"did":")" + create.did + R"(","op":["create"]})");
  Replay r;
  REQUIRE_NOTHROW(r = chain.Play(create.did));
  REQUIRE(r.state.has_value());
  CHECK(r.state->seq == 0);
  REQUIRE(r.ignored.size() == 3);
  for (const Ignored& i : r.ignored) CHECK(i.reason == "malformed");
}

TEST_CASE("did:mdl updates follow the pre-rotation chain", "[did][mdl]") {
  auto create =
      *BuildCreate(Keys(A0, S0), U0.Signer(), KeyCommitment(U1.pk), KeyCommitment(R0.pk), kT0);
  Chain chain;
  chain.Add(create.canonical);
  State s0 = *chain.Play(create.did).state;

  // Rotation: new authentication and assertion keys, revealing U1 and committing to U2.
  auto rotate = BuildUpdate(s0, Keys(A1, S1), U1.Signer(), KeyCommitment(U2.pk), kT0 + 100);
  REQUIRE(rotate);
  chain.Add(rotate->canonical);
  Replay r1 = chain.Play(create.did);
  REQUIRE(r1.state);
  CHECK(r1.state->seq == 1);
  CHECK(r1.state->keys.assertion == S1.pk);
  CHECK(r1.ignored.empty());

  SECTION("versions: by id, by time, by ledger position") {
    Replay v0 = chain.Play(create.did, {.version_id = 0});
    REQUIRE(v0.state);
    CHECK(v0.state->keys.assertion == S0.pk);
    CHECK(v0.next_version_id == 1u);
    Replay t = chain.Play(create.did, {.version_time = kT0 + 50});
    REQUIRE(t.state);
    CHECK(t.state->keys.assertion == S0.pk);
    Replay p = chain.Play(create.did, {.ledger_position = chain.ops[1].index});
    REQUIRE(p.state);
    CHECK(p.state->keys.assertion == S0.pk);
    CHECK_FALSE(chain.Play(create.did, {.version_time = kT0 - 1}).state);
    CHECK_FALSE(chain.Play(create.did, {.version_id = 7}).state);
  }
  SECTION("a forged update signed by another key is ignored") {
    State fake = s0;
    fake.next_commitment = KeyCommitment(Thief.pk);  // what the thief would need
    auto forged =
        BuildUpdate(fake, Keys(Thief, Thief), Thief.Signer(), KeyCommitment(U3.pk), kT0 + 200);
    REQUIRE(forged);
    Chain c2;
    c2.Add(create.canonical);
    c2.Add(forged->canonical);
    Replay r = c2.Play(create.did);
    CHECK(r.state->seq == 0);
    REQUIRE(r.ignored.size() == 1);
    CHECK(r.ignored[0].reason == "wrong_update_key");
  }
  SECTION("a replayed operation is ignored") {
    chain.Add(rotate->canonical);
    Replay r = chain.Play(create.did);
    CHECK(r.state->seq == 1);
    REQUIRE(r.ignored.size() == 1);
    CHECK(r.ignored[0].reason == "replayed");
  }
  SECTION("conflicting operations: the first in ledger order wins") {
    auto other = BuildUpdate(s0, Keys(A0, S0, "https://other.example"), U1.Signer(),
                             KeyCommitment(U3.pk), kT0 + 101);
    REQUIRE(other);
    chain.Add(other->canonical);
    Replay r = chain.Play(create.did);
    CHECK(r.state->keys.assertion == S1.pk);
    REQUIRE(r.ignored.size() == 1);
    CHECK(r.ignored[0].reason == "sequence_conflict");
    CHECK(r.ignored[0].index == chain.ops.back().index);
  }
  SECTION("an update key can be revealed only once") {
    // U1 was revealed by the rotation; an update that reveals it again (with the right seq)
    // is refused, and so is committing to an already revealed key.
    auto again =
        BuildUpdate(r1.state.value(), Keys(A1, S1), U2.Signer(), KeyCommitment(U1.pk), kT0 + 300);
    REQUIRE(again);
    chain.Add(again->canonical);
    Replay r = chain.Play(create.did);
    CHECK(r.state->seq == 1);
    REQUIRE(r.ignored.size() == 1);
    CHECK(r.ignored[0].reason == "key_revealed_twice");
    CHECK_FALSE(BuildUpdate(r1.state.value(), Keys(A1, S1), U2.Signer(), KeyCommitment(U2.pk), kT0)
                    .has_value());
  }
  SECTION("time may not run backwards") {
    auto late =
        BuildUpdate(r1.state.value(), Keys(A1, S1), U2.Signer(), KeyCommitment(U3.pk), kT0 + 1);
    chain.Add(late->canonical);
    Replay r = chain.Play(create.did);
    REQUIRE(r.ignored.size() == 1);
    CHECK(r.ignored[0].reason == "time_regression");
  }
}

TEST_CASE("did:mdl recovery and deactivation", "[did][mdl]") {
  auto create =
      *BuildCreate(Keys(A0, S0), U0.Signer(), KeyCommitment(U1.pk), KeyCommitment(R0.pk), kT0);
  Chain chain;
  chain.Add(create.canonical);
  State s0 = *chain.Play(create.did).state;

  // A thief who stole U1 takes the DID over...
  auto stolen = *BuildUpdate(s0, Keys(Thief, Thief), U1.Signer(), KeyCommitment(U2.pk), kT0 + 10);
  chain.Add(stolen.canonical);
  State s1 = *chain.Play(create.did).state;
  CHECK(s1.keys.assertion == Thief.pk);
  // ...and the owner recovers with the recovery key, committing to fresh keys.
  CHECK_FALSE(
      BuildRecover(s1, Keys(A1, S1), U3.Signer(), KeyCommitment(U3.pk), KeyCommitment(R1.pk), kT0)
          .has_value());
  auto recover = BuildRecover(s1, Keys(A1, S1), R0.Signer(), KeyCommitment(U3.pk),
                              KeyCommitment(R1.pk), kT0 + 20);
  REQUIRE(recover);
  chain.Add(recover->canonical);
  State s2 = *chain.Play(create.did).state;
  CHECK(s2.keys.assertion == S1.pk);
  CHECK(s2.recovery_commitment == KeyCommitment(R1.pk));
  // The thief's next key (U2) no longer works.
  auto thief_again =
      *BuildUpdate(s1, Keys(Thief, Thief), U2.Signer(), KeyCommitment(Thief.pk), kT0 + 30);
  chain.Add(thief_again.canonical);
  Replay r = chain.Play(create.did);
  CHECK(r.state->keys.assertion == S1.pk);
  REQUIRE_FALSE(r.ignored.empty());
  CHECK(r.ignored.back().reason == "sequence_conflict");
  // A recovery key cannot be used twice either.
  State fake = s2;
  fake.recovery_commitment = KeyCommitment(R0.pk);
  auto reuse = *BuildRecover(fake, Keys(Thief, Thief), R0.Signer(), KeyCommitment(Thief.pk),
                             KeyCommitment(R1.pk), kT0 + 40);
  chain.Add(reuse.canonical);
  CHECK(chain.Play(create.did).ignored.back().reason == "wrong_recovery_key");

  // Deactivation with the current update key; nothing applies afterwards.
  auto deactivate = BuildDeactivate(s2, U3.Signer(), kT0 + 50);
  REQUIRE(deactivate);
  chain.Add(deactivate->canonical);
  Replay d = chain.Play(create.did);
  CHECK(d.state->deactivated);
  CHECK(ToDocument(*d.state).verification_methods.empty());
  // A deactivated DID cannot be used to sign: dereferencing its old keys fails.
  Resolver resolver;
  resolver.Register(
      MakeMdlResolver([&](std::string_view, uint64_t* size) -> Result<std::vector<OpRecord>> {
        *size = 100;
        return chain.ops;
      }));
  auto deref = resolver.DereferenceMethod(
      create.did + "#" + *MultikeyFromPublicKey(KeyType::kEd25519, S1.pk),
      Relationship::kAssertionMethod);
  REQUIRE_FALSE(deref);
  CHECK(deref.error().code() == StatusCode::kFailedPrecondition);
  CHECK(resolver.Resolve(create.did).metadata.deactivated);
  // ...but as of a position before the deactivation, its keys were valid.
  CHECK(resolver
            .DereferenceMethod(create.did + "#" + *MultikeyFromPublicKey(KeyType::kEd25519, S1.pk),
                               Relationship::kAssertionMethod,
                               {.ledger_position = chain.ops.back().index})
            .has_value());

  auto after = BuildUpdate(s2, Keys(A1, S1), U3.Signer(), KeyCommitment(U0.pk), kT0 + 60);
  chain.Add(after->canonical);
  CHECK(chain.Play(create.did).ignored.back().reason == "after_deactivation");
}

TEST_CASE("did:mdl resolution through the resolver", "[did][mdl]") {
  auto create =
      *BuildCreate(Keys(A0, S0), U0.Signer(), KeyCommitment(U1.pk), KeyCommitment(R0.pk), kT0);
  Chain chain;
  chain.Add(create.canonical);
  State s0 = *chain.Play(create.did).state;
  auto rotate = *BuildUpdate(s0, Keys(A1, S1), U1.Signer(), KeyCommitment(U2.pk), kT0 + 100);
  chain.Add(rotate.canonical);

  Resolver resolver;
  resolver.Register(
      MakeMdlResolver([&](std::string_view did, uint64_t* size) -> Result<std::vector<OpRecord>> {
        *size = 100;
        if (did != create.did) return std::vector<OpRecord>{};
        return chain.ops;
      }));
  auto r = resolver.Resolve(create.did);
  REQUIRE(r.ok());
  json j = r.ToJson();
  CHECK(j["didDocumentMetadata"]["versionId"] == "1");
  CHECK(j["didDocumentMetadata"]["created"] == XmlDateTime(kT0));
  CHECK(j["didDocumentMetadata"]["updated"] == XmlDateTime(kT0 + 100));
  CHECK(j["didDocumentMetadata"]["ledger"]["operations"].size() == 2);
  CHECK(j["didResolutionMetadata"]["contentType"] == "application/did+json");

  // The rotation test: a signature made with the old assertion key verifies as of its time
  // (its ledger position), and is refused as of now.
  const std::string old_vm = create.did + "#" + *MultikeyFromPublicKey(KeyType::kEd25519, S0.pk);
  auto then = resolver.DereferenceMethod(old_vm, Relationship::kAssertionMethod,
                                         {.ledger_position = chain.ops[1].index});
  REQUIRE(then);
  CHECK(then->public_key == S0.pk);
  auto now = resolver.DereferenceMethod(old_vm, Relationship::kAssertionMethod);
  REQUIRE_FALSE(now);
  CHECK(now.error().code() == StatusCode::kNotFound);

  // Errors.
  CHECK(resolver.Resolve("did:mdl:0OIl").error == kInvalidDid);
  CHECK(resolver.Resolve("did:mdl:" + Base58Encode(Bytes(32, 1))).error == kNotFound);
  CHECK(resolver.Resolve(create.did, {.version_id = "x"}).error == kInvalidOptions);
  CHECK(resolver.Resolve("did:example:123").error == kMethodNotSupported);
  CHECK(resolver.Resolve("not a did").error == kInvalidDid);
  CHECK(resolver.Resolve(create.did, {.version_id = "0", .version_time = kT0}).error ==
        kInvalidOptions);
}

TEST_CASE("did:mdl: a resolution as of a covered ledger position is final and cached",
          "[did][mdl][cache]") {
  auto create =
      *BuildCreate(Keys(A0, S0), U0.Signer(), KeyCommitment(U1.pk), KeyCommitment(R0.pk), kT0);
  Chain chain;
  chain.Add(create.canonical);
  State s0 = *chain.Play(create.did).state;
  auto rotate = *BuildUpdate(s0, Keys(A1, S1), U1.Signer(), KeyCommitment(U2.pk), kT0 + 100);
  chain.Add(rotate.canonical);
  int fetches = 0;
  uint64_t checkpoint = chain.ops[1].index;  // the rotation is not yet under the checkpoint
  Resolver resolver;
  resolver.Register(
      MakeMdlResolver([&](std::string_view, uint64_t* size) -> Result<std::vector<OpRecord>> {
        ++fetches;
        *size = checkpoint;
        return chain.ops;
      }));
  const std::string old_vm = create.did + "#" + *MultikeyFromPublicKey(KeyType::kEd25519, S0.pk);
  const ResolutionOptions before_rotation{.ledger_position = chain.ops[1].index};
  // Covered by the checkpoint: fetched once, then served from the cache.
  REQUIRE(resolver.DereferenceMethod(old_vm, Relationship::kAssertionMethod, before_rotation));
  REQUIRE(resolver.DereferenceMethod(old_vm, Relationship::kAssertionMethod, before_rotation));
  CHECK(fetches == 1);
  // The current state is never cached: each resolution asks the ledger.
  CHECK_FALSE(resolver.DereferenceMethod(old_vm, Relationship::kAssertionMethod));
  CHECK_FALSE(resolver.DereferenceMethod(old_vm, Relationship::kAssertionMethod));
  CHECK(fetches == 3);
  // A position beyond the checkpoint is not final yet: not cached.
  const ResolutionOptions ahead{.ledger_position = chain.ops[1].index + 5};
  (void)resolver.Resolve(create.did, ahead);
  (void)resolver.Resolve(create.did, ahead);
  CHECK(fetches == 5);
  // Once the checkpoint covers it, it is.
  checkpoint = chain.ops[1].index + 10;
  (void)resolver.Resolve(create.did, ahead);
  (void)resolver.Resolve(create.did, ahead);
  CHECK(fetches == 6);
  // Errors are never cached, and 0 turns the cache off.
  Resolver uncached;
  uncached.Register(MakeMdlResolver(
      [&](std::string_view, uint64_t* size) -> Result<std::vector<OpRecord>> {
        ++fetches;
        *size = checkpoint;
        return chain.ops;
      },
      0));
  (void)uncached.Resolve(create.did, before_rotation);
  (void)uncached.Resolve(create.did, before_rotation);
  CHECK(fetches == 8);
}
