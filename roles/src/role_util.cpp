// Helpers shared by the roles' implementations.
#include "role_util.h"

#include <filesystem>

#include "medallion/core/bytes.h"
#include "medallion/core/encoding.h"
#include "medallion/core/hash.h"
#include "medallion/roles/files.h"
#include "medallion/wallet/hd_key.h"

namespace medallion::roles {

namespace fs = std::filesystem;
using wallet::KeyPurpose;

Result<RoleKeys> UnlockRole(const std::string& store, const std::string& passphrase_file,
                            const std::string& label) {
  MDL_ASSIGN_OR_RETURN(wallet::WalletSecret secret, OpenAndUnlock(store, passphrase_file));
  RoleKeys k;
  MDL_ASSIGN_OR_RETURN(
      wallet::SigningKey auth,
      wallet::DeriveSigningKey(secret.seed.Reveal(), wallet::SignatureAlg::kEdDSA,
                               wallet::PurposeKeyPath(0, KeyPurpose::kAuthentication, 0)));
  MDL_ASSIGN_OR_RETURN(
      wallet::SigningKey assertion,
      wallet::DeriveSigningKey(secret.seed.Reveal(), wallet::SignatureAlg::kEdDSA,
                               wallet::PurposeKeyPath(0, KeyPurpose::kAssertion, 0)));
  k.auth = std::make_shared<wallet::SigningKey>(std::move(auth));
  k.assertion = std::make_shared<wallet::SigningKey>(std::move(assertion));
  k.derived = SecretBytes::CopyFrom(HmacSha256(secret.seed.Reveal(), AsBytes(label)));
  return k;
}

Status PrepareDir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::InvalidArgument("cannot create " + dir + ": " + ec.message());
  fs::permissions(dir, fs::perms::owner_all, ec);
  return Status::Ok();
}

Result<std::string> AdminToken(const std::string& path, Env env) {
  if (fs::exists(path)) {
    MDL_ASSIGN_OR_RETURN(SecretString t, ReadSecretFile(path));
    std::string token(t.Reveal());
    // A truncated or hand-made file ("" would let "Bearer " through) is refused, not used.
    if (token.size() < 32)
      return Status::InvalidArgument(path + " holds a token shorter than 32 characters: remove " +
                                     "it and a new one is made at the next start");
    return token;
  }
  const std::string token = Base64UrlEncode(env.rng->RandomBytes(32));
  MDL_RETURN_IF_ERROR(WriteFileAtomic(path, token + "\n", false, false));
  return token;
}

bool BearerIs(std::string_view authorization, std::string_view token) {
  const std::string want = "Bearer " + std::string(token);
  return !token.empty() && authorization.size() == want.size() &&
         ConstantTimeEqual(AsBytes(authorization), AsBytes(want));
}

}  // namespace medallion::roles
