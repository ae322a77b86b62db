// `medallion wallet ...`: create, restore and inspect a wallet; derive, sign and verify;
// split the seed into SLIP-39 shares and combine them; change the key store passphrase.
#include "cli_wallet.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string_view>

#include "cli_util.h"
#include "medallion/core/encoding.h"
#include "medallion/did/did_key.h"
#include "medallion/wallet/bip39.h"
#include "medallion/wallet/hd_key.h"
#include "medallion/wallet/keys.h"
#include "medallion/wallet/keystore.h"
#include "medallion/wallet/slip39.h"

namespace medallion::cli {
namespace {

using nlohmann::json;
using wallet::Curve;
using wallet::KeyPurpose;

constexpr const char* kStoreEnv = "MEDALLION_PASSPHRASE";
constexpr const char* kAllowTestKdfEnv = "MEDALLION_ALLOW_TEST_KDF";

Result<wallet::KdfParams> ParseKdf(const std::string& name) {
  if (name == "moderate") return wallet::KdfParams::Moderate();
  if (name == "interactive") return wallet::KdfParams::Interactive();
  if (name == "test") {
    // The libsodium minimum protects nothing against an offline guess: only test suites may
    // ask for it, explicitly.
    const char* allow = std::getenv(kAllowTestKdfEnv);
    if (allow == nullptr || std::string_view(allow) != "1") {
      return Status::InvalidArgument("--kdf test is for test suites only (it needs " +
                                     std::string(kAllowTestKdfEnv) +
                                     "=1); use moderate or interactive");
    }
    return wallet::KdfParams::ForTests();
  }
  return Status::InvalidArgument("--kdf must be moderate, interactive or test");
}

// Fails with already_exists if `path` exists (even as a dangling symlink): checked before any
// passphrase is asked for; KeyStore::Create's O_EXCL is what really guarantees it.
Status RequireAbsent(const std::string& path) {
  struct stat sb;
  if (::lstat(path.c_str(), &sb) == 0)
    return Status::AlreadyExists(path + " already exists; not overwriting it");
  return Status::Ok();
}

// Removes a key store and its SQLite side files.
void RemoveStoreFiles(const std::string& store) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) ::unlink((store + suffix).c_str());
}

// The BIP-39 seed from a mnemonic file and an optional BIP-39 passphrase file.
Result<SecretBytes> SeedFromFiles(const std::string& mnemonic_file,
                                  const std::string& passphrase_file) {
  MDL_ASSIGN_OR_RETURN(SecretString mnemonic, ReadMnemonicFile(mnemonic_file));
  SecretString pass;
  if (!passphrase_file.empty()) {
    MDL_ASSIGN_OR_RETURN(pass, ReadSecretFile(passphrase_file));
  }
  return wallet::bip39::MnemonicToSeed(mnemonic.Reveal(), pass.Reveal());
}

// Unlocks `store`. On failure, `*source` tells whether opening the file failed (a file that is
// not a usable key store: exit 2) or unlocking it (wrong passphrase, tampered record: exit 1).
Result<wallet::WalletSecret> UnlockStore(const std::string& store,
                                         const std::string& passphrase_file, ErrorSource* source) {
  auto ks = wallet::KeyStore::Open(store, DefaultEnv());
  if (!ks) {
    *source = ErrorSource::kOpeningStore;
    return ks.error();
  }
  MDL_ASSIGN_OR_RETURN(SecretString pass,
                       GetPassphrase(passphrase_file, kStoreEnv, "Key store passphrase", false));
  return (*ks)->Unlock(pass.Reveal());
}

// Where a command gets its seed: --store (unlocked) or --mnemonic-file.
struct SeedSource {
  std::string store;
  std::string mnemonic_file;
  std::string
      passphrase_file;  // store passphrase with --store, BIP-39 passphrase with --mnemonic-file
  void Add(CLI::App* cmd) {
    cmd->add_option("--store", store, "Key store file (see `wallet init`)");
    cmd->add_option("--mnemonic-file", mnemonic_file, "File holding a BIP-39 mnemonic");
    cmd->add_option(
        "--passphrase-file", passphrase_file,
        "With --store: the key store passphrase (else $MEDALLION_PASSPHRASE or a prompt). "
        "With --mnemonic-file: the BIP-39 passphrase");
  }
  // Checks the combination of options (before any file is read).
  Status Validate() const {
    if (!store.empty() && !mnemonic_file.empty())
      return Status::InvalidArgument("give --store or --mnemonic-file, not both");
    if (store.empty() && mnemonic_file.empty())
      return Status::InvalidArgument("give --store or --mnemonic-file");
    return Status::Ok();
  }
  // On failure `*source` is set as by UnlockStore.
  Result<SecretBytes> Seed(ErrorSource* source) const {
    MDL_RETURN_IF_ERROR(Validate());
    if (!mnemonic_file.empty()) return SeedFromFiles(mnemonic_file, passphrase_file);
    MDL_ASSIGN_OR_RETURN(wallet::WalletSecret s, UnlockStore(store, passphrase_file, source));
    return std::move(s.seed);
  }
};

