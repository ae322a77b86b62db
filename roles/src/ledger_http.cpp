// HTTP handlers of the ledger node and the witness, and the cosignature collector.
// Handlers are thin: parse, call the ledger module, map the Result (house style).
#include "medallion/roles/ledger_http.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "medallion/core/encoding.h"
#include "medallion/core/jcs.h"
#include "medallion/ledger/entry.h"
#include "medallion/ledger/merkle.h"
#include "medallion/ledger/signed_note.h"
#include "medallion/ledger/tiles.h"
#include "medallion/http/http.h"

namespace medallion::roles {
namespace {

using nlohmann::json;

constexpr size_t kMaxBatchEntries = 1000;
constexpr uint64_t kMaxEntriesPerRead = 1000;
constexpr size_t kMaxLookupMatches = 100;

json HashesJson(const ledger::Proof& proof) {
  json out = json::array();
  for (const auto& h : proof) out.push_back(HexEncode(h));
  return out;
}

json AppendJson(const ledger::AppendResult& r) {
  return {{"index", r.index}, {"leaf_hash", HexEncode(r.leaf_hash)}};
}

// 503 {"error": "temporarily_unavailable"} with Retry-After: this node does not sequence now.
void SendStandby(httplib::Response& res) {
  res.set_header("Retry-After", "1");
  http::SendError(res, 503, "temporarily_unavailable",
                  "this ledger node is a standby: another node holds the sequencer lease; "
                  "retry (here after a takeover, or at the active node)");
}

// POST /ledger/v1/entries: one entry, or {"entries": [...]} (at most 1000). Every entry of a
// batch is schema-checked before any is queued, so a malformed batch changes nothing.
void HandleAppend(ledger::Log* log, CosignatureCollector* collector, const httplib::Request& req,
                  httplib::Response& res) {
  if (!http::IsJsonMediaType(req))
    return http::SendError(res, 415, "unsupported_media_type", "entries are application/json");
  std::vector<ledger::Entry> entries;
  bool batch = false;
  // The common request, one valid entry, is read by ParseEntry's one-pass reader without a JSON
  // tree (an entry has no "entries" member: its schema refuses unknown fields); it accepts
  // exactly what the path below accepts. Anything else, and every error, takes that path.
  if (req.body.size() <= ledger::kMaxEntryBytes) {
    if (auto e = ledger::ParseEntry(req.body)) entries.push_back(std::move(*e));
  }
  if (entries.empty()) {
    auto body = jcs::ParseStrict(req.body);
    if (!body) return http::SendError(res, body.error());
    if (!body->is_object())
      return http::SendError(res, Status::InvalidArgument("body must be a JSON object"));
    batch = body->contains("entries");
    // docs/ledger.md: an entry is at most 4096 bytes as received (whitespace counts); a single
    // entry's received text is the whole body. (Each entry of a batch is held to 4096 canonical
    // bytes, and the batch to the 1 MiB body limit.)
    if (!batch && req.body.size() > ledger::kMaxEntryBytes) {
      return http::SendError(res,
                             Status::InvalidArgument("entry: " + std::to_string(req.body.size()) +
                                                     " bytes received, limit " +
                                                     std::to_string(ledger::kMaxEntryBytes)));
    }
    if (batch) {
      const json& list = (*body)["entries"];
      if (body->size() != 1 || !list.is_array() || list.empty() || list.size() > kMaxBatchEntries) {
        return http::SendError(
            res, Status::InvalidArgument("a batch is {\"entries\": [1 to 1000 entries]}"));
      }
      for (size_t i = 0; i < list.size(); ++i) {
        auto e = ledger::EntryFromJson(list[i]);
        if (!e)
          return http::SendError(res, Status::InvalidArgument("entries[" + std::to_string(i) +
                                                              "]: " + e.error().message()));
        entries.push_back(std::move(*e));
      }
    } else {
      auto e = ledger::EntryFromJson(*body);
      if (!e) return http::SendError(res, e.error());
      entries.push_back(std::move(*e));
    }
  }
  // A standby serves reads only (docs/ledger.md §Sequencer lease): the client retries, here
  // once the lease is taken over or at the active node.
  if (!log->IsSequencer()) return SendStandby(res);
  std::vector<std::future<Result<ledger::AppendResult>>> futures;
  futures.reserve(entries.size());
  for (auto& e : entries) futures.push_back(log->Append(std::move(e)));
  json results = json::array();
  Status first_error;
  for (auto& f : futures) {
    Result<ledger::AppendResult> r = f.get();
    if (r) {
      results.push_back(AppendJson(*r));
    } else {
      if (first_error.ok()) first_error = r.error();
      results.push_back({{"error", std::string(StatusCodeName(r.error().code()))},
                         {"error_description", r.error().message()}});
    }
  }
  if (collector != nullptr) collector->Kick();
  if (!batch) {
    if (first_error.reason() == "standby") return SendStandby(res);
    if (!first_error.ok()) return http::SendError(res, first_error);
    return http::SendJson(res, results[0]);
  }
  http::SendJson(res, {{"results", results}});
}

void HandleLookup(ledger::Log* log, const httplib::Request& req, httplib::Response& res) {
  auto kind = ledger::KeyKindFromName(req.get_param_value("kind"));
  if (!kind) return http::SendError(res, kind.error());
  const std::string value = req.get_param_value("value");
  if (value.empty() || value.size() > 256)
    return http::SendError(res, Status::InvalidArgument("value must be 1 to 256 bytes"));
  uint64_t size = log->Size();
  if (req.has_param("size")) {
    auto s = http::QueryU64(req, "size");
    if (!s) return http::SendError(res, s.error());
    size = *s;
  }
  if (size > log->Size())
    return http::SendError(res, Status::InvalidArgument("size beyond the log"));
  int64_t after = -1;
  if (req.has_param("after")) {
    auto a = http::QueryU64(req, "after");
    if (!a) return http::SendError(res, a.error());
    after = static_cast<int64_t>(*a);
  }
  auto indices = log->FindByKey({*kind, value}, after, kMaxLookupMatches + 1);
  if (!indices) return http::SendError(res, indices.error());
  json matches = json::array();
  bool more = false;
  for (uint64_t index : *indices) {
    if (index >= size) break;
    if (matches.size() == kMaxLookupMatches) {
      more = true;
      break;
    }
    auto leaves = log->Entries(index, index + 1);
    if (!leaves) return http::SendError(res, leaves.error());
    auto proof = log->InclusionProof(index, size);
    if (!proof) return http::SendError(res, proof.error());
    const auto& leaf = (*leaves)[0];
    matches.push_back({{"index", index},
                       {"leaf_hash", HexEncode(leaf.leaf_hash)},
                       {"entry", leaf.entry},
                       {"inclusion_proof", HashesJson(*proof)}});
  }
  http::SendJson(res, {{"size", size}, {"matches", matches}, {"more", more}});
}

// c2sp.org/tlog-tiles §"Merkle Tree" and §"Log entries": GET <prefix>/tile/... for a hash tile
// or entry bundle of the committed tree. A path that names no tile, and a tile beyond the tree
// (or not yet at that width), are 404; neither is cached, since the tile may exist later.
void HandleTile(ledger::Log* log, const httplib::Request& req, httplib::Response& res) {
  auto fail = [&res](const Status& st) {
    res.set_header("Cache-Control", "no-store");
    http::SendError(res, st);
  };
  auto tile = ledger::ParseTilePath(req.matches[1].str());
  if (!tile) return fail(Status::NotFound(tile.error().message()));
  auto bytes = log->Tile(*tile);
  if (!bytes) return fail(bytes.error());
  // Immutable: a tile's content is fixed by its path, partial ones included (their width is
  // in the path).
  res.set_header("Cache-Control", "public, max-age=31536000, immutable");
  res.set_content(reinterpret_cast<const char*>(bytes->data()), bytes->size(),
                  "application/octet-stream");
}

}  // namespace

void RegisterLedgerRoutes(httplib::Server& server, ledger::Log* log, ledger::Witness* witness,
                          CosignatureCollector* collector) {
  if (log != nullptr) {
    server.Post("/ledger/v1/entries",
                [log, collector](const httplib::Request& req, httplib::Response& res) {
                  HandleAppend(log, collector, req, res);
                });
    server.Get("/ledger/v1/checkpoint",
               [log, collector](const httplib::Request&, httplib::Response& res) {
                 res.set_content(collector ? collector->CosignedNote() : log->CheckpointNote(),
                                 "text/plain; charset=utf-8");
               });
    server.Get("/ledger/v1/key", [log](const httplib::Request&, httplib::Response& res) {
      http::SendJson(res, {{"origin", log->origin()},
                           {"verifier_key", log->VerifierKey()},
                           {"public_key", HexEncode(log->Verifier().public_key())}});
    });
    server.Get("/ledger/v1/proof/inclusion",
               [log](const httplib::Request& req, httplib::Response& res) {
                 auto index = http::QueryU64(req, "index");
                 if (!index) return http::SendError(res, index.error());
                 auto size = http::QueryU64(req, "size");
                 if (!size) return http::SendError(res, size.error());
                 auto proof = log->InclusionProof(*index, *size);
                 if (!proof) return http::SendError(res, proof.error());
                 http::SendJson(res, {{"hashes", HashesJson(*proof)}});
               });
    server.Get("/ledger/v1/proof/consistency",
               [log](const httplib::Request& req, httplib::Response& res) {
                 auto first = http::QueryU64(req, "first");
                 if (!first) return http::SendError(res, first.error());
                 auto second = http::QueryU64(req, "second");
                 if (!second) return http::SendError(res, second.error());
                 auto proof = log->ConsistencyProof(*first, *second);
                 if (!proof) return http::SendError(res, proof.error());
                 http::SendJson(res, {{"hashes", HashesJson(*proof)}});
               });
    server.Get("/ledger/v1/entries", [log](const httplib::Request& req, httplib::Response& res) {
      auto start = http::QueryU64(req, "start");
      if (!start) return http::SendError(res, start.error());
      auto end = http::QueryU64(req, "end");
      if (!end) return http::SendError(res, end.error());
      if (*end < *start || *end - *start > kMaxEntriesPerRead) {
        return http::SendError(
            res, Status::InvalidArgument("need start <= end and at most 1000 entries"));
      }
      auto leaves = log->Entries(*start, *end);
      if (!leaves) return http::SendError(res, leaves.error());
      json out = json::array();
      for (const auto& l : *leaves) {
        out.push_back(
            {{"index", l.index}, {"leaf_hash", HexEncode(l.leaf_hash)}, {"entry", l.entry}});
      }
      http::SendJson(res, {{"entries", out}});
    });
    server.Get("/ledger/v1/lookup", [log](const httplib::Request& req, httplib::Response& res) {
      HandleLookup(log, req, res);
    });
    // c2sp.org/tlog-tiles with the prefix /tlog (docs/ledger.md §Tiles): the checkpoint (the
    // same note as /ledger/v1/checkpoint), hash tiles and entry bundles. The checkpoint is
    // mutable, so clients revalidate it (§Checkpoints: no caching beyond a few seconds).
    server.Get("/tlog/checkpoint",
               [log, collector](const httplib::Request&, httplib::Response& res) {
                 res.set_header("Cache-Control", "no-cache");
                 res.set_content(collector ? collector->CosignedNote() : log->CheckpointNote(),
                                 "text/plain; charset=utf-8");
               });
    server.Get(R"(/tlog/(tile/.+))", [log](const httplib::Request& req, httplib::Response& res) {
      HandleTile(log, req, res);
    });
  }
  if (witness != nullptr) {
    // c2sp.org/tlog-witness: POST /add-checkpoint. 200 with the cosignature line; 409 with
    // the witness's size as text/x.tlog.size; 400/403/404/422 with a JSON error.
    // A request is a checkpoint, its signatures and a consistency proof of at most 63 hashes:
    // a few KiB (docs/limits.md).
    http::LimitBody(server, "/add-checkpoint", 64 * 1024);
    server.Post("/add-checkpoint", [witness](const httplib::Request& req, httplib::Response& res) {
      uint64_t current = 0;
      auto line = witness->AddCheckpoint(req.body, &current);
      if (line) {
        res.set_content(*line, "text/plain; charset=utf-8");
        return;
      }
      res.status = ledger::AddCheckpointHttpStatus(line.error());
      if (res.status == 409) {
        res.set_content(std::to_string(current) + "\n", "text/x.tlog.size");
        return;
      }
      // The spec prescribes no body for the other refusals: ours is JSON like every other
      // Medallion error ({"error", "error_description"}).
      const char* error = res.status == 403   ? "forbidden"
                          : res.status == 404 ? "unknown_log"
                          : res.status == 422 ? "unprocessable"
                          : res.status == 400 ? "invalid_request"
                                              : "internal";
      http::SendError(res, res.status, error, line.error().message());
    });
  }
}

CosignatureCollector::CosignatureCollector(ledger::Log* log, std::vector<WitnessEndpoint> witnesses,
                                           int interval_ms)
    : log_(log),
      witnesses_(std::move(witnesses)),
      interval_ms_(interval_ms),
      witness_size_(witnesses_.size(), 0) {
  cosigned_note_ = log_->CheckpointNote();
  thread_ = std::thread([this] { Loop(); });
}

CosignatureCollector::~CosignatureCollector() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

std::string CosignatureCollector::CosignedNote() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cosigned_note_;
}

