// Helpers shared by the libFuzzer targets (tests/fuzz): fixed test keys, a did:key signer, a
// fake clock and seeded RNG, splitting one input into parts, and a check that aborts (so that
// libFuzzer records a crash) when an invariant of the code under test fails.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <stdlib.h>  // mkdtemp

#include "medallion/claims/signer.h"
#include "medallion/core/bytes.h"
#include "medallion/core/encoding.h"
#include "medallion/core/env.h"
#include "medallion/did/did_key.h"
#include "medallion/wallet/keys.h"

namespace medallion::fuzz {

// A fixed instant (2026-05-28) for every clock of every target: runs are reproducible.
inline constexpr int64_t kNowSeconds = 1'780'000'000;

// Aborts with a message when an invariant of the code under test does not hold.
#define MDL_FUZZ_CHECK(cond)                                                        \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

inline std::string_view AsView(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Splits `text` at every occurrence of `sep` (at most `max_parts` parts; the last keeps the rest).
inline std::vector<std::string> Split(std::string_view text, std::string_view sep,
                                      size_t max_parts = 64) {
  std::vector<std::string> parts;
  size_t pos = 0;
  while (parts.size() + 1 < max_parts) {
    const size_t at = text.find(sep, pos);
    if (at == std::string_view::npos) break;
    parts.emplace_back(text.substr(pos, at - pos));
    pos = at + sep.size();
  }
  parts.emplace_back(text.substr(pos));
  return parts;
}

// A new directory under $TMPDIR (run_fuzz.sh points it into its own temporary directory).
inline std::filesystem::path MakeTempDir(const std::string& tag) {
  std::string tmpl =
      (std::filesystem::temp_directory_path() / ("medallion-fuzz-" + tag + "-XXXXXX")).string();
  MDL_FUZZ_CHECK(::mkdtemp(tmpl.data()) != nullptr);
  return tmpl;
}

// A did:key signer over a fixed private key (`fill` repeated 32 times), as the unit tests make.
inline claims::Signer TestSigner(claims::Alg alg, uint8_t fill) {
  const auto walg =
      alg == claims::Alg::kEdDSA ? wallet::SignatureAlg::kEdDSA : wallet::SignatureAlg::kES256K;
  auto key = std::make_shared<wallet::SigningKey>(
      wallet::MakeSigningKey(walg, Bytes(32, fill)).value());
  const auto type = alg == claims::Alg::kEdDSA ? did::KeyType::kEd25519 : did::KeyType::kSecp256k1;
  claims::Signer s;
  s.alg = alg;
  s.public_key = key->public_key;
  s.verification_method = did::DidKeyFromPublicKey(type, key->public_key).value() + "#" +
                          did::MultikeyFromPublicKey(type, key->public_key).value();
  s.sign = [key](ByteView m) { return wallet::Sign(*key, m); };
  return s;
}

inline std::string DidOf(const claims::Signer& s) {
  return s.verification_method.substr(0, s.verification_method.find('#'));
}

// `text` with every "$DID" replaced by the signer's DID and every "$VM" by its verification
// method: seeds name the fixed keys without spelling them out, and stay valid when they change.
inline std::string WithKeys(std::string_view text, const claims::Signer& signer) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    if (text.compare(i, 4, "$DID") == 0) {
      out += DidOf(signer);
      i += 4;
    } else if (text.compare(i, 3, "$VM") == 0) {
      out += signer.verification_method;
      i += 3;
    } else {
      out += text[i++];
    }
  }
  return out;
}

// The compact JWS of `header_json`.`payload` signed by `signer` (no checks: the header and the
// payload are whatever the caller gives, so fuzzed payloads reach the verifier's claim checks
// with a valid signature).
inline std::string SignCompact(const claims::Signer& signer, std::string_view header_json,
                               std::string_view payload) {
  std::string input = Base64UrlEncode(AsBytes(header_json)) + "." + Base64UrlEncode(AsBytes(payload));
  auto sig = signer.sign(AsBytes(input));
  return input + "." + (sig ? Base64UrlEncode(*sig) : std::string());
}

}  // namespace medallion::fuzz
