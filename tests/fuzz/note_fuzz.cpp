// Fuzz target: C2SP signed notes and checkpoints (ledger/signed_note.h, ledger/checkpoint.h,
// LogVerifier in ledger/witness.h). The input is read as a whole signed note (ParseNote,
// OpenNote, OpenCheckpoint with a 1-of-1 witness policy, LogVerifier::Update), as a checkpoint
// body (ParseCheckpoint), and as verifier/signer key strings; then the input is signed as note
// text by the fixed log key and cosigned by the fixed witness, so that notes with valid
// signatures reach the checkpoint parser and the witness policy.
#include <span>

#include "fuzz_util.h"
#include "medallion/ledger/checkpoint.h"
#include "medallion/ledger/signed_note.h"
#include "medallion/ledger/witness.h"

using namespace medallion;
using namespace medallion::ledger;

namespace {

constexpr const char* kOrigin = "ledger.example/fuzz";

struct Keys {
  Ed25519NoteSigner log = Ed25519NoteSigner::FromSeed(kOrigin, Bytes(32, 0x42));
  CosignatureV1Signer witness = CosignatureV1Signer::FromSeed("witness.example/w1", Bytes(32, 0x51));
  Ed25519NoteVerifier log_verifier = log.Verifier();
  CosignatureV1Verifier witness_verifier = witness.Verifier();
  WitnessPolicy policy{{witness.Verifier()}, 1};
};

void OpenAll(const Keys& k, std::string_view message) {
  const NoteVerifier* verifiers[] = {&k.log_verifier, &k.witness_verifier};
  if (auto note = ParseNote(message)) {
    for (const auto& sig : note->signatures) (void)CosignatureTimestamp(sig);
  }
  if (auto opened = OpenNote(message, std::span<const NoteVerifier* const>(verifiers))) {
    (void)k.policy.Check(*opened);
  }
  (void)OpenCheckpoint(message, k.log_verifier, kOrigin, nullptr);
  if (auto v = OpenCheckpoint(message, k.log_verifier, kOrigin, &k.policy)) {
    MDL_FUZZ_CHECK(v->checkpoint.origin == kOrigin);
    MDL_FUZZ_CHECK(ParseCheckpoint(v->checkpoint.ToText()).value() == v->checkpoint);
  }
  LogVerifier lv(k.log_verifier, kOrigin, k.policy);
  (void)lv.Update(message, {});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Keys* k = new Keys();  // process lifetime
  const std::string_view text = fuzz::AsView(data, size);

  OpenAll(*k, text);
  if (auto cp = ParseCheckpoint(text)) {
    // A parsed checkpoint prints back to a text that parses to the same checkpoint.
    MDL_FUZZ_CHECK(ParseCheckpoint(cp->ToText()).value() == *cp);
  }
  (void)IsValidNoteKeyName(text);
  (void)Ed25519NoteVerifier::FromVerifierKey(text);
  (void)Ed25519NoteSigner::FromSignerKey(text);
  (void)CosignatureV1Verifier::FromVerifierKey(text);

  // Signed by the log (and cosigned): the input as note text.
  std::string body(text);
  if (body.empty() || body.back() != '\n') body += '\n';
  const std::string signed_note = k->log.SignNote(body);
  OpenAll(*k, signed_note);
  OpenAll(*k, signed_note + k->witness.SignatureLine(body, 1'780'000'000));
  return 0;
}
