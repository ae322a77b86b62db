// RFC 9162 hashing, proof verification against the transparency-dev/merkle test data, and
// proof generation checked against verification.
#include <catch2/catch.hpp>

#include <filesystem>

#include "medallion/ledger/merkle.h"
#include "test_util.h"

namespace medallion::ledger {
namespace {

using medallion::testing::VectorPath;
using nlohmann::json;

Bytes B64(const json& v) {
  if (v.is_null()) return {};
  auto r = Base64Decode(v.get<std::string>());
  if (!r) throw std::runtime_error("bad base64 in vector: " + v.get<std::string>());
  return *r;
}

std::vector<Bytes> B64List(const json& v) {
  std::vector<Bytes> out;
  if (v.is_null()) return out;
  for (const auto& e : v) out.push_back(B64(e));
  return out;
}

std::vector<std::filesystem::path> VectorFiles(const std::string& dir) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(VectorPath(dir))) {
    if (e.is_regular_file() && e.path().extension() == ".json") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

json Load(const std::filesystem::path& p) {
  return json::parse(medallion::testing::ReadFile(p.string()));
}

Hash LeafN(uint64_t i) { return HashLeaf(AsBytes("leaf " + std::to_string(i))); }

TEST_CASE("RFC 9162 hashes", "[ledger][merkle]") {
  CHECK(HexEncode(EmptyRoot()) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // transparency-dev/merkle rfc6962 hasher test: leaf "L123456", children "N123"/"N456".
  CHECK(HexEncode(HashLeaf(AsBytes("L123456"))) ==
        "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56");
  CHECK(HexEncode(HashLeaf(ByteView())) ==
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
}

TEST_CASE("inclusion vectors", "[ledger][merkle][vectors]") {
  auto files = VectorFiles("rfc6962/inclusion");
  REQUIRE(files.size() >= 90);
  int ok = 0, failed = 0;
  for (const auto& f : files) {
    json v = Load(f);
    INFO(f.string() << ": " << v["desc"].get<std::string>());
    ProofCheck c = VerifyInclusion(v["leafIdx"].get<uint64_t>(), v["treeSize"].get<uint64_t>(),
                                   B64(v["leafHash"]), B64List(v["proof"]), B64(v["root"]));
    CHECK(c.ok() == !v["wantErr"].get<bool>());
    (c.ok() ? ok : failed)++;
  }
  CHECK(ok > 0);
  CHECK(failed > 0);
}

TEST_CASE("consistency vectors", "[ledger][merkle][vectors]") {
  auto files = VectorFiles("rfc6962/consistency");
  REQUIRE(files.size() >= 90);
  for (const auto& f : files) {
    json v = Load(f);
    INFO(f.string() << ": " << v["desc"].get<std::string>());
    ProofCheck c = VerifyConsistency(v["size1"].get<uint64_t>(), v["size2"].get<uint64_t>(),
                                     B64List(v["proof"]), B64(v["root1"]), B64(v["root2"]));
    INFO(ProofErrorName(c.error()) << " " << c.detail());
    CHECK(c.ok() == !v["wantErr"].get<bool>());
  }
}

TEST_CASE("subtree inclusion vectors", "[ledger][merkle][vectors]") {
  auto files = VectorFiles("rfc6962/subtreeinclusion");
  REQUIRE(files.size() >= 200);
  for (const auto& f : files) {
    json v = Load(f);
    INFO(f.string() << ": " << v["desc"].get<std::string>());
    ProofCheck c = VerifySubtreeInclusion(v["leafIdx"].get<uint64_t>(), v["start"].get<uint64_t>(),
                                          v["end"].get<uint64_t>(), B64(v["leafHash"]),
                                          B64List(v["proof"]), B64(v["root"]));
    INFO(ProofErrorName(c.error()) << " " << c.detail());
    CHECK(c.ok() == !v["wantErr"].get<bool>());
  }
}

TEST_CASE("subtree consistency vectors", "[ledger][merkle][vectors]") {
  auto files = VectorFiles("rfc6962/subtreeconsistency");
  REQUIRE(files.size() >= 100);
  for (const auto& f : files) {
    json v = Load(f);
    INFO(f.string() << ": " << v["desc"].get<std::string>());
    ProofCheck c = VerifySubtreeConsistency(v["start"].get<uint64_t>(), v["end"].get<uint64_t>(),
                                            v["size"].get<uint64_t>(), B64List(v["proof"]),
                                            B64(v["root1"]), B64(v["root2"]));
    INFO(ProofErrorName(c.error()) << " " << c.detail());
    CHECK(c.ok() == !v["wantErr"].get<bool>());
  }
}

TEST_CASE("generated proofs verify and corruptions fail", "[ledger][merkle]") {
  constexpr uint64_t kMax = 70;
  std::vector<Hash> leaves;
  MemoryNodeSource nodes;
  CompactRange range;
  std::vector<Hash> roots{EmptyRoot()};
  for (uint64_t i = 0; i < kMax; ++i) {
    leaves.push_back(LeafN(i));
    nodes.AppendLeafHash(leaves.back());
    auto done = range.Append(leaves.back());
    REQUIRE(done.front().level == 0);
    for (const auto& n : done) {
      Hash h;
      REQUIRE(nodes.GetNode(n.level, n.index, &h).ok());
      CHECK(h == n.hash);
    }
    roots.push_back(RootFromLeaves(leaves));
    CHECK(range.Root() == roots.back());
    CHECK(*TreeRoot(nodes, i + 1) == roots.back());
  }
  for (uint64_t size = 1; size <= kMax; ++size) {
    for (uint64_t i = 0; i < size; ++i) {
      auto p = InclusionProof(nodes, i, size);
      REQUIRE(p);
      CHECK(VerifyInclusion(i, size, leaves[i], *p, roots[size]).ok());
      CHECK(VerifyInclusion(i, size, leaves[(i + 1) % kMax], *p, roots[size]).error() ==
            ProofError::kRootMismatch);
      if (!p->empty()) {
        Proof bad = *p;
        bad[bad.size() / 2][0] ^= 1;
        CHECK_FALSE(VerifyInclusion(i, size, leaves[i], bad, roots[size]).ok());
        bad.pop_back();
        CHECK(VerifyInclusion(i, size, leaves[i], bad, roots[size]).error() ==
              ProofError::kWrongProofSize);
      }
    }
    for (uint64_t s1 = 1; s1 <= size; ++s1) {
      auto p = ConsistencyProof(nodes, s1, size);
      REQUIRE(p);
      CHECK(VerifyConsistency(s1, size, *p, roots[s1], roots[size]).ok());
      if (s1 < size) {
        CHECK_FALSE(VerifyConsistency(s1, size, *p, roots[s1 - 1], roots[size]).ok());
        CHECK_FALSE(VerifyConsistency(s1, size, *p, roots[s1], roots[size - 1]).ok());
      }
    }
  }
  CHECK_FALSE(InclusionProof(nodes, 5, 5));
  CHECK_FALSE(ConsistencyProof(nodes, 0, 5));
  CHECK_FALSE(ConsistencyProof(nodes, 6, 5));
  CHECK(RootFromLeaves({}) == EmptyRoot());
}

TEST_CASE("CompactRange border nodes", "[ledger][merkle]") {
  auto b = CompactRange::BorderNodes(13);  // 8 + 4 + 1
  REQUIRE(b.size() == 3);
  CHECK(b[0] == std::pair<uint32_t, uint64_t>{3, 0});
  CHECK(b[1] == std::pair<uint32_t, uint64_t>{2, 2});
  CHECK(b[2] == std::pair<uint32_t, uint64_t>{0, 12});
}

}  // namespace
}  // namespace medallion::ledger
