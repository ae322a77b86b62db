// Fuzz target: tlog-witness add-checkpoint requests (ledger/witness.h). The input is a request
// body given to ParseAddCheckpointRequest and to a Witness over a fresh in-memory store (one per
// input: no state carries over); the parsed request is formatted back and must parse to the same
// request. Then the same request with its note text re-signed by the known log key, and the input
// as the checkpoint body of a signed request from size 0, reach the consistency-proof and
// compare-and-set code; each request is sent twice so the second meets a stored state.
#include "fuzz_util.h"
#include "medallion/ledger/checkpoint.h"
#include "medallion/ledger/signed_note.h"
#include "medallion/ledger/store.h"
#include "medallion/ledger/witness.h"

using namespace medallion;
using namespace medallion::ledger;

namespace {

constexpr const char* kOrigin = "ledger.example/fuzz";

struct Keys {
  Ed25519NoteSigner log = Ed25519NoteSigner::FromSeed(kOrigin, Bytes(32, 0x42));
  FakeClock clock{fuzz::kNowSeconds * 1000};
  SeededRng rng{7};
};

void Send(Keys& k, const std::string& body) {
  auto store = SqliteLeafStore::Open(":memory:");
  MDL_FUZZ_CHECK(store.has_value());
  Witness witness(store->get(), CosignatureV1Signer::FromSeed("witness.example/w1", Bytes(32, 0x51)),
                  Env{&k.clock, &k.rng}, {{kOrigin, k.log.Verifier()}});
  for (int i = 0; i < 2; ++i) {
    uint64_t current = 0;
    auto r = witness.AddCheckpoint(body, &current);
    if (!r) (void)AddCheckpointHttpStatus(r.error());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Keys* k = new Keys();  // process lifetime
  const std::string_view text = fuzz::AsView(data, size);
  if (auto req = ParseAddCheckpointRequest(text)) {
    auto again = ParseAddCheckpointRequest(FormatAddCheckpointRequest(*req));
    MDL_FUZZ_CHECK(again.has_value());
    MDL_FUZZ_CHECK(again->old_size == req->old_size && again->proof == req->proof &&
                   again->note == req->note);
    if (auto note = ParseNote(req->note)) {
      req->note = k->log.SignNote(note->text);
      Send(*k, FormatAddCheckpointRequest(*req));
    }
  }
  Send(*k, std::string(text));
  std::string body(text);
  if (body.empty() || body.back() != '\n') body += '\n';
  AddCheckpointRequest signed_req;
  signed_req.note = k->log.SignNote(body);
  Send(*k, FormatAddCheckpointRequest(signed_req));
  return 0;
}
