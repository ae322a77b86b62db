// `medallion demo`: the main job. Until the role servers land (issue 8) it walks through what
// exists: wallets for a patient and a physician, their keys and DIDs, a signed and verified
// prescription digest, SLIP-39 recovery through guardians, and a passphrase change. Every
// step is checked; any failed check makes the command exit 1. Each run writes into a fresh
// folder of its own, so nothing from an earlier run (or anything else in --out) is ever
// deleted or overwritten.
#include "cli_demo.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>

#include "cli_util.h"
#include "medallion/core/encoding.h"
#include "medallion/core/hash.h"
#include "medallion/core/jcs.h"
#include "medallion/did/did_key.h"
#include "medallion/wallet/bip39.h"
#include "medallion/wallet/hd_key.h"
#include "medallion/wallet/keys.h"
#include "medallion/wallet/keystore.h"
#include "medallion/wallet/slip39.h"

namespace medallion::cli {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

class Narrator {
 public:
  Narrator(std::string out_dir, bool quiet) : out_(std::move(out_dir)), quiet_(quiet) {}
  void Step(const std::string& title) { Say("\n== " + title); }
  void Say(const std::string& line) {
    transcript_ += line + "\n";
    if (!quiet_) std::cout << line << "\n";
  }
  bool Check(bool ok, const std::string& what) {
    Say(std::string(ok ? "  [ok]   " : "  [FAIL] ") + what);
    if (!ok) ++failures_;
    return ok;
  }
  bool Ok(const Status& st, const std::string& what) {
    return Check(st.ok(), what + (st.ok() ? "" : " (" + st.ToString() + ")"));
  }
  void Artifact(const std::string& name, const std::string& content, bool secret = false) {
    // Overwrite: demo-passphrase.txt is rewritten after the passphrase change (the run folder
    // is fresh, so nothing else can be in the way).
    Status st = WriteFileAtomic(out_ + "/" + name, content, !secret, /*overwrite=*/true);
    Ok(st, "wrote " + out_ + "/" + name);
  }
  int failures() const { return failures_; }
  const std::string& transcript() const { return transcript_; }

 private:
  std::string out_;
  bool quiet_;
  std::string transcript_;
  int failures_ = 0;
};

struct Person {
  std::string name;
  std::string store_path;
  SecretString mnemonic;
  json identity;
};

Result<json> Identity(ByteView seed) {
  json id;
  for (auto p : {wallet::KeyPurpose::kAuthentication, wallet::KeyPurpose::kAssertion,
                 wallet::KeyPurpose::kKeyAgreement, wallet::KeyPurpose::kEs256k}) {
    const std::string path = wallet::PurposeKeyPath(0, p, 0);
    MDL_ASSIGN_OR_RETURN(auto k, wallet::DeriveFromSeed(wallet::CurveForPurpose(p), seed, path));
    const did::KeyType type = k.curve() == wallet::Curve::kEd25519     ? did::KeyType::kEd25519
                              : k.curve() == wallet::Curve::kSecp256k1 ? did::KeyType::kSecp256k1
                                                                       : did::KeyType::kX25519;
    MDL_ASSIGN_OR_RETURN(std::string mk, did::MultikeyFromPublicKey(type, k.public_key()));
    id["keys"][std::string(wallet::KeyPurposeName(p))] = {{"path", path}, {"publicKeyMultibase", mk}};
    if (p == wallet::KeyPurpose::kAuthentication) id["did"] = "did:key:" + mk;
    if (p == wallet::KeyPurpose::kEs256k) id["did_es256k"] = "did:key:" + mk;
  }
  // Pairwise keys: one per relationship, unlinkable to the main DID.
  for (uint32_t rel = 0; rel < 2; ++rel) {
    const std::string path = wallet::PairwiseKeyPath(0, rel, wallet::KeyPurpose::kAuthentication);
    MDL_ASSIGN_OR_RETURN(auto k, wallet::DeriveFromSeed(wallet::Curve::kEd25519, seed, path));
    MDL_ASSIGN_OR_RETURN(std::string d, did::DidKeyFromPublicKey(did::KeyType::kEd25519, k.public_key()));
    id["pairwise"].push_back({{"relationship", rel}, {"path", path}, {"did", d}});
  }
  return id;
}

// Creates a new folder <out_dir>/run-YYYYMMDD-HHMMSS (UTC; "-2", "-3", ... if taken), mode
// 0700 since it receives secret files. Errors: invalid_argument if `out_dir` cannot be created.
Result<std::string> MakeRunFolder(const std::string& out_dir) {
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (!ec && !fs::is_directory(out_dir, ec)) ec = std::make_error_code(std::errc::not_a_directory);
  if (ec) return Status::InvalidArgument("cannot create directory " + out_dir + ": " + ec.message());
  const std::time_t now = static_cast<std::time_t>(DefaultEnv().clock->NowSeconds());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "run-%Y%m%d-%H%M%S", &utc);
  for (int n = 1; n <= 100; ++n) {
    const std::string dir = out_dir + "/" + stamp + (n == 1 ? "" : "-" + std::to_string(n));
    if (::mkdir(dir.c_str(), 0700) == 0) return dir;
    if (errno != EEXIST) return Status::InvalidArgument("cannot create directory " + dir + ": " + std::strerror(errno));
  }
  return Status::Unavailable("cannot find a free run folder name in " + out_dir);
}

