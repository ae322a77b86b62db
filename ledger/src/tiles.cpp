// C2SP tlog-tiles: tile paths, tiles and entry bundles read from a LeafStore, and proofs from
// tiles (TileNodeSource).
#include "medallion/ledger/tiles.h"

#include <cstdio>
#include <cstring>
#include <limits>

namespace medallion::ledger {
namespace {

constexpr uint64_t kU64Max = std::numeric_limits<uint64_t>::max();
// 2^64 - 1 has 20 decimal digits: 7 three-digit elements at most.
constexpr size_t kMaxIndexElements = 7;
// Tree levels 8*L for L >= 8 are beyond any 64-bit tree size.
constexpr uint32_t kLevelsInU64 = 64 / kTileHeight;

// The number of complete nodes at tree level 8 * level in a tree of `size` leaves.
uint64_t HashesAtLevel(uint32_t level, uint64_t size) {
  return level >= kLevelsInU64 ? 0 : size >> (kTileHeight * level);
}

// A decimal number of 1..`max_digits` digits without leading zeros ("0" itself allowed).
bool ParseDecimal(std::string_view s, size_t max_digits, uint64_t* out) {
  if (s.empty() || s.size() > max_digits || (s.size() > 1 && s[0] == '0')) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

bool ThreeDigits(std::string_view s, uint64_t* out) {
  if (s.size() != 3) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

Status BadPath(std::string_view path, const char* why) {
  std::string shown(path.substr(0, 80));
  return Status::InvalidArgument("tile path \"" + shown + "\": " + why);
}

}  // namespace

std::string TileIndexPath(uint64_t index) {
  // tlog-tiles §"Merkle Tree": most significant group first, "x" on all but the last.
  std::vector<unsigned> groups;
  do {
    groups.push_back(static_cast<unsigned>(index % 1000));
    index /= 1000;
  } while (index > 0);
  std::string out;
  char buf[8];
  for (size_t i = groups.size(); i-- > 0;) {
    std::snprintf(buf, sizeof buf, "%s%03u", i > 0 ? "x" : "", groups[i]);
    out += buf;
    if (i > 0) out += '/';
  }
  return out;
}

std::string TilePath(const TileId& tile) {
  MDL_CHECK(tile.level <= kMaxTileLevel);
  MDL_CHECK(tile.width >= 1 && tile.width <= kTileWidth);
  MDL_CHECK(!tile.entries || tile.level == 0);
  std::string out = "tile/";
  out += tile.entries ? std::string("entries") : std::to_string(tile.level);
  out += '/';
  out += TileIndexPath(tile.index);
  if (!tile.full()) out += ".p/" + std::to_string(tile.width);
  return out;
}

Result<TileId> ParseTilePath(std::string_view path) {
  constexpr std::string_view kTile = "tile/";
  if (path.substr(0, kTile.size()) != kTile) return BadPath(path, "does not start with tile/");
  std::string_view rest = path.substr(kTile.size());
  TileId tile;
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return BadPath(path, "no index");
  std::string_view level = rest.substr(0, slash);
  rest = rest.substr(slash + 1);
  if (level == "entries") {
    tile.entries = true;
  } else {
    uint64_t l;
    if (!ParseDecimal(level, 2, &l) || l > kMaxTileLevel)
      return BadPath(path, "the level is not a decimal 0..63 without leading zeros");
    tile.level = static_cast<uint32_t>(l);
  }
  // The index: "xDDD/" elements, then the last "DDD", then maybe ".p/<W>".
  uint64_t index = 0;
  for (size_t element = 0;; ++element) {
    if (element == kMaxIndexElements) return BadPath(path, "the index has too many elements");
    uint64_t group;
    if (!rest.empty() && rest[0] == 'x') {
      if (rest.size() < 5 || rest[4] != '/' || !ThreeDigits(rest.substr(1, 3), &group))
        return BadPath(path, "an index element is not x followed by three digits");
      // The encoding never writes a leading zero group ("x000/...").
      if (element == 0 && group == 0) return BadPath(path, "the index has a leading zero group");
      if (index > (kU64Max - group) / 1000) return BadPath(path, "the index is beyond 2^64-1");
      index = index * 1000 + group;
      rest = rest.substr(5);
      continue;
    }
    if (rest.size() < 3 || !ThreeDigits(rest.substr(0, 3), &group))
      return BadPath(path, "the last index element is not three digits");
    if (index > (kU64Max - group) / 1000) return BadPath(path, "the index is beyond 2^64-1");
    index = index * 1000 + group;
    rest = rest.substr(3);
    break;
  }
  tile.index = index;
  if (rest.empty()) return tile;
  constexpr std::string_view kPartial = ".p/";
  if (rest.substr(0, kPartial.size()) != kPartial) return BadPath(path, "trailing characters");
  uint64_t width;
  if (!ParseDecimal(rest.substr(kPartial.size()), 3, &width) || width == 0 || width >= kTileWidth) {
    return BadPath(path, "a partial width is a decimal 1..255 without leading zeros");
  }
  tile.width = static_cast<uint32_t>(width);
  return tile;
}

uint32_t TileWidthAt(uint32_t level, uint64_t index, uint64_t size) {
  const uint64_t hashes = HashesAtLevel(level, size);
  const uint64_t full_tiles = hashes / kTileWidth;
  if (index < full_tiles) return kTileWidth;
  if (index == full_tiles) return static_cast<uint32_t>(hashes % kTileWidth);
  return 0;
}

Status CheckTileInTree(const TileId& tile, uint64_t size) {
  if (tile.level > kMaxTileLevel || tile.width == 0 || tile.width > kTileWidth ||
      (tile.entries && tile.level != 0)) {
    return Status::InvalidArgument("not a tile");
  }
  if (TileWidthAt(tile.level, tile.index, size) < tile.width) {
    return Status::NotFound(TilePath(tile) + " is beyond the tree of size " + std::to_string(size));
  }
  return Status::Ok();
}

std::vector<TileId> TilesOfTree(uint64_t size) {
  std::vector<TileId> out;
  auto level_tiles = [&](uint32_t level, bool entries) {
    const uint64_t hashes = HashesAtLevel(level, size);
    for (uint64_t n = 0; n < hashes / kTileWidth; ++n)
      out.push_back({entries, level, n, kTileWidth});
    if (hashes % kTileWidth != 0) {
      out.push_back(
          {entries, level, hashes / kTileWidth, static_cast<uint32_t>(hashes % kTileWidth)});
    }
  };
  for (uint32_t level = 0; HashesAtLevel(level, size) > 0; ++level) level_tiles(level, false);
  level_tiles(0, true);
  return out;
}

Result<LeafTilePair> ReadLeafTiles(LeafStore& store, uint64_t index, uint32_t width,
                                   uint64_t tree_size) {
  MDL_RETURN_IF_ERROR(CheckTileInTree({false, 0, index, width}, tree_size));
  const uint64_t start = index * kTileWidth;  // no overflow: the tile is inside the tree
  MDL_ASSIGN_OR_RETURN(std::vector<StoredLeaf> leaves, store.GetLeaves(start, start + width));
  LeafTilePair out;
  // The hash tile as the store keeps it (one row in a store that stores tiles).
  auto hashes = store.GetTile(0, index, width);
  if (!hashes && hashes.error().code() == StatusCode::kNotFound) {
    return Status::DataLoss("tile " + TilePath({false, 0, index, width}) + ": " +
                            hashes.error().message());
  }
  if (!hashes) return hashes.error();
  out.hashes = std::move(hashes).value();
  size_t bundle_bytes = 0;
  for (const StoredLeaf& l : leaves) bundle_bytes += 2 + l.entry.size();
  out.bundle.reserve(bundle_bytes);
  for (const StoredLeaf& l : leaves) {
    // §"Log entries": big-endian uint16 length prefixes. Entries are at most kMaxEntryBytes;
    // a longer one cannot be represented, and truncating it would serve a wrong bundle.
    if (l.entry.size() > 0xffff) {
      return Status::DataLoss("entry " + std::to_string(l.index) + " is " +
                              std::to_string(l.entry.size()) +
                              " bytes, over an entry bundle's 65535");
    }
    out.bundle.push_back(static_cast<uint8_t>(l.entry.size() >> 8));
    out.bundle.push_back(static_cast<uint8_t>(l.entry.size() & 0xff));
    out.bundle.insert(out.bundle.end(), l.entry.begin(), l.entry.end());
  }
  return out;
}

Result<Bytes> ReadTile(LeafStore& store, const TileId& tile, uint64_t tree_size) {
  MDL_RETURN_IF_ERROR(CheckTileInTree(tile, tree_size));
  if (tile.entries) {
    MDL_ASSIGN_OR_RETURN(LeafTilePair pair,
                         ReadLeafTiles(store, tile.index, tile.width, tree_size));
    return std::move(pair.bundle);
  }
  // The store's tile row: every hash in it is a complete node of the tree of tree_size.
  auto out = store.GetTile(tile.level, tile.index, tile.width);
  if (!out && out.error().code() == StatusCode::kNotFound)
    return Status::DataLoss("tile " + TilePath(tile) + ": " + out.error().message());
  return out;
}

Result<Bytes> LeafStore::GetTile(uint32_t level, uint64_t index, uint32_t width) {
  MDL_CHECK(width >= 1 && width <= kTileWidth && level < kLevelsInU64);
  Bytes out;
  out.reserve(static_cast<size_t>(width) * kHashSize);
  const uint32_t node_level = level * kTileHeight;
  for (uint32_t i = 0; i < width; ++i) {
    Hash h;
    MDL_RETURN_IF_ERROR(GetNode(node_level, index * kTileWidth + i, &h));
    out.insert(out.end(), h.begin(), h.end());
  }
  return out;
}

Result<std::vector<std::string>> ParseEntryBundle(ByteView bundle) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at < bundle.size()) {
    if (bundle.size() - at < 2) return Status::InvalidArgument("entry bundle: truncated length");
    const size_t n = (static_cast<size_t>(bundle[at]) << 8) | bundle[at + 1];
    at += 2;
    if (bundle.size() - at < n) return Status::InvalidArgument("entry bundle: truncated entry");
    out.emplace_back(reinterpret_cast<const char*>(bundle.data() + at), n);
    at += n;
  }
  return out;
}

Status TileNodeSource::GetNode(uint32_t level, uint64_t index, Hash* out) {
  const uint32_t tile_level = level / kTileHeight;
  const uint32_t rise = level % kTileHeight;  // levels hashed up inside the tile
  if (tile_level >= kLevelsInU64 || index > (kU64Max >> rise)) {
    return Status::NotFound("node (" + std::to_string(level) + ", " + std::to_string(index) +
                            ") is beyond any tree");
  }
  const uint64_t first = index << rise;  // position of its first hash at tile_level
  const uint64_t count = uint64_t{1} << rise;
  const uint64_t tile_index = first / kTileWidth;
  const size_t offset = static_cast<size_t>(first % kTileWidth);
  const uint32_t width = TileWidthAt(tile_level, tile_index, tree_size_);
  if (offset + count > width) {
    return Status::NotFound("node (" + std::to_string(level) + ", " + std::to_string(index) +
                            ") is not complete in the tree of size " + std::to_string(tree_size_));
  }
  auto it = tiles_.find({tile_level, tile_index});
  if (it == tiles_.end()) {
    TileId id{false, tile_level, tile_index, width};
    MDL_ASSIGN_OR_RETURN(Bytes bytes, fetch_(id));
    if (bytes.size() != static_cast<size_t>(width) * kHashSize) {
      return Status::DataLoss("tile " + TilePath(id) + ": " + std::to_string(bytes.size()) +
                              " bytes, expected " + std::to_string(width * kHashSize));
    }
    it = tiles_.emplace(std::make_pair(tile_level, tile_index), std::move(bytes)).first;
  }
  std::vector<Hash> row(count);
  for (uint64_t i = 0; i < count; ++i)
    std::memcpy(row[i].data(), it->second.data() + (offset + i) * kHashSize, kHashSize);
  // The tile's hashes are the leaves of a perfect subtree of height `rise`: hash pairs up.
  for (size_t n = row.size(); n > 1; n /= 2) {
    for (size_t i = 0; i < n / 2; ++i) row[i] = HashChildren(row[2 * i], row[2 * i + 1]);
  }
  *out = row[0];
  return Status::Ok();
}

}  // namespace medallion::ledger
