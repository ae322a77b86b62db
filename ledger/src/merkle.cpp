// RFC 9162 hashing, verification (after transparency-dev/merkle proof/verify.go) and proof
// generation over a NodeSource.
#include "medallion/ledger/merkle.h"

#include <bit>
#include <cstring>

namespace medallion::ledger {
namespace {

// Length in bits of x (Go's bits.Len64).
int BitLen(uint64_t x) { return x == 0 ? 0 : 64 - std::countl_zero(x); }

bool Equal(ByteView a, ByteView b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

ProofCheck Mismatch(const char* what) { return {ProofError::kRootMismatch, what}; }

ProofCheck WrongSize(size_t got, size_t want) {
  return {ProofError::kWrongProofSize,
          "proof has " + std::to_string(got) + " hashes, want " + std::to_string(want)};
}

// Converts untrusted hashes; false if any is not 32 bytes.
bool ToHashes(std::span<const Bytes> in, Proof* out) {
  out->clear();
  out->reserve(in.size());
  for (const Bytes& b : in) {
    if (b.size() != kHashSize) return false;
    Hash h;
    std::memcpy(h.data(), b.data(), kHashSize);
    out->push_back(h);
  }
  return true;
}

bool ToHash(ByteView in, Hash* out) {
  if (in.size() != kHashSize) return false;
  std::memcpy(out->data(), in.data(), kHashSize);
  return true;
}

// (inner, border) lengths of an inclusion proof for `index` in a tree of `size`: the split
// is where the paths to `index` and `size - 1` diverge.
std::pair<int, int> DecompInclusionProof(uint64_t index, uint64_t size) {
  int inner = BitLen(index ^ (size - 1));
  int border = std::popcount(index >> inner);
  return {inner, border};
}

Hash ChainInner(Hash seed, std::span<const Hash> proof, uint64_t index) {
  for (size_t i = 0; i < proof.size(); ++i) {
    seed = ((index >> i) & 1) == 0 ? HashChildren(seed, proof[i]) : HashChildren(proof[i], seed);
  }
  return seed;
}

// Like ChainInner, but only left siblings count: the hash of the earlier version of the node.
Hash ChainInnerRight(Hash seed, std::span<const Hash> proof, uint64_t index) {
  for (size_t i = 0; i < proof.size(); ++i) {
    if ((index >> i) & 1) seed = HashChildren(proof[i], seed);
  }
  return seed;
}

Hash ChainBorderRight(Hash seed, std::span<const Hash> proof) {
  for (const Hash& h : proof) seed = HashChildren(h, seed);
  return seed;
}

ProofCheck RootFromInclusion(uint64_t index, uint64_t size, const Hash& leaf,
                             std::span<const Hash> proof, Hash* root) {
  if (index >= size) {
    return {ProofError::kIndexOutOfRange,
            "index " + std::to_string(index) + " >= size " + std::to_string(size)};
  }
  auto [inner, border] = DecompInclusionProof(index, size);
  if (proof.size() != static_cast<size_t>(inner + border))
    return WrongSize(proof.size(), inner + border);
  Hash h = ChainInner(leaf, proof.first(inner), index);
  *root = ChainBorderRight(h, proof.subspan(inner));
  return {};
}

// Subtree consistency for start < end < size or start > 0 (MTC draft §4.4.3), after
// transparency-dev/merkle rootFromSubtreeConsistencyProof. REQUIRES: valid subtree,
// end <= size, proof non-empty.
ProofCheck RootFromSubtreeConsistency(uint64_t start, uint64_t end, uint64_t size,
                                      std::span<const Hash> proof, const Hash& sub_root,
                                      Hash* root) {
  if (end == size) {
    int level = BitLen((end - 1) ^ start);
    uint64_t index = start >> level;
    size_t want = std::popcount(index);
    if (proof.size() != want) return WrongSize(proof.size(), want);
    *root = ChainBorderRight(sub_root, proof);
    return {};
  }
  int fork_level = BitLen((end - 1) ^ (size - 1));
  int shift = std::countr_zero(end - start);
  Hash seed = proof[0];
  size_t p_start = 1;
  // A perfect subtree is its own rightmost perfect part: the verifier already has its hash.
  if (end - start == (uint64_t{1} << shift)) {
    seed = sub_root;
    p_start = 0;
  }
  size_t want = p_start + (fork_level - shift) + std::popcount((end - 1) >> fork_level);
  if (proof.size() != want) return WrongSize(proof.size(), want);
  std::span<const Hash> rest = proof.subspan(p_start);

  // Hash up to the subtree root both as it is (size end) and as grown in the tree of size.
  int h = BitLen((end - 1) ^ start);
  Hash sub = seed, grown = seed;
  size_t i = 0;
  for (int lvl = shift; lvl < h; ++lvl) {
    if (((end - 1) >> lvl) & 1) {
      if (i >= rest.size()) return WrongSize(proof.size(), want + 1);
      sub = HashChildren(rest[i], sub);
      grown = HashChildren(rest[i], grown);
      ++i;
    } else if (lvl < fork_level) {
      if (i >= rest.size()) return WrongSize(proof.size(), want + 1);
      grown = HashChildren(grown, rest[i]);
      ++i;
    }
  }
  if (!Equal(sub, sub_root)) return Mismatch("subtree root does not match");
  uint64_t s_index = start >> h;
  uint64_t s_size = ((size - 1) >> h) + 1;
  return RootFromInclusion(s_index, s_size, grown, rest.subspan(i), root);
}

}  // namespace

Hash HashLeaf(ByteView entry) {
  std::vector<uint8_t> buf;
  buf.reserve(entry.size() + 1);
  buf.push_back(0x00);
  buf.insert(buf.end(), entry.begin(), entry.end());
  return Sha256(buf);
}

Hash HashChildren(const Hash& left, const Hash& right) {
  uint8_t buf[1 + 2 * kHashSize];
  buf[0] = 0x01;
  std::memcpy(buf + 1, left.data(), kHashSize);
  std::memcpy(buf + 1 + kHashSize, right.data(), kHashSize);
  return Sha256(ByteView(buf, sizeof buf));
}

Hash EmptyRoot() { return Sha256(ByteView()); }

Hash RootFromLeaves(std::span<const Hash> leaves) {
  if (leaves.empty()) return EmptyRoot();
  if (leaves.size() == 1) return leaves[0];
  size_t k = std::bit_floor(leaves.size() - 1);  // largest power of two < n
  return HashChildren(RootFromLeaves(leaves.first(k)), RootFromLeaves(leaves.subspan(k)));
}

Result<Hash> HashFromBytes(ByteView bytes) {
  Hash h;
  if (!ToHash(bytes, &h)) {
    return Status::InvalidArgument("hash must be 32 bytes, got " + std::to_string(bytes.size()));
  }
  return h;
}

std::string_view ProofErrorName(ProofError e) {
  switch (e) {
    case ProofError::kNone:
      return "ok";
    case ProofError::kIndexOutOfRange:
      return "index_out_of_range";
    case ProofError::kSizeOrder:
      return "size_order";
    case ProofError::kInvalidSubtree:
      return "invalid_subtree";
    case ProofError::kBadHashSize:
      return "bad_hash_size";
    case ProofError::kWrongProofSize:
      return "wrong_proof_size";
    case ProofError::kRootMismatch:
      return "root_mismatch";
  }
  return "unknown";
}

Status ProofCheck::ToStatus() const {
  if (ok()) return Status::Ok();
  return Status::FailedPrecondition("proof: " + std::string(ProofErrorName(error_)) + ": " +
                                    detail_);
}

ProofCheck VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf_hash,
                           std::span<const Hash> proof, const Hash& root) {
  Hash calc;
  ProofCheck c = RootFromInclusion(index, size, leaf_hash, proof, &calc);
  if (!c.ok()) return c;
  if (calc != root) return Mismatch("computed root does not match");
  return {};
}

ProofCheck VerifyInclusion(uint64_t index, uint64_t size, ByteView leaf_hash,
                           std::span<const Bytes> proof, ByteView root) {
  if (index >= size) {
    return {ProofError::kIndexOutOfRange,
            "index " + std::to_string(index) + " >= size " + std::to_string(size)};
  }
  Hash leaf;
  Proof p;
  if (!ToHash(leaf_hash, &leaf)) return {ProofError::kBadHashSize, "leaf hash is not 32 bytes"};
  if (!ToHashes(proof, &p)) return {ProofError::kBadHashSize, "proof hash is not 32 bytes"};
  Hash calc;
  ProofCheck c = RootFromInclusion(index, size, leaf, p, &calc);
  if (!c.ok()) return c;
  if (!Equal(calc, root)) return Mismatch("computed root does not match");
  return {};
}

ProofCheck VerifyConsistency(uint64_t size1, uint64_t size2, std::span<const Bytes> proof,
                             ByteView root1, ByteView root2) {
  if (size2 < size1) {
    return {ProofError::kSizeOrder,
            "size2 " + std::to_string(size2) + " < size1 " + std::to_string(size1)};
  }
  if (size1 == 0)
    return {ProofError::kSizeOrder, "consistency proof from an empty tree proves nothing"};
  if (size1 == size2) {
    if (!proof.empty()) return WrongSize(proof.size(), 0);
    if (!Equal(root1, root2)) return Mismatch("equal sizes with different roots");
    return {};
  }
  if (proof.empty()) return WrongSize(0, 1);
  Proof p;
  if (!ToHashes(proof, &p)) return {ProofError::kBadHashSize, "proof hash is not 32 bytes"};

  auto [inner, border] = DecompInclusionProof(size1 - 1, size2);
  int shift = std::countr_zero(size1);
  inner -= shift;  // shift < inner because size1 < size2
  // The proof starts with the root of the rightmost perfect subtree of size1, unless size1
  // is itself a power of two, whose root the verifier already has (root1).
  Hash seed;
  size_t start = 1;
  if (size1 == (uint64_t{1} << shift)) {
    if (!ToHash(root1, &seed)) return Mismatch("root1 is not 32 bytes");
    start = 0;
  } else {
    seed = p[0];
  }
  size_t want = start + inner + border;
  if (p.size() != want) return WrongSize(p.size(), want);
  std::span<const Hash> rest = std::span<const Hash>(p).subspan(start);
  uint64_t mask = (size1 - 1) >> shift;
  Hash h1 = ChainInnerRight(seed, rest.first(inner), mask);
  h1 = ChainBorderRight(h1, rest.subspan(inner));
  if (!Equal(h1, root1)) return Mismatch("computed root1 does not match");
  Hash h2 = ChainInner(seed, rest.first(inner), mask);
  h2 = ChainBorderRight(h2, rest.subspan(inner));
  if (!Equal(h2, root2)) return Mismatch("computed root2 does not match");
  return {};
}

ProofCheck VerifyConsistency(uint64_t size1, uint64_t size2, std::span<const Hash> proof,
                             const Hash& root1, const Hash& root2) {
  std::vector<Bytes> p;
  p.reserve(proof.size());
  for (const Hash& h : proof) p.emplace_back(h.begin(), h.end());
  return VerifyConsistency(size1, size2, p, root1, root2);
}

bool IsValidSubtree(uint64_t start, uint64_t end) {
  if (start >= end) return false;
  if (start == 0) return true;
  uint64_t len = end - start;
  if (len > (uint64_t{1} << 63)) return false;
  uint64_t ceil = std::bit_ceil(len);
  return (start & (ceil - 1)) == 0;
}

ProofCheck VerifySubtreeInclusion(uint64_t index, uint64_t start, uint64_t end, ByteView leaf_hash,
                                  std::span<const Bytes> proof, ByteView subtree_root) {
  if (!IsValidSubtree(start, end)) {
    return {ProofError::kInvalidSubtree,
            "[" + std::to_string(start) + ", " + std::to_string(end) + ") is not a subtree"};
  }
  if (index < start || index >= end)
    return {ProofError::kIndexOutOfRange, "index outside the subtree"};
  return VerifyInclusion(index - start, end - start, leaf_hash, proof, subtree_root);
}

ProofCheck VerifySubtreeConsistency(uint64_t start, uint64_t end, uint64_t size,
                                    std::span<const Bytes> proof, ByteView subtree_root,
                                    ByteView root) {
  if (start == end) {
    // The empty subtree is in every tree; only its own hash can be checked.
    if (end > size) return {ProofError::kSizeOrder, "subtree ends beyond the tree"};
    if (!proof.empty()) return WrongSize(proof.size(), 0);
    if (!Equal(subtree_root, EmptyRoot()))
      return Mismatch("empty subtree hash is not SHA-256(\"\")");
    return {};
  }
  if (!IsValidSubtree(start, end)) {
    return {ProofError::kInvalidSubtree,
            "[" + std::to_string(start) + ", " + std::to_string(end) + ") is not a subtree"};
  }
  if (size < end) return {ProofError::kSizeOrder, "subtree ends beyond the tree"};
  if (start == 0 && end == size) {
    if (!proof.empty()) return WrongSize(proof.size(), 0);
    if (!Equal(subtree_root, root)) return Mismatch("subtree is the whole tree but roots differ");
    return {};
  }
  if (proof.empty()) return WrongSize(0, 1);
  Proof p;
  Hash sub;
  if (!ToHashes(proof, &p)) return {ProofError::kBadHashSize, "proof hash is not 32 bytes"};
  if (!ToHash(subtree_root, &sub)) return Mismatch("subtree root is not 32 bytes");
  Hash calc;
  ProofCheck c = RootFromSubtreeConsistency(start, end, size, p, sub, &calc);
  if (!c.ok()) return c;
  if (!Equal(calc, root)) return Mismatch("computed root does not match");
  return {};
}

// ---- Generation ----

MemoryNodeSource::MemoryNodeSource(std::span<const Hash> leaf_hashes) {
  for (const Hash& h : leaf_hashes) AppendLeafHash(h);
}

void MemoryNodeSource::AppendLeafHash(const Hash& leaf_hash) {
  if (levels_.empty()) levels_.emplace_back();
  levels_[0].push_back(leaf_hash);
  for (size_t l = 0; levels_[l].size() % 2 == 0; ++l) {
    if (levels_.size() == l + 1) levels_.emplace_back();
    const auto& below = levels_[l];
    levels_[l + 1].push_back(HashChildren(below[below.size() - 2], below.back()));
  }
}

Status MemoryNodeSource::GetNode(uint32_t level, uint64_t index, Hash* out) {
  if (level >= levels_.size() || index >= levels_[level].size()) {
    return Status::NotFound("node (" + std::to_string(level) + ", " + std::to_string(index) + ")");
  }
  *out = levels_[level][index];
  return Status::Ok();
}

Result<Hash> RangeRoot(NodeSource& nodes, uint64_t begin, uint64_t end) {
  MDL_CHECK(begin <= end);
  uint64_t n = end - begin;
  if (n == 0) return EmptyRoot();
  if (std::has_single_bit(n) && begin % n == 0) {
    Hash h;
    MDL_RETURN_IF_ERROR(nodes.GetNode(std::countr_zero(n), begin >> std::countr_zero(n), &h));
    return h;
  }
  uint64_t k = std::bit_floor(n - 1);
  MDL_ASSIGN_OR_RETURN(Hash left, RangeRoot(nodes, begin, begin + k));
  MDL_ASSIGN_OR_RETURN(Hash right, RangeRoot(nodes, begin + k, end));
  return HashChildren(left, right);
}

Result<Hash> TreeRoot(NodeSource& nodes, uint64_t size) { return RangeRoot(nodes, 0, size); }

namespace {

// PATH(m, D[begin:end]) of RFC 9162 §2.1.3.1 with absolute leaf index m, appended
// leaf-first to *out.
Status Path(NodeSource& nodes, uint64_t m, uint64_t begin, uint64_t end, Proof* out) {
  uint64_t n = end - begin;
  if (n <= 1) return Status::Ok();
  uint64_t k = std::bit_floor(n - 1);
  if (m < begin + k) {
    MDL_RETURN_IF_ERROR(Path(nodes, m, begin, begin + k, out));
    MDL_ASSIGN_OR_RETURN(Hash h, RangeRoot(nodes, begin + k, end));
    out->push_back(h);
  } else {
    MDL_RETURN_IF_ERROR(Path(nodes, m, begin + k, end, out));
    MDL_ASSIGN_OR_RETURN(Hash h, RangeRoot(nodes, begin, begin + k));
    out->push_back(h);
  }
  return Status::Ok();
}

// SUBPROOF(m, D[begin:end], b) of RFC 9162 §2.1.4.1, m relative to begin.
Status SubProof(NodeSource& nodes, uint64_t m, uint64_t begin, uint64_t end, bool b, Proof* out) {
  uint64_t n = end - begin;
  if (m == n) {
    if (!b) {
      MDL_ASSIGN_OR_RETURN(Hash h, RangeRoot(nodes, begin, end));
      out->push_back(h);
    }
    return Status::Ok();
  }
  uint64_t k = std::bit_floor(n - 1);
  if (m <= k) {
    MDL_RETURN_IF_ERROR(SubProof(nodes, m, begin, begin + k, b, out));
    MDL_ASSIGN_OR_RETURN(Hash h, RangeRoot(nodes, begin + k, end));
    out->push_back(h);
  } else {
    MDL_RETURN_IF_ERROR(SubProof(nodes, m - k, begin + k, end, false, out));
    MDL_ASSIGN_OR_RETURN(Hash h, RangeRoot(nodes, begin, begin + k));
    out->push_back(h);
  }
  return Status::Ok();
}

}  // namespace

Result<Proof> InclusionProof(NodeSource& nodes, uint64_t index, uint64_t size) {
  if (index >= size) {
    return Status::InvalidArgument("inclusion proof: index " + std::to_string(index) + " >= size " +
                                   std::to_string(size));
  }
  Proof out;
  MDL_RETURN_IF_ERROR(Path(nodes, index, 0, size, &out));
  return out;
}

Result<Proof> ConsistencyProof(NodeSource& nodes, uint64_t size1, uint64_t size2) {
  if (size1 == 0 || size1 > size2) {
    return Status::InvalidArgument("consistency proof: need 0 < first <= second, got " +
                                   std::to_string(size1) + ", " + std::to_string(size2));
  }
  Proof out;
  if (size1 == size2) return out;
  MDL_RETURN_IF_ERROR(SubProof(nodes, size1, 0, size2, true, &out));
  return out;
}

// ---- CompactRange ----

CompactRange::CompactRange(uint64_t size, std::vector<Hash> border)
    : size_(size), border_(std::move(border)) {
  MDL_CHECK(border_.size() == static_cast<size_t>(std::popcount(size_)));
}

std::vector<CompactRange::Node> CompactRange::Append(const Hash& leaf_hash) {
  std::vector<Node> done;
  uint64_t index = size_;
  Hash h = leaf_hash;
  done.push_back({0, index, h});
  uint32_t level = 0;
  // Every trailing one bit of the old size is a complete sibling on the border to merge with.
  while ((index >> 0) & 1) {
    h = HashChildren(border_.back(), h);
    border_.pop_back();
    index >>= 1;
    ++level;
    done.push_back({level, index, h});
  }
  border_.push_back(h);
  ++size_;
  return done;
}

Hash CompactRange::Root() const {
  if (border_.empty()) return EmptyRoot();
  Hash h = border_.back();
  for (size_t i = border_.size() - 1; i-- > 0;) h = HashChildren(border_[i], h);
  return h;
}

std::vector<std::pair<uint32_t, uint64_t>> CompactRange::BorderNodes(uint64_t size) {
  std::vector<std::pair<uint32_t, uint64_t>> out;
  uint64_t begin = 0;
  for (int level = 63; level >= 0; --level) {
    uint64_t bit = uint64_t{1} << level;
    if (size & bit) {
      out.emplace_back(level, begin >> level);
      begin += bit;
    }
  }
  return out;
}

}  // namespace medallion::ledger