json KeyJson(const wallet::ExtendedKey& k, const std::string& path, bool with_private) {
  json j = {{"path", path}, {"curve", std::string(wallet::CurveName(k.curve()))}};
  if (with_private) j["private_key"] = HexEncode(k.private_key().Reveal());
  j["public_key"] = HexEncode(k.public_key());
  if (with_private) j["chain_code"] = HexEncode(k.chain_code());
  if (k.curve() == Curve::kSecp256k1) {
    if (with_private) j["xprv"] = wallet::SerializeXprv(k).Reveal();
    j["xpub"] = wallet::SerializeXpub(k);
  }
  return j;
}

// The public identity of a wallet: one key per purpose (account `account`, index 0) and the
// did:key DIDs of its authentication (Ed25519) and ES256K (secp256k1) keys.
Result<json> PublicIdentity(ByteView seed, uint32_t account) {
  json keys = json::array();
  json dids = json::object();
  for (KeyPurpose p :
       {KeyPurpose::kAuthentication, KeyPurpose::kAssertion, KeyPurpose::kKeyAgreement,
        KeyPurpose::kDidUpdate, KeyPurpose::kRecoveryCommitment, KeyPurpose::kEs256k}) {
    const std::string path = wallet::PurposeKeyPath(account, p, 0);
    MDL_ASSIGN_OR_RETURN(wallet::ExtendedKey k,
                         wallet::DeriveFromSeed(wallet::CurveForPurpose(p), seed, path));
    did::KeyType type = k.curve() == Curve::kEd25519     ? did::KeyType::kEd25519
                        : k.curve() == Curve::kSecp256k1 ? did::KeyType::kSecp256k1
                                                         : did::KeyType::kX25519;
    MDL_ASSIGN_OR_RETURN(std::string multikey, did::MultikeyFromPublicKey(type, k.public_key()));
    keys.push_back({{"purpose", std::string(wallet::KeyPurposeName(p))},
                    {"path", path},
                    {"curve", std::string(wallet::CurveName(k.curve()))},
                    {"public_key", HexEncode(k.public_key())},
                    {"public_key_multibase", multikey}});
    if (p == KeyPurpose::kAuthentication) dids["ed25519"] = "did:key:" + multikey;
    if (p == KeyPurpose::kEs256k) dids["secp256k1"] = "did:key:" + multikey;
  }
  return json{{"account", account}, {"keys", keys}, {"dids", dids}};
}

void PrintIdentityText(const json& id) {
  std::cout << "Account " << id["account"].get<uint32_t>() << "\n";
  for (const auto& k : id["keys"]) {
    std::printf("  %-15s %-10s %s\n                  %s\n", k["purpose"].get<std::string>().c_str(),
                k["curve"].get<std::string>().c_str(), k["path"].get<std::string>().c_str(),
                k["public_key_multibase"].get<std::string>().c_str());
  }
  std::cout << "DIDs\n  " << id["dids"]["ed25519"].get<std::string>() << "\n  "
            << id["dids"]["secp256k1"].get<std::string>() << "\n";
}

// What creating a key store needs besides the mnemonic, gathered (and the passphrase asked
// for) before anything is written.
struct NewStore {
  std::string path;
  wallet::KdfParams params;
  SecretString passphrase;
  SecretString bip39_passphrase;
};

// Checks the options of a command that creates `store` and gets its passphrases.
Result<NewStore> PrepareStore(const std::string& store, const std::string& passphrase_file,
                              const std::string& kdf, const std::string& bip39_passphrase_file) {
  NewStore n;
  n.path = store;
  MDL_ASSIGN_OR_RETURN(n.params, ParseKdf(kdf));
  MDL_RETURN_IF_ERROR(RequireAbsent(store));
  if (!bip39_passphrase_file.empty()) {
    MDL_ASSIGN_OR_RETURN(n.bip39_passphrase, ReadSecretFile(bip39_passphrase_file));
  }
  MDL_ASSIGN_OR_RETURN(n.passphrase,
                       GetPassphrase(passphrase_file, kStoreEnv, "New key store passphrase", true));
  if (n.passphrase.empty())
    return Status::InvalidArgument("the key store passphrase must not be empty");
  return n;
}

// Creates the store holding `mnemonic`'s wallet and its public identity. On failure no store
// is left behind, even if the failure comes after the file was created.
Status CreateStore(const NewStore& n, const SecretString& mnemonic) {
  wallet::WalletSecret secret;
  MDL_ASSIGN_OR_RETURN(secret.entropy, wallet::bip39::MnemonicToEntropy(mnemonic.Reveal()));
  MDL_ASSIGN_OR_RETURN(
      secret.seed, wallet::bip39::MnemonicToSeed(mnemonic.Reveal(), n.bip39_passphrase.Reveal()));
  MDL_ASSIGN_OR_RETURN(json id, PublicIdentity(secret.seed.Reveal(), 0));
  MDL_ASSIGN_OR_RETURN(auto ks, wallet::KeyStore::Create(n.path, n.passphrase.Reveal(), secret,
                                                         n.params, DefaultEnv()));
  Status st = ks->PutPublic("identity", "account-0", DumpJson(id));
  if (!st.ok()) {
    ks.reset();
    RemoveStoreFiles(n.path);
  }
  return st;
}

// One number of a group spec: decimal digits only, 1..16 (SLIP-0039 §Notation).
std::optional<uint8_t> ParseShareCount(std::string_view text) {
  unsigned v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < 1 ||
      v > wallet::slip39::kMaxShareCount) {
    return std::nullopt;
  }
  return static_cast<uint8_t>(v);  // in 1..16: no truncation
}