void CosignatureCollector::Kick() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    kicked_ = true;
  }
  cv_.notify_all();
}

void CosignatureCollector::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::milliseconds(interval_ms_),
                 [this] { return stop_ || kicked_; });
    if (stop_) break;
    kicked_ = false;
    const bool stale = cosigned_size_ != log_->Size() || cosigned_count_ < witnesses_.size();
    if (!stale) continue;
    lock.unlock();
    RunOnce();
    lock.lock();
  }
}

size_t CosignatureCollector::RunOnce() {
  std::lock_guard<std::mutex> round(round_mu_);
  const std::string note = log_->CheckpointNote();
  auto parsed = ledger::ParseNote(note);
  if (!parsed) return 0;
  auto cp = ledger::ParseCheckpoint(parsed->text);
  if (!cp) return 0;
  std::string lines;
  size_t gathered = 0;
  for (size_t w = 0; w < witnesses_.size(); ++w) {
    // Two tries: the second with the size the witness told us in a 409.
    for (int attempt = 0; attempt < 2; ++attempt) {
      ledger::AddCheckpointRequest request;
      request.old_size = witness_size_[w] <= cp->size ? witness_size_[w] : 0;
      if (request.old_size > 0 && request.old_size < cp->size) {
        auto proof = log_->ConsistencyProof(request.old_size, cp->size);
        if (!proof) break;
        request.proof = std::move(*proof);
      }
      request.note = note;
      httplib::Client client(witnesses_[w].url);
      client.set_connection_timeout(2, 0);
      client.set_read_timeout(5, 0);
      auto res =
          client.Post("/add-checkpoint", ledger::FormatAddCheckpointRequest(request), "text/plain");
      if (!res) break;
      if (res->status == 200) {
        // Keep only a line that really is this witness's cosignature of this checkpoint.
        auto check = ledger::ParseNote(parsed->text + "\n" + res->body);
        if (check && check->signatures.size() == 1 &&
            witnesses_[w].key.Verify(parsed->text, check->signatures[0].signature) &&
            check->signatures[0].key_id == witnesses_[w].key.key_id()) {
          lines += res->body;
          if (!lines.empty() && lines.back() != '\n') lines += '\n';
          witness_size_[w] = cp->size;
          ++gathered;
        }
        break;
      }
      if (res->status == 409) {
        uint64_t size = 0;
        try {
          size = std::stoull(res->body);
        } catch (...) {
          break;
        }
        witness_size_[w] = size;
        continue;
      }
      break;
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  // Keep serving an older cosigned checkpoint rather than a newer one nobody cosigned (the
  // witnesses may be down): clients that require cosignatures can still refresh.
  const bool newer = cp->size > cosigned_size_ && (gathered > 0 || cosigned_count_ == 0);
  if (newer || (cp->size == cosigned_size_ && gathered >= cosigned_count_)) {
    cosigned_note_ = note + lines;
    cosigned_size_ = cp->size;
    cosigned_count_ = gathered;
  }
  return gathered;
}

}  // namespace medallion::roles
