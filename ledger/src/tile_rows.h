// Tile rows: how both LeafStores keep the Merkle tree (issue 18). One row per C2SP tlog-tiles
// tile (c2sp.org/tlog-tiles §"Merkle Tree": height 8, 256 hashes when full) instead of one row
// per node; the rightmost, partial tile of each level is one row too, rewritten by every batch
// that grows it and kept in memory by the store that writes it.
//
// A row of a full tile (L, N) holds, besides the 256 hashes a tiles client is served (the RFC
// 9162 nodes at tree level 8L, indices N*256 ..), the complete nodes the tile spans above them:
// for rise r = 1..7 the 256 >> r nodes at level 8L + r, indices (N << (8 - r)) + j. Stored
// rise after rise:
//
//   rise 0 (256 hashes) | rise 1 (128) | ... | rise 7 (2)          (510 hashes, 16,320 bytes)
//
// so that every node of an RFC 9162 proof is a lookup in a row (no hashing on read), and the
// tile served under /tlog/ is the row's first W * 32 bytes. A partial row (W < 256) stores its
// W base hashes only: it is rewritten by every commit that grows it, and small commits (single
// appends over HTTP) would otherwise write up to 16 KB each; the nodes above are recomputed
// (at most 255 hashes) when it is read. A row is never wider than the tree under the latest
// committed checkpoint, and a partial row only ever grows: every node in it is complete and
// never changes.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <unordered_map>
#include <vector>

#include "medallion/core/bytes.h"
#include "medallion/core/status.h"
#include "medallion/ledger/merkle.h"
#include "medallion/ledger/store.h"

namespace medallion::ledger::tile_rows {

inline constexpr uint32_t kHeight = 8;      // tlog-tiles tile height
inline constexpr uint32_t kWidth = 256;     // hashes in a full tile
inline constexpr size_t kFullHashes = 510;  // 256 + 128 + ... + 2

// One row: tile (level, index), `width` base hashes, `hashes` in the layout above with every
// rise (as read: partial rows are expanded by Expand).
struct Row {
  uint32_t level = 0;
  uint64_t index = 0;
  uint32_t width = 0;
  Bytes hashes;
};

// The number of hashes in an expanded row of `width` base hashes (sum of width >> r, r = 0..7).
size_t HashesInRow(uint32_t width);
// The number of hashes stored for a row of `width`: HashesInRow(256) when full, else width.
size_t StoredHashes(uint32_t width);
// The byte offset of rise r in a row of `width`.
size_t RiseOffset(uint32_t width, uint32_t rise);
// data_loss unless 1 <= width <= 256 and hashes is exactly StoredHashes(width) * 32 bytes (or,
// for a partial row, HashesInRow(width) * 32: already expanded).
Status CheckRow(uint32_t level, uint64_t index, uint32_t width, size_t hashes_bytes);
// A checked stored row with every rise: a partial row's rises 1..7 hashed up from its base.
void Expand(Row& row);

// The tile holding node (level, index), and where: tile (level / 8, index >> (8 - rise)),
// position `pos` within rise `rise` = level % 8.
struct NodePlace {
  uint32_t tile_level;
  uint64_t tile_index;
  uint32_t rise;
  uint64_t pos;
};
NodePlace PlaceOf(uint32_t level, uint64_t index);
// The node at `place` from a row of `width` hashes; false if the row is not wide enough.
bool NodeFromRow(const NodePlace& place, uint32_t width, const uint8_t* hashes, Hash* out);

// A tile being filled by the sequencer's batches (rises[r] = its nodes at rise r so far).
struct Partial {
  uint32_t level = 0;
  uint64_t index = 0;
  std::array<std::vector<Hash>, kHeight> rises;
  uint32_t width() const { return static_cast<uint32_t>(rises[0].size()); }
  // Every rise complete: 256 base hashes up to the 2 nodes at rise 7.
  bool full() const;
  // The row to store (a partial tile: its base hashes only).
  Row ToRow() const;
};
// The tiles of a tree of `size` leaves that are not full yet, at most one per level, keyed by
// (level, index). A store keeps them in memory between batches.
struct Partials {
  uint64_t size = 0;
  std::map<std::pair<uint32_t, uint64_t>, Partial> tiles;
};
// Parses a stored row into a Partial. data_loss if its length does not match its width.
Result<Partial> PartialFromRow(const Row& row);
// The partial tiles of the tree of `size` leaves: for each level whose rightmost tile is not
// full, `read(level, index)` gives its stored row, cut to the width `size` gives it (not_found,
// or a narrower row, is data_loss: the tree is damaged). Errors of `read` are returned.
Result<Partials> LoadPartials(uint64_t size,
                              const std::function<Result<Row>(uint32_t, uint64_t)>& read);

// Adds a batch's leaves (level 0) and completed nodes (levels >= 1, as CompactRange::Append
// returns them) to `partials`; returns the rows to write: each tile the batch filled (full),
// then each partial tile it grew. data_loss if the batch does not extend the tree `partials`
// describes (a node that does not come next in its tile, leaves not starting at its size, or
// partial tiles left that are not those of the new size); `partials` is then unspecified.
Result<std::vector<Row>> AddBatch(Partials& partials, const AppendBatch& batch);

// Full tiles never change, so rows read once are kept: a small LRU, keyed by (level, index).
// Partial rows are kept too; a lookup beyond a kept partial row's width re-reads it. Not
// thread-safe (the store's mutex guards it).
class RowCache {
 public:
  explicit RowCache(size_t capacity) : capacity_(capacity) {}
  // The cached row, or nullptr.
  std::shared_ptr<const Row> Get(uint32_t level, uint64_t index);
  void Put(std::shared_ptr<const Row> row);
  void Erase(uint32_t level, uint64_t index);
  void Clear();

 private:
  using Key = std::pair<uint32_t, uint64_t>;
  struct KeyHash {
    size_t operator()(const Key& k) const { return std::hash<uint64_t>()(k.second * 64 + k.first); }
  };
  size_t capacity_;
  std::list<std::shared_ptr<const Row>> lru_;  // most recent first
  std::unordered_map<Key, std::list<std::shared_ptr<const Row>>::iterator, KeyHash> map_;
};

}  // namespace medallion::ledger::tile_rows
