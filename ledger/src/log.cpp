// Log: sequencer, checkpoints, proofs and storage verification.
#include "medallion/ledger/log.h"

#include "medallion/core/metrics.h"

#include <algorithm>
#include <set>

namespace medallion::ledger {
namespace {

constexpr uint64_t kMaxEntriesPerRead = 1000;
constexpr uint64_t kVerifyChunk = 4096;  // a multiple of the tile width

template <typename T>
std::future<T> Ready(T value) {
  std::promise<T> p;
  p.set_value(std::move(value));
  return p.get_future();
}

constexpr std::string_view kActiveGauge = "medallion_ledger_sequencer_active";
constexpr std::string_view kActiveHelp =
    "1 while this process holds the sequencer lease and sequences, 0 while it is a standby";

// The right border of the tree of `size` leaves, from O(log n) stored nodes. A node that is
// not there is data_loss; a store that cannot be read answers its own error.
Result<CompactRange> LoadBorder(LeafStore& store, uint64_t size) {
  std::vector<Hash> border;
  for (auto [level, index] : CompactRange::BorderNodes(size)) {
    Hash h;
    Status st = store.GetNode(level, index, &h);
    if (st.code() == StatusCode::kUnavailable) return st;
    if (!st.ok()) return Status::DataLoss("ledger: border node missing: " + st.message());
    border.push_back(h);
  }
  return CompactRange(size, std::move(border));
}

}  // namespace

Log::Log(std::unique_ptr<LeafStore> store, Ed25519NoteSigner signer, LogOptions options)
    : store_(std::move(store)), signer_(std::move(signer)), options_(options) {}

// The log reads no clock and draws no randomness (checkpoints carry no time); the Env stays in
// the signature so that callers need not change when it does.
Result<std::unique_ptr<Log>> Log::Open(std::unique_ptr<LeafStore> store, Ed25519NoteSigner signer,
                                       Env /*env*/, LogOptions options) {
  MDL_CHECK(store != nullptr);
  MDL_CHECK(options.max_batch > 0 && options.max_queue > 0);
  std::unique_ptr<Log> log(new Log(std::move(store), std::move(signer), options));
  if (options.open_damaged_for_verify) {
    // `ledger verify`: the stored tree as it is, even when its latest checkpoint disagrees, and
    // no sequencer (it needs no lease, and runs next to a live node).
    MDL_ASSIGN_OR_RETURN(uint64_t size, log->store_->Size());
    std::vector<Hash> border;
    for (auto [level, index] : CompactRange::BorderNodes(size)) {
      Hash h;
      Status st = log->store_->GetNode(level, index, &h);
      if (!st.ok()) return Status::DataLoss("ledger: border node missing: " + st.message());
      border.push_back(h);
    }
    log->range_ = CompactRange(size, std::move(border));
    MDL_ASSIGN_OR_RETURN(auto latest, log->store_->LatestCheckpoint());
    if (!latest && size != 0) return Status::DataLoss("ledger: leaves stored but no checkpoint");
    std::string note = latest ? latest->note : "";
    auto cp = OpenCheckpoint(note, log->signer_.Verifier(), log->origin(), nullptr);
    log->committed_size_ = size;
    log->checkpoint_note_ = note;
    if (cp) log->checkpoint_ = cp->checkpoint;
    log->closing_ = true;  // no sequencer: Append answers at once
    return log;
  }
  MDL_ASSIGN_OR_RETURN(bool lease, log->store_->TryAcquireSequencerLease());
  if (lease) {
    MDL_RETURN_IF_ERROR(log->LoadAsSequencer());
    log->active_ = true;
  } else {
    MDL_RETURN_IF_ERROR(log->LoadAsStandby());
  }
  metrics::Registry::Default().Set(kActiveGauge, kActiveHelp, {}, lease ? 1 : 0);
  log->completer_ = std::thread([raw = log.get()] { raw->Complete(); });
  log->sequencer_ = std::thread([raw = log.get()] { raw->Run(); });
  return log;
}

void Log::Complete() {
  std::unique_lock<std::mutex> lock(done_mu_);
  while (true) {
    done_cv_.wait(lock, [&] { return done_stop_ || !done_queue_.empty(); });
    if (done_queue_.empty()) return;  // stopping, and nothing left to acknowledge
    std::vector<Done> batch = std::move(done_queue_.front());
    done_queue_.pop_front();
    lock.unlock();
    for (auto& [promise, result] : batch) promise.set_value(result);
    lock.lock();
  }
}

Status Log::LoadAsSequencer() {
  MDL_ASSIGN_OR_RETURN(uint64_t size, store_->Size());
  MDL_ASSIGN_OR_RETURN(CompactRange range, LoadBorder(*store_, size));
  const Hash root = range.Root();
  MDL_ASSIGN_OR_RETURN(auto latest, store_->LatestCheckpoint());
  if (!latest) {
    if (size != 0) return Status::DataLoss("ledger: leaves stored but no checkpoint");
    MDL_ASSIGN_OR_RETURN(std::string note, SignCheckpoint(0, root));
    latest = StoredCheckpoint{0, note};
    MDL_RETURN_IF_ERROR(store_->PutCheckpoint(*latest));
  }
  auto cp = OpenCheckpoint(latest->note, signer_.Verifier(), origin(), nullptr);
  if (!cp)
    return Status::DataLoss("ledger: latest checkpoint does not verify: " + cp.error().message());
  if (cp->checkpoint.size != size || cp->checkpoint.root != root) {
    return Status::DataLoss("ledger: latest checkpoint (size " +
                            std::to_string(cp->checkpoint.size) +
                            ") does not match the stored tree (size " + std::to_string(size) + ")");
  }
  range_ = std::move(range);
  Publish(size, latest->note, cp->checkpoint);
  return Status::Ok();
}

Status Log::LoadAsStandby() {
  MDL_ASSIGN_OR_RETURN(auto latest, store_->LatestCheckpoint());
  if (!latest) {
    // The sequencer has not stored the empty tree's checkpoint yet. Ed25519 signatures are
    // deterministic (RFC 8032 §5.1.6): this is the very note it will store.
    MDL_ASSIGN_OR_RETURN(std::string note, SignCheckpoint(0, EmptyRoot()));
    range_ = CompactRange();
    Publish(0, std::move(note), Checkpoint{origin(), 0, EmptyRoot(), {}});
    return Status::Ok();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (latest->note == checkpoint_note_) return Status::Ok();
  }
  auto cp = OpenCheckpoint(latest->note, signer_.Verifier(), origin(), nullptr);
  if (!cp)
    return Status::DataLoss("ledger: latest checkpoint does not verify: " + cp.error().message());
  // Border nodes of a committed size are never rewritten, so reading them after the checkpoint
  // is consistent however far the sequencer has gone meanwhile.
  MDL_ASSIGN_OR_RETURN(CompactRange range, LoadBorder(*store_, cp->checkpoint.size));
  if (range.Root() != cp->checkpoint.root) {
    return Status::DataLoss("ledger: latest checkpoint (size " +
                            std::to_string(cp->checkpoint.size) +
                            ") does not match the stored tree");
  }
  range_ = std::move(range);
  Publish(cp->checkpoint.size, latest->note, cp->checkpoint);
  return Status::Ok();
}

void Log::Publish(uint64_t size, std::string note, const Checkpoint& checkpoint) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    committed_size_ = size;
    checkpoint_note_ = std::move(note);
    checkpoint_ = checkpoint;
  }
  metrics::Registry::Default().Set("medallion_ledger_size", "Entries in the log (its tree size)",
                                   {}, static_cast<double>(size));
}

