// `medallion ledger ...`: run a ledger node or a witness, append, read with proofs, check
// checkpoints as a client, and verify a node's storage offline.
#include "cli_ledger.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_anchor.h"
#include "cli_ledger_options.h"
#include "cli_util.h"
#include "medallion/roles/ledger_node.h"
#include "medallion/claims/ledger_entries.h"
#include "medallion/core/encoding.h"
#include "medallion/did/did_mdl.h"
#include "medallion/ledger/checkpoint.h"
#include "medallion/ledger/log.h"
#include "medallion/ledger/pg_store.h"
#include "medallion/ledger/store.h"
#include "medallion/ledger/tiles.h"
#include "medallion/ledger/witness.h"
#include "medallion/http/http_client.h"
#include "medallion/roles/ledger_client.h"
#include "medallion/roles/ledger_http.h"
#include "medallion/uma/authorization_server.h"
#include "medallion/uma/relationship.h"

namespace medallion::cli {
namespace {

using nlohmann::json;

json ProvenJson(const roles::ProvenEntry& e) {
  json proof = json::array();
  for (const auto& h : e.inclusion_proof) proof.push_back(HexEncode(h));
  return {{"index", e.index},
          {"leaf_hash", HexEncode(e.leaf_hash)},
          {"entry", json::parse(e.entry)},
          {"tree_size", e.tree_size},
          {"inclusion_proof", proof}};
}

// `ledger serve`.
struct LedgerServeOptions : roles::LedgerNodeOptions {
  bool json = false;
};

void AddLedgerServe(CLI::App* parent, int& rc) {
  auto* cmd = parent->add_subcommand("serve", "Run a ledger node (HTTP API in docs/ledger.md)");
  auto o = std::make_shared<LedgerServeOptions>();
  AddTlsOptions(cmd, o->tls);
  cmd->add_option("--db", o->db,
                  "The log's database: a SQLite file (created if missing) or a postgresql:// URL");
  cmd->add_option("--key-file", o->key_file,
                  "The log's Ed25519 seed, hex (created 0600 if missing)");
  cmd->add_option("--origin", o->origin,
                  "The log's origin line (checkpoint first line, note key name)");
  cmd->add_option("--listen", o->listen, "HOST:PORT (port 0 picks a free one)");
  cmd->add_option("--witness", o->witnesses,
                  "A witness to ask for cosignatures: URL=VERIFIER_KEY (repeat)");
  AddAnchoringOptions(cmd, o->anchor);
  cmd->add_flag("--json", o->json, "Print the banner (origin, verifier key, URL) as one JSON line");
  cmd->callback([o, &rc] {
    roles::LedgerNodeRole node(*o, DefaultEnv());
    rc = ServeRole(node, o->json);
  });
}

// `ledger witness`.
struct LedgerWitnessOptions : roles::WitnessOptions {
  bool json = false;
};

void AddLedgerWitness(CLI::App* parent, int& rc) {
  auto* cmd = parent->add_subcommand(
      "witness", "Run a witness (c2sp.org/tlog-witness add-checkpoint) for named logs");
  auto o = std::make_shared<LedgerWitnessOptions>();
  AddTlsOptions(cmd, o->tls);
  cmd->add_option("--db", o->db,
                  "The witness state: a SQLite file (created if missing) or a postgresql:// URL");
  cmd->add_option("--key-file", o->key_file,
                  "The witness's Ed25519 seed, hex (created 0600 if missing)");
  cmd->add_option("--name", o->name, "The witness's key name");
  cmd->add_option("--log", o->logs, "Verifier key of a log to witness (repeat)")->required();
  cmd->add_option("--listen", o->listen, "HOST:PORT (port 0 picks a free one)");
  cmd->add_flag("--json", o->json, "Print the banner as one JSON line");
  cmd->callback([o, &rc] {
    roles::WitnessRole witness(*o, DefaultEnv());
    rc = ServeRole(witness, o->json);
  });
}

// `ledger append`.
struct LedgerAppendOptions {
  std::string url = "http://127.0.0.1:8080", file, entry;
};

int RunLedgerAppend(const LedgerAppendOptions& o) {
  std::string body = o.entry;
  if (!o.file.empty()) {
    auto b = ReadFileBytes(o.file);
    if (!b) return ReportError(b.error());
    body = ToString(*b);
  }
  if (body.empty()) return ReportError(Status::InvalidArgument("give --file or --entry"));
  auto res = http::HttpCall("POST", o.url + "/ledger/v1/entries", "", body);
  if (!res) return ReportError(Status::Unavailable("cannot reach " + o.url));
  std::cout << res->body << "\n";
  if (res->status != 200) return ReportError(roles::StatusFromHttpError(res->status, res->body));
  return kExitOk;
}

void AddLedgerAppend(CLI::App* parent, int& rc) {
  auto* cmd = parent->add_subcommand(
      "append", "Append an entry (or {\"entries\": [...]}) and print its index and leaf hash");
  auto o = std::make_shared<LedgerAppendOptions>();
  cmd->add_option("--url", o->url, "Ledger node base URL");
  cmd->add_option("--file", o->file, "File holding the JSON entry or batch");
  cmd->add_option("--entry", o->entry, "The JSON entry itself");
  cmd->callback([o, &rc] { rc = RunLedgerAppend(*o); });
}

// kExitOk for an ok `st`, else what ReportError(st) returns.
int ExitStatus(const Status& st) { return st.ok() ? kExitOk : ReportError(st); }

// `ledger checkpoint`.
struct LedgerCheckpointOptions {
  ClientOptions client;
  AnchorCheckOptions anchor;
  bool json = false;
};

int RunLedgerCheckpoint(const LedgerCheckpointOptions& o) {
  auto client = o.client.MakeClient();
  if (!client) return ReportError(client.error());
  // With --anchor-rpc the checkpoint must also be consistent with every anchored one.
  std::optional<std::string> anchored;
  if (o.anchor.enabled()) {
    auto report = o.anchor.Check(*client);
    if (!report) {
      if (o.json && !report.error().reason().empty())
        PrintJson({{"ok", false},
                   {"reason", report.error().reason()},
                   {"problem", report.error().message()}});
      return ReportError(report.error());
    }
    anchored = *report;
  }
  auto cp = client->Refresh();
  if (!cp) return ReportError(cp.error());
  Status st = o.client.SaveState(*client);
  if (!st.ok()) return ReportError(st);
  if (o.json) {
    json out = {{"origin", cp->origin},
                {"size", cp->size},
                {"root", HexEncode(cp->root)},
                {"note", client->verifier().trusted_note()}};
    if (anchored) out["anchored"] = json::parse(*anchored);
    PrintJson(out);
  } else {
    std::cout << client->verifier().trusted_note();
  }
  return kExitOk;
}

void AddLedgerCheckpoint(CLI::App* parent, int& rc) {
  auto* cmd = parent->add_subcommand(
      "checkpoint", "Fetch and verify the latest checkpoint (signature, witnesses, consistency)");
  auto o = std::make_shared<LedgerCheckpointOptions>();
  o->client.Add(cmd, true);
  o->anchor.Add(cmd);
  cmd->add_flag("--json", o->json, "JSON output");
  cmd->callback([o, &rc] { rc = RunLedgerCheckpoint(*o); });
}

// `ledger get`.
struct LedgerGetOptions {
  ClientOptions client;
  uint64_t start = 0, end = 0;
  std::string kind, value;
};

int RunLedgerGet(const LedgerGetOptions& o) {
  auto client = o.client.MakeClient();
  if (!client) return ReportError(client.error());
  auto cp = client->Refresh();
  if (!cp) return ReportError(cp.error());
  Result<std::vector<roles::ProvenEntry>> entries =
      Status::InvalidArgument("give --start/--end or --kind/--value");
  if (!o.kind.empty()) {
    auto kind = ledger::KeyKindFromName(o.kind);
    if (!kind) return ReportError(kind.error());
    entries = client->Lookup({*kind, o.value});
  } else if (o.end > o.start) {
    entries = client->Entries(o.start, o.end);
  }
  if (!entries) return ReportError(entries.error());
  json out = json::array();
  for (const auto& e : *entries) out.push_back(ProvenJson(e));
  PrintJson({{"checkpoint_size", cp->size}, {"entries", out}});
  return ExitStatus(o.client.SaveState(*client));
}

void AddLedgerGet(CLI::App* parent, int& rc) {
  auto* cmd = parent->add_subcommand(
      "get", "Read entries by range or key, each with a verified inclusion proof");
  auto o = std::make_shared<LedgerGetOptions>();
  o->client.Add(cmd, true);
  cmd->add_option("--start", o->start, "First index");
  cmd->add_option("--end", o->end, "One past the last index");
  cmd->add_option("--kind", o->kind, "Look up by key: did, nullifier or relationship");
  cmd->add_option("--value", o->value, "The key's value");
  cmd->callback([o, &rc] { rc = RunLedgerGet(*o); });
}

// `ledger proof`.
struct LedgerProofOptions {
  ClientOptions client;
  uint64_t index = 0;
  std::string leaf_hash;
};

int RunLedgerProof(const LedgerProofOptions& o) {
  auto client = o.client.MakeClient();
  if (!client) return ReportError(client.error());
  auto before = client->verifier().trusted();
  auto cp = client->Refresh();
  if (!cp) return ReportError(cp.error());
  if (!o.leaf_hash.empty()) {
    auto h = HexDecode(o.leaf_hash);
    if (!h || h->size() != 32)
      return ReportError(Status::InvalidArgument("--leaf-hash must be 32 bytes hex"));
    ledger::Hash hash;
    std::copy(h->begin(), h->end(), hash.begin());
    Status st = client->VerifyIncluded(o.index, hash);
    if (!st.ok()) return ReportError(st);
    std::cout << "entry " << o.index << " is in the log at size " << cp->size
              << " (inclusion proof verified)\n";
  } else {
    std::cout << "checkpoint of size " << cp->size << " is consistent with the trusted size "
              << (before ? before->size : 0) << "\n";
  }
  return ExitStatus(o.client.SaveState(*client));
}

void AddLedgerProof(CLI::App* parent, int& rc) {
  auto* cmd = parent->add_subcommand("proof",
                                     "Verify that a leaf is in the log (--index, --leaf-hash), or, "
                                     "with --state, that the log only grew");
  auto o = std::make_shared<LedgerProofOptions>();
  o->client.Add(cmd, true);
  cmd->add_option("--index", o->index, "Leaf index for an inclusion proof");
  cmd->add_option("--leaf-hash", o->leaf_hash, "The leaf hash (hex) expected at --index");
  cmd->callback([o, &rc] { rc = RunLedgerProof(*o); });
}

// `ledger verify`.
struct LedgerVerifyOptions {
  std::string db = "ledger.db", key_file = "ledger.key", origin = "medallion.example/ledger";
  bool json = false;
};

int RunLedgerVerify(const LedgerVerifyOptions& o) {
  if (!ledger::IsPostgresUrl(o.db) && ::access(o.db.c_str(), F_OK) != 0)
    return ReportError(Status::NotFound(o.db + " does not exist"));
  auto seed = ReadSecretFile(o.key_file);
  if (!seed) return ReportError(seed.error());
  auto raw = HexDecode(seed->Reveal());
  if (!raw || raw->size() != 32) return ReportError(Status::InvalidArgument("bad key file"));
  auto store = ledger::OpenLeafStore(o.db);
  if (!store) return ReportError(store.error());
  // Opened even when the latest checkpoint disagrees with the tree, to locate the damage.
  ledger::LogOptions verify_options;
  verify_options.open_damaged_for_verify = true;
  auto log =
      ledger::Log::Open(std::move(*store), ledger::Ed25519NoteSigner::FromSeed(o.origin, *raw),
                        DefaultEnv(), verify_options);
  SecureWipe(raw->data(), raw->size());
  if (!log) {
    if (o.json) PrintJson({{"ok", false}, {"problem", log.error().ToString()}});
    return ReportError(log.error());
  }
  auto report = (*log)->VerifyStorage();
  if (!report) return ReportError(report.error());
  json j = {{"ok", report->ok}, {"leaves", report->leaves}, {"checkpoints", report->checkpoints}};
  if (report->first_bad_index) j["first_bad_index"] = *report->first_bad_index;
  if (!report->problem.empty()) j["problem"] = report->problem;
  if (o.json) {
    PrintJson(j);
  } else if (report->ok) {
    std::cout << "ok: " << report->leaves << " leaves and " << report->checkpoints
              << " checkpoints verified\n";
  } else {
    std::cout << "CORRUPT at index "
              << (report->first_bad_index ? std::to_string(*report->first_bad_index) : "?") << ": "
              << report->problem << "\n";
  }
  return report->ok ? kExitOk : kExitFalse;
}

void AddLedgerVerify(CLI::App* parent, int& rc) {
  auto* cmd = parent->add_subcommand(
      "verify", "Recompute the tree from storage and check every stored checkpoint (offline)");
  auto o = std::make_shared<LedgerVerifyOptions>();
  cmd->add_option("--db", o->db, "The log's database: a SQLite file or a postgresql:// URL");
  cmd->add_option("--key-file", o->key_file, "The log's seed file");
  cmd->add_option("--origin", o->origin, "The log's origin");
  cmd->add_flag("--json", o->json, "JSON output");
  cmd->callback([o, &rc] { rc = RunLedgerVerify(*o); });
}

// `ledger export-tiles`.
struct LedgerExportTilesOptions {
  std::string db = "ledger.db", out;
  bool json = false;
};

// Writes a tile through a temporary file and rename(), so that a static web server never serves
// a half-written tile; not synced one by one (RunLedgerExportTiles syncs once, before the
// checkpoint that makes them reachable).
Status WriteTileFile(const std::filesystem::path& path, ByteView data) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) {
    return Status::Unavailable("cannot create " + path.parent_path().string() + ": " +
                               ec.message());
  }
  const std::filesystem::path tmp = path.parent_path() / ("." + path.filename().string() + ".tmp");
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
    f.close();
    if (!f) {
      std::filesystem::remove(tmp, ec);
      return Status::Unavailable("cannot write " + tmp.string());
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::filesystem::remove(tmp, ec);
    return Status::Unavailable("cannot write " + path.string() + ": " + why);
  }
  return Status::Ok();
}