// --groups MofN: M of N shares restore the group; 1 <= M <= N <= 16, and 1ofN only for N = 1
// (SLIP-0039 §Generating the shares: a 1-of-N group would hand out N copies of the secret).
Result<std::vector<wallet::slip39::GroupSpec>> ParseGroups(const std::vector<std::string>& specs) {
  if (specs.empty() || specs.size() > wallet::slip39::kMaxShareCount) {
    return Status::InvalidArgument("give 1 to 16 --groups");
  }
  std::vector<wallet::slip39::GroupSpec> out;
  for (const auto& s : specs) {
    const size_t of = s.find("of");
    const auto bad = [&](const std::string& why) {
      return Status::InvalidArgument("group '" + s + "': " + why);
    };
    if (of == std::string::npos) return bad("must look like 2of3 (M of N shares, at most 16)");
    const auto t = ParseShareCount(std::string_view(s).substr(0, of));
    const auto n = ParseShareCount(std::string_view(s).substr(of + 2));
    if (!t || !n) return bad("must look like 2of3 (M of N shares, each 1 to 16)");
    if (*t > *n) return bad("the threshold is larger than the number of shares");
    if (*t == 1 && *n > 1)
      return bad("1 of " + std::to_string(*n) + " would be copies of the secret; use 1of1");
    out.push_back({*t, *n});
  }
  return out;
}

// The signing curve of an algorithm.
Curve CurveForAlg(wallet::SignatureAlg alg) {
  return alg == wallet::SignatureAlg::kEdDSA ? Curve::kEd25519 : Curve::kSecp256k1;
}

// Removes the files in `written` (a partial set of shares is worse than none).
void RemoveFiles(const std::vector<std::string>& written) {
  for (const auto& f : written) ::unlink(f.c_str());
}

// `wallet init`.
struct WalletInitOptions {
  std::string store, passphrase_file, bip39_passphrase_file, kdf = "moderate", mnemonic_out;
  int words = 24;
  bool json = false;
};

int RunWalletInit(const WalletInitOptions& o) {
  auto n = PrepareStore(o.store, o.passphrase_file, o.kdf, o.bip39_passphrase_file);
  if (!n) return ReportError(n.error());
  SystemRng rng;
  auto mnemonic = wallet::bip39::GenerateMnemonic(rng, o.words / 3 * 32);
  if (!mnemonic) return ReportError(mnemonic.error());
  // The mnemonic is the only backup: it is written (or shown) and the store exists, or
  // neither. The file comes first and is removed again if the store cannot be created.
  const bool show = o.mnemonic_out.empty();
  if (!show) {
    SecretString line(mnemonic->Reveal() + "\n");
    Status st = WriteFileAtomic(o.mnemonic_out, line.Reveal(), false, /*overwrite=*/false);
    if (!st.ok()) return ReportError(st);
  }
  Status st = CreateStore(*n, *mnemonic);
  if (!st.ok()) {
    if (!show) ::unlink(o.mnemonic_out.c_str());
    return ReportError(st);
  }
  // A closed stdout must be an error we can act on, not a SIGPIPE that kills us between
  // creating the store and showing its only backup.
  std::signal(SIGPIPE, SIG_IGN);
  if (o.json) {
    json j = {{"store", o.store}};
    if (show) j["mnemonic"] = mnemonic->Reveal();
    PrintJson(j);
  } else {
    std::cout << "Created " << o.store << "\n";
    if (show) {
      std::cerr << "Write these words down and keep them offline; they restore every key:\n";
      std::cout << mnemonic->Reveal() << "\n";
    }
  }
  if (st = FlushStdout(); !st.ok()) {
    if (show) {
      RemoveStoreFiles(o.store);
      st = Status::Unavailable(st.message() + "; the mnemonic was not shown, so " + o.store +
                               " was removed");
    }
    return ReportError(st);
  }
  return kExitOk;
}

void AddWalletInit(CLI::App* parent, int& rc) {
  auto* cmd = parent->add_subcommand(
      "init", "Create a new wallet: a fresh mnemonic sealed in an encrypted key store");
  auto o = std::make_shared<WalletInitOptions>();
  cmd->add_option("--store", o->store, "Key store file to create (mode 0600)")->required();
  cmd->add_option("--words", o->words, "Mnemonic length: 12, 15, 18, 21 or 24")
      ->check(CLI::IsMember({12, 15, 18, 21, 24}));
  cmd->add_option("--passphrase-file", o->passphrase_file,
                  "Key store passphrase (else $MEDALLION_PASSPHRASE or a prompt)");
  cmd->add_option("--bip39-passphrase-file", o->bip39_passphrase_file,
                  "Optional BIP-39 passphrase (the '25th word')");
  cmd->add_option(
      "--kdf", o->kdf,
      "Argon2id cost: moderate (default), interactive, or test (test suites only: needs "
      "MEDALLION_ALLOW_TEST_KDF=1)");
  cmd->add_option(
      "--mnemonic-out", o->mnemonic_out,
      "Write the mnemonic to this new file (mode 0600; never overwritten) instead of stdout");
  cmd->add_flag("--json", o->json, "JSON output: {store, mnemonic} ({store} with --mnemonic-out)");
  cmd->callback([o, &rc] { rc = RunWalletInit(*o); });
}