void Log::BecomeStandby(const Status& why) {
  std::deque<Pending> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    active_ = false;
    dropped.swap(queue_);
  }
  const Status st = Status::WithReason(StatusCode::kUnavailable, "standby",
                                       "ledger: the sequencer lease was lost (" + why.message() +
                                           "); retry");
  for (Pending& p : dropped) p.done.set_value(st);
  auto& metrics = metrics::Registry::Default();
  metrics.Set(kActiveGauge, kActiveHelp, {}, 0);
  metrics.Add("medallion_ledger_sequencer_transitions_total",
              "Times this process took or lost the sequencer lease", {{"to", "standby"}});
}

bool Log::IsSequencer() const {
  std::lock_guard<std::mutex> lock(mu_);
  return active_;
}

Log::~Log() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closing_ = true;
  }
  cv_.notify_all();
  if (sequencer_.joinable()) sequencer_.join();
  {
    std::lock_guard<std::mutex> lock(done_mu_);
    done_stop_ = true;
  }
  done_cv_.notify_all();
  if (completer_.joinable()) completer_.join();
}

std::future<Result<AppendResult>> Log::Append(std::string_view json_entry) {
  auto entry = ParseEntry(json_entry);
  if (!entry) return Ready(Result<AppendResult>(entry.error()));
  return Append(std::move(entry).value());
}

