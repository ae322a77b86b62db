// Solidity ABI encoding for static types.
#include "medallion/chain/abi.h"

#include <algorithm>

namespace medallion::chain {

std::array<uint8_t, 4> FunctionSelector(std::string_view signature) {
  const Hash32 h = Keccak256(AsBytes(signature));
  return {h[0], h[1], h[2], h[3]};
}

Hash32 EventTopic(std::string_view signature) { return Keccak256(AsBytes(signature)); }

AbiWord AbiUint(uint64_t value) {
  AbiWord w{};
  for (int i = 0; i < 8; ++i) w[31 - i] = static_cast<uint8_t>(value >> (8 * i));
  return w;
}

AbiWord AbiAddress(const Address& address) {
  AbiWord w{};
  std::copy(address.begin(), address.end(), w.begin() + 12);
  return w;
}

Bytes AbiCall(std::string_view signature, const std::vector<AbiWord>& words) {
  const auto sel = FunctionSelector(signature);
  Bytes out(sel.begin(), sel.end());
  for (const auto& w : words) out.insert(out.end(), w.begin(), w.end());
  return out;
}

Result<std::vector<AbiWord>> AbiWords(ByteView data, size_t count) {
  if (data.size() != count * 32)
    return Status::InvalidArgument("abi: expected " + std::to_string(count * 32) +
                                   " bytes of words, got " + std::to_string(data.size()));
  std::vector<AbiWord> out(count);
  for (size_t i = 0; i < count; ++i) std::copy_n(data.begin() + 32 * i, 32, out[i].begin());
  return out;
}

Result<uint64_t> AbiWordToUint64(const AbiWord& word) {
  if (!std::all_of(word.begin(), word.begin() + 24, [](uint8_t b) { return b == 0; }))
    return Status::InvalidArgument("abi: number wider than 64 bits");
  uint64_t v = 0;
  for (int i = 24; i < 32; ++i) v = (v << 8) | word[i];
  return v;
}

Result<Address> AbiWordToAddress(const AbiWord& word) {
  if (!std::all_of(word.begin(), word.begin() + 12, [](uint8_t b) { return b == 0; }))
    return Status::InvalidArgument("abi: address with non-zero padding");
  Address a;
  std::copy(word.begin() + 12, word.end(), a.begin());
  return a;
}

}  // namespace medallion::chain