// `wallet restore`.
struct WalletRestoreOptions {
  std::string store, mnemonic_file, passphrase_file, bip39_passphrase_file, kdf = "moderate";
};

int RunWalletRestore(const WalletRestoreOptions& o) {
  auto mnemonic = ReadMnemonicFile(o.mnemonic_file);
  if (!mnemonic) return ReportError(mnemonic.error());
  auto n = PrepareStore(o.store, o.passphrase_file, o.kdf, o.bip39_passphrase_file);
  if (!n) return ReportError(n.error());
  Status st = CreateStore(*n, *mnemonic);
  if (!st.ok()) return ReportError(st);
  std::cout << "Restored " << o.store << "\n";
  return kExitOk;
}

void AddWalletRestore(CLI::App* parent, int& rc) {
  auto* cmd = parent->add_subcommand("restore", "Recreate a key store from a BIP-39 mnemonic");
  auto o = std::make_shared<WalletRestoreOptions>();
  cmd->add_option("--store", o->store, "Key store file to create")->required();
  cmd->add_option("--mnemonic-file", o->mnemonic_file, "File holding the mnemonic")->required();
  cmd->add_option("--passphrase-file", o->passphrase_file,
                  "Key store passphrase (else $MEDALLION_PASSPHRASE or a prompt)");
  cmd->add_option("--bip39-passphrase-file", o->bip39_passphrase_file,
                  "Optional BIP-39 passphrase");
  cmd->add_option("--kdf", o->kdf,
                  "Argon2id cost: moderate (default), interactive, test (test suites only)");
  cmd->callback([o, &rc] { rc = RunWalletRestore(*o); });
}

// `wallet show`.
struct WalletShowOptions {
  SeedSource src;
  uint32_t account = 0;
  bool json = false;
};

int RunWalletShow(const WalletShowOptions& o) {
  ErrorSource source = ErrorSource::kCommand;
  auto seed = o.src.Seed(&source);
  if (!seed) return ReportError(seed.error(), source);
  auto id = PublicIdentity(seed->Reveal(), o.account);
  if (!id) return ReportError(id.error());
  if (o.json) {
    PrintJson(*id);
  } else {
    PrintIdentityText(*id);
  }
  return kExitOk;
}

void AddWalletShow(CLI::App* parent, int& rc) {
  auto* cmd = parent->add_subcommand(
      "show", "Show the public keys per purpose and the wallet's did:key DIDs");
  auto o = std::make_shared<WalletShowOptions>();
  o->src.Add(cmd);
  cmd->add_option("--account", o->account, "Account number (default 0)")
      ->check(CLI::Range(0u, 0x7fffffffu));
  cmd->add_flag("--json", o->json, "JSON output");
  cmd->callback([o, &rc] { rc = RunWalletShow(*o); });
}

// `wallet derive`.
struct WalletDeriveOptions {
  SeedSource src;
  std::string curve = "ed25519", path;
  bool json = false, public_only = false;
};

int RunWalletDerive(const WalletDeriveOptions& o) {
  auto curve = wallet::ParseCurve(o.curve);
  if (!curve) return ReportError(curve.error());
  ErrorSource source = ErrorSource::kCommand;
  auto seed = o.src.Seed(&source);
  if (!seed) return ReportError(seed.error(), source);
  auto k = wallet::DeriveFromSeed(*curve, seed->Reveal(), o.path);
  if (!k) return ReportError(k.error());
  json j = KeyJson(*k, o.path, !o.public_only);
  if (o.json) {
    PrintJson(j);
  } else {
    for (auto& [key, value] : j.items())
      std::cout << key << ": " << value.get<std::string>() << "\n";
  }
  return kExitOk;
}

void AddWalletDerive(CLI::App* parent, int& rc) {
  auto* cmd = parent->add_subcommand(
      "derive", "Derive a key at a BIP-32 / SLIP-10 path (prints private material)");
  auto o = std::make_shared<WalletDeriveOptions>();
  o->src.Add(cmd);
  cmd->add_option("--curve", o->curve,
                  "ed25519 (SLIP-10, hardened only), secp256k1 (BIP-32) or curve25519 (SLIP-10)");
  cmd->add_option("--path", o->path, "Derivation path, e.g. m/44'/0'/0'")->required();
  cmd->add_flag("--public-only", o->public_only, "Omit private key, chain code and xprv");
  cmd->add_flag("--json", o->json,
                "JSON output: {path, curve, private_key, public_key, chain_code[, xprv, xpub]}");
  cmd->callback([o, &rc] { rc = RunWalletDerive(*o); });
}

// `wallet sign`.
struct WalletSignOptions {
  SeedSource src;
  std::string alg, path, purpose, in;
  bool json = false;
};