std::future<Result<AppendResult>> Log::Append(Entry entry) {
  if (options_.validators != nullptr) {
    Status st = options_.validators->Validate(entry);
    if (!st.ok()) return Ready(Result<AppendResult>(st));
  }
  // Hashed here rather than on the sequencer, which every append waits for.
  const Hash leaf_hash = HashLeaf(AsBytes(entry.canonical));
  std::future<Result<AppendResult>> f;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closing_) return Ready(Result<AppendResult>(Status::Unavailable("ledger: log is closing")));
    if (!active_) {
      return Ready(Result<AppendResult>(Status::WithReason(
          StatusCode::kUnavailable, "standby",
          "ledger: this node is a standby (another node holds the sequencer lease); retry")));
    }
    if (queue_.size() >= options_.max_queue) {
      return Ready(Result<AppendResult>(Status::ResourceExhausted("ledger: append queue is full")));
    }
    queue_.push_back(Pending{std::move(entry), leaf_hash, {}});
    f = queue_.back().done.get_future();
  }
  cv_.notify_one();
  return f;
}

void Log::Run() {
  while (true) {
    bool active;
    {
      std::lock_guard<std::mutex> lock(mu_);
      active = active_;
    }
    if (!active) {
      // A standby: follow the store for readers, and ask for the lease.
      {
        std::unique_lock<std::mutex> lock(mu_);
        if (cv_.wait_for(lock, options_.lease_poll, [&] { return closing_; })) return;
      }
      (void)LoadAsStandby();  // on failure the last good state stays served
      auto lease = store_->TryAcquireSequencerLease();
      if (!lease || !*lease) continue;
      // Everything the previous sequencer committed is in the store: start from there.
      if (!LoadAsSequencer().ok()) continue;  // retried at the next poll
      {
        std::lock_guard<std::mutex> lock(mu_);
        active_ = true;
      }
      need_reload_ = false;
      auto& metrics = metrics::Registry::Default();
      metrics.Set(kActiveGauge, kActiveHelp, {}, 1);
      metrics.Add("medallion_ledger_sequencer_transitions_total",
                  "Times this process took or lost the sequencer lease", {{"to", "active"}});
      continue;
    }
    std::vector<Pending> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return closing_ || !queue_.empty() || !active_; });
      if (!active_) continue;
      if (queue_.empty()) return;  // closing and drained
      size_t n = std::min(queue_.size(), options_.max_batch);
      batch.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    if (need_reload_) {
      Status st = LoadAsSequencer();
      if (!st.ok()) {
        for (Pending& p : batch) p.done.set_value(st);
        if (!store_->HoldsSequencerLease()) BecomeStandby(st);
        continue;
      }
      need_reload_ = false;
    }
    CommitBatch(batch);
  }
}

