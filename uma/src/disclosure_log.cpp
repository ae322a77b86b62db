// The SQL (SQLite or PostgreSQL, storage/db.h) disclosure log.
#include "disclosure_log.h"

#include <limits>

#include "medallion/core/encoding.h"
#include "medallion/core/hash.h"
#include "medallion/core/jcs.h"
#include "medallion/storage/sqlite.h"

namespace medallion::uma::internal {
namespace {

using nlohmann::json;
using sql::Stmt;

constexpr std::string_view kWhat = "consent";

LogAnchor AnchorRow(Stmt& a) { return {a.ColInt(0), a.Col(1), a.ColInt(2), a.ColInt(3)}; }

class SqlDisclosureLog final : public DisclosureLog {
 public:
  explicit SqlDisclosureLog(sql::Db& db) : db_(db) {}

  Status Append(json entry, int64_t now) override {
    const LogEntry head = Head();
    entry["seq"] = static_cast<uint64_t>(head.seq) + 1;
    entry["ts"] = now;
    entry["prev"] = head.hash;
    MDL_ASSIGN_OR_RETURN(std::string canonical, jcs::Canonicalize(entry));
    const std::string hash = HexEncode(Sha256(AsBytes(canonical)));
    Stmt ins(cache_, "INSERT INTO disclosures (seq, entry, hash) VALUES (?,?,?)", kWhat);
    ins.Int(1, head.seq + 1).Text(2, canonical).Text(3, hash);
    if (ins.Step() != SQLITE_DONE) return ins.Error();
    return Status::Ok();
  }

  Result<std::vector<LogEntry>> Read(int64_t after_seq, std::optional<size_t> limit) override {
    std::vector<LogEntry> out;
    Stmt q(cache_, "SELECT seq, entry, hash FROM disclosures WHERE seq > ? ORDER BY seq LIMIT ?",
           kWhat);
    q.Int(1, after_seq)
        .Int(2, limit ? static_cast<int64_t>(*limit)
                      : std::numeric_limits<int64_t>::max());  // (PostgreSQL refuses LIMIT -1)
    while (q.Step() == SQLITE_ROW) {
      LogEntry e{q.ColInt(0), json::parse(q.Col(1), nullptr, false), q.Col(2)};
      if (e.entry.is_discarded())
        return Status::DataLoss("consent: log entry " + std::to_string(e.seq) + " is not JSON");
      out.push_back(std::move(e));
    }
    return out;
  }

  LogEntry Head() override {
    Stmt h(cache_, "SELECT seq, hash FROM disclosures ORDER BY seq DESC LIMIT 1", kWhat);
    if (h.Step() != SQLITE_ROW) return {0, json(), std::string(64, '0')};
    return {h.ColInt(0), json(), h.Col(1)};
  }

  std::vector<LogAnchor> Anchors() override {
    std::vector<LogAnchor> out;
    Stmt a(cache_, "SELECT seq, hash, ledger_index, ts FROM anchors ORDER BY seq", kWhat);
    while (a.Step() == SQLITE_ROW) out.push_back(AnchorRow(a));
    return out;
  }

  std::optional<LogAnchor> LastAnchor() override {
    Stmt a(cache_, "SELECT seq, hash, ledger_index, ts FROM anchors ORDER BY seq DESC LIMIT 1", kWhat);
    if (a.Step() != SQLITE_ROW) return std::nullopt;
    return AnchorRow(a);
  }

  Status AddAnchor(const LogAnchor& anchor) override {
    Stmt ins(cache_, "INSERT INTO anchors (seq, hash, ledger_index, ts) VALUES (?,?,?,?)", kWhat);
    ins.Int(1, anchor.seq).Text(2, anchor.hash).Int(3, anchor.ledger_index).Int(4, anchor.ts);
    if (ins.Step() != SQLITE_DONE) return ins.Error();
    return Status::Ok();
  }

 private:
  sql::Db& db_;
  sql::StmtCache cache_{db_, kWhat};  // statements prepared once (the caller serializes)
};

}  // namespace

std::unique_ptr<DisclosureLog> NewSqlDisclosureLog(sql::Db& db) {
  return std::make_unique<SqlDisclosureLog>(db);
}

}  // namespace medallion::uma::internal
