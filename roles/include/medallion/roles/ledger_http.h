// The ledger node over HTTP: the /ledger/v1 API (docs/ledger.md), the C2SP tlog-witness
// add-checkpoint endpoint, and the log side of witnessing (collecting cosignatures).
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "medallion/ledger/checkpoint.h"
#include "medallion/ledger/log.h"
#include "medallion/ledger/witness.h"

namespace httplib {
class Server;
}

namespace medallion::roles {

// A witness this log asks for cosignatures: its base URL ("http://127.0.0.1:8081") and key.
struct WitnessEndpoint {
  std::string url;
  ledger::CosignatureV1Verifier key;
};

// The log side of c2sp.org/tlog-witness: after the log grows, sends each witness an
// add-checkpoint request (old size + RFC 9162 consistency proof + the signed checkpoint),
// learns a witness's size from a 409 and retries, and keeps the newest checkpoint note
// together with every cosignature gathered for it. Runs one background thread.
class CosignatureCollector {
 public:
  // `log` is not owned and must outlive the collector.
  CosignatureCollector(ledger::Log* log, std::vector<WitnessEndpoint> witnesses,
                       int interval_ms = 200);
  ~CosignatureCollector();
  CosignatureCollector(const CosignatureCollector&) = delete;
  CosignatureCollector& operator=(const CosignatureCollector&) = delete;

  // The newest checkpoint note with the cosignatures gathered for it (the log's plain note if
  // no witness has answered yet). Thread-safe.
  std::string CosignedNote() const;
  // Wakes the collector (after an append). Thread-safe.
  void Kick();
  // Runs one round now, in the caller's thread (tests). Returns the number of cosignatures
  // gathered for the newest checkpoint.
  size_t RunOnce();

 private:
  void Loop();
  ledger::Log* log_;
  std::vector<WitnessEndpoint> witnesses_;
  int interval_ms_;
  std::vector<uint64_t> witness_size_;  // what each witness last cosigned, as far as we know

  mutable std::mutex mu_;
  std::mutex round_mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool kicked_ = false;
  std::string cosigned_note_;
  uint64_t cosigned_size_ = 0;
  size_t cosigned_count_ = 0;
  std::thread thread_;
};

// Registers the ledger routes on `server`. `log` may be null (a witness-only node), as may
// `witness` (no add-checkpoint endpoint) and `collector` (no witnesses). None is owned.
void RegisterLedgerRoutes(httplib::Server& server, ledger::Log* log, ledger::Witness* witness,
                          CosignatureCollector* collector);

}  // namespace medallion::roles