void Log::CommitBatch(std::vector<Pending>& batch) {
  CompactRange range = range_;
  AppendBatch write;
  std::vector<std::pair<Pending*, AppendResult>> accepted;
  std::set<std::string> nullifiers;
  for (Pending& p : batch) {
    bool duplicate = false;
    if (options_.unique_nullifiers) {
      for (const EntryKey& k : p.entry.keys) {
        if (k.kind != KeyKind::kNullifier) continue;
        auto seen = store_->FindByKey(k, -1, 1);
        if (!seen) {
          p.done.set_value(seen.error());
          duplicate = true;
        } else if (!seen->empty() || !nullifiers.insert(k.value).second) {
          p.done.set_value(Status::AlreadyExists("ledger: nullifier already recorded"));
          duplicate = true;
        }
        break;
      }
    }
    if (duplicate) continue;
    AppendResult r{range.size(), p.leaf_hash};
    for (const auto& n : range.Append(r.leaf_hash)) {
      if (n.level > 0) write.nodes.push_back(n);
    }
    for (const EntryKey& k : p.entry.keys) write.keys.emplace_back(k, r.index);
    write.leaves.push_back(StoredLeaf{r.index, r.leaf_hash, std::move(p.entry.canonical)});
    accepted.emplace_back(&p, r);
  }
  if (accepted.empty()) return;

  const Hash root = range.Root();
  auto note = SignCheckpoint(range.size(), root);
  Status st = note ? Status::Ok() : note.error();
  if (st.ok()) {
    write.checkpoint = StoredCheckpoint{range.size(), *note};
    st = store_->Append(write);
  }
  if (!st.ok()) {
    // Not acknowledged: every caller learns why. With a database server a COMMIT whose answer
    // was lost may still have been applied, so the tree is reloaded from the store before the
    // next batch; a store that lost the lease makes this log a standby.
    for (auto& [p, r] : accepted) p->done.set_value(st);
    need_reload_ = true;
    if (!store_->HoldsSequencerLease()) BecomeStandby(st);
    return;
  }
  range_ = std::move(range);
  auto& metrics = metrics::Registry::Default();
  metrics.Observe("medallion_ledger_batch_entries", "Entries per sequencer batch (one commit each)",
                  {}, static_cast<double>(accepted.size()), metrics::SizeBuckets());
  metrics.Set("medallion_ledger_size", "Entries in the log (its tree size)", {},
              static_cast<double>(range_.size()));
  {
    std::lock_guard<std::mutex> lock(mu_);
    committed_size_ = range_.size();
    checkpoint_note_ = *note;
    checkpoint_ = Checkpoint{origin(), range_.size(), root, {}};
  }
  // Committed and published: acknowledged by the completer (Complete), in commit order.
  std::vector<Done> done;
  done.reserve(accepted.size());
  for (auto& [p, r] : accepted) done.emplace_back(std::move(p->done), r);
  {
    std::lock_guard<std::mutex> lock(done_mu_);
    done_queue_.push_back(std::move(done));
  }
  done_cv_.notify_one();
}

Result<std::string> Log::SignCheckpoint(uint64_t size, const Hash& root) const {
  Checkpoint cp{origin(), size, root, {}};
  return signer_.SignNote(cp.ToText());
}

uint64_t Log::Size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return committed_size_;
}

std::string Log::CheckpointNote() const {
  std::lock_guard<std::mutex> lock(mu_);
  return checkpoint_note_;
}

Checkpoint Log::LatestCheckpoint() const {
  std::lock_guard<std::mutex> lock(mu_);
  return checkpoint_;
}

Result<Proof> Log::InclusionProof(uint64_t index, uint64_t size) {
  if (size > Size())
    return Status::InvalidArgument("ledger: size " + std::to_string(size) + " beyond the log");
  return ledger::InclusionProof(*store_, index, size);
}

Result<Proof> Log::ConsistencyProof(uint64_t first, uint64_t second) {
  if (second > Size())
    return Status::InvalidArgument("ledger: size " + std::to_string(second) + " beyond the log");
  return ledger::ConsistencyProof(*store_, first, second);
}

Result<Bytes> Log::Tile(const TileId& tile) { return ReadTile(*store_, tile, Size()); }

Result<std::vector<StoredLeaf>> Log::Entries(uint64_t start, uint64_t end) {
  if (start > end || end > Size())
    return Status::InvalidArgument("ledger: entry range outside the log");
  if (end - start > kMaxEntriesPerRead) {
    return Status::InvalidArgument("ledger: at most " + std::to_string(kMaxEntriesPerRead) +
                                   " entries per read");
  }
  return store_->GetLeaves(start, end);
}

Result<std::vector<uint64_t>> Log::FindByKey(const EntryKey& key, int64_t after, size_t limit) {
  MDL_ASSIGN_OR_RETURN(auto found, store_->FindByKey(key, after, limit));
  // Only committed, checkpointed indices (the store never holds more, but be explicit).
  uint64_t size = Size();
  std::erase_if(found, [&](uint64_t i) { return i >= size; });
  return found;
}

