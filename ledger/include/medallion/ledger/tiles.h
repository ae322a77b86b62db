// C2SP tlog-tiles (c2sp.org/tlog-tiles; C2SP/C2SP tlog-tiles.md as of commit 1cd32db): the log's
// Merkle tree as static "tiles" of 256 hashes, and its entries as "entry bundles".
//
// A tile is addressed by its level L (0..63), its index N within the level and its width W
// (1..256; 256 is a full tile). Hash i of tile (L, N) is the RFC 9162 node at tree level 8*L
// and index N*256 + i, that is MTH(D[(N*256+i)*256^L : (N*256+i+1)*256^L]) (tlog-tiles
// §"Merkle Tree"). Level 0 holds leaf hashes. The entry bundle N holds the canonical entry
// bytes of the leaves of level-0 tile N, each prefixed by its length as a big-endian uint16
// (§"Log entries"). Entries are at most kMaxEntryBytes (4096) canonical bytes, far below the
// uint16 bound; an entry over 65535 bytes cannot be stored, and a bundle holding one is refused
// as data_loss rather than truncated.
//
// Three layers, as elsewhere in this module: paths (pure), reading tiles out of a LeafStore for
// a given tree size, and TileNodeSource, which answers NodeSource queries from tiles alone so
// that RFC 9162 proofs can be computed from them (what a tiles client does).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "medallion/core/bytes.h"
#include "medallion/core/status.h"
#include "medallion/ledger/merkle.h"
#include "medallion/ledger/store.h"

namespace medallion::ledger {

// tlog-tiles §"Merkle Tree": tiles of height 8, 256 hashes (8,192 bytes) when full.
inline constexpr uint32_t kTileHeight = 8;
inline constexpr uint32_t kTileWidth = 256;
inline constexpr uint32_t kMaxTileLevel = 63;

// One tile or entry bundle, at one width.
struct TileId {
  bool entries = false;         // an entry bundle (tile/entries/N), else a hash tile (tile/L/N)
  uint32_t level = 0;           // 0..kMaxTileLevel; always 0 for an entry bundle
  uint64_t index = 0;           // N
  uint32_t width = kTileWidth;  // 1..kTileWidth

  bool full() const { return width == kTileWidth; }
  bool operator==(const TileId&) const = default;
};

// tlog-tiles §"Merkle Tree": N as zero-padded 3-digit path elements, all but the last
// prefixed with "x" (1234067 -> "x001/x234/067", 0 -> "000").
std::string TileIndexPath(uint64_t index);
// "tile/<L>/<N>[.p/<W>]" or "tile/entries/<N>[.p/<W>]" (no leading slash, no prefix).
// REQUIRES: level <= kMaxTileLevel, 1 <= width <= kTileWidth, entries implies level == 0.
std::string TilePath(const TileId& tile);
// The inverse of TilePath, exactly: any other spelling (leading zeros, an "x" on the last
// element or none on another, a 0 or 256 partial width, a level over 63, extra slashes, an
// index beyond 2^64-1) is invalid_argument. `path` is relative to the log's prefix: it starts
// with "tile/", without a leading slash.
Result<TileId> ParseTilePath(std::string_view path);

// The width of tile (level, index) in the tree of `size` leaves: kTileWidth if full, the
// partial width (tlog-tiles §"Partial Tiles": floor(size / 256^level) mod 256) for the
// rightmost tile, 0 if the tile has no hash yet.
uint32_t TileWidthAt(uint32_t level, uint64_t index, uint64_t size);
// OK if `tile` can be read from the tree of `size` leaves: all its hashes are complete
// subtrees of that tree (a partial tile of any width up to what the tree holds, which is the
// same content every tree containing it would serve). not_found otherwise.
Status CheckTileInTree(const TileId& tile, uint64_t size);
// Every hash tile and entry bundle of the tree of `size` leaves, each at the width that tree
// gives it: full tiles, then the partial one, level by level (hash tiles), then the bundles.
// Empty tiles are never listed (§"Partial Tiles").
std::vector<TileId> TilesOfTree(uint64_t size);

// The bytes of `tile` read from `store` as the tree of `tree_size` leaves holds it: a hash
// tile is width * 32 bytes, LeafStore::GetTile (straight from the stored tile row where the
// store keeps tiles); an entry bundle is the canonical entries, each after a
// big-endian uint16 length. not_found (CheckTileInTree) if the tile is beyond the tree;
// data_loss if a stored entry is over 65535 bytes or a node is missing; the store's errors.
// REQUIRES: tree_size <= the store's size. Thread-safe if the store is.
Result<Bytes> ReadTile(LeafStore& store, const TileId& tile, uint64_t tree_size);

// The level-0 hash tile and the entry bundle with index `index` and width `width`, from one
// tile read and one read of the leaves (what an export writes side by side). Errors as
// ReadTile.
struct LeafTilePair {
  Bytes hashes;
  Bytes bundle;
};
Result<LeafTilePair> ReadLeafTiles(LeafStore& store, uint64_t index, uint32_t width,
                                   uint64_t tree_size);

// Splits an entry bundle into its entries. invalid_argument if a length runs past the end.
Result<std::vector<std::string>> ParseEntryBundle(ByteView bundle);

// Answers NodeSource queries from tiles only, for the tree of `tree_size` leaves: node
// (level, index) is hash (index << (level mod 8)) .. of the tile at level floor(level / 8),
// hashed up inside the tile (tlog-tiles: "the Merkle Tree levels between those expressed by the
// tile hashes are reconstructed by hashing"). Each tile is fetched once, at the width the tree
// gives it, and kept. A fetched tile of the wrong length is data_loss. Not thread-safe.
class TileNodeSource final : public NodeSource {
 public:
  using Fetch = std::function<Result<Bytes>(const TileId&)>;
  TileNodeSource(Fetch fetch, uint64_t tree_size)
      : fetch_(std::move(fetch)), tree_size_(tree_size) {}
  Status GetNode(uint32_t level, uint64_t index, Hash* out) override;
  // Tiles fetched so far.
  size_t fetched() const { return tiles_.size(); }

 private:
  Fetch fetch_;
  uint64_t tree_size_;
  std::map<std::pair<uint32_t, uint64_t>, Bytes> tiles_;
};

}  // namespace medallion::ledger
