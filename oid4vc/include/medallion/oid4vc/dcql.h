// The Digital Credentials Query Language of OpenID for Verifiable Presentations 1.0 (final,
// 2025-07) §6, for the one Credential Format we present: IETF SD-JWT VC (`dc+sd-jwt`,
// Appendix B.3), with the Claims Path Pointers of §7.1 (JSON-based credentials).
//
//   - ParseDcqlQuery validates a query (§6.1 Credential Query, §6.2 Credential Set Query, §6.3
//     Claims Query) and refuses a malformed one with a message naming the member at fault;
//   - SelectClaims evaluates one Credential Query's claims against a credential's payload
//     (§6.4.1: the first satisfiable `claim_sets` option, else every claim; `values` filter);
//   - MatchDcql picks, from a wallet's SD-JWT VCs, the credentials and the minimal disclosures
//     that satisfy the query (§6.4.2), or says which query cannot be satisfied.
//
// Not supported (refused with invalid_request, so a query is never silently weakened):
// `trusted_authorities` (§6.1.1); formats other than dc+sd-jwt (vp_formats_not_supported).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "medallion/core/status.h"

namespace medallion::oid4vc {

// Appendix B.3.1: the Credential Format Identifier of an IETF SD-JWT VC.
inline constexpr std::string_view kSdJwtVcFormat = "dc+sd-jwt";

// OpenID4VP 1.0 §8.5 Error Response codes (the Status reason of every protocol error of dcql.h
// and verifier.h); the detail names the cause, with the claims module's reason code
// (claims::sd_jwt_reason) where a presentation failed its checks.
namespace vp_error {
inline constexpr std::string_view kInvalidRequest = "invalid_request";
inline constexpr std::string_view kInvalidClient = "invalid_client";
inline constexpr std::string_view kAccessDenied = "access_denied";
inline constexpr std::string_view kVpFormatsNotSupported = "vp_formats_not_supported";
inline constexpr std::string_view kInvalidRequestUriMethod = "invalid_request_uri_method";
}  // namespace vp_error

// Bounds on an untrusted query.
inline constexpr size_t kMaxDcqlBytes = 64 * 1024;
inline constexpr size_t kMaxDcqlEntries = 64;  // credentials, claims, sets, options, path length

// §6.3 Claims Query.
struct ClaimsQuery {
  std::string id;       // REQUIRED when the Credential Query has claim_sets; else may be ""
  nlohmann::json path;  // §7: a non-empty array of strings, non-negative integers and nulls
  std::vector<nlohmann::json> values;  // strings, integers or booleans; empty = any value
};

// §6.1 Credential Query.
struct CredentialQuery {
  std::string id;      // [A-Za-z0-9_-]+, unique in the query
  std::string format;  // dc+sd-jwt
  bool multiple = false;
  std::vector<std::string> vct_values;  // Appendix B.3.5 meta.vct_values (REQUIRED, non-empty)
  std::vector<ClaimsQuery> claims;      // empty: no selectively disclosable claim is requested
  std::vector<std::vector<std::string>> claim_sets;  // options of claim ids, preferred first
  bool require_cryptographic_holder_binding = true;
};

// §6.2 Credential Set Query.
struct CredentialSetQuery {
  std::vector<std::vector<std::string>> options;  // each a list of Credential Query ids
  bool required = true;
};

struct DcqlQuery {
  std::vector<CredentialQuery> credentials;
  std::vector<CredentialSetQuery> credential_sets;  // empty: every Credential Query is required

  const CredentialQuery* Find(std::string_view id) const;
  // The Credential Query ids a response must answer (§6.4.2): each required set's first option
  // whose ids are all in `available` (any option if `available` is null), or every query when
  // there are no sets. Errors: failed_precondition naming the set no option of which can be met.
  Result<std::vector<std::string>> RequiredIds(const std::vector<std::string>* available) const;
};

// Parses and validates a DCQL query (JSON object or its text). Errors: invalid_argument with
// reason invalid_request (malformed: a missing or mistyped member, a bad id, a duplicate id, an
// empty array, a claim set naming an unknown claim, a credential set naming an unknown query,
// trusted_authorities) or vp_formats_not_supported (a format other than dc+sd-jwt).
Result<DcqlQuery> ParseDcqlQuery(const nlohmann::json& query);
Result<DcqlQuery> ParseDcqlQuery(std::string_view text);

// The query as JSON (what a request's dcql_query parameter carries).
nlohmann::json DcqlQueryToJson(const DcqlQuery& query);

// §7.3 processing of one Claims Path Pointer over a JSON payload: the RFC 6901 pointers of the
// selected elements (a string selects a member, an integer an array element, null every element
// of an array). Errors: not_found when nothing is selected (a type mismatch selects nothing).
Result<std::vector<std::string>> SelectPath(const nlohmann::json& payload,
                                            const nlohmann::json& path);

// §6.4.1: the pointers of the claims a Credential Query selects in `payload` (a credential's
// processed payload): every claim's path must select something whose value, when `values` is
// given, is one of them; with claim_sets, the first option that can be met. Also checks `vct`
// against vct_values. Errors: not_found (reason access_denied) naming the claim or vct at fault.
Result<std::vector<std::string>> SelectClaims(const CredentialQuery& query,
                                              const nlohmann::json& payload);

// One credential chosen for one Credential Query.
struct DcqlSelection {
  std::string query_id;
  size_t credential = 0;            // index into the wallet's credentials
  std::vector<std::string> reveal;  // pointers to disclose (PresentSdJwtOptions::reveal)
};

// §6.4.2 on the wallet: for each Credential Query the response must answer (RequiredIds over
// the queries some credential meets; optional credential sets are left out: minimal disclosure),
// the first credential (every credential with `multiple`) that meets it, and the selectively
// disclosable claims to reveal: those the selected claims are or contain, nothing more.
// `held` are issued SD-JWT VCs (not verified here). Errors: failed_precondition with reason
// access_denied naming the query (or credential set) that no held credential can satisfy.
Result<std::vector<DcqlSelection>> MatchDcql(const DcqlQuery& query,
                                             const std::vector<std::string>& held);

}  // namespace medallion::oid4vc
