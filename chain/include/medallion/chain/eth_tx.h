// Ethereum accounts and legacy transactions signed with EIP-155 replay protection.
//
// Only legacy (type 0) transactions are built: every EVM chain accepts them, and anchoring needs
// nothing from EIP-1559 fees. Signing payload (EIP-155): RLP([nonce, gasPrice, gas, to, value,
// data, chainId, 0, 0]); the signed transaction is RLP([nonce, gasPrice, gas, to, value, data,
// v, r, s]) with v = recovery id + chainId * 2 + 35 (Yellow Paper Appendix F for r, s and the
// low-S rule of EIP-2).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "medallion/chain/keccak.h"
#include "medallion/core/bytes.h"
#include "medallion/core/secret.h"
#include "medallion/core/status.h"

namespace medallion::chain {

using Address = std::array<uint8_t, 20>;

// The last 20 bytes of keccak256(x || y) of an uncompressed public key (65 bytes, 0x04 || x ||
// y). Errors: invalid_argument for anything else.
Result<Address> AddressFromPublicKey(ByteView uncompressed);
// The address of a 32-byte secp256k1 private key. Errors: invalid_argument for a bad key.
Result<Address> AddressFromPrivateKey(const SecretBytes& private_key);
// The standard Ethereum account path of BIP-44 (coin type 60, SLIP-44): m/44'/60'/account'/0/0.
std::string EthereumAccountPath(uint32_t account);
// The private key of account `account` of a BIP-39 seed (16..64 bytes): BIP-32 over secp256k1
// at EthereumAccountPath(account), the key any BIP-44 Ethereum wallet derives from the same
// mnemonic. Errors: invalid_argument for an account >= 2^31 (hardened) or a bad seed.
Result<SecretBytes> EthereumKeyFromSeed(ByteView seed, uint32_t account);
// EIP-55 mixed-case checksum form, "0x" + 40 hex digits.
std::string AddressToString(const Address& address);
// "0x" + 40 hex digits. All lower or all upper case is taken as is; mixed case must be a valid
// EIP-55 checksum. Errors: invalid_argument.
Result<Address> ParseAddress(std::string_view text);

// A legacy transaction. Quantities wider than 64 bits (value) are big-endian bytes.
struct LegacyTx {
  uint64_t nonce = 0;
  uint64_t gas_price = 0;  // wei
  uint64_t gas_limit = 0;
  std::optional<Address> to;  // none: contract creation
  Bytes value;                // wei, big-endian (leading zeros allowed; dropped when encoded)
  Bytes data;
  uint64_t chain_id = 0;
};

// keccak256(RLP([nonce, gasPrice, gas, to, value, data, chainId, 0, 0])) (EIP-155).
Hash32 Eip155SigningHash(const LegacyTx& tx);

struct SignedTx {
  Bytes raw;      // the RLP of the signed transaction, for eth_sendRawTransaction
  Hash32 hash{};  // keccak256(raw): the transaction hash
  uint64_t v = 0;
  Hash32 r{}, s{};
};

// Signs `tx` with EIP-155 (v = recovery id + chain_id * 2 + 35). The key is a 32-byte
// secp256k1 scalar, read only here. Errors: invalid_argument for a bad key or a chain id above
// 2^62 (v must fit 64 bits).
Result<SignedTx> SignLegacyTx(const LegacyTx& tx, const SecretBytes& private_key);

struct DecodedTx {
  LegacyTx tx;  // chain_id from v (0 for a pre-EIP-155 v of 27/28)
  uint64_t v = 0;
  Hash32 r{}, s{};
  Address sender{};  // recovered from the signature
  Hash32 hash{};
};

// Decodes a signed legacy transaction (a 9-item RLP list) and recovers its sender. Accepts
// EIP-155 v (chainId * 2 + 35/36) and pre-EIP-155 v (27/28). Errors: invalid_argument for
// malformed RLP, a field of the wrong shape, a typed (EIP-2718) transaction, high-S, or a
// signature that recovers no key.
Result<DecodedTx> DecodeLegacyTx(ByteView raw);

}  // namespace medallion::chain