// c2sp.org/tlog-tiles as static files: every hash tile and entry bundle of the tree of the
// latest stored checkpoint, then that checkpoint. Tiles of an earlier export into the same
// directory stay (a client holding an older checkpoint still finds its partial tiles).
int RunLedgerExportTiles(const LedgerExportTilesOptions& o) {
  if (o.out.empty()) return ReportError(Status::InvalidArgument("give --out DIR"));
  if (!ledger::IsPostgresUrl(o.db) && ::access(o.db.c_str(), F_OK) != 0)
    return ReportError(Status::NotFound(o.db + " does not exist"));
  auto store = ledger::OpenLeafStore(o.db);
  if (!store) return ReportError(store.error());
  ledger::LeafStore& leaves = **store;
  auto latest = leaves.LatestCheckpoint();
  if (!latest) return ReportError(latest.error());
  if (!*latest) return ReportError(Status::FailedPrecondition(o.db + " holds no checkpoint"));
  auto note = ledger::ParseNote((*latest)->note);
  if (!note) return ReportError(Status::DataLoss("stored checkpoint: " + note.error().message()));
  auto cp = ledger::ParseCheckpoint(note->text);
  if (!cp) return ReportError(Status::DataLoss("stored checkpoint: " + cp.error().message()));
  // The tiles must be the tree the checkpoint signs: its root from the stored nodes.
  auto root = ledger::TreeRoot(leaves, cp->size);
  if (!root) return ReportError(root.error());
  if (*root != cp->root) {
    return ReportError(Status::DataLoss("the stored tree of size " + std::to_string(cp->size) +
                                        " does not match its checkpoint (run ledger verify)"));
  }
  std::error_code ec;
  std::filesystem::create_directories(o.out, ec);
  if (ec || !std::filesystem::is_directory(o.out)) {
    return ReportError(Status::InvalidArgument("--out " + o.out + " is not a usable directory" +
                                               (ec ? ": " + ec.message() : std::string())));
  }
  const std::filesystem::path out(o.out);
  uint64_t tiles = 0, bundles = 0;
  for (const ledger::TileId& t : ledger::TilesOfTree(cp->size)) {
    if (t.entries) continue;  // written beside its level-0 tile, from the same read
    Status st;
    if (t.level == 0) {
      auto pair = ledger::ReadLeafTiles(leaves, t.index, t.width, cp->size);
      if (!pair) return ReportError(pair.error());
      st = WriteTileFile(out / ledger::TilePath(t), pair->hashes);
      if (st.ok()) {
        st = WriteTileFile(out / ledger::TilePath({true, 0, t.index, t.width}), pair->bundle);
        ++bundles;
      }
    } else {
      auto bytes = ledger::ReadTile(leaves, t, cp->size);
      if (!bytes) return ReportError(bytes.error());
      st = WriteTileFile(out / ledger::TilePath(t), *bytes);
    }
    if (!st.ok()) return ReportError(st);
    ++tiles;
  }
  ::sync();  // every tile on disk before the checkpoint that points at them
  Status st = WriteFileAtomic((out / "checkpoint").string(), (*latest)->note, true, true);
  if (!st.ok()) return ReportError(st);
  if (o.json) {
    PrintJson({{"out", o.out},
               {"size", cp->size},
               {"root", HexEncode(cp->root)},
               {"tiles", tiles},
               {"bundles", bundles}});
  } else {
    std::cout << "exported the tree of size " << cp->size << " to " << o.out << ": " << tiles
              << " tiles, " << bundles << " entry bundles, checkpoint\n";
  }
  return kExitOk;
}

