// Fuzz target: SLIP-39 shares (wallet/slip39.h). The input's lines are decoded as share mnemonics
// (words, padding, RS1024 checksum, metadata) and, when every line decodes with iteration exponent
// 0 (so the PBKDF2 cost stays at 10,000 rounds), combined — with and without a passphrase. Lines
// that do not decode are still given to Combine, which must refuse them without decrypting.
#include "fuzz_util.h"
#include "medallion/wallet/slip39.h"

using namespace medallion;
using namespace medallion::wallet;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 8192) return 0;
  const auto lines = fuzz::Split(fuzz::AsView(data, size), "\n", 20);
  bool all_cheap = true;
  bool any_invalid = false;
  for (const auto& line : lines) {
    auto share = slip39::DecodeShare(line);
    if (!share) {
      any_invalid = true;
      continue;
    }
    MDL_FUZZ_CHECK(share->group_threshold <= share->group_count);
    MDL_FUZZ_CHECK(share->iteration_exponent <= 15);
    if (share->iteration_exponent != 0) all_cheap = false;
  }
  if (any_invalid) {
    auto r = slip39::Combine(lines, "");
    MDL_FUZZ_CHECK(!r.has_value());
  } else if (all_cheap) {
    (void)slip39::Combine(lines, "");
    (void)slip39::Combine(lines, "TREZOR");
  }
  return 0;
}
