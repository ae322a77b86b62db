// Ethereum addresses (EIP-55) and EIP-155 legacy transactions.
#include "medallion/chain/eth_tx.h"

#include <cctype>

#include "medallion/chain/rlp.h"
#include "medallion/core/encoding.h"
#include "medallion/wallet/hd_key.h"
#include "medallion/wallet/keys.h"

namespace medallion::chain {
namespace {

std::vector<RlpItem> TxFields(const LegacyTx& tx) {
  return {RlpItem::Uint(tx.nonce),
          RlpItem::Uint(tx.gas_price),
          RlpItem::Uint(tx.gas_limit),
          RlpItem::String(tx.to ? Bytes(tx.to->begin(), tx.to->end()) : Bytes{}),
          RlpItem::UintBytes(tx.value),
          RlpItem::String(tx.data)};
}

Result<Hash32> Word(const RlpItem& item, const char* name) {
  if (item.is_list || item.bytes.size() > 32 || (!item.bytes.empty() && item.bytes[0] == 0))
    return Status::InvalidArgument(std::string("transaction: malformed ") + name);
  Hash32 out{};
  std::copy(item.bytes.begin(), item.bytes.end(), out.end() - item.bytes.size());
  return out;
}

}  // namespace

Result<Address> AddressFromPublicKey(ByteView uncompressed) {
  if (uncompressed.size() != 65 || uncompressed[0] != 0x04)
    return Status::InvalidArgument("an address needs an uncompressed secp256k1 public key");
  Hash32 h = Keccak256(uncompressed.subspan(1));
  Address a;
  std::copy(h.begin() + 12, h.end(), a.begin());
  return a;
}

Result<Address> AddressFromPrivateKey(const SecretBytes& private_key) {
  MDL_ASSIGN_OR_RETURN(Bytes pub, wallet::Secp256k1UncompressedPublicKey(private_key.Reveal()));
  return AddressFromPublicKey(pub);
}

std::string EthereumAccountPath(uint32_t account) {
  return "m/44'/60'/" + std::to_string(account) + "'/0/0";
}

Result<SecretBytes> EthereumKeyFromSeed(ByteView seed, uint32_t account) {
  if (account >= wallet::kHardened)
    return Status::InvalidArgument("an Ethereum account number must be below 2^31");
  MDL_ASSIGN_OR_RETURN(
      wallet::ExtendedKey key,
      wallet::DeriveFromSeed(wallet::Curve::kSecp256k1, seed, EthereumAccountPath(account)));
  return SecretBytes::CopyFrom(key.private_key().Reveal());
}

std::string AddressToString(const Address& address) {
  // EIP-55: upper-case the i-th hex letter when nibble i of keccak256(lower-case hex) >= 8.
  const std::string lower = HexEncode(address);
  const Hash32 h = Keccak256(AsBytes(lower));
  std::string out = "0x";
  for (size_t i = 0; i < lower.size(); ++i) {
    const uint8_t nibble = (i % 2 == 0) ? (h[i / 2] >> 4) : (h[i / 2] & 0x0f);
    out.push_back(nibble >= 8 ? static_cast<char>(std::toupper(lower[i])) : lower[i]);
  }
  return out;
}

Result<Address> ParseAddress(std::string_view text) {
  if (text.size() != 42 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X'))
    return Status::InvalidArgument("an address is 0x and 40 hex digits");
  std::string hex(text.substr(2));
  bool has_lower = false, has_upper = false;
  for (char c : hex) {
    if (!std::isxdigit(static_cast<unsigned char>(c)))
      return Status::InvalidArgument("an address is 0x and 40 hex digits");
    has_lower |= (c >= 'a' && c <= 'f');
    has_upper |= (c >= 'A' && c <= 'F');
  }
  std::string lower = hex;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto bytes = HexDecode(lower);
  if (!bytes || bytes->size() != 20) return Status::InvalidArgument("bad address");
  Address a;
  std::copy(bytes->begin(), bytes->end(), a.begin());
  if (has_lower && has_upper && AddressToString(a).substr(2) != hex)
    return Status::InvalidArgument("address " + std::string(text) +
                                   " has a wrong EIP-55 checksum (mixed case)");
  return a;
}

Hash32 Eip155SigningHash(const LegacyTx& tx) {
  std::vector<RlpItem> fields = TxFields(tx);
  fields.push_back(RlpItem::Uint(tx.chain_id));
  fields.push_back(RlpItem::Uint(0));
  fields.push_back(RlpItem::Uint(0));
  return Keccak256(RlpEncode(RlpItem::List(std::move(fields))));
}

Result<SignedTx> SignLegacyTx(const LegacyTx& tx, const SecretBytes& private_key) {
  if (tx.chain_id > (uint64_t{1} << 62)) return Status::InvalidArgument("chain id too large");
  const Hash32 digest = Eip155SigningHash(tx);
  MDL_ASSIGN_OR_RETURN(wallet::RecoverableSignature sig,
                       wallet::SignSecp256k1Recoverable(private_key.Reveal(), digest));
  SignedTx out;
  out.v = static_cast<uint64_t>(sig.recovery_id) + tx.chain_id * 2 + 35;
  out.r = sig.r;
  out.s = sig.s;
  std::vector<RlpItem> fields = TxFields(tx);
  fields.push_back(RlpItem::Uint(out.v));
  fields.push_back(RlpItem::UintBytes(out.r));
  fields.push_back(RlpItem::UintBytes(out.s));
  out.raw = RlpEncode(RlpItem::List(std::move(fields)));
  out.hash = Keccak256(out.raw);
  return out;
}

Result<DecodedTx> DecodeLegacyTx(ByteView raw) {
  if (!raw.empty() && raw[0] <= 0x7f)
    return Status::InvalidArgument("transaction: a typed (EIP-2718) transaction, not legacy");
  MDL_ASSIGN_OR_RETURN(RlpItem item, RlpDecode(raw, 2));
  if (!item.is_list || item.items.size() != 9)
    return Status::InvalidArgument("transaction: not a list of 9 items");
  const auto& f = item.items;
  DecodedTx out;
  MDL_ASSIGN_OR_RETURN(out.tx.nonce, RlpToUint64(f[0]));
  MDL_ASSIGN_OR_RETURN(out.tx.gas_price, RlpToUint64(f[1]));
  MDL_ASSIGN_OR_RETURN(out.tx.gas_limit, RlpToUint64(f[2]));
  if (f[3].is_list || (f[3].bytes.size() != 0 && f[3].bytes.size() != 20))
    return Status::InvalidArgument("transaction: `to` is neither empty nor 20 bytes");
  if (f[3].bytes.size() == 20) {
    Address to;
    std::copy(f[3].bytes.begin(), f[3].bytes.end(), to.begin());
    out.tx.to = to;
  }
  MDL_ASSIGN_OR_RETURN(Hash32 value, Word(f[4], "value"));
  out.tx.value = RlpItem::UintBytes(value).bytes;
  if (f[5].is_list) return Status::InvalidArgument("transaction: data is a list");
  out.tx.data = f[5].bytes;
  MDL_ASSIGN_OR_RETURN(out.v, RlpToUint64(f[6]));
  MDL_ASSIGN_OR_RETURN(out.r, Word(f[7], "r"));
  MDL_ASSIGN_OR_RETURN(out.s, Word(f[8], "s"));
  int recovery_id = 0;
  Hash32 digest;
  if (out.v == 27 || out.v == 28) {
    recovery_id = static_cast<int>(out.v - 27);
    out.tx.chain_id = 0;
    // Pre-EIP-155: the signing payload is the six fields alone.
    digest = Keccak256(RlpEncode(RlpItem::List(TxFields(out.tx))));
  } else if (out.v >= 35) {
    recovery_id = static_cast<int>((out.v - 35) % 2);
    out.tx.chain_id = (out.v - 35) / 2;
    digest = Eip155SigningHash(out.tx);
  } else {
    return Status::InvalidArgument("transaction: v is neither 27/28 nor EIP-155");
  }
  wallet::RecoverableSignature sig{out.r, out.s, recovery_id};
  MDL_ASSIGN_OR_RETURN(Bytes pub, wallet::RecoverSecp256k1PublicKey(digest, sig));
  MDL_ASSIGN_OR_RETURN(out.sender, AddressFromPublicKey(pub));
  out.hash = Keccak256(raw);
  return out;
}

}  // namespace medallion::chain
