// RFC 9162 Merkle tree hashing, proof verification and proof generation.
//
// Three layers, as in transparency-dev/merkle: the hasher (HashLeaf / HashChildren), pure
// verification over sizes and hashes with typed errors (VerifyInclusion, VerifyConsistency and
// the subtree variants of draft-ietf-plants-merkle-tree-certs), and proof generation over a
// NodeSource that knows the hashes of complete subtrees (storage lives elsewhere).
//
// Hash arguments are byte views so that untrusted input of the wrong length is an error, not
// a crash; every hash produced here is a 32-byte Hash.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "medallion/core/bytes.h"
#include "medallion/core/hash.h"
#include "medallion/core/status.h"

namespace medallion::ledger {

using Hash = Hash256;
inline constexpr size_t kHashSize = 32;
// An inclusion or consistency proof: node hashes ordered from the leaves towards the root.
using Proof = std::vector<Hash>;

// RFC 9162 §2.1.1: SHA-256(0x00 || entry).
Hash HashLeaf(ByteView entry);
// RFC 9162 §2.1.1: SHA-256(0x01 || left || right).
Hash HashChildren(const Hash& left, const Hash& right);
// RFC 9162 §2.1.1: the hash of an empty tree, SHA-256("").
Hash EmptyRoot();
// MTH(D[n]) of RFC 9162 §2.1.1 over already hashed leaves. Pure; O(n) hashing.
Hash RootFromLeaves(std::span<const Hash> leaf_hashes);
// Copies a byte string into a Hash. invalid_argument unless it is exactly 32 bytes.
Result<Hash> HashFromBytes(ByteView bytes);

// Why a proof did not verify.
enum class ProofError : int {
  kNone = 0,
  kIndexOutOfRange,  // leaf index not inside the tree / subtree
  kSizeOrder,        // sizes in the wrong order, or a consistency proof from an empty tree
  kInvalidSubtree,   // [start, end) is not a subtree (draft-ietf-plants-merkle-tree-certs §4.1)
  kBadHashSize,      // a leaf or proof hash that is not 32 bytes
  kWrongProofSize,   // the proof has the wrong number of hashes for these sizes
  kRootMismatch,     // the proof is well formed but leads to a different root
};
std::string_view ProofErrorName(ProofError e);

// The outcome of a proof check: ok(), or a ProofError with a human-readable detail.
class [[nodiscard]] ProofCheck {
 public:
  ProofCheck() = default;
  ProofCheck(ProofError error, std::string detail) : error_(error), detail_(std::move(detail)) {}
  bool ok() const { return error_ == ProofError::kNone; }
  ProofError error() const { return error_; }
  const std::string& detail() const { return detail_; }
  // OK, or failed_precondition ("proof: root_mismatch: ...") for a proof that does not verify.
  Status ToStatus() const;

 private:
  ProofError error_ = ProofError::kNone;
  std::string detail_;
};

// RFC 9162 §2.1.3.2: checks that `leaf_hash` is leaf `index` of the tree of `size` leaves
// whose root is `root`. REQUIRES nothing: every bad input is a ProofError.
ProofCheck VerifyInclusion(uint64_t index, uint64_t size, ByteView leaf_hash,
                           std::span<const Bytes> proof, ByteView root);
ProofCheck VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf_hash,
                           std::span<const Hash> proof, const Hash& root);

// RFC 9162 §2.1.4.2: checks that the tree of `size1` leaves with root `root1` is a prefix of
// the tree of `size2` leaves with root `root2`. A proof from size 0 is refused (kSizeOrder):
// it proves nothing. Equal sizes need an empty proof and equal roots.
ProofCheck VerifyConsistency(uint64_t size1, uint64_t size2, std::span<const Bytes> proof,
                             ByteView root1, ByteView root2);
ProofCheck VerifyConsistency(uint64_t size1, uint64_t size2, std::span<const Hash> proof,
                             const Hash& root1, const Hash& root2);

// True if [start, end) is a subtree in the sense of draft-ietf-plants-merkle-tree-certs §4.1:
// start < end and start is a multiple of the smallest power of two >= end - start.
bool IsValidSubtree(uint64_t start, uint64_t end);

