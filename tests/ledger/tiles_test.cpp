// C2SP tlog-tiles: tile paths (the spec's examples and every malformed spelling refused), the
// tiles of a tree (the spec's size-70,000 example), full and partial tiles and entry bundles
// read from a real log, and proofs computed from tiles alone equal to the Log's.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <future>

#include "medallion/core/encoding.h"
#include "medallion/core/hash.h"
#include "medallion/ledger/log.h"
#include "medallion/ledger/tiles.h"
#include "test_util.h"

namespace medallion::ledger {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() /
            ("medallion-tiles-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

std::string Anchor(uint64_t i) {
  return "{\"type\":\"anchor\",\"v\":1,\"hash\":\"" +
         HexEncode(Sha256(AsBytes("tile entry " + std::to_string(i)))) +
         "\",\"kind\":\"document\",\"ts\":" + std::to_string(1700000000 + i) + "}";
}

// A log on disk, grown to chosen sizes in large batches.
struct TiledLog {
  TempDir dir;
  FakeClock clock{1700000000000};
  SeededRng rng{11};
  Env env{&clock, &rng};
  std::unique_ptr<Log> log;

  TiledLog() {
    auto store = SqliteLeafStore::Open(dir.File("ledger.db"));
    REQUIRE(store);
    auto opened = Log::Open(std::move(store).value(),
                            Ed25519NoteSigner::FromSeed("tiles.example/log", Bytes(32, 0x17)), env);
    REQUIRE(opened);
    log = std::move(opened).value();
  }
  void GrowTo(uint64_t size) {
    while (log->Size() < size) {  // in chunks well under the queue bound
      std::vector<std::future<Result<AppendResult>>> futures;
      const uint64_t from = log->Size(), to = std::min(size, from + 8192);
      for (uint64_t i = from; i < to; ++i) futures.push_back(log->Append(Anchor(i)));
      for (auto& f : futures) REQUIRE(f.get());
    }
    REQUIRE(log->Size() == size);
  }
};

Hash HashAt(const Bytes& tile, size_t i) {
  Hash h;
  std::copy_n(tile.begin() + static_cast<std::ptrdiff_t>(i * kHashSize), kHashSize, h.begin());
  return h;
}

TEST_CASE("tile paths: the spec's encoding of N, levels and partial widths", "[ledger][tiles]") {
  // tlog-tiles §"Merkle Tree": "index 1234067 will be encoded as x001/x234/067".
  CHECK(TileIndexPath(1234067) == "x001/x234/067");
  CHECK(TileIndexPath(0) == "000");
  CHECK(TileIndexPath(7) == "007");
  CHECK(TileIndexPath(999) == "999");
  CHECK(TileIndexPath(1000) == "x001/000");
  CHECK(TileIndexPath(1000000) == "x001/x000/000");
  CHECK(TileIndexPath(UINT64_MAX) == "x018/x446/x744/x073/x709/x551/615");
  CHECK(TilePath({false, 0, 1234067, 256}) == "tile/0/x001/x234/067");
  CHECK(TilePath({false, 1, 3, 17}) == "tile/1/003.p/17");
  CHECK(TilePath({true, 0, 273, 112}) == "tile/entries/273.p/112");
  CHECK(TilePath({false, 63, 0, 255}) == "tile/63/000.p/255");

  auto [tile, path] = GENERATE(table<TileId, std::string>({
      {{false, 0, 0, 256}, "tile/0/000"},
      {{false, 0, 1234067, 256}, "tile/0/x001/x234/067"},
      {{false, 2, 0, 1}, "tile/2/000.p/1"},
      {{false, 10, 1000, 200}, "tile/10/x001/000.p/200"},
      {{true, 0, 5, 256}, "tile/entries/005"},
      {{true, 0, 1000001, 9}, "tile/entries/x001/x000/001.p/9"},
      {{false, 0, UINT64_MAX, 256}, "tile/0/x018/x446/x744/x073/x709/x551/615"},
  }));
  CHECK(TilePath(tile) == path);
  auto parsed = ParseTilePath(path);
  REQUIRE(parsed);
  CHECK(*parsed == tile);
}

TEST_CASE("tile paths: every other spelling is refused", "[ledger][tiles]") {
  const char* bad = GENERATE(
      "", "tile", "tile/", "tile/0", "tile/0/", "/tile/0/000", "tiles/0/000", "TILE/0/000",
      "tile/00/000", "tile/01/000", "tile/64/000", "tile/-1/000", "tile/+1/000", "tile/a/000",
      "tile/100/000", "tile/entry/000", "tile/entries/", "tile/0/0", "tile/0/00", "tile/0/0000",
      "tile/0/x000", "tile/0/001x", "tile/0/x001", "tile/0/x001/", "tile/0/x000/001",
      "tile/0/001/002", "tile/0/x01/002", "tile/0/x0011/002", "tile/0/x001//002",
      "tile/0/x001/x002", "tile/0/X001/002", "tile/0/xabc/002", "tile/0/000/", "tile/0/000.p",
      "tile/0/000.p/", "tile/0/000.p/0", "tile/0/000.p/256", "tile/0/000.p/01", "tile/0/000.p/1000",
      "tile/0/000.p/-1", "tile/0/000.p/1/", "tile/0/000.p/a", "tile/0/000.q/1", "tile/0/000p/1",
      "tile/0/000.p/1x",
      "tile/0/x018/x446/x744/x073/x709/x551/616",       // 2^64
      "tile/0/x001/x018/x446/x744/x073/x709/x551/615",  // too many elements
      "tile/0/../000", "tile/0/000%2f", "tile/0/000\n", "tile/0/ 000");
  auto parsed = ParseTilePath(bad);
  INFO(bad);
  REQUIRE(!parsed);
  CHECK(parsed.error().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("tiles of a tree: the spec's examples", "[ledger][tiles]") {
  // §"Partial Tiles": "a tree of size 70,000 will be represented by 273 full level 0 tiles,
  // one partial level 0 tile of width 112, one full level 1 tile, one partial level 1 tile of
  // width 17, and one partial level 2 tile of width 1."
  auto tiles = TilesOfTree(70000);
  size_t full0 = 0, full1 = 0, bundles_full = 0;
  std::vector<TileId> partial;
  for (const TileId& t : tiles) {
    if (t.entries) {
      if (t.full())
        ++bundles_full;
      else
        partial.push_back(t);
    } else if (t.full()) {
      (t.level == 0 ? full0 : full1)++;
      CHECK(t.level <= 1);
    } else {
      partial.push_back(t);
    }
  }
  CHECK(full0 == 273);
  CHECK(full1 == 1);
  CHECK(bundles_full == 273);
  CHECK(partial ==
        std::vector<TileId>{
            {false, 0, 273, 112}, {false, 1, 1, 17}, {false, 2, 0, 1}, {true, 0, 273, 112}});
  // "a tree of size 256 will be represented by a full level 0 tile and a partial level 1 tile
  // of width 1."
  CHECK(TilesOfTree(256) ==
        std::vector<TileId>{{false, 0, 0, 256}, {false, 1, 0, 1}, {true, 0, 0, 256}});
  CHECK(TilesOfTree(0).empty());
  CHECK(TilesOfTree(1) == std::vector<TileId>{{false, 0, 0, 1}, {true, 0, 0, 1}});

  CHECK(TileWidthAt(0, 273, 70000) == 112);
  CHECK(TileWidthAt(0, 272, 70000) == 256);
  CHECK(TileWidthAt(0, 274, 70000) == 0);
  CHECK(TileWidthAt(2, 0, 70000) == 1);
  CHECK(TileWidthAt(3, 0, 70000) == 0);
  CHECK(TileWidthAt(8, 0, UINT64_MAX) == 0);
  CHECK(TileWidthAt(7, 0, UINT64_MAX) == 255);
  CHECK(TileWidthAt(0, UINT64_MAX, UINT64_MAX) == 0);
  CHECK(CheckTileInTree({false, 0, 273, 112}, 70000).ok());
  CHECK(CheckTileInTree({false, 0, 273, 100}, 70000).ok());  // an older tree's partial tile
  CHECK(CheckTileInTree({false, 0, 272, 5}, 70000).ok());    // ... of a tile since completed
  CHECK(CheckTileInTree({false, 0, 273, 113}, 70000).code() == StatusCode::kNotFound);
  CHECK(CheckTileInTree({false, 0, 273, 256}, 70000).code() == StatusCode::kNotFound);
  CHECK(CheckTileInTree({false, 2, 0, 2}, 70000).code() == StatusCode::kNotFound);
  CHECK(CheckTileInTree({false, 63, 0, 1}, 70000).code() == StatusCode::kNotFound);
  CHECK(CheckTileInTree({true, 0, 274, 1}, 70000).code() == StatusCode::kNotFound);
  CHECK(CheckTileInTree({false, 0, 0, 1}, 0).code() == StatusCode::kNotFound);
}

TEST_CASE("entry bundles: length-prefixed entries, truncation refused", "[ledger][tiles]") {
  const Bytes bundle = {0, 2, 'a', 'b', 0, 0, 0, 1, 'c'};
  auto entries = ParseEntryBundle(bundle);
  REQUIRE(entries);
  CHECK(*entries == std::vector<std::string>{"ab", "", "c"});
  CHECK(ParseEntryBundle(Bytes{}).value().empty());
  CHECK(!ParseEntryBundle(Bytes{0}));
  CHECK(!ParseEntryBundle(Bytes{0, 3, 'a', 'b'}));
  CHECK(!ParseEntryBundle(Bytes{0, 1, 'a', 0}));
}

// Reads every tile of the tree of `size` from the log and checks them against the log's own
// leaves, nodes, checkpoints and proofs.
void CheckTreeFromTiles(Log& log, uint64_t size, const Hash& root,
                        const std::vector<std::pair<uint64_t, Hash>>& older_roots) {
  INFO("tree size " << size);
  std::map<std::pair<bool, std::pair<uint32_t, uint64_t>>, Bytes> served;
  for (const TileId& t : TilesOfTree(size)) {
    auto bytes = log.Tile(t);
    REQUIRE(bytes);
    if (!t.entries) REQUIRE(bytes->size() == t.width * kHashSize);
    served[{t.entries, {t.level, t.index}}] = *bytes;
  }
  // Level 0 is the leaf hashes, and each is RFC 6962 SHA-256(0x00 || the bundle's entry).
  for (const TileId& t : TilesOfTree(size)) {
    if (!t.entries) continue;
    const Bytes& hashes = served.at({false, {0, t.index}});
    auto entries = ParseEntryBundle(served.at({true, {0, t.index}}));
    REQUIRE(entries);
    REQUIRE(entries->size() == t.width);
    auto leaves = log.Entries(t.index * 256, t.index * 256 + t.width);
    REQUIRE(leaves);
    for (size_t i = 0; i < entries->size(); ++i) {
      Bytes prefixed{0x00};
      prefixed.insert(prefixed.end(), (*entries)[i].begin(), (*entries)[i].end());
      CHECK(HashAt(hashes, i) == Sha256(prefixed));
      CHECK((*entries)[i] == (*leaves)[i].entry);
      CHECK(HashAt(hashes, i) == (*leaves)[i].leaf_hash);
    }
  }
  // A hash at level L > 0 is the root of the full tile below it.
  for (const TileId& t : TilesOfTree(size)) {
    if (t.entries || t.level == 0) continue;
    for (uint32_t i = 0; i < t.width; ++i) {
      const Bytes& below = served.at({false, {t.level - 1, t.index * 256 + i}});
      REQUIRE(below.size() == 256 * kHashSize);
      std::vector<Hash> row;
      for (size_t j = 0; j < 256; ++j) row.push_back(HashAt(below, j));
      for (size_t n = 256; n > 1; n /= 2)
        for (size_t j = 0; j < n / 2; ++j) row[j] = HashChildren(row[2 * j], row[2 * j + 1]);
      CHECK(HashAt(served.at({false, {t.level, t.index}}), i) == row[0]);
    }
  }
  // Proofs from tiles alone (fetched at the widths this tree gives them) equal the log's.
  size_t fetches = 0;
  TileNodeSource tiles(
      [&](const TileId& t) -> Result<Bytes> {
        ++fetches;
        CHECK(t.width == TileWidthAt(t.level, t.index, size));
        return log.Tile(t);
      },
      size);
  auto tile_root = TreeRoot(tiles, size);
  REQUIRE(tile_root);
  CHECK(*tile_root == root);
  const uint64_t edge = size > 300 ? 256 : 0;
  for (uint64_t index :
       std::vector<uint64_t>{0, size / 3, size / 2, size - 1, edge, edge > 0 ? edge - 1 : 0}) {
    auto from_tiles = InclusionProof(tiles, index, size);
    auto from_log = log.InclusionProof(index, size);
    REQUIRE(from_tiles);
    REQUIRE(from_log);
    CHECK(*from_tiles == *from_log);
  }
  for (const auto& [old_size, old_root] : older_roots) {
    auto from_tiles = ConsistencyProof(tiles, old_size, size);
    auto from_log = log.ConsistencyProof(old_size, size);
    REQUIRE(from_tiles);
    REQUIRE(from_log);
    CHECK(*from_tiles == *from_log);
    CHECK(VerifyConsistency(old_size, size, *from_tiles, old_root, root).ok());
  }
  CHECK(fetches == tiles.fetched());
}

TEST_CASE("tiles from a log: full and partial tiles, bundles, proofs equal the log's",
          "[ledger][tiles]") {
  TiledLog t;
  std::vector<std::pair<uint64_t, Hash>> roots;
  // Sizes around tile boundaries, up to a level-2 tile (256^2 = 65,536 leaves).
  for (uint64_t size : {1, 2, 255, 256, 257, 700, 65535, 65536, 65536 + 256 * 3 + 5}) {
    t.GrowTo(size);
    Checkpoint cp = t.log->LatestCheckpoint();
    REQUIRE(cp.size == size);
    CheckTreeFromTiles(*t.log, size, cp.root, roots);
    roots.emplace_back(size, cp.root);
  }
  const uint64_t size = t.log->Size();

  // Beyond the tree: not_found, never a shorter tile.
  CHECK(t.log->Tile({false, 0, 260, 1}).error().code() == StatusCode::kNotFound);
  CHECK(t.log->Tile({false, 0, 259, 6}).error().code() == StatusCode::kNotFound);
  CHECK(t.log->Tile({true, 0, 259, 256}).error().code() == StatusCode::kNotFound);
  CHECK(t.log->Tile({false, 1, 1, 4}).error().code() == StatusCode::kNotFound);
  CHECK(t.log->Tile({false, 2, 0, 2}).error().code() == StatusCode::kNotFound);
  CHECK(t.log->Tile({false, 3, 0, 1}).error().code() == StatusCode::kNotFound);
  CHECK(t.log->Tile({false, 63, 0, 1}).error().code() == StatusCode::kNotFound);
  CHECK(t.log->Tile({false, 0, UINT64_MAX, 256}).error().code() == StatusCode::kNotFound);
  // An older tree's partial tile stays readable: its hashes are fixed.
  auto old = t.log->Tile({false, 0, 2, 188});  // of the tree of 700 leaves
  REQUIRE(old);
  auto full = t.log->Tile({false, 0, 2, 256});
  REQUIRE(full);
  CHECK(Bytes(full->begin(), full->begin() + 188 * 32) == *old);

  // A tampered tile byte: in a level-0 tile (hash 3 of tile 7, leaf 1795), the inclusion
  // proof of its sibling leaf 1794 no longer verifies; in the level-2 tile (one hash), the root
  // changes.
  const Hash root = t.log->LatestCheckpoint().root;
  auto tampered_at = [&](uint32_t level, uint64_t index, size_t byte) {
    return TileNodeSource(
        [&t, level, index, byte](const TileId& id) -> Result<Bytes> {
          auto b = t.log->Tile(id);
          if (b && id.level == level && id.index == index) b->at(byte) ^= 0x01;
          return b;
        },
        size);
  };
  TileNodeSource tampered0 = tampered_at(0, 7, 100);
  auto leaf = t.log->Entries(1794, 1795);
  REQUIRE(leaf);
  auto proof = InclusionProof(tampered0, 1794, size);
  REQUIRE(proof);
  CHECK(VerifyInclusion(1794, size, (*leaf)[0].leaf_hash, *proof, root).error() ==
        ProofError::kRootMismatch);
  TileNodeSource tampered2 = tampered_at(2, 0, 5);
  auto bad_root = TreeRoot(tampered2, size);
  REQUIRE(bad_root);
  CHECK(*bad_root != root);
  // A tile of the wrong length is data_loss.
  TileNodeSource short_tiles(
      [&](const TileId& id) -> Result<Bytes> {
        auto b = t.log->Tile(id);
        if (b) b->pop_back();
        return b;
      },
      size);
  CHECK(TreeRoot(short_tiles, size).error().code() == StatusCode::kDataLoss);
}

}  // namespace
}  // namespace medallion::ledger
