// BIP-32 and SLIP-10 hierarchical deterministic key derivation.
#include <secp256k1.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>

#include "medallion/core/encoding.h"
#include "medallion/core/hash.h"
#include "medallion/wallet/hd_key.h"
#include "secp256k1_context.h"

namespace medallion::wallet {

struct ExtendedKeyAccess {
  // Takes ownership of `priv` (may be empty for a public key).
  static ExtendedKey Make(Curve curve, uint8_t depth, uint32_t parent_fp, uint32_t child,
                          ByteView chain, SecretBytes priv, Bytes pub) {
    ExtendedKey k;
    k.curve_ = curve;
    k.depth_ = depth;
    k.parent_fingerprint_ = parent_fp;
    k.child_number_ = child;
    k.chain_code_ = SecretBytes::CopyFrom(chain);
    k.private_key_ = std::move(priv);
    k.public_key_ = std::move(pub);
    return k;
  }
};

namespace {

constexpr uint32_t kXprvVersion = 0x0488ADE4;
constexpr uint32_t kXpubVersion = 0x0488B21E;

void PutU32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}
uint32_t GetU32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

const char* SeedKey(Curve curve) {
  switch (curve) {
    case Curve::kSecp256k1:
      return "Bitcoin seed";
    case Curve::kEd25519:
      return "ed25519 seed";
    case Curve::kCurve25519:
      return "curve25519 seed";
  }
  return "";
}

Result<Bytes> PublicFromPrivate(Curve curve, ByteView priv) {
  switch (curve) {
    case Curve::kSecp256k1: {
      secp256k1_pubkey pk;
      if (secp256k1_ec_pubkey_create(Secp256k1Context(), &pk, priv.data()) != 1) {
        return Status::InvalidArgument("secp256k1: private key out of range");
      }
      Bytes out(33);
      size_t len = out.size();
      secp256k1_ec_pubkey_serialize(Secp256k1Context(), out.data(), &len, &pk,
                                    SECP256K1_EC_COMPRESSED);
      return out;
    }
    case Curve::kEd25519: {
      Bytes pk(crypto_sign_PUBLICKEYBYTES);
      uint8_t sk[crypto_sign_SECRETKEYBYTES];
      crypto_sign_seed_keypair(pk.data(), sk, priv.data());
      SecureWipe(sk, sizeof sk);
      return pk;
    }
    case Curve::kCurve25519: {
      Bytes pk(crypto_scalarmult_BYTES);
      if (crypto_scalarmult_base(pk.data(), priv.data()) != 0)
        return Status::InvalidArgument("x25519: bad key");
      return pk;
    }
  }
  return Status::Internal("unknown curve");
}

bool Secp256k1ScalarValid(ByteView k) {
  return secp256k1_ec_seckey_verify(Secp256k1Context(), k.data()) == 1;
}

}  // namespace

std::string_view CurveName(Curve curve) {
  switch (curve) {
    case Curve::kSecp256k1:
      return "secp256k1";
    case Curve::kEd25519:
      return "ed25519";
    case Curve::kCurve25519:
      return "curve25519";
  }
  return "unknown";
}

Result<Curve> ParseCurve(std::string_view name) {
  if (name == "secp256k1") return Curve::kSecp256k1;
  if (name == "ed25519") return Curve::kEd25519;
  if (name == "curve25519") return Curve::kCurve25519;
  return Status::InvalidArgument("unknown curve '" + std::string(name) +
                                 "' (ed25519, secp256k1, curve25519)");
}

const SecretBytes& ExtendedKey::private_key() const {
  MDL_CHECK(has_private_key());
  return private_key_;
}

Bytes ExtendedKey::Slip10PublicKey() const {
  if (curve_ == Curve::kSecp256k1) return public_key_;
  Bytes out{0x00};
  out.insert(out.end(), public_key_.begin(), public_key_.end());
  return out;
}

uint32_t ExtendedKey::Fingerprint() const {
  auto h = Hash160(Slip10PublicKey());
  return GetU32(h.data());
}

ExtendedKey ExtendedKey::Neutered() const {
  return ExtendedKeyAccess::Make(curve_, depth_, parent_fingerprint_, child_number_,
                                 chain_code_.Reveal(), SecretBytes(), public_key_);
}