// Subtree inclusion proof (MTC draft §4.3): leaf `index` is in subtree [start, end) whose
// hash is `subtree_root`.
ProofCheck VerifySubtreeInclusion(uint64_t index, uint64_t start, uint64_t end, ByteView leaf_hash,
                                  std::span<const Bytes> proof, ByteView subtree_root);

// Subtree consistency proof (MTC draft §4.4): subtree [start, end) with hash `subtree_root`
// is part of the tree of `size` leaves with root `root`. An empty subtree (start == end)
// verifies with an empty proof iff its hash is EmptyRoot(); it says nothing about `root`.
ProofCheck VerifySubtreeConsistency(uint64_t start, uint64_t end, uint64_t size,
                                    std::span<const Bytes> proof, ByteView subtree_root,
                                    ByteView root);

// Hashes of complete subtrees: node (level, index) covers leaves
// [index << level, (index + 1) << level).
class NodeSource {
 public:
  virtual ~NodeSource() = default;
  // Stores the hash of the complete node (level, index) in *out. REQUIRES: the node is
  // complete in the tree the caller is proving against. not_found if unknown; other errors
  // are the source's own (I/O).
  [[nodiscard]] virtual Status GetNode(uint32_t level, uint64_t index, Hash* out) = 0;
};

// All nodes of a tree held in memory: for tests, the client and small trees. Not thread-safe.
class MemoryNodeSource final : public NodeSource {
 public:
  MemoryNodeSource() = default;
  explicit MemoryNodeSource(std::span<const Hash> leaf_hashes);
  void AppendLeafHash(const Hash& leaf_hash);
  uint64_t size() const { return levels_.empty() ? 0 : levels_[0].size(); }
  Status GetNode(uint32_t level, uint64_t index, Hash* out) override;

 private:
  std::vector<std::vector<Hash>> levels_;  // levels_[l][i] = node (l, i)
};

// MTH(D[begin:end]) for a range whose `begin` is a multiple of the smallest power of two
// >= end - begin (the only ranges RFC 9162 proofs use). O(log n) reads from `nodes`.
Result<Hash> RangeRoot(NodeSource& nodes, uint64_t begin, uint64_t end);
// The root of the first `size` leaves: RangeRoot(nodes, 0, size).
Result<Hash> TreeRoot(NodeSource& nodes, uint64_t size);

// RFC 9162 §2.1.3.1 PATH(index, D[size]). invalid_argument unless index < size. O(log n) reads.
Result<Proof> InclusionProof(NodeSource& nodes, uint64_t index, uint64_t size);
// RFC 9162 §2.1.4.1 PROOF(size1, D[size2]). invalid_argument unless 0 < size1 <= size2
// (size1 == size2 gives an empty proof). O(log n) reads.
Result<Proof> ConsistencyProof(NodeSource& nodes, uint64_t size1, uint64_t size2);

// The right border of a tree (a "compact range" of transparency-dev): the hashes of the
// maximal complete subtrees covering [0, size), largest first. Appending a leaf returns the
// nodes it completes, so a store can persist every complete node without reading any.
class CompactRange {
 public:
  struct Node {
    uint32_t level;
    uint64_t index;
    Hash hash;
  };
  CompactRange() = default;
  // REQUIRES: `border` holds one hash per set bit of `size`, largest subtree first.
  CompactRange(uint64_t size, std::vector<Hash> border);

  uint64_t size() const { return size_; }
  const std::vector<Hash>& border() const { return border_; }
  // Appends a leaf; returns the nodes completed by it, the leaf itself first.
  std::vector<Node> Append(const Hash& leaf_hash);
  // MTH of the first size() leaves (EmptyRoot() for size 0).
  Hash Root() const;
  // The nodes (level, index) whose hashes make up the border of a tree of `size` leaves.
  static std::vector<std::pair<uint32_t, uint64_t>> BorderNodes(uint64_t size);

 private:
  uint64_t size_ = 0;
  std::vector<Hash> border_;
};

}  // namespace medallion::ledger