int RunWalletSign(const WalletSignOptions& o) {
  auto alg = wallet::ParseSignatureAlg(o.alg);
  if (!alg) return ReportError(alg.error());
  std::string path = o.path;
  if (path.empty() == o.purpose.empty()) {
    return ReportError(Status::InvalidArgument("give exactly one of --path and --purpose"));
  }
  if (!o.purpose.empty()) {
    auto p = wallet::ParseKeyPurpose(o.purpose);
    if (!p) return ReportError(p.error());
    // A purpose key has one curve (docs/wallet.md): signing "as the assertion key" with
    // another algorithm would use a key nobody published.
    const Curve curve = wallet::CurveForPurpose(*p);
    if (curve == Curve::kCurve25519) {
      return ReportError(Status::InvalidArgument(
          "--purpose " + o.purpose + " is an X25519 key-agreement key; it cannot sign"));
    }
    if (curve != CurveForAlg(*alg)) {
      const char* want = curve == Curve::kEd25519 ? "EdDSA" : "ES256K";
      return ReportError(Status::InvalidArgument("--purpose " + o.purpose + " is a " +
                                                 std::string(wallet::CurveName(curve)) +
                                                 " key; sign with --alg " + want));
    }
    path = wallet::PurposeKeyPath(0, *p, 0);
  }
  if (Status st = o.src.Validate(); !st.ok()) return ReportError(st);
  auto msg = ReadFileBytes(o.in);
  if (!msg) return ReportError(msg.error());
  ErrorSource source = ErrorSource::kCommand;
  auto seed = o.src.Seed(&source);
  if (!seed) return ReportError(seed.error(), source);
  auto key = wallet::DeriveSigningKey(seed->Reveal(), *alg, path);
  if (!key) return ReportError(key.error());
  auto sig = wallet::Sign(*key, *msg);
  if (!sig) return ReportError(sig.error());
  if (o.json) {
    PrintJson({{"alg", std::string(wallet::SignatureAlgName(*alg))},
               {"signature", HexEncode(*sig)},
               {"public_key", HexEncode(key->public_key)}});
  } else {
    std::cout << HexEncode(*sig) << "\n";
  }
  return kExitOk;
}

void AddWalletSign(CLI::App* parent, int& rc) {
  auto* cmd = parent->add_subcommand(
      "sign", "Sign a file's bytes with EdDSA (Ed25519) or ES256K (secp256k1, SHA-256)");
  auto o = std::make_shared<WalletSignOptions>();
  o->src.Add(cmd);
  cmd->add_option("--alg", o->alg,
                  "EdDSA or ES256K (with --purpose: the purpose's curve, see docs/wallet.md)")
      ->required();
  cmd->add_option("--path", o->path, "Derivation path of the signing key");
  cmd->add_option("--purpose", o->purpose,
                  "Instead of --path: a purpose key of account 0 (authentication, assertion, "
                  "did-update, recovery "
                  "with EdDSA; es256k with ES256K; key-agreement keys cannot sign)");
  cmd->add_option("--in", o->in, "Regular file whose raw bytes are signed")->required();
  cmd->add_flag("--json", o->json, "JSON output: {alg, signature, public_key}");
  cmd->callback([o, &rc] { rc = RunWalletSign(*o); });
}

// `wallet verify`.
struct WalletVerifyOptions {
  std::string alg, public_key, in, signature;
  bool json = false;
};

int RunWalletVerify(const WalletVerifyOptions& o) {
  auto alg = wallet::ParseSignatureAlg(o.alg);
  if (!alg) return ReportError(alg.error());
  auto pk = HexDecode(o.public_key);
  if (!pk) return ReportError(Status::InvalidArgument("--public-key: " + pk.error().message()));
  auto sig = HexDecode(o.signature);
  if (!sig) return ReportError(Status::InvalidArgument("--signature: " + sig.error().message()));
  if (sig->size() != 64)
    return ReportError(Status::InvalidArgument("--signature must be 64 bytes"));
  auto msg = ReadFileBytes(o.in);
  if (!msg) return ReportError(msg.error());
  const bool valid = wallet::Verify(*alg, *pk, *msg, *sig);
  if (o.json) {
    PrintJson({{"valid", valid}});
  } else {
    std::cout << (valid ? "valid" : "INVALID") << "\n";
  }
  return valid ? kExitOk : kExitFalse;
}

void AddWalletVerify(CLI::App* parent, int& rc) {
  auto* cmd = parent->add_subcommand(
      "verify", "Verify a signature; exit 0 only if it is valid (1 invalid, 2 bad input)");
  auto o = std::make_shared<WalletVerifyOptions>();
  cmd->add_option("--alg", o->alg, "EdDSA or ES256K")->required();
  cmd->add_option("--public-key", o->public_key,
                  "Public key, hex (Ed25519 32 bytes; secp256k1 33 bytes 02/03 or 65 bytes 04)")
      ->required();
  cmd->add_option("--in", o->in, "Regular file whose raw bytes were signed")->required();
  cmd->add_option("--signature", o->signature, "Signature, hex (64 bytes)")->required();
  cmd->add_flag("--json", o->json, "JSON output: {valid}");
  cmd->callback([o, &rc] { rc = RunWalletVerify(*o); });
}

// `wallet mnemonic`.
struct WalletMnemonicOptions {
  int words = 24;
  std::string entropy, entropy_file;
  bool json = false;
};

