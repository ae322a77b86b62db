// Tile rows: the stored layout of the tree, partial tiles across batches, and the row cache.
#include "tile_rows.h"

#include <cstring>
#include <set>
#include <string>

namespace medallion::ledger::tile_rows {

size_t HashesInRow(uint32_t width) {
  size_t n = 0;
  for (uint32_t r = 0; r < kHeight; ++r) n += width >> r;
  return n;
}

size_t StoredHashes(uint32_t width) { return width == kWidth ? HashesInRow(kWidth) : width; }

size_t RiseOffset(uint32_t width, uint32_t rise) {
  size_t n = 0;
  for (uint32_t r = 0; r < rise; ++r) n += width >> r;
  return n * kHashSize;
}

Status CheckRow(uint32_t level, uint64_t index, uint32_t width, size_t hashes_bytes) {
  // A partial row written expanded (by the first build with tile rows) is read as well.
  if (width < 1 || width > kWidth ||
      (hashes_bytes != StoredHashes(width) * kHashSize &&
       hashes_bytes != HashesInRow(width) * kHashSize)) {
    return Status::DataLoss("tile row (" + std::to_string(level) + ", " + std::to_string(index) +
                            "): width " + std::to_string(width) + " with " +
                            std::to_string(hashes_bytes) + " bytes of hashes");
  }
  return Status::Ok();
}

void Expand(Row& row) {
  if (row.hashes.size() == HashesInRow(row.width) * kHashSize) return;
  row.hashes.resize(HashesInRow(row.width) * kHashSize);
  for (uint32_t r = 1; r < kHeight; ++r) {
    const uint8_t* below = row.hashes.data() + RiseOffset(row.width, r - 1);
    uint8_t* at = row.hashes.data() + RiseOffset(row.width, r);
    for (uint32_t j = 0; j < (row.width >> r); ++j) {
      Hash left, right;
      std::memcpy(left.data(), below + (2 * j) * kHashSize, kHashSize);
      std::memcpy(right.data(), below + (2 * j + 1) * kHashSize, kHashSize);
      const Hash up = HashChildren(left, right);
      std::memcpy(at + j * kHashSize, up.data(), kHashSize);
    }
  }
}

NodePlace PlaceOf(uint32_t level, uint64_t index) {
  const uint32_t rise = level % kHeight;
  const uint32_t per_tile_bits = kHeight - rise;  // a tile holds 256 >> rise nodes at this rise
  return NodePlace{level / kHeight, index >> per_tile_bits, rise,
                   index & ((uint64_t{1} << per_tile_bits) - 1)};
}

bool NodeFromRow(const NodePlace& place, uint32_t width, const uint8_t* hashes, Hash* out) {
  if (place.pos >= (width >> place.rise)) return false;
  std::memcpy(out->data(), hashes + RiseOffset(width, place.rise) + place.pos * kHashSize,
              kHashSize);
  return true;
}

bool Partial::full() const {
  for (uint32_t r = 0; r < kHeight; ++r) {
    if (rises[r].size() != (kWidth >> r)) return false;
  }
  return true;
}

Row Partial::ToRow() const {
  Row row{level, index, width(), {}};
  const bool whole = full();
  row.hashes.reserve(StoredHashes(row.width) * kHashSize);
  for (const auto& rise : rises) {
    for (const Hash& h : rise) row.hashes.insert(row.hashes.end(), h.begin(), h.end());
    if (!whole) break;  // a partial row stores its base hashes only
  }
  return row;
}

Result<Partial> PartialFromRow(const Row& row) {
  if (row.width < 1 || row.width > kWidth ||
      row.hashes.size() != HashesInRow(row.width) * kHashSize) {
    return Status::DataLoss("tile row (" + std::to_string(row.level) + ", " +
                            std::to_string(row.index) + ") is not expanded");
  }
  Partial p;
  p.level = row.level;
  p.index = row.index;
  const uint8_t* at = row.hashes.data();
  for (uint32_t r = 0; r < kHeight; ++r) {
    p.rises[r].resize(row.width >> r);
    for (Hash& h : p.rises[r]) {
      std::memcpy(h.data(), at, kHashSize);
      at += kHashSize;
    }
  }
  return p;
}

Result<Partials> LoadPartials(uint64_t size,
                              const std::function<Result<Row>(uint32_t, uint64_t)>& read) {
  Partials out;
  out.size = size;
  for (uint32_t level = 0; level < 64 / kHeight && (size >> (kHeight * level)) > 0; ++level) {
    const uint64_t hashes = size >> (kHeight * level);
    const uint32_t width = static_cast<uint32_t>(hashes % kWidth);
    if (width == 0) continue;
    auto row = read(level, hashes / kWidth);
    if (!row && row.error().code() == StatusCode::kNotFound) {
      return Status::DataLoss("ledger: partial tile (" + std::to_string(level) + ", " +
                              std::to_string(hashes / kWidth) + ") of the tree of size " +
                              std::to_string(size) + " is missing");
    }
    if (!row) return row.error();
    // A wider row was written by a sequencer that went on (another process, or a commit whose
    // answer was lost); its prefix is this size's tile, and the batch's size check decides.
    if (row->width < width) {
      return Status::DataLoss("ledger: partial tile (" + std::to_string(level) + ", " +
                              std::to_string(hashes / kWidth) + ") is " +
                              std::to_string(row->width) + " wide, the tree of size " +
                              std::to_string(size) + " gives it " + std::to_string(width));
    }
    MDL_ASSIGN_OR_RETURN(Partial p, PartialFromRow(*row));
    for (uint32_t r = 0; r < kHeight; ++r) p.rises[r].resize(width >> r);
    out.tiles.emplace(std::make_pair(level, p.index), std::move(p));
  }
  return out;
}

Result<std::vector<Row>> AddBatch(Partials& partials, const AppendBatch& batch) {
  std::vector<Row> out;
  std::set<std::pair<uint32_t, uint64_t>> grown;
  auto add = [&](uint32_t level, uint64_t index, const Hash& hash) -> Status {
    const NodePlace place = PlaceOf(level, index);
    const auto key = std::make_pair(place.tile_level, place.tile_index);
    auto it = partials.tiles.find(key);
    if (it == partials.tiles.end()) {
      if (place.rise != 0 || place.pos != 0) {
        return Status::DataLoss("ledger: node (" + std::to_string(level) + ", " +
                                std::to_string(index) + ") falls in no tile being filled");
      }
      Partial fresh;
      fresh.level = place.tile_level;
      fresh.index = place.tile_index;
      it = partials.tiles.emplace(key, std::move(fresh)).first;
    }
    std::vector<Hash>& rise = it->second.rises[place.rise];
    if (rise.size() != place.pos) {
      return Status::DataLoss("ledger: node (" + std::to_string(level) + ", " +
                              std::to_string(index) + ") is not the next of its tile");
    }
    rise.push_back(hash);
    if (rise.size() == (kWidth >> place.rise) && it->second.full()) {
      out.push_back(it->second.ToRow());
      partials.tiles.erase(it);
      grown.erase(key);
    } else {
      grown.insert(key);
    }
    return Status::Ok();
  };
  for (size_t i = 0; i < batch.leaves.size(); ++i) {
    if (batch.leaves[i].index != partials.size + i) {
      return Status::DataLoss("ledger: batch leaf " + std::to_string(batch.leaves[i].index) +
                              " does not follow the tree of size " + std::to_string(partials.size));
    }
    MDL_RETURN_IF_ERROR(add(0, batch.leaves[i].index, batch.leaves[i].leaf_hash));
  }
  for (const CompactRange::Node& n : batch.nodes) {
    if (n.level == 0) continue;  // the leaves above
    MDL_RETURN_IF_ERROR(add(n.level, n.index, n.hash));
  }
  partials.size += batch.leaves.size();
  // What is left must be exactly the partial tiles of the new size.
  size_t expected = 0;
  for (uint32_t level = 0; level < 64 / kHeight && (partials.size >> (kHeight * level)) > 0;
       ++level) {
    const uint64_t hashes = partials.size >> (kHeight * level);
    const uint32_t width = static_cast<uint32_t>(hashes % kWidth);
    if (width == 0) continue;
    ++expected;
    auto it = partials.tiles.find({level, hashes / kWidth});
    if (it == partials.tiles.end() || it->second.width() != width) {
      return Status::DataLoss("ledger: the batch leaves tile (" + std::to_string(level) + ", " +
                              std::to_string(hashes / kWidth) + ") incomplete");
    }
    for (uint32_t r = 1; r < kHeight; ++r) {
      if (it->second.rises[r].size() != (width >> r)) {
        return Status::DataLoss("ledger: the batch lacks nodes of tile (" + std::to_string(level) +
                                ", " + std::to_string(hashes / kWidth) + ")");
      }
    }
  }
  if (partials.tiles.size() != expected)
    return Status::DataLoss("ledger: the batch leaves tiles unfinished");
  for (const auto& key : grown) out.push_back(partials.tiles.at(key).ToRow());
  return out;
}

std::shared_ptr<const Row> RowCache::Get(uint32_t level, uint64_t index) {
  auto it = map_.find({level, index});
  if (it == map_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return *it->second;
}

void RowCache::Put(std::shared_ptr<const Row> row) {
  Erase(row->level, row->index);
  if (capacity_ == 0) return;
  lru_.push_front(row);
  map_[{row->level, row->index}] = lru_.begin();
  while (lru_.size() > capacity_) {
    map_.erase({lru_.back()->level, lru_.back()->index});
    lru_.pop_back();
  }
}

void RowCache::Erase(uint32_t level, uint64_t index) {
  auto it = map_.find({level, index});
  if (it == map_.end()) return;
  lru_.erase(it->second);
  map_.erase(it);
}

void RowCache::Clear() {
  map_.clear();
  lru_.clear();
}

}  // namespace medallion::ledger::tile_rows
