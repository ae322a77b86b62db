// C2SP signed-note, tlog-checkpoint and tlog-cosignature: the known-answer vector and
// negative tests.
#include <catch2/catch.hpp>

#include "medallion/core/encoding.h"
#include "medallion/ledger/checkpoint.h"
#include "medallion/ledger/signed_note.h"
#include "test_util.h"

namespace medallion::ledger {
namespace {

using medallion::testing::ReadJsonVector;

Bytes Seed(uint8_t b) { return Bytes(32, b); }

TEST_CASE("signed-note vector verifies", "[ledger][note][vectors]") {
  auto v = ReadJsonVector("c2sp/signed-note.json");
  auto signer = Ed25519NoteSigner::FromSignerKey(v["signer_key"].get<std::string>());
  REQUIRE(signer);
  CHECK(signer->name() == "PeterNeumann");
  CHECK(signer->key_id() == 0xc74f20a3);
  const std::string text = v["text"];
  const std::string line = v["signature_line"];
  // Ed25519 is deterministic: signing the text reproduces the vector's line.
  CHECK(signer->SignatureLine(text) == line + "\n");
  CHECK(signer->SignerKey().Reveal() == v["signer_key"].get<std::string>());

  auto vkey = signer->Verifier().VerifierKey();
  CHECK(vkey == "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
  auto verifier = Ed25519NoteVerifier::FromVerifierKey(vkey);
  REQUIRE(verifier);
  const NoteVerifier* keys[] = {&*verifier};
  std::string note = text + "\n" + line + "\n";
  auto opened = OpenNote(note, keys);
  REQUIRE(opened);
  CHECK(opened->text == text);
  CHECK(opened->signers == std::vector<std::string>{"PeterNeumann"});

  SECTION("altered text") {
    std::string bad = note;
    bad[3] ^= 1;
    CHECK(OpenNote(bad, keys).error().code() == StatusCode::kUnauthenticated);
  }
  SECTION("wrong key with the same name is ignored, so nothing verifies") {
    Ed25519NoteVerifier other("PeterNeumann",
                              Ed25519NoteSigner::FromSeed("x", Seed(7)).public_key());
    const NoteVerifier* other_keys[] = {&other};
    CHECK(OpenNote(note, other_keys).error().code() == StatusCode::kUnauthenticated);
  }
  SECTION("unknown signatures are ignored") {
    auto stranger = Ed25519NoteSigner::FromSeed("stranger.example", Seed(9));
    std::string two = note + stranger.SignatureLine(text);
    auto r = OpenNote(two, keys);
    REQUIRE(r);
    CHECK(r->signers.size() == 1);
    CHECK(r->signatures.size() == 2);
  }
  SECTION("bad signature from a known key rejects the note") {
    auto imposter = Ed25519NoteSigner::FromSeed("PeterNeumann", Seed(3));
    auto raw = imposter.SignRaw(text);
    std::string forged = text + "\n" + FormatNoteSignatureLine("PeterNeumann", 0xc74f20a3, raw);
    CHECK(OpenNote(forged, keys).error().code() == StatusCode::kUnauthenticated);
  }
}

TEST_CASE("malformed notes are refused", "[ledger][note]") {
  auto s = Ed25519NoteSigner::FromSeed("log.example/a", Seed(1));
  auto v = s.Verifier();
  const NoteVerifier* keys[] = {&v};
  const std::string text = "hello\nworld\n";
  const std::string good = s.SignNote(text);
  REQUIRE(OpenNote(good, keys));

  const std::string line = s.SignatureLine(text);
  std::vector<std::pair<std::string, std::string>> bad = {
      {"no blank line", text + line},
      {"no final newline", good.substr(0, good.size() - 1)},
      {"hyphen instead of em dash", text + "\n- " + line.substr(4)},
      {"no name", text + "\n\xE2\x80\x94 " + line.substr(line.find(' ', 4) + 1)},
      {"control character", "hel\x01lo\n\n" + line},
      {"carriage return", "hello\r\n\n" + line},
      {"invalid utf-8", "h\xC3\x28llo\n\n" + line},
      {"empty signature block", text + "\n"},
      {"short signature", text + "\n\xE2\x80\x94 log.example/a AAAA\n"},
      {"bad base64", text + "\n\xE2\x80\x94 log.example/a !!!!\n"},
      {"duplicate signature", good + line},
      {"name with plus", text + "\n\xE2\x80\x94 a+b " + line.substr(line.rfind(' ') + 1)},
      {"trailing text after signatures", good + "junk\n"},
  };
  for (const auto& [what, msg] : bad) {
    INFO(what);
    auto r = OpenNote(msg, keys);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == StatusCode::kInvalidArgument);
  }
  CHECK_FALSE(OpenNote(std::string(kMaxNoteBytes + 1, 'a'), keys));
}

TEST_CASE("verifier and signer keys", "[ledger][note]") {
  CHECK_FALSE(Ed25519NoteVerifier::FromVerifierKey(
      "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"));
  CHECK_FALSE(Ed25519NoteVerifier::FromVerifierKey(
      "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T"));
  CHECK_FALSE(Ed25519NoteVerifier::FromVerifierKey("PeterNeumann+c74f20a3"));
  CHECK_FALSE(Ed25519NoteVerifier::FromVerifierKey(
      "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"));
  CHECK_FALSE(Ed25519NoteSigner::FromSignerKey(
      "PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"));
  CHECK_FALSE(Ed25519NoteSigner::FromSignerKey(
      "PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"));
  // A cosignature key is not a note key and vice versa.
  auto w = CosignatureV1Signer::FromSeed("witness.example/w1", Seed(5)).Verifier();
  CHECK_FALSE(Ed25519NoteVerifier::FromVerifierKey(w.VerifierKey()));
  auto w2 = CosignatureV1Verifier::FromVerifierKey(w.VerifierKey());
  REQUIRE(w2);
  CHECK(w2->key_id() == w.key_id());
  CHECK_FALSE(CosignatureV1Verifier::FromVerifierKey(
      Ed25519NoteSigner::FromSeed("a", Seed(1)).Verifier().VerifierKey()));
  SeededRng rng(42);
  auto g = Ed25519NoteSigner::Generate("gen.example", rng);
  auto back = Ed25519NoteSigner::FromSignerKey(g.SignerKey().Reveal());
  REQUIRE(back);
  CHECK(back->public_key() == g.public_key());
}

TEST_CASE("checkpoint text", "[ledger][checkpoint]") {
  Checkpoint cp{"example.com/log", 20852163, {}, {}};
  cp.root = HashLeaf(AsBytes("x"));
  auto parsed = ParseCheckpoint(cp.ToText());
  REQUIRE(parsed);
  CHECK(*parsed == cp);
  cp.extensions = {"ext one", "ext two"};
  REQUIRE(ParseCheckpoint(cp.ToText()));
  CHECK(*ParseCheckpoint(cp.ToText()) == cp);

  const std::string root = Base64Encode(cp.root);
  for (const std::string& bad : std::vector<std::string>{
           "", "origin\n1\n", "\n1\n" + root + "\n", "o\n01\n" + root + "\n",
           "o\n-1\n" + root + "\n", "o\n+1\n" + root + "\n", "o\n1 \n" + root + "\n",
           "o\n9223372036854775808\n" + root + "\n", "o\n1\n" + root.substr(4) + "\n",
           "o\n1\n" + root, "o\n1\n" + root + "\n\n", "o\n1\n" + root + "\nbad\tline\n",
           "o\n1\nAAAA\n"}) {
    INFO(bad);
    CHECK_FALSE(ParseCheckpoint(bad));
  }
  CHECK(ParseCheckpoint("o\n0\n" + Base64Encode(EmptyRoot()) + "\n"));
  CHECK(ParseCheckpoint("o\n9223372036854775807\n" + root + "\n"));
}

TEST_CASE("cosignatures and witness policy", "[ledger][checkpoint][witness]") {
  auto log = Ed25519NoteSigner::FromSeed("log.example/ledger", Seed(1));
  auto log_v = log.Verifier();
  auto w1 = CosignatureV1Signer::FromSeed("w1.example", Seed(11));
  auto w2 = CosignatureV1Signer::FromSeed("w2.example", Seed(12));
  auto w3 = CosignatureV1Signer::FromSeed("w3.example", Seed(13));
  Checkpoint cp{"log.example/ledger", 5, HashLeaf(AsBytes("r")), {}};
  const std::string text = cp.ToText();
  const std::string signed_note = log.SignNote(text);
  WitnessPolicy policy{{w1.Verifier(), w2.Verifier(), w3.Verifier()}, 2};

  CHECK(CosignedMessage(text, 1679315147) ==
        "cosignature/v1\ntime 1679315147\nlog.example/ledger\n5\n" + Base64Encode(cp.root) + "\n");

  auto open = [&](const std::string& note) {
    return OpenCheckpoint(note, log_v, "log.example/ledger", &policy);
  };
  CHECK(OpenCheckpoint(signed_note, log_v, "log.example/ledger", nullptr));
  CHECK(open(signed_note).error().code() == StatusCode::kUnauthenticated);  // 0 of 2
  std::string one = signed_note + w1.SignatureLine(text, 1700000000);
  CHECK(open(one).error().code() == StatusCode::kUnauthenticated);  // 1 of 2
  std::string two = one + w2.SignatureLine(text, 1700000001);
  auto ok = open(two);
  REQUIRE(ok);
  CHECK(ok->checkpoint == cp);
  CHECK(ok->witnesses == std::vector<std::string>{"w1.example", "w2.example"});

  SECTION("timestamp is carried") {
    auto note = ParseNote(two);
    REQUIRE(note);
    CHECK(*CosignatureTimestamp(note->signatures[1]) == 1700000000);
  }
  SECTION("cosignature by an unknown witness does not count") {
    auto stranger = CosignatureV1Signer::FromSeed("w9.example", Seed(19));
    CHECK_FALSE(open(one + stranger.SignatureLine(text, 1)));
  }
  SECTION("wrong witness key under a policy name does not count") {
    auto fake = CosignatureV1Signer::FromSeed("w2.example", Seed(99));
    CHECK_FALSE(open(one + fake.SignatureLine(text, 1)));
  }
  SECTION("a cosignature over another checkpoint spoils the note") {
    Checkpoint other = cp;
    other.size = 6;
    std::string line = w2.SignatureLine(other.ToText(), 1);
    CHECK(open(one + line).error().code() == StatusCode::kUnauthenticated);
  }
  SECTION("wrong origin") {
    CHECK(OpenCheckpoint(two, log_v, "other.example", &policy).error().code() ==
          StatusCode::kFailedPrecondition);
  }
  SECTION("a witness's Ed25519 key used as a log key does not verify cosignatures") {
    // Same name and key as witness 1, but as a note key (type 0x01): its key ID differs.
    Ed25519NoteVerifier wv("w1.example", w1.Verifier().public_key());
    CHECK_FALSE(OpenCheckpoint(two, wv, "log.example/ledger", nullptr));
  }
}

}  // namespace
}  // namespace medallion::ledger