ExtendedKey ExtendedKey::Clone() const {
  return ExtendedKeyAccess::Make(
      curve_, depth_, parent_fingerprint_, child_number_, chain_code_.Reveal(),
      has_private_key() ? private_key_.Clone() : SecretBytes(), public_key_);
}

Result<ExtendedKey> MasterKeyFromSeed(Curve curve, ByteView seed) {
  if (seed.size() < 16 || seed.size() > 64)
    return Status::InvalidArgument("seed must be 16 to 64 bytes");
  const char* key = SeedKey(curve);
  // I holds the master private key and chain code: wiped on every return path.
  std::array<uint8_t, 64> i = HmacSha512(AsBytes(key), seed);
  ScopedWipe wipe_i(i);
  // SLIP-10 §"Master key generation": for secp256k1, an IL of 0 or >= n is retried with I
  // as the new data (BIP-32 would call the seed invalid; the two agree on every real seed).
  while (curve == Curve::kSecp256k1 && !Secp256k1ScalarValid(ByteView(i.data(), 32))) {
    std::array<uint8_t, 64> next = HmacSha512(AsBytes(key), i);
    ScopedWipe wipe_next(next);
    i = next;
  }
  SecretBytes priv = SecretBytes::CopyFrom(ByteView(i.data(), 32));
  auto pub = PublicFromPrivate(curve, priv.Reveal());
  if (!pub) return pub.error();
  return ExtendedKeyAccess::Make(curve, 0, 0, 0, ByteView(i.data() + 32, 32), std::move(priv),
                                 std::move(*pub));
}

Result<ExtendedKey> DeriveChild(const ExtendedKey& parent, uint32_t index) {
  const bool hardened = (index & kHardened) != 0;
  if (parent.depth() == 255) return Status::FailedPrecondition("bip32: depth 255 reached");
  if (parent.curve() != Curve::kSecp256k1 && !hardened) {
    return Status::InvalidArgument(std::string("slip10: ") +
                                   std::string(CurveName(parent.curve())) +
                                   " supports hardened derivation only");
  }
  if (hardened && !parent.has_private_key()) {
    return Status::InvalidArgument("bip32: hardened child of a public key");
  }
  // data = 0x00 || ser256(k) || ser32(i) (hardened) or serP(K) || ser32(i) (normal).
  // Stack buffers, wiped on every return path by ScopedWipe (sodium_malloc per call would
  // cost ~13 µs).
  std::array<uint8_t, 37> d{};
  ScopedWipe wipe_d(d);
  if (hardened) {
    d[0] = 0;
    std::memcpy(d.data() + 1, parent.private_key().Reveal().data(), 32);
  } else {
    std::memcpy(d.data(), parent.public_key().data(), 33);
  }
  PutU32(d.data() + 33, index);
  std::array<uint8_t, 64> i = HmacSha512(parent.chain_code(), d);
  ScopedWipe wipe_i(i);

  for (;;) {
    ByteView il(i.data(), 32);
    if (parent.curve() != Curve::kSecp256k1) {
      SecretBytes priv = SecretBytes::CopyFrom(il);
      auto pub = PublicFromPrivate(parent.curve(), priv.Reveal());
      if (!pub) return pub.error();
      return ExtendedKeyAccess::Make(parent.curve(), parent.depth() + 1, parent.Fingerprint(),
                                     index, ByteView(i.data() + 32, 32), std::move(priv),
                                     std::move(*pub));
    }
    bool valid = Secp256k1ScalarValid(il) ||
                 std::all_of(il.begin(), il.end(), [](uint8_t b) { return b == 0; });
    if (valid && parent.has_private_key()) {
      SecretBytes priv = parent.private_key().Clone();
      // k_i = parse256(IL) + k_par (mod n); fails if IL >= n or the sum is zero.
      if (secp256k1_ec_seckey_tweak_add(Secp256k1Context(), priv.RevealMutable().data(),
                                        il.data()) == 1) {
        auto pub = PublicFromPrivate(Curve::kSecp256k1, priv.Reveal());
        if (!pub) return pub.error();
        return ExtendedKeyAccess::Make(Curve::kSecp256k1, parent.depth() + 1, parent.Fingerprint(),
                                       index, ByteView(i.data() + 32, 32), std::move(priv),
                                       std::move(*pub));
      }
    } else if (valid) {
      secp256k1_pubkey pk;
      if (secp256k1_ec_pubkey_parse(Secp256k1Context(), &pk, parent.public_key().data(), 33) != 1) {
        return Status::InvalidArgument("bip32: invalid parent public key");
      }
      // K_i = point(parse256(IL)) + K_par; fails if IL >= n or the result is infinity.
      if (secp256k1_ec_pubkey_tweak_add(Secp256k1Context(), &pk, il.data()) == 1) {
        Bytes out(33);
        size_t len = out.size();
        secp256k1_ec_pubkey_serialize(Secp256k1Context(), out.data(), &len, &pk,
                                      SECP256K1_EC_COMPRESSED);
        return ExtendedKeyAccess::Make(Curve::kSecp256k1, parent.depth() + 1, parent.Fingerprint(),
                                       index, ByteView(i.data() + 32, 32), SecretBytes(),
                                       std::move(out));
      }
    }
    // SLIP-10 §"Private parent key → private child key": on an invalid key, retry with
    // I = HMAC-SHA512(c_par, 0x01 || IR || ser32(i)).
    d[0] = 0x01;
    std::memcpy(d.data() + 1, i.data() + 32, 32);
    PutU32(d.data() + 33, index);
    std::array<uint8_t, 64> next = HmacSha512(parent.chain_code(), d);
    ScopedWipe wipe_next(next);
    i = next;
  }
}