int RunWalletMnemonic(const WalletMnemonicOptions& o) {
  SecretBytes entropy;
  if (!o.entropy.empty() || !o.entropy_file.empty()) {
    SecretString text;
    if (!o.entropy_file.empty()) {
      auto t = ReadSecretFile(o.entropy_file);
      if (!t) return ReportError(t.error());
      text = std::move(*t);
    } else {
      text = SecretString(std::string(o.entropy));
    }
    auto e = HexDecode(text.Reveal());
    if (!e) return ReportError(Status::InvalidArgument("entropy: " + e.error().message()));
    entropy = SecretBytes::CopyFrom(*e);
    SecureWipe(e->data(), e->size());
  } else {
    SystemRng rng;
    entropy = rng.RandomSecret(static_cast<size_t>(o.words) / 3 * 4);  // 12..24 words: 16..32 bytes
  }
  auto m = wallet::bip39::MnemonicFromEntropy(entropy.Reveal());
  if (!m) return ReportError(m.error());
  if (o.json) {
    PrintJson({{"mnemonic", m->Reveal()}, {"entropy", HexEncode(entropy.Reveal())}});
  } else {
    std::cout << m->Reveal() << "\n";
  }
  return kExitOk;
}

void AddWalletMnemonic(CLI::App* parent, int& rc) {
  auto* cmd = parent->add_subcommand("mnemonic",
                                     "Print a new BIP-39 mnemonic (or the one for given entropy)");
  auto o = std::make_shared<WalletMnemonicOptions>();
  cmd->add_option("--words", o->words, "12, 15, 18, 21 or 24")
      ->check(CLI::IsMember({12, 15, 18, 21, 24}));
  auto* file_opt =
      cmd->add_option("--entropy-file", o->entropy_file,
                      "File holding the entropy in hex (16-32 bytes) instead of fresh randomness");
  cmd->add_option(
         "--entropy", o->entropy,
         "Entropy in hex on the command line: for test vectors only (argv is visible to other "
         "processes and kept in shell history); use --entropy-file for a real secret")
      ->excludes(file_opt);
  cmd->add_flag("--json", o->json, "JSON output: {mnemonic, entropy}");
  cmd->callback([o, &rc] { rc = RunWalletMnemonic(*o); });
}

// `wallet seed`.
struct WalletSeedOptions {
  std::string mnemonic_file, passphrase_file;
  bool json = false;
};

int RunWalletSeed(const WalletSeedOptions& o) {
  auto seed = SeedFromFiles(o.mnemonic_file, o.passphrase_file);
  if (!seed) return ReportError(seed.error());
  if (o.json) {
    PrintJson({{"seed", HexEncode(seed->Reveal())}});
  } else {
    std::cout << HexEncode(seed->Reveal()) << "\n";
  }
  return kExitOk;
}

void AddWalletSeed(CLI::App* parent, int& rc) {
  auto* cmd = parent->add_subcommand(
      "seed", "Print the BIP-39 seed of a mnemonic (validated, NFKD-normalized)");
  auto o = std::make_shared<WalletSeedOptions>();
  cmd->add_option("--mnemonic-file", o->mnemonic_file, "File holding the mnemonic")->required();
  cmd->add_option("--passphrase-file", o->passphrase_file, "File holding the BIP-39 passphrase");
  cmd->add_flag("--json", o->json, "JSON output: {seed}");
  cmd->callback([o, &rc] { rc = RunWalletSeed(*o); });
}

// `wallet split`.
struct WalletSplitOptions {
  std::string store, mnemonic_file, passphrase_file, share_passphrase_file, out_dir;
  std::vector<std::string> groups;
  unsigned group_threshold = 1;
  bool json = false;
};

