// Fuzz target: the Bitstring Status List decoder (claims/status_list.h) with its GZIP bound. The
// input is decoded as an `encodedList` (bounded to 1 MiB decompressed), and — prefixed with 'u'
// and base64url-encoded here — as raw GZIP bytes, so the fuzzer edits gzip headers, deflate blocks
// and trailers directly; encoding the input as a bitstring must decode back to it. It is also read
// as an issuer's stored state (Deserialize), and served by a fake fetcher to a StatusChecker, both
// as the whole status list credential and as the GZIP bytes of the encodedList of an otherwise
// valid credential, checked against a valid entry.
#include <map>
#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "medallion/claims/status_list.h"

using namespace medallion;
using namespace medallion::claims;
using nlohmann::json;

namespace {

constexpr const char* kRevocationUrl = "https://society.example/status/1";
constexpr const char* kSuspensionUrl = "https://society.example/status/2";

class OneDocumentFetcher final : public StatusListFetcher {
 public:
  Result<std::string> Fetch(const std::string& url) override {
    if (url != kRevocationUrl) return Status::NotFound("no such list");
    return document;
  }
  std::string document;
};

struct Fixture {
  FakeClock clock{fuzz::kNowSeconds * 1000};
  SeededRng rng{7};
  json credential;
  json entry;
  Fixture() {
    StatusListConfig config{kRevocationUrl, kSuspensionUrl, kStatusListMinEntries};
    auto issuer = StatusListIssuer::Create(config).value();
    const uint64_t index = issuer.Assign(rng).value();
    entry = issuer.Entry(index, StatusPurpose::kRevocation).value();
    StatusListCredentialOptions options;
    options.issuer = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
    credential = issuer.StatusListCredential(StatusPurpose::kRevocation, options).value();
  }
};

void CheckServed(const Fixture& f, std::string document) {
  OneDocumentFetcher fetcher;
  fetcher.document = std::move(document);
  StatusCheckerOptions options;
  options.max_decompressed_bytes = size_t{1} << 20;
  StatusChecker checker(fetcher, f.clock, [](const json&) { return Status::Ok(); }, options);
  (void)checker.Check(f.entry);
  (void)checker.Check(f.entry);  // from the cache
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Fixture* f = new Fixture();  // process lifetime
  const std::string_view text = fuzz::AsView(data, size);
  const ByteView bytes(data, size);
  constexpr size_t kMax = size_t{1} << 20;

  if (auto bits = DecodeBitstring(text, kMax)) MDL_FUZZ_CHECK(bits->bytes().size() <= kMax);
  const std::string as_gzip = "u" + Base64UrlEncode(bytes);
  if (auto bits = DecodeBitstring(as_gzip, kMax)) MDL_FUZZ_CHECK(bits->bytes().size() <= kMax);

  const Bitstring original{Bytes(bytes.begin(), bytes.end())};
  auto encoded = EncodeBitstring(original);
  MDL_FUZZ_CHECK(encoded.has_value());
  MDL_FUZZ_CHECK(DecodeBitstring(*encoded, kMax).value() == original);

  (void)ParseStatusPurpose(text);
  if (auto state = StatusListIssuer::Deserialize(text)) (void)state->Serialize();

  CheckServed(*f, std::string(text));
  json credential = f->credential;
  credential["credentialSubject"]["encodedList"] = as_gzip;
  CheckServed(*f, credential.dump());
  return 0;
}