Result<std::vector<uint32_t>> ParsePath(std::string_view path) {
  if (path.empty() || path[0] != 'm') return Status::InvalidArgument("path must start with 'm'");
  std::vector<uint32_t> out;
  size_t pos = 1;
  while (pos < path.size()) {
    if (path[pos] != '/')
      return Status::InvalidArgument("path: expected '/' at position " + std::to_string(pos));
    ++pos;
    size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    std::string_view comp = path.substr(pos, end - pos);
    bool hardened = false;
    if (!comp.empty() && (comp.back() == '\'' || comp.back() == 'h' || comp.back() == 'H')) {
      hardened = true;
      comp.remove_suffix(1);
    }
    if (comp.empty() || (comp.size() > 1 && comp[0] == '0')) {
      return Status::InvalidArgument("path: bad component '" +
                                     std::string(path.substr(pos, end - pos)) + "'");
    }
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(comp.data(), comp.data() + comp.size(), v);
    if (ec != std::errc() || p != comp.data() + comp.size() || v >= kHardened) {
      return Status::InvalidArgument("path: index out of range in '" + std::string(comp) + "'");
    }
    out.push_back(static_cast<uint32_t>(v) | (hardened ? kHardened : 0));
    if (out.size() > 255) return Status::InvalidArgument("path: deeper than 255");
    pos = end;
  }
  return out;
}

std::string FormatPath(const std::vector<uint32_t>& path) {
  std::string out = "m";
  for (uint32_t i : path) {
    out += '/';
    out += std::to_string(i & ~kHardened);
    if (i & kHardened) out += '\'';
  }
  return out;
}

Result<ExtendedKey> DerivePath(const ExtendedKey& root, const std::vector<uint32_t>& path) {
  ExtendedKey k = root.Clone();
  for (uint32_t index : path) {
    MDL_ASSIGN_OR_RETURN(k, DeriveChild(k, index));
  }
  return k;
}

Result<ExtendedKey> DerivePath(const ExtendedKey& root, std::string_view path) {
  MDL_ASSIGN_OR_RETURN(auto indices, ParsePath(path));
  return DerivePath(root, indices);
}

Result<ExtendedKey> DeriveFromSeed(Curve curve, ByteView seed, std::string_view path) {
  MDL_ASSIGN_OR_RETURN(auto indices, ParsePath(path));
  MDL_ASSIGN_OR_RETURN(ExtendedKey master, MasterKeyFromSeed(curve, seed));
  return DerivePath(master, indices);
}

