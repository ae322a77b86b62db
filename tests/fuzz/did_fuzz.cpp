// Fuzz target: DIDs (did/document.h, did/did_key.h, did/did_web.h, did/did_mdl.h, did/resolver.h).
// The input as text: DID and DID URL syntax, did:key and Multikey parsing, did:web URL mapping,
// resolution and dereferencing through the resolver (did:key; did:mdl over the operations below).
// As JSON: a DID document (FromJson, then ToJson must parse back) and a did:mdl operation
// (CheckOperation). As did:mdl operations: a valid create built from fixed keys followed by the
// input's lines as later operations, replayed (with and without version options); and a valid
// create + update whose service is the input, replayed into a document that must round-trip.
#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "medallion/core/json.h"
#include "medallion/did/did_key.h"
#include "medallion/did/did_mdl.h"
#include "medallion/did/did_web.h"
#include "medallion/did/document.h"
#include "medallion/did/resolver.h"

using namespace medallion;
using namespace medallion::did;
using nlohmann::json;

namespace {

struct Key {
  wallet::SigningKey key;
  explicit Key(uint8_t fill)
      : key(wallet::MakeSigningKey(wallet::SignatureAlg::kEdDSA, Bytes(32, fill)).value()) {}
  mdl::OpSigner Signer() const {
    return {key.public_key, [this](ByteView m) { return wallet::Sign(key, m); }};
  }
};

struct Fixture {
  Key u0{0x61}, u1{0x62}, u2{0x63}, r0{0x64}, a0{0x65};
  mdl::KeySet Keys(std::string service) const {
    mdl::KeySet ks;
    ks.authentication = a0.key.public_key;
    ks.assertion = a0.key.public_key;
    ks.service = std::move(service);
    return ks;
  }
  mdl::BuiltOp create = mdl::BuildCreate(Keys("https://container.example/alice"), u0.Signer(),
                                         mdl::KeyCommitment(u1.key.public_key),
                                         mdl::KeyCommitment(r0.key.public_key), 1'700'000'000)
                            .value();
};

void CheckDocument(const DidDocument& doc) {
  const json j = doc.ToJson();
  auto back = DidDocument::FromJson(j);
  MDL_FUZZ_CHECK(back.has_value());
  MDL_FUZZ_CHECK(back->ToJson() == j);
}

void ResolveWith(const std::vector<mdl::OpRecord>& ops, const std::string& did_url) {
  Resolver resolver;
  resolver.Register(mdl::MakeMdlResolver(
      [&ops](std::string_view, uint64_t* tree_size) -> Result<std::vector<mdl::OpRecord>> {
        *tree_size = 1000;
        return ops;
      },
      0));
  (void)resolver.Resolve(did_url);
  ResolutionOptions at;
  at.ledger_position = 12;
  (void)resolver.Resolve(did_url, at);
  (void)resolver.DereferenceMethod(did_url, Relationship::kAssertionMethod);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Fixture* f = new Fixture();  // process lifetime
  const std::string_view text = fuzz::AsView(data, size);

  // Syntax and key methods.
  (void)IsValidDid(text);
  (void)DidMethod(text);
  if (auto url = ParseDidUrl(text)) MDL_FUZZ_CHECK(IsValidDid(url->did));
  if (auto k = ParseDidKey(text)) {
    MDL_FUZZ_CHECK(DidKeyFromPublicKey(k->type, k->public_key).value() == text);
  }
  if (auto k = ParseMultikey(text)) {
    MDL_FUZZ_CHECK(MultikeyFromPublicKey(k->type, k->public_key).value() == text);
  }
  if (auto u = DidWebToUrl(text)) (void)UrlToDidWeb(*u);
  (void)UrlToDidWeb(text);
  (void)ParseRelationship(text);
  {
    Resolver resolver;
    auto r = resolver.Resolve(text);
    if (r.document) CheckDocument(*r.document);
    (void)resolver.DereferenceMethod(text, std::nullopt);
    (void)resolver.DereferenceMethod(text, Relationship::kAuthentication);
  }

  // JSON: a document, an operation.
  if (auto j = ParseJson(text)) {
    if (auto doc = DidDocument::FromJson(*j)) CheckDocument(*doc);
    (void)mdl::CheckOperation(*j);
  }

  // Operations after a valid create.
  std::vector<mdl::OpRecord> ops{{10, f->create.canonical}};
  uint64_t index = 11;
  for (auto& line : fuzz::Split(text, "\n", 16)) ops.push_back({index++, std::move(line)});
  auto replay = mdl::ReplayOperations(f->create.did, ops);
  if (replay.state) CheckDocument(mdl::ToDocument(*replay.state));
  mdl::ReplayOptions options;
  options.version_id = 1;
  options.ledger_position = 12;
  (void)mdl::ReplayOperations(f->create.did, ops, options);
  ResolveWith(ops, f->create.did + "#" + std::string(text.substr(0, 16)));

  // A valid update carrying the input as its service endpoint.
  auto s0 = mdl::ReplayOperations(f->create.did, {{10, f->create.canonical}});
  MDL_FUZZ_CHECK(s0.state.has_value());
  auto update = mdl::BuildUpdate(*s0.state, f->Keys(std::string(text)), f->u1.Signer(),
                                 mdl::KeyCommitment(f->u2.key.public_key), 1'700'000'100);
  if (update) {
    auto r = mdl::ReplayOperations(f->create.did,
                                   {{10, f->create.canonical}, {11, update->canonical}});
    if (r.state) CheckDocument(mdl::ToDocument(*r.state));
  }
  return 0;
}