void AddLedgerExportTiles(CLI::App* parent, int& rc) {
  auto* cmd = parent->add_subcommand(
      "export-tiles",
      "Write the checkpoint, tiles and entry bundles (c2sp.org/tlog-tiles) for a static server");
  auto o = std::make_shared<LedgerExportTilesOptions>();
  cmd->add_option("--db", o->db, "The log's database: a SQLite file or a postgresql:// URL");
  cmd->add_option("--out", o->out, "Directory to write (created if missing)")->required();
  cmd->add_flag("--json", o->json, "JSON output");
  cmd->callback([o, &rc] { rc = RunLedgerExportTiles(*o); });
}

}  // namespace

void AddLedgerCommands(CLI::App& app, int& rc) {
  CLI::App* l = app.add_subcommand(
      "ledger", "The ledger node: append-only verifiable log, witnesses, proofs");
  l->require_subcommand(1);
  AddLedgerServe(l, rc);
  AddLedgerWitness(l, rc);
  AddLedgerAppend(l, rc);
  AddLedgerCheckpoint(l, rc);
  AddLedgerGet(l, rc);
  AddLedgerProof(l, rc);
  AddLedgerVerify(l, rc);
  AddLedgerExportTiles(l, rc);
  AddLedgerAnchors(l, rc);
  AddLedgerAnchorDeploy(l, rc);
  AddLedgerAnchorAddress(l, rc);
}

}  // namespace medallion::cli
