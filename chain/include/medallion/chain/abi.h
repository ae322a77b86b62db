// The Solidity contract ABI for static types (docs.soliditylang.org "Contract ABI
// Specification"): a call is the function selector — the first 4 bytes of keccak256 of the
// canonical signature, e.g. "anchor(bytes32,uint64,bytes32)" — followed by one 32-byte word per
// static argument; return data and non-indexed event data are the same words; an indexed
// static event argument is a topic holding its word; topic 0 is keccak256 of the event's
// signature.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "medallion/chain/eth_tx.h"
#include "medallion/chain/keccak.h"
#include "medallion/core/bytes.h"
#include "medallion/core/status.h"

namespace medallion::chain {

using AbiWord = std::array<uint8_t, 32>;

// keccak256(signature)[0:4].
std::array<uint8_t, 4> FunctionSelector(std::string_view signature);
// keccak256(signature): an event's topic 0.
Hash32 EventTopic(std::string_view signature);

// uintN (N <= 64) and address as words: left-padded with zeros. bytes32 is its own word.
AbiWord AbiUint(uint64_t value);
AbiWord AbiAddress(const Address& address);
// selector || words.
Bytes AbiCall(std::string_view signature, const std::vector<AbiWord>& words);

// Splits ABI data into `count` words. Errors: invalid_argument unless it is exactly count * 32
// bytes (for return data, at least; trailing bytes are refused too).
Result<std::vector<AbiWord>> AbiWords(ByteView data, size_t count);
// A word as uint64 / address: the padding must be zero (the ABI's validity rule for uint64 and
// address). Errors: invalid_argument otherwise.
Result<uint64_t> AbiWordToUint64(const AbiWord& word);
Result<Address> AbiWordToAddress(const AbiWord& word);

}  // namespace medallion::chain