namespace {
// 78-byte BIP-32 serialization: version || depth || parent fp || child || chain || key.
SecretBytes Serialize(const ExtendedKey& key, uint32_t version, ByteView keydata) {
  SecretBytes out(78);
  auto o = out.RevealMutable();
  PutU32(o.data(), version);
  o[4] = key.depth();
  PutU32(o.data() + 5, key.parent_fingerprint());
  PutU32(o.data() + 9, key.child_number());
  std::memcpy(o.data() + 13, key.chain_code().data(), 32);
  std::memcpy(o.data() + 45, keydata.data(), 33);
  return out;
}
}  // namespace

SecretString SerializeXprv(const ExtendedKey& key) {
  MDL_CHECK(key.curve() == Curve::kSecp256k1 && key.has_private_key());
  SecretBytes keydata(33);
  std::memcpy(keydata.RevealMutable().data() + 1, key.private_key().Reveal().data(), 32);
  SecretBytes raw = Serialize(key, kXprvVersion, keydata.Reveal());
  return SecretString(Base58CheckEncode(raw.Reveal()));
}

std::string SerializeXpub(const ExtendedKey& key) {
  MDL_CHECK(key.curve() == Curve::kSecp256k1);
  SecretBytes raw = Serialize(key, kXpubVersion, key.public_key());
  return Base58CheckEncode(raw.Reveal());
}

Result<ExtendedKey> ParseExtendedKey(std::string_view text) {
  auto decoded = Base58CheckDecode(text);
  if (!decoded) return Status::InvalidArgument("bip32: invalid checksum or base58");
  SecretBytes raw = SecretBytes::CopyFrom(*decoded);
  SecureWipe(decoded->data(), decoded->size());
  if (raw.size() != 78) return Status::InvalidArgument("bip32: extended key must be 78 bytes");
  ByteView r = raw.Reveal();
  const uint32_t version = GetU32(r.data());
  const uint8_t depth = r[4];
  const uint32_t parent_fp = GetU32(r.data() + 5);
  const uint32_t child = GetU32(r.data() + 9);
  ByteView chain(r.data() + 13, 32);
  ByteView keydata(r.data() + 45, 33);
  if (version != kXprvVersion && version != kXpubVersion) {
    return Status::InvalidArgument("bip32: unknown extended key version");
  }
  const bool is_private = version == kXprvVersion;
  if (depth == 0 && parent_fp != 0)
    return Status::InvalidArgument("bip32: zero depth with non-zero parent fingerprint");
  if (depth == 0 && child != 0)
    return Status::InvalidArgument("bip32: zero depth with non-zero index");
  if (is_private) {
    if (keydata[0] == 0x02 || keydata[0] == 0x03)
      return Status::InvalidArgument("bip32: prvkey version / pubkey mismatch");
    if (keydata[0] != 0x00) {
      return Status::InvalidArgument("bip32: invalid prvkey prefix " + HexEncode(keydata.first(1)));
    }
    ByteView k = keydata.subspan(1);
    if (!Secp256k1ScalarValid(k))
      return Status::InvalidArgument("bip32: private key not in 1..n-1");
    SecretBytes priv = SecretBytes::CopyFrom(k);
    MDL_ASSIGN_OR_RETURN(Bytes pub, PublicFromPrivate(Curve::kSecp256k1, priv.Reveal()));
    return ExtendedKeyAccess::Make(Curve::kSecp256k1, depth, parent_fp, child, chain,
                                   std::move(priv), std::move(pub));
  }
  if (keydata[0] == 0x00) return Status::InvalidArgument("bip32: pubkey version / prvkey mismatch");
  if (keydata[0] != 0x02 && keydata[0] != 0x03) {
    return Status::InvalidArgument("bip32: invalid pubkey prefix " + HexEncode(keydata.first(1)));
  }
  secp256k1_pubkey pk;
  if (secp256k1_ec_pubkey_parse(Secp256k1Context(), &pk, keydata.data(), 33) != 1) {
    return Status::InvalidArgument("bip32: invalid pubkey " + HexEncode(keydata));
  }
  return ExtendedKeyAccess::Make(Curve::kSecp256k1, depth, parent_fp, child, chain, SecretBytes(),
                                 Bytes(keydata.begin(), keydata.end()));
}

}  // namespace medallion::wallet