int RunWalletSplit(const WalletSplitOptions& o) {
  // Every argument is checked before the store is unlocked.
  if (o.store.empty() == o.mnemonic_file.empty()) {
    return ReportError(Status::InvalidArgument("give exactly one of --store and --mnemonic-file"));
  }
  if (!o.mnemonic_file.empty() && !o.passphrase_file.empty()) {
    return ReportError(Status::InvalidArgument(
        "--passphrase-file is the key store passphrase and needs --store; the shares hold the "
        "entropy, not a BIP-39 passphrase (protect them with --share-passphrase-file)"));
  }
  auto groups = ParseGroups(o.groups);
  if (!groups) return ReportError(groups.error());
  if (o.group_threshold < 1 || o.group_threshold > groups->size()) {
    return ReportError(Status::InvalidArgument(
        "--group-threshold " + std::to_string(o.group_threshold) + " must be between 1 and the " +
        std::to_string(groups->size()) + " group(s) given"));
  }
  const auto group_threshold = static_cast<uint8_t>(o.group_threshold);  // 1..16, checked above
  SecretString share_pass;
  if (!o.share_passphrase_file.empty()) {
    auto p = ReadSecretFile(o.share_passphrase_file);
    if (!p) return ReportError(p.error());
    share_pass = std::move(*p);
  }
  SecretBytes entropy;
  if (!o.mnemonic_file.empty()) {
    auto m = ReadMnemonicFile(o.mnemonic_file);
    if (!m) return ReportError(m.error());
    auto e = wallet::bip39::MnemonicToEntropy(m->Reveal());
    if (!e) return ReportError(e.error());
    entropy = std::move(*e);
  } else {
    ErrorSource source = ErrorSource::kCommand;
    auto s = UnlockStore(o.store, o.passphrase_file, &source);
    if (!s) return ReportError(s.error(), source);
    entropy = std::move(s->entropy);
  }
  SystemRng rng;
  auto shares =
      wallet::slip39::Split(entropy.Reveal(), share_pass.Reveal(), group_threshold, *groups, rng);
  if (!shares) return ReportError(shares.error());
  if (!o.out_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(o.out_dir, ec);
    if (!ec && !std::filesystem::is_directory(o.out_dir, ec)) {
      ec = std::make_error_code(std::errc::not_a_directory);
    }
    if (ec) {
      return ReportError(
          Status::InvalidArgument("cannot create directory " + o.out_dir + ": " + ec.message()));
    }
  }
  json out = json::array();
  std::vector<std::string> written;
  for (size_t g = 0; g < shares->size(); ++g) {
    json group = json::array();
    for (size_t m = 0; m < (*shares)[g].size(); ++m) {
      const std::string& share = (*shares)[g][m].Reveal();
      if (!o.out_dir.empty()) {
        const std::string file =
            o.out_dir + "/share-" + std::to_string(g + 1) + "-" + std::to_string(m + 1) + ".txt";
        SecretString line(share + "\n");
        Status st = WriteFileAtomic(file, line.Reveal(), false, /*overwrite=*/false);
        if (!st.ok()) {
          RemoveFiles(written);
          return ReportError(st);
        }
        written.push_back(file);
        group.push_back(file);
      } else {
        group.push_back(share);
      }
    }
    out.push_back(group);
  }
  if (!o.store.empty()) {
    // The layout (never a share) stays with the wallet: her container shows her guardians' state.
    json layout = {{"group_threshold", o.group_threshold},
                   {"groups", json::array()},
                   {"created", DefaultEnv().clock->NowSeconds()}};
    for (const auto& g : *groups)
      layout["groups"].push_back({{"threshold", g.member_threshold}, {"count", g.member_count}});
    if (Status st = roles::RecordGuardianShares(o.store, layout); !st.ok()) {
      RemoveFiles(written);
      return ReportError(st);
    }
  }
  if (o.json) {
    PrintJson({{"group_threshold", o.group_threshold}, {"groups", out}});
  } else {
    for (size_t g = 0; g < out.size(); ++g) {
      std::cout << "Group " << g + 1 << " (" << o.groups[g] << "):\n";
      for (const auto& s : out[g]) std::cout << "  " << s.get<std::string>() << "\n";
    }
  }
  return kExitOk;
}

void AddWalletSplit(CLI::App* parent, int& rc) {
  auto* cmd = parent->add_subcommand(
      "split", "Split the wallet's entropy into SLIP-39 Shamir shares for guardians");
  auto o = std::make_shared<WalletSplitOptions>();
  auto* store_opt =
      cmd->add_option("--store", o->store,
                      "Key store to split (its passphrase via --passphrase-file / env / prompt)");
  cmd->add_option("--mnemonic-file", o->mnemonic_file, "Or: the BIP-39 mnemonic to split")
      ->excludes(store_opt);
  cmd->add_option(
      "--passphrase-file", o->passphrase_file,
      "Key store passphrase (with --store only: the shares hold the entropy, never a BIP-39 "
      "passphrase)");
  cmd->add_option("--groups", o->groups,
                  "Groups as MofN, e.g. --groups 2of3 --groups 3of5 (1 <= M <= N <= 16)")
      ->required();
  cmd->add_option("--group-threshold", o->group_threshold,
                  "How many groups must take part (1-16, default 1)")
      ->check(CLI::Range(1u, 16u));
  cmd->add_option("--share-passphrase-file", o->share_passphrase_file,
                  "SLIP-39 passphrase protecting the shares (ASCII)");
  cmd->add_option(
      "--out-dir", o->out_dir,
      "Write each share to <dir>/share-<group>-<member>.txt (mode 0600; existing files are never "
      "overwritten)");
  cmd->add_flag("--json", o->json,
                "JSON output: {group_threshold, groups: [[share or file...]...]}");
  cmd->callback([o, &rc] { rc = RunWalletSplit(*o); });
}

// `wallet combine`.
struct WalletCombineOptions {
  std::vector<std::string> share_files;
  std::string share_passphrase_file, store, passphrase_file, bip39_passphrase_file,
      kdf = "moderate", mnemonic_out;
  bool json = false;
};

int RunWalletCombine(const WalletCombineOptions& o) {
  std::optional<NewStore> n;
  if (!o.store.empty()) {
    auto prepared = PrepareStore(o.store, o.passphrase_file, o.kdf, o.bip39_passphrase_file);
    if (!prepared) return ReportError(prepared.error());
    n = std::move(*prepared);
  } else if (!o.mnemonic_out.empty()) {
    if (Status st = RequireAbsent(o.mnemonic_out); !st.ok()) return ReportError(st);
  }
  std::vector<std::string> shares;
  shares.reserve(o.share_files.size());
  struct WipeAll {
    std::vector<std::string>& v;
    ~WipeAll() {
      for (auto& s : v) SecretString::WipeString(s);
    }
  } wipe_shares{shares};
  for (const auto& f : o.share_files) {
    auto s = ReadSecretFile(f);
    if (!s) return ReportError(s.error());
    shares.push_back(std::move(s->RevealMutable()));
  }
  SecretString share_pass;
  if (!o.share_passphrase_file.empty()) {
    auto p = ReadSecretFile(o.share_passphrase_file);
    if (!p) return ReportError(p.error());
    share_pass = std::move(*p);
  }
  auto secret = wallet::slip39::Combine(shares, share_pass.Reveal());
  if (!secret) return ReportError(secret.error());
  auto mnemonic = wallet::bip39::MnemonicFromEntropy(secret->Reveal());
  if (!mnemonic) return ReportError(mnemonic.error());
  if (!o.store.empty()) {
    Status st = CreateStore(*n, *mnemonic);
    if (!st.ok()) return ReportError(st);
    std::cout << "Restored " << o.store << " from " << shares.size() << " shares\n";
    return kExitOk;
  }
  if (!o.mnemonic_out.empty()) {
    SecretString line(mnemonic->Reveal() + "\n");
    Status st = WriteFileAtomic(o.mnemonic_out, line.Reveal(), false, /*overwrite=*/false);
    if (!st.ok()) return ReportError(st);
    std::cout << "Recovered mnemonic written to " << o.mnemonic_out << "\n";
    return kExitOk;
  }
  if (o.json) {
    PrintJson({{"mnemonic", mnemonic->Reveal()}});
  } else {
    std::cout << mnemonic->Reveal() << "\n";
  }
  return kExitOk;
}