Result<VerifyReport> Log::VerifyStorage() {
  VerifyReport report;
  const uint64_t size = Size();
  const Ed25519NoteVerifier verifier = signer_.Verifier();
  MDL_ASSIGN_OR_RETURN(auto checkpoints, store_->GetCheckpoints(0, SIZE_MAX));
  size_t next_cp = 0;
  uint64_t last_good_size = 0;  // the size of the last checkpoint that matched the tree
  CompactRange range;
  auto fail = [&](uint64_t index, std::string problem) {
    report.ok = false;
    report.first_bad_index = index;
    report.problem = std::move(problem);
    return report;
  };
  auto check_checkpoints = [&]() -> std::optional<VerifyReport> {
    while (next_cp < checkpoints.size() && checkpoints[next_cp].size == range.size()) {
      const StoredCheckpoint& c = checkpoints[next_cp++];
      auto opened = OpenCheckpoint(c.note, verifier, origin(), nullptr);
      if (!opened)
        return fail(c.size, "checkpoint at size " + std::to_string(c.size) + ": " +
                                opened.error().message());
      if (opened->checkpoint.size != c.size)
        return fail(c.size, "checkpoint row size differs from its note");
      if (opened->checkpoint.root != range.Root()) {
        // Every stored node and leaf hash agreed, so an entry and its leaf hash were edited
        // together in a leaf no stored node covers yet: one of those since the last good
        // checkpoint (for the log's last leaf, exactly that leaf).
        return fail(last_good_size, "checkpoint at size " + std::to_string(c.size) +
                                        ": root differs from the recomputed tree: a leaf in [" +
                                        std::to_string(last_good_size) + ", " +
                                        std::to_string(c.size) + ") was edited");
      }
      last_good_size = c.size;
      ++report.checkpoints;
    }
    return std::nullopt;
  };
  if (auto bad = check_checkpoints()) return *bad;
  for (uint64_t start = 0; start < size; start += kVerifyChunk) {
    uint64_t end = std::min(size, start + kVerifyChunk);
    auto leaves = store_->GetLeaves(start, end);
    if (!leaves) return fail(start, "cannot read leaves: " + leaves.error().message());
    for (const StoredLeaf& l : *leaves) {
      Hash h = HashLeaf(AsBytes(l.entry));
      if (h != l.leaf_hash)
        return fail(l.index,
                    "leaf " + std::to_string(l.index) + ": entry does not hash to its leaf hash");
      if (!ParseEntry(l.entry))
        return fail(l.index, "leaf " + std::to_string(l.index) + ": entry fails its schema");
      for (const auto& n : range.Append(h)) {
        if (n.level == 0) continue;
        Hash stored;
        Status st = store_->GetNode(n.level, n.index, &stored);
        uint64_t first = n.index << n.level;
        if (!st.ok() || stored != n.hash) {
          return fail(first, "node (" + std::to_string(n.level) + ", " + std::to_string(n.index) +
                                 ") over leaves [" + std::to_string(first) + ", " +
                                 std::to_string((n.index + 1) << n.level) +
                                 ") differs: a leaf in it was edited");
        }
      }
      ++report.leaves;
      if (auto bad = check_checkpoints()) return *bad;
    }
    // The leaf hashes as the tree keeps them (level-0 tiles; nodes above were checked above),
    // one tile read per 256 leaves. start is a multiple of 256.
    for (uint64_t t = start / kTileWidth; t * kTileWidth < end; ++t) {
      const uint64_t first = t * kTileWidth;
      const auto width = static_cast<uint32_t>(std::min<uint64_t>(kTileWidth, end - first));
      auto tile = store_->GetTile(0, t, width);
      if (!tile) {
        return fail(first, "level-0 tile " + std::to_string(t) + ": " + tile.error().message());
      }
      for (uint32_t i = 0; i < width; ++i) {
        const Hash& leaf = (*leaves)[first - start + i].leaf_hash;
        if (!std::equal(leaf.begin(), leaf.end(), tile->begin() + i * kHashSize)) {
          return fail(first + i, "leaf " + std::to_string(first + i) +
                                     ": the tree's leaf hash differs from the leaf's");
        }
      }
    }
  }
  if (next_cp < checkpoints.size() && checkpoints[next_cp].size <= size) {
    return fail(checkpoints[next_cp].size, "checkpoint at a size that is not in the tree");
  }
  return report;
}

}  // namespace medallion::ledger
