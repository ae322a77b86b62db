// LedgerClient: verify-everything HTTP client of the ledger node.
#include "medallion/roles/ledger_client.h"

#include <httplib.h>

#include <mutex>

#include <nlohmann/json.hpp>

#include "medallion/core/encoding.h"
#include "medallion/core/json.h"
#include "medallion/ledger/checkpoint.h"
#include "medallion/ledger/merkle.h"

namespace medallion::roles {
namespace {

using nlohmann::json;

constexpr int kMaxLookupPages = 100;  // 100 matches a page

StatusCode CodeFromName(std::string_view name) {
  for (int c = 1; c <= static_cast<int>(StatusCode::kUnavailable); ++c) {
    if (StatusCodeName(static_cast<StatusCode>(c)) == name) return static_cast<StatusCode>(c);
  }
  return StatusCode::kDataLoss;
}

Result<ledger::Hash> HashFromHex(const json& v) {
  if (!v.is_string()) return Status::DataLoss("ledger answer: hash is not a string");
  auto b = HexDecode(v.get<std::string>());
  if (!b || b->size() != 32) return Status::DataLoss("ledger answer: hash is not 32 bytes of hex");
  ledger::Hash h;
  std::copy(b->begin(), b->end(), h.begin());
  return h;
}

Result<ledger::AppendResult> AppendResultFromJson(const json& j) {
  if (j.contains("error")) {
    return Status(CodeFromName(j.value("error", "")), j.value("error_description", ""));
  }
  if (!j.contains("index") || !j["index"].is_number_unsigned())
    return Status::DataLoss("ledger answer: no index");
  ledger::AppendResult r;
  r.index = j["index"].get<uint64_t>();
  MDL_ASSIGN_OR_RETURN(r.leaf_hash, HashFromHex(j.value("leaf_hash", json())));
  return r;
}

httplib::Client MakeClient(const std::string& base_url) {
  httplib::Client c(base_url);
  c.set_connection_timeout(5, 0);
  c.set_read_timeout(30, 0);
  c.set_write_timeout(30, 0);
  return c;
}

// A ledger's answer is outside input: bounded nesting (no recursion on hostile depth), and a
// size cap above any answer a node gives (entry listings run to megabytes). Never throws; a
// malformed answer is a discarded value.
json ParseAnswer(std::string_view body) {
  auto j = ParseJson(body, JsonLimits{size_t{64} << 20, 64});
  return j ? std::move(*j) : json(json::value_t::discarded);
}

}  // namespace

Status StatusFromHttpError(int http_status, const std::string& body) {
  json j = ParseAnswer(body);
  if (j.is_object() && j.contains("error") && j["error"].is_string()) {
    std::string desc = j.value("error_description", "");
    return Status(CodeFromName(j["error"].get<std::string>()),
                  desc.empty() ? j["error"].get<std::string>() : desc);
  }
  return Status::DataLoss("HTTP " + std::to_string(http_status) + " without a JSON error body");
}

LedgerClient::LedgerClient(std::string base_url, ledger::LogVerifier verifier)
    : base_url_(std::move(base_url)), verifier_(std::move(verifier)) {}
LedgerClient::~LedgerClient() = default;
LedgerClient::LedgerClient(LedgerClient&&) noexcept = default;

Result<std::string> LedgerClient::Get(const std::string& path_and_query) {
  auto c = MakeClient(base_url_);
  auto res = c.Get(path_and_query);
  if (!res)
    return Status::Unavailable("ledger " + base_url_ +
                               " unreachable: " + httplib::to_string(res.error()));
  if (res->status != 200) return StatusFromHttpError(res->status, res->body);
  return res->body;
}

Result<json> LedgerClient::GetJson(const std::string& path_and_query) {
  MDL_ASSIGN_OR_RETURN(std::string body, Get(path_and_query));
  json j = ParseAnswer(body);
  if (j.is_discarded() || !j.is_object())
    return Status::DataLoss("ledger answer is not a JSON object");
  return j;
}

Result<ledger::Proof> LedgerClient::GetProof(const std::string& path_and_query) {
  MDL_ASSIGN_OR_RETURN(json j, GetJson(path_and_query));
  if (!j.contains("hashes") || !j["hashes"].is_array() || j["hashes"].size() > 128) {
    return Status::DataLoss("ledger answer: no proof hashes");
  }
  ledger::Proof proof;
  for (const auto& h : j["hashes"]) {
    MDL_ASSIGN_OR_RETURN(ledger::Hash hash, HashFromHex(h));
    proof.push_back(hash);
  }
  return proof;
}

Result<ledger::AppendResult> LedgerClient::Append(const json& entry) {
  auto c = MakeClient(base_url_);
  auto res = c.Post("/ledger/v1/entries", entry.dump(), "application/json");
  if (!res)
    return Status::Unavailable("ledger " + base_url_ +
                               " unreachable: " + httplib::to_string(res.error()));
  if (res->status != 200) return StatusFromHttpError(res->status, res->body);
  json j = ParseAnswer(res->body);
  if (!j.is_object()) return Status::DataLoss("ledger answer is not a JSON object");
  return AppendResultFromJson(j);
}

Result<std::vector<Result<ledger::AppendResult>>> LedgerClient::AppendBatch(
    const std::vector<json>& entries) {
  auto c = MakeClient(base_url_);
  auto res = c.Post("/ledger/v1/entries", json{{"entries", entries}}.dump(), "application/json");
  if (!res)
    return Status::Unavailable("ledger " + base_url_ +
                               " unreachable: " + httplib::to_string(res.error()));
  if (res->status != 200) return StatusFromHttpError(res->status, res->body);
  json j = ParseAnswer(res->body);
  if (!j.is_object() || !j.contains("results") || !j["results"].is_array() ||
      j["results"].size() != entries.size()) {
    return Status::DataLoss("ledger answer: results do not match the batch");
  }
  std::vector<Result<ledger::AppendResult>> out;
  for (const auto& r : j["results"]) out.push_back(AppendResultFromJson(r));
  return out;
}

Result<ledger::Checkpoint> LedgerClient::Refresh() {
  std::lock_guard<std::mutex> lock(*mu_);
  MDL_ASSIGN_OR_RETURN(std::string note, Get("/ledger/v1/checkpoint"));
  // Peek at the offered size to ask for the right consistency proof; the verifier checks all.
  auto parsed = ledger::ParseNote(note);
  if (!parsed) return Status::DataLoss("ledger checkpoint: " + parsed.error().message());
  auto offered = ledger::ParseCheckpoint(parsed->text);
  if (!offered) return Status::DataLoss("ledger checkpoint: " + offered.error().message());
  ledger::Proof proof;
  const auto& trusted = verifier_.trusted();
  if (trusted && trusted->size > 0 && offered->size > trusted->size) {
    MDL_ASSIGN_OR_RETURN(
        proof, GetProof("/ledger/v1/proof/consistency?first=" + std::to_string(trusted->size) +
                        "&second=" + std::to_string(offered->size)));
  }
  return verifier_.Update(note, proof);
}

Status LedgerClient::VerifyIncluded(uint64_t index, const ledger::Hash& leaf_hash) {
  std::lock_guard<std::mutex> lock(*mu_);
  const auto& trusted = verifier_.trusted();
  if (!trusted) return Status::FailedPrecondition("no trusted checkpoint yet (Refresh first)");
  if (index >= trusted->size)
    return Status::FailedPrecondition("entry " + std::to_string(index) +
                                      " is not yet in the trusted checkpoint");
  MDL_ASSIGN_OR_RETURN(ledger::Proof proof,
                       GetProof("/ledger/v1/proof/inclusion?index=" + std::to_string(index) +
                                "&size=" + std::to_string(trusted->size)));
  return verifier_.VerifyInclusion(index, leaf_hash, proof);
}

Status LedgerClient::VerifyConsistentWithTrusted(uint64_t size, const ledger::Hash& root) {
  std::lock_guard<std::mutex> lock(*mu_);
  const auto& trusted = verifier_.trusted();
  if (!trusted) return Status::FailedPrecondition("no trusted checkpoint yet (Refresh first)");
  if (size > trusted->size)
    return Status::WithReason(StatusCode::kFailedPrecondition, "beyond_trusted",
                              "size " + std::to_string(size) + " is beyond the trusted size " +
                                  std::to_string(trusted->size));
  if (size == 0) {
    if (root == ledger::EmptyRoot()) return Status::Ok();
    return Status::WithReason(StatusCode::kFailedPrecondition, "split_view",
                              "a root for the empty tree that is not SHA-256(\"\")");
  }
  ledger::Proof proof;
  if (size < trusted->size) {
    MDL_ASSIGN_OR_RETURN(
        proof, GetProof("/ledger/v1/proof/consistency?first=" + std::to_string(size) +
                        "&second=" + std::to_string(trusted->size)));
  }
  const ledger::ProofCheck check =
      ledger::VerifyConsistency(size, trusted->size, proof, root, trusted->root);
  if (!check.ok())
    return Status::WithReason(StatusCode::kFailedPrecondition, "split_view",
                              "the root at size " + std::to_string(size) +
                                  " is not a prefix of the trusted checkpoint of size " +
                                  std::to_string(trusted->size) + " (" +
                                  check.ToStatus().message() + ")");
  return Status::Ok();
}

Result<std::vector<ProvenEntry>> LedgerClient::Lookup(const ledger::EntryKey& key) {
  std::lock_guard<std::mutex> lock(*mu_);
  const auto& trusted = verifier_.trusted();
  if (!trusted) return Status::FailedPrecondition("no trusted checkpoint yet (Refresh first)");
  std::vector<ProvenEntry> out;
  int64_t after = -1;
  for (int page = 0; page < kMaxLookupPages; ++page) {
    httplib::Params params{{"kind", std::string(ledger::KeyKindName(key.kind))},
                           {"value", key.value},
                           {"size", std::to_string(trusted->size)}};
    if (after >= 0) params.emplace("after", std::to_string(after));
    MDL_ASSIGN_OR_RETURN(json j,
                         GetJson(httplib::append_query_params("/ledger/v1/lookup", params)));
    if (!j.contains("matches") || !j["matches"].is_array())
      return Status::DataLoss("ledger answer: no matches");
    for (const auto& m : j["matches"]) {
      ProvenEntry e;
      if (!m.contains("index") || !m["index"].is_number_unsigned() || !m.contains("entry") ||
          !m["entry"].is_string() || !m.contains("inclusion_proof") ||
          !m["inclusion_proof"].is_array()) {
        return Status::DataLoss("ledger answer: malformed match");
      }
      e.index = m["index"].get<uint64_t>();
      if (static_cast<int64_t>(e.index) <= after)
        return Status::DataLoss("ledger answer: matches out of order");
      e.entry = m["entry"].get<std::string>();
      e.leaf_hash = ledger::HashLeaf(AsBytes(e.entry));  // recomputed, never taken on trust
      for (const auto& h : m["inclusion_proof"]) {
        MDL_ASSIGN_OR_RETURN(ledger::Hash hash, HashFromHex(h));
        e.inclusion_proof.push_back(hash);
      }
      e.tree_size = trusted->size;
      MDL_RETURN_IF_ERROR(verifier_.VerifyInclusion(e.index, e.leaf_hash, e.inclusion_proof));
      // The entry must really carry the key it was found under.
      auto parsed = ledger::ParseEntry(e.entry);
      if (!parsed) return Status::DataLoss("ledger answer: stored entry fails its schema");
      if (std::find(parsed->keys.begin(), parsed->keys.end(), key) == parsed->keys.end()) {
        return Status::DataLoss("ledger answer: entry " + std::to_string(e.index) +
                                " does not carry the key");
      }
      after = static_cast<int64_t>(e.index);
      out.push_back(std::move(e));
    }
    if (!j.value("more", false)) return out;
    if (j["matches"].empty())
      return Status::DataLoss("ledger answer: more promised but no matches");
  }
  return Status::ResourceExhausted("more than " + std::to_string(kMaxLookupPages * 100) +
                                   " entries carry this key");
}

Result<std::vector<ProvenEntry>> LedgerClient::Entries(uint64_t start, uint64_t end) {
  std::lock_guard<std::mutex> lock(*mu_);
  const auto& trusted = verifier_.trusted();
  if (!trusted) return Status::FailedPrecondition("no trusted checkpoint yet (Refresh first)");
  if (end > trusted->size || start > end)
    return Status::InvalidArgument("range beyond the trusted checkpoint");
  MDL_ASSIGN_OR_RETURN(json j, GetJson("/ledger/v1/entries?start=" + std::to_string(start) +
                                       "&end=" + std::to_string(end)));
  if (!j.contains("entries") || !j["entries"].is_array() || j["entries"].size() != end - start) {
    return Status::DataLoss("ledger answer: wrong number of entries");
  }
  std::vector<ProvenEntry> out;
  for (uint64_t i = start; i < end; ++i) {
    const json& m = j["entries"][i - start];
    if (!m.contains("entry") || !m["entry"].is_string())
      return Status::DataLoss("ledger answer: malformed entry");
    ProvenEntry e;
    e.index = i;
    e.entry = m["entry"].get<std::string>();
    e.leaf_hash = ledger::HashLeaf(AsBytes(e.entry));
    e.tree_size = trusted->size;
    MDL_ASSIGN_OR_RETURN(e.inclusion_proof,
                         GetProof("/ledger/v1/proof/inclusion?index=" + std::to_string(i) +
                                  "&size=" + std::to_string(trusted->size)));
    MDL_RETURN_IF_ERROR(verifier_.VerifyInclusion(i, e.leaf_hash, e.inclusion_proof));
    out.push_back(std::move(e));
  }
  return out;
}

namespace {

class RemoteLedgerPort final : public claims::LedgerPort {
 public:
  explicit RemoteLedgerPort(std::shared_ptr<LedgerClient> client) : client_(std::move(client)) {}
  Result<std::vector<Record>> Find(const ledger::EntryKey& key) override {
    std::lock_guard<std::mutex> lock(mu_);
    MDL_RETURN_IF_ERROR(client_->Refresh().status());
    MDL_ASSIGN_OR_RETURN(std::vector<ProvenEntry> entries, client_->Lookup(key));
    std::vector<Record> out;
    for (auto& e : entries) out.push_back({e.index, std::move(e.entry)});
    return out;
  }
  Result<ledger::AppendResult> Append(const json& entry) override {
    std::lock_guard<std::mutex> lock(mu_);
    return client_->Append(entry);
  }
  std::string TrustedCheckpoint() override {
    std::lock_guard<std::mutex> lock(mu_);
    return client_->verifier().trusted_note();
  }

 private:
  std::mutex mu_;
  std::shared_ptr<LedgerClient> client_;
};

}  // namespace

std::unique_ptr<claims::LedgerPort> MakeLedgerPort(std::shared_ptr<LedgerClient> client) {
  return std::make_unique<RemoteLedgerPort>(std::move(client));
}

}  // namespace medallion::roles