void AddWalletCombine(CLI::App* parent, int& rc) {
  auto* cmd = parent->add_subcommand(
      "combine", "Combine SLIP-39 shares back into the wallet's mnemonic (or a new store)");
  auto o = std::make_shared<WalletCombineOptions>();
  cmd->add_option("--share-file", o->share_files, "A file holding one share (repeat)")->required();
  cmd->add_option("--share-passphrase-file", o->share_passphrase_file,
                  "SLIP-39 passphrase of the shares");
  auto* store_opt =
      cmd->add_option("--store", o->store, "Restore straight into this new key store");
  cmd->add_option("--passphrase-file", o->passphrase_file,
                  "Passphrase of the new key store (with --store)")
      ->needs(store_opt);
  cmd->add_option(
         "--bip39-passphrase-file", o->bip39_passphrase_file,
         "The wallet's BIP-39 passphrase, if it had one (with --store; it is not in the shares)")
      ->needs(store_opt);
  cmd->add_option("--kdf", o->kdf,
                  "Argon2id cost of the new store: moderate, interactive, test (test suites only)")
      ->needs(store_opt);
  cmd->add_option("--mnemonic-out", o->mnemonic_out,
                  "Write the recovered mnemonic to this new file (mode 0600; never overwritten)")
      ->excludes(store_opt);
  cmd->add_flag("--json", o->json, "JSON output: {mnemonic} (without --store)");
  cmd->callback([o, &rc] { rc = RunWalletCombine(*o); });
}

// `wallet passwd`.
struct WalletPasswdOptions {
  std::string store, passphrase_file, new_passphrase_file, kdf = "moderate";
};

int RunWalletPasswd(const WalletPasswdOptions& o) {
  auto params = ParseKdf(o.kdf);
  if (!params) return ReportError(params.error());
  auto ks = wallet::KeyStore::Open(o.store, DefaultEnv());
  if (!ks) return ReportError(ks.error(), ErrorSource::kOpeningStore);
  auto old_pass = GetPassphrase(o.passphrase_file, kStoreEnv, "Current passphrase", false);
  if (!old_pass) return ReportError(old_pass.error());
  auto new_pass =
      GetPassphrase(o.new_passphrase_file, "MEDALLION_NEW_PASSPHRASE", "New passphrase", true);
  if (!new_pass) return ReportError(new_pass.error());
  Status st = (*ks)->ChangePassphrase(old_pass->Reveal(), new_pass->Reveal(), *params);
  if (!st.ok()) return ReportError(st);
  std::cout << "Passphrase changed\n";
  return kExitOk;
}

void AddWalletPasswd(CLI::App* parent, int& rc) {
  auto* cmd = parent->add_subcommand(
      "passwd", "Change the key store passphrase (re-seals with fresh salt and nonce)");
  auto o = std::make_shared<WalletPasswdOptions>();
  cmd->add_option("--store", o->store, "Key store file")->required();
  cmd->add_option("--passphrase-file", o->passphrase_file,
                  "Current passphrase (else $MEDALLION_PASSPHRASE or a prompt)");
  cmd->add_option("--new-passphrase-file", o->new_passphrase_file,
                  "New passphrase (else $MEDALLION_NEW_PASSPHRASE or a prompt)");
  cmd->add_option("--kdf", o->kdf,
                  "Argon2id cost: moderate (default), interactive, test (test suites only)");
  cmd->callback([o, &rc] { rc = RunWalletPasswd(*o); });
}

}  // namespace

void AddWalletCommands(CLI::App& app, int& rc) {
  CLI::App* w = app.add_subcommand(
      "wallet", "Keys: BIP-39 mnemonics, HD derivation, signatures, recovery shares");
  w->require_subcommand(1);

  AddWalletInit(w, rc);
  AddWalletRestore(w, rc);
  AddWalletShow(w, rc);
  AddWalletDerive(w, rc);
  AddWalletSign(w, rc);
  AddWalletVerify(w, rc);
  AddWalletMnemonic(w, rc);
  AddWalletSeed(w, rc);
  AddWalletSplit(w, rc);
  AddWalletCombine(w, rc);
  AddWalletPasswd(w, rc);
}

}  // namespace medallion::cli
