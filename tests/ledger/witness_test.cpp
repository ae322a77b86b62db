// tlog-witness add-checkpoint (409 / 422 semantics) and the client LogVerifier (rollback,
// split view, witness policy).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>

#include "backends.h"
#include "medallion/ledger/witness.h"
#include "test_util.h"

namespace medallion::ledger {
namespace {

Hash Leaf(uint64_t i) { return HashLeaf(AsBytes("leaf " + std::to_string(i))); }

struct World {
  Ed25519NoteSigner log = Ed25519NoteSigner::FromSeed("log.example", Bytes(32, 1));
  CosignatureV1Signer w1 = CosignatureV1Signer::FromSeed("w1.example", Bytes(32, 2));
  MemoryNodeSource tree;
  std::vector<Hash> leaves;

  void Grow(uint64_t to) {
    while (leaves.size() < to) {
      leaves.push_back(Leaf(leaves.size()));
      tree.AppendLeafHash(leaves.back());
    }
  }
  std::string Note(uint64_t size) {
    Checkpoint cp{"log.example", size, RootFromLeaves(std::span(leaves).first(size)), {}};
    return log.SignNote(cp.ToText());
  }
  std::string Body(uint64_t old_size, uint64_t size) {
    AddCheckpointRequest r{old_size, {}, Note(size)};
    if (old_size > 0) r.proof = *ConsistencyProof(tree, old_size, size);
    return FormatAddCheckpointRequest(r);
  }
};

TEST_CASE("witness add-checkpoint", "[ledger][witness]") {
  // Once on SQLite, once on PostgreSQL (backends.h).
  const testing::Backend backend =
      GENERATE(testing::Backend::kSqlite, testing::Backend::kPostgres);
  if (backend == testing::Backend::kPostgres && !testing::PgBaseUrl()) {
    WARN(testing::kPgSkipMessage);
    return;
  }
  INFO("backend: " << testing::BackendName(backend));
  testing::TestDb db(backend);
  auto store = OpenLeafStore(db.db());
  REQUIRE(store);
  FakeClock clock(1700000000000);
  SeededRng rng(1);
  World world;
  world.Grow(20);
  Witness witness(store->get(), CosignatureV1Signer::FromSeed("w1.example", Bytes(32, 2)),
                  Env{&clock, &rng}, {{"log.example", world.log.Verifier()}});

  uint64_t current = 999;
  // First contact: old size 0, no proof.
  auto line = witness.AddCheckpoint(world.Body(0, 5), &current);
  REQUIRE(line);
  // The cosignature verifies under a policy that names this witness.
  WitnessPolicy policy{{witness.Verifier()}, 1};
  auto cosigned =
      OpenCheckpoint(world.Note(5) + *line, world.log.Verifier(), "log.example", &policy);
  REQUIRE(cosigned);
  auto note = ParseNote(world.Note(5) + *line);
  CHECK(*CosignatureTimestamp(note->signatures[1]) == 1700000000);

  // Growing with a valid proof.
  REQUIRE(witness.AddCheckpoint(world.Body(5, 12), &current));
  // Stale old size: 409 with the current size.
  auto stale = witness.AddCheckpoint(world.Body(5, 13), &current);
  REQUIRE_FALSE(stale);
  CHECK(AddCheckpointHttpStatus(stale.error()) == 409);
  CHECK(current == 12);
  // Bad proof: 422, and the state does not move.
  AddCheckpointRequest bad{12, *ConsistencyProof(world.tree, 12, 15), world.Note(15)};
  bad.proof[0][0] ^= 1;
  auto r = witness.AddCheckpoint(FormatAddCheckpointRequest(bad), &current);
  REQUIRE_FALSE(r);
  CHECK(AddCheckpointHttpStatus(r.error()) == 422);
  CHECK((*(*store)->GetWitnessState("log.example"))->size == 12);
  // A fork at the size the witness holds: c2sp.org/tlog-witness says 409 Conflict, with the
  // witness's size, and the state does not move.
  Checkpoint fork{"log.example", 12, Leaf(77), {}};
  current = 0;
  auto forked = witness.AddCheckpoint("old 12\n\n" + world.log.SignNote(fork.ToText()), &current);
  REQUIRE_FALSE(forked);
  CHECK(AddCheckpointHttpStatus(forked.error()) == 409);
  CHECK(current == 12);
  CHECK((*(*store)->GetWitnessState("log.example"))->root ==
        RootFromLeaves(std::span(world.leaves).first(12)));
  // The same checkpoint again is cosigned again (same size, same root).
  CHECK(witness.AddCheckpoint("old 12\n\n" + world.Note(12), &current).has_value());
  // Old size beyond the checkpoint: 400.
  CHECK(AddCheckpointHttpStatus(
            witness.AddCheckpoint(world.Body(0, 3).replace(4, 1, "9"), &current).error()) == 400);
  // Unknown log: 404. Forged signature: 403. Garbage: 400.
  auto other = Ed25519NoteSigner::FromSeed("other.example", Bytes(32, 3));
  Checkpoint ocp{"other.example", 1, Leaf(0), {}};
  CHECK(AddCheckpointHttpStatus(
            witness.AddCheckpoint("old 0\n\n" + other.SignNote(ocp.ToText()), &current).error()) ==
        404);
  auto imposter = Ed25519NoteSigner::FromSeed("log.example", Bytes(32, 4));
  Checkpoint icp{"log.example", 13, RootFromLeaves(std::span(world.leaves).first(13)), {}};
  auto forged = witness.AddCheckpoint("old 0\n\n" + imposter.SignNote(icp.ToText()), &current);
  CHECK(AddCheckpointHttpStatus(forged.error()) == 403);
  CHECK(AddCheckpointHttpStatus(witness.AddCheckpoint("hello", &current).error()) == 400);
  CHECK(AddCheckpointHttpStatus(
            witness.AddCheckpoint("old 01\n\n" + world.Note(5), &current).error()) == 400);
  store->reset();
}

TEST_CASE("client verifier refuses rollback and split view", "[ledger][client]") {
  World world;
  world.Grow(30);
  auto w2 = CosignatureV1Signer::FromSeed("w2.example", Bytes(32, 5));
  WitnessPolicy policy{{world.w1.Verifier(), w2.Verifier()}, 1};
  auto cosign = [&](const std::string& note) {
    auto text = ParseNote(note)->text;
    return note + world.w1.SignatureLine(text, 1);
  };
  LogVerifier client(world.log.Verifier(), "log.example", policy);
  CHECK_FALSE(client.trusted());
  // Without the required cosignature nothing is trusted.
  CHECK(client.Update(world.Note(10), {}).error().code() == StatusCode::kUnauthenticated);
  REQUIRE(client.Update(cosign(world.Note(10)), {}));
  CHECK(client.trusted()->size == 10);

  auto p = *InclusionProof(world.tree, 3, 10);
  CHECK(client.VerifyInclusion(3, world.leaves[3], p).ok());
  CHECK_FALSE(client.VerifyInclusion(4, world.leaves[3], p).ok());

  // Growth with a valid consistency proof.
  auto c = *ConsistencyProof(world.tree, 10, 20);
  REQUIRE(client.Update(cosign(world.Note(20)), c));
  // Rollback.
  CHECK(client.Update(cosign(world.Note(15)), {}).error().message().find("rollback") == 0);
  // Split view: same size, other root; or a bigger tree not consistent with ours.
  Checkpoint fork{"log.example", 20, Leaf(99), {}};
  CHECK(client.Update(cosign(world.log.SignNote(fork.ToText())), {})
            .error()
            .message()
            .find("split view") == 0);
  Checkpoint fork2{"log.example", 25, Leaf(98), {}};
  auto c2 = *ConsistencyProof(world.tree, 20, 25);
  CHECK(client.Update(cosign(world.log.SignNote(fork2.ToText())), c2)
            .error()
            .message()
            .find("split view") == 0);
  CHECK(client.trusted()->size == 20);

  // The trusted checkpoint survives a restart through trusted_note().
  LogVerifier again(world.log.Verifier(), "log.example", policy, client.trusted_note());
  REQUIRE(again.trusted());
  CHECK(again.trusted()->size == 20);
  CHECK(again.Update(cosign(world.Note(15)), {}).error().message().find("rollback") == 0);
}

}  // namespace
}  // namespace medallion::ledger