int RunDemo(const std::string& out_root, bool quiet) {
  auto run_dir = MakeRunFolder(out_root);
  if (!run_dir) return ReportError(run_dir.error());
  const std::string& out_dir = *run_dir;
  Narrator n(out_dir, quiet);
  SystemRng rng;
  const std::string passphrase = HexEncode(rng.RandomBytes(16));
  n.Say("Medallion demo: wallets, keys and DIDs, signatures, guardian recovery.");
  n.Say("Artifacts go to " + out_dir + "/ (secret files are mode 0600).");

  n.Step("1. A patient and a physician each create a wallet");
  std::vector<Person> people;
  for (const char* name : {"patient", "physician"}) {
    Person p;
    p.name = name;
    p.store_path = out_dir + "/" + name + "-keystore.db";
    auto m = wallet::bip39::GenerateMnemonic(rng, 256);
    if (!n.Ok(m.status(), std::string(name) + ": 24-word BIP-39 mnemonic generated")) return kExitFalse;
    p.mnemonic = std::move(*m);
    wallet::WalletSecret secret;
    auto entropy = wallet::bip39::MnemonicToEntropy(p.mnemonic.Reveal());
    if (!n.Ok(entropy.status(), std::string(name) + ": mnemonic decodes to its entropy")) return kExitFalse;
    secret.entropy = std::move(*entropy);
    auto seed = wallet::bip39::MnemonicToSeed(p.mnemonic.Reveal(), "");
    if (!n.Ok(seed.status(), std::string(name) + ": BIP-39 seed computed")) return kExitFalse;
    secret.seed = std::move(*seed);
    auto ks = wallet::KeyStore::Create(p.store_path, passphrase, secret, wallet::KdfParams::Interactive(),
                                       DefaultEnv());
    if (!n.Ok(ks.status(), std::string(name) + ": seed sealed in " + p.store_path +
                               " (XChaCha20-Poly1305 under Argon2id, mode 0600)")) {
      return kExitFalse;
    }
    auto id = Identity(secret.seed.Reveal());
    if (!n.Ok(id.status(), std::string(name) + ": purpose keys derived")) return kExitFalse;
    p.identity = *id;
    n.Artifact(std::string(name) + "-identity.json", DumpJson(p.identity, 2) + "\n");
    people.push_back(std::move(p));
  }
  n.Artifact("demo-passphrase.txt", passphrase + "\n", true);

  n.Step("2. Their keys and DIDs");
  for (const auto& p : people) {
    n.Say("  " + p.name + ": " + p.identity["did"].get<std::string>());
    for (auto& [purpose, k] : p.identity["keys"].items()) {
      n.Say("    " + purpose + std::string(16 - std::min<size_t>(15, purpose.size()), ' ') +
            k["path"].get<std::string>() + "  " + k["publicKeyMultibase"].get<std::string>());
    }
    for (const auto& pw : p.identity["pairwise"]) {
      n.Say("    pairwise #" + std::to_string(pw["relationship"].get<int>()) + "     " + pw["did"].get<std::string>());
    }
    auto parsed = did::ParseDidKey(p.identity["did"].get<std::string>());
    n.Check(parsed.has_value(), p.name + "'s did:key parses back to its Ed25519 key");
  }
  n.Check(people[0].identity["did"] != people[1].identity["did"], "the two people have different DIDs");
  n.Check(people[0].identity["pairwise"][0]["did"] != people[0].identity["pairwise"][1]["did"],
          "each relationship gets its own pairwise DID");

  n.Step("3. The physician signs a prescription digest; anyone verifies it");
  json rx = {{"type", "PrescriptionDigest"},
             {"patient", people[0].identity["did"]},
             {"prescriber", people[1].identity["did"]},
             {"medication", {{"system", "http://www.nlm.nih.gov/research/umls/rxnorm"}, {"code", "197361"}}},
             {"quantity", 30},
             {"refills", 1}};
  auto canonical = jcs::Canonicalize(rx);
  if (!n.Ok(canonical.status(), "prescription canonicalized with JCS (RFC 8785)")) return kExitFalse;
  n.Artifact("prescription-digest.json", *canonical);
  std::string tampered = *canonical;
  const size_t quantity_at = tampered.find("\"quantity\":30");
  if (!n.Check(quantity_at != std::string::npos, "the canonical form holds \"quantity\":30")) return kExitFalse;
  tampered.replace(quantity_at, 13, "\"quantity\":90");
  auto physician_store = wallet::KeyStore::Open(people[1].store_path, DefaultEnv());
  if (!n.Ok(physician_store.status(), "physician opens her key store")) return kExitFalse;
  auto unlocked = (*physician_store)->Unlock(passphrase);
  if (!n.Ok(unlocked.status(), "physician unlocks her key store")) return kExitFalse;
  json sigs = json::array();
  for (auto alg : {wallet::SignatureAlg::kEdDSA, wallet::SignatureAlg::kES256K}) {
    const auto purpose = alg == wallet::SignatureAlg::kEdDSA ? wallet::KeyPurpose::kAssertion : wallet::KeyPurpose::kEs256k;
    auto key = wallet::DeriveSigningKey(unlocked->seed.Reveal(), alg, wallet::PurposeKeyPath(0, purpose, 0));
    if (!n.Ok(key.status(), "derived the " + std::string(wallet::SignatureAlgName(alg)) + " key")) return kExitFalse;
    auto sig = wallet::Sign(*key, AsBytes(*canonical));
    if (!n.Ok(sig.status(), "signed with " + std::string(wallet::SignatureAlgName(alg)))) return kExitFalse;
    n.Check(wallet::Verify(alg, key->public_key, AsBytes(*canonical), *sig),
            std::string(wallet::SignatureAlgName(alg)) + " signature verifies");
    n.Check(!wallet::Verify(alg, key->public_key, AsBytes(tampered), *sig),
            "the same signature over a quantity changed to 90 is refused");
    sigs.push_back({{"alg", std::string(wallet::SignatureAlgName(alg))},
                    {"public_key", HexEncode(key->public_key)},
                    {"signature", HexEncode(*sig)}});
  }
  n.Artifact("prescription-signatures.json", DumpJson(sigs, 2) + "\n");

  n.Step("4. The patient names guardians: SLIP-39 shares, any 2 of 3 restore her wallet");
  auto patient_store = wallet::KeyStore::Open(people[0].store_path, DefaultEnv());
  if (!n.Ok(patient_store.status(), "patient opens her key store")) return kExitFalse;
  auto patient = (*patient_store)->Unlock(passphrase);
  if (!n.Ok(patient.status(), "patient unlocks her key store")) return kExitFalse;
  auto shares = wallet::slip39::Split(patient->entropy.Reveal(), "", 1, {{2, 3}}, rng);
  if (!n.Ok(shares.status(), "split into 3 shares (family, physician, a delegate service)")) return kExitFalse;
  if (!n.Check(shares->size() == 1 && (*shares)[0].size() == 3, "one group of three shares")) return kExitFalse;
  for (size_t i = 0; i < 3; ++i) {
    n.Artifact("guardian-share-" + std::to_string(i + 1) + ".txt", (*shares)[0][i].Reveal() + "\n", true);
  }
  auto one = wallet::slip39::Combine({(*shares)[0][0].Reveal()}, "");
  n.Check(!one.has_value(), "one share alone restores nothing" + (one ? "" : " (" + one.error().message() + ")"));
  auto two = wallet::slip39::Combine({(*shares)[0][2].Reveal(), (*shares)[0][0].Reveal()}, "");
  if (!n.Ok(two.status(), "shares 3 and 1 combine")) return kExitFalse;
  auto restored_mnemonic = wallet::bip39::MnemonicFromEntropy(two->Reveal());
  if (!n.Ok(restored_mnemonic.status(), "the combined entropy is a BIP-39 mnemonic again")) return kExitFalse;
  auto restored_seed = wallet::bip39::MnemonicToSeed(restored_mnemonic->Reveal(), "");
  if (!n.Ok(restored_seed.status(), "the restored mnemonic gives a seed")) return kExitFalse;
  auto restored_id = Identity(restored_seed->Reveal());
  n.Check(restored_id.has_value() && (*restored_id)["did"] == people[0].identity["did"],
          "the restored wallet has the same DID and keys: " + people[0].identity["did"].get<std::string>());

  n.Step("5. The patient changes her key store passphrase");
  auto& ks = *patient_store;
  const std::string new_pass = HexEncode(rng.RandomBytes(16));
  n.Ok(ks->ChangePassphrase("wrong passphrase", new_pass, wallet::KdfParams::Interactive()).ok()
           ? Status::Internal("a wrong passphrase was accepted")
           : Status::Ok(),
       "a wrong current passphrase is refused and changes nothing");
  n.Ok(ks->ChangePassphrase(passphrase, new_pass, wallet::KdfParams::Interactive()), "passphrase changed");
  n.Check(!ks->Unlock(passphrase).has_value(), "the old passphrase no longer opens the store");
  n.Check(ks->Unlock(new_pass).has_value(), "the new passphrase does");
  n.Artifact("demo-passphrase.txt", "patient: " + new_pass + "\nphysician: " + passphrase + "\n", true);

  n.Step(n.failures() == 0 ? "All checks passed" : std::to_string(n.failures()) + " check(s) FAILED");
  n.Artifact("transcript.txt", n.transcript());
  return n.failures() == 0 ? kExitOk : kExitFalse;
}

}  // namespace

void AddDemoCommand(CLI::App& app, int& rc) {
  auto* cmd = app.add_subcommand("demo", "Run the Medallion walk-through on embedded defaults (exit 1 if any check fails)");
  auto out = std::make_shared<std::string>("medallion-demo");
  auto quiet = std::make_shared<bool>(false);
  cmd->add_option("--out", *out,
                  "Folder for the artifacts (default ./medallion-demo). Each run writes to a new subfolder "
                  "DIR/run-YYYYMMDD-HHMMSS (UTC), so nothing already in DIR is deleted or overwritten");
  cmd->add_flag("--quiet", *quiet, "Print nothing but errors");
  cmd->callback([out, quiet, &rc] { rc = RunDemo(*out, *quiet); });
}

}  // namespace medallion::cli
