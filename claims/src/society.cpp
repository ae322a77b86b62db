// The medical society: directory matching, license issuance with status entries, status
// changes, signed status lists — all persisted in SQLite.
#include "medallion/claims/society.h"

#include <algorithm>
#include <cctype>
#include <map>

#include <nlohmann/json.hpp>

#include "medallion/claims/credentials.h"
#include "medallion/claims/data_integrity.h"
#include "medallion/claims/jose.h"
#include "medallion/core/encoding.h"
#include "medallion/core/json.h"
#include "medallion/storage/sqlite.h"

namespace medallion::claims {
namespace {

using nlohmann::json;
using sql::Stmt;

constexpr std::string_view kWhat = "society";

constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE licenses (
  id TEXT PRIMARY KEY,
  did TEXT NOT NULL,
  license_number TEXT NOT NULL,
  status_index INTEGER NOT NULL,
  vc TEXT NOT NULL,
  issued INTEGER NOT NULL,
  superseded INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX licenses_by_number ON licenses(license_number);
CREATE TABLE lists (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  state TEXT NOT NULL
);
CREATE TABLE challenges (
  nonce TEXT PRIMARY KEY,
  expires INTEGER NOT NULL
);
)sql",
    // 2: the clerk's desk: the directory in the database, onboarding requests a clerk decides,
    // the reasons of status changes, when the lists last changed.
    R"sql(
CREATE TABLE directory (
  license_number TEXT PRIMARY KEY,
  entry TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  source TEXT NOT NULL
);
CREATE TABLE onboarding (
  id TEXT PRIMARY KEY,
  did TEXT NOT NULL,
  license_number TEXT NOT NULL,
  name TEXT NOT NULL,
  created INTEGER NOT NULL,
  status TEXT NOT NULL,
  decided_by TEXT,
  decided_at INTEGER,
  reason TEXT,
  license_id TEXT
);
CREATE TABLE status_events (
  id INTEGER PRIMARY KEY,
  license_id TEXT NOT NULL,
  action TEXT NOT NULL,
  reason TEXT NOT NULL,
  by TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX status_events_by_license ON status_events(license_id);
ALTER TABLE lists ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
)sql",
};

constexpr size_t kMaxReason = 200;

Status CheckReason(const std::string& reason) {
  if (reason.empty() || reason.size() > kMaxReason ||
      std::any_of(reason.begin(), reason.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20; }) ||
      reason.find_first_not_of(' ') == std::string::npos) {
    return Status::InvalidArgument("a reason is 1 to 200 characters on one line");
  }
  return Status::Ok();
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

Result<std::string> Str(const json& e, const char* k, size_t i) {
  auto it = e.find(k);
  if (it == e.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    return Status::InvalidArgument("directory entry " + std::to_string(i) + ": " + k +
                                   " is a non-empty string");
  }
  return it->get<std::string>();
}

}  // namespace

json DirectoryEntryJson(const DirectoryEntry& e) {
  return {{"license_number", e.license_number}, {"name", e.name},
          {"jurisdiction", e.jurisdiction},     {"license_type", e.license_type},
          {"specialty", e.specialty},           {"schedules", e.schedules},
          {"valid_until", e.valid_until}};
}

Result<std::vector<DirectoryEntry>> ParseDirectory(const json& j) {
  if (!j.is_array()) return Status::InvalidArgument("the directory is a JSON array");
  std::vector<DirectoryEntry> out;
  for (size_t i = 0; i < j.size(); ++i) {
    const json& e = j[i];
    if (!e.is_object())
      return Status::InvalidArgument("directory entry " + std::to_string(i) + " is not an object");
    DirectoryEntry d;
    MDL_ASSIGN_OR_RETURN(d.license_number, Str(e, "license_number", i));
    MDL_ASSIGN_OR_RETURN(d.name, Str(e, "name", i));
    MDL_ASSIGN_OR_RETURN(d.jurisdiction, Str(e, "jurisdiction", i));
    MDL_ASSIGN_OR_RETURN(d.license_type, Str(e, "license_type", i));
    MDL_ASSIGN_OR_RETURN(d.specialty, Str(e, "specialty", i));
    MDL_ASSIGN_OR_RETURN(d.valid_until, Str(e, "valid_until", i));
    if (auto t = ParseDateTimeStamp(d.valid_until); !t) {
      return Status::InvalidArgument("directory entry " + std::to_string(i) + ": valid_until: " +
                                     t.error().message());
    }
    auto schedules = OptionalArray(e, "schedules");
    if (!schedules) {
      return Status::InvalidArgument("directory entry " + std::to_string(i) + ": " +
                                     schedules.error().message());
    }
    for (const json& s : *schedules) {
      if (!s.is_string() || !IsSchedule(s.get<std::string>())) {
        return Status::InvalidArgument("directory entry " + std::to_string(i) +
                                       ": schedules are II, III, IV or V");
      }
      d.schedules.push_back(s);
    }
    out.push_back(std::move(d));
  }
  return out;
}

namespace {

// 1-based line of byte `offset` in `text`.
int LineAt(std::string_view text, size_t offset) {
  return 1 + static_cast<int>(std::count(text.begin(),
                                         text.begin() + static_cast<std::ptrdiff_t>(
                                                            std::min(offset, text.size())),
                                         '\n'));
}

// The line each element of a top-level JSON array starts on (strings and escapes skipped).
std::vector<int> ElementLines(std::string_view text) {
  std::vector<int> lines;
  int depth = 0, line = 1;
  bool in_string = false, escaped = false, want_element = false;
  for (char c : text) {
    if (c == '\n') ++line;
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (depth == 1 && want_element && c != ' ' && c != '\t' && c != '\r' && c != '\n' &&
        c != ']') {
      lines.push_back(line);
      want_element = false;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      ++depth;
      if (depth == 1 && c == '[') want_element = true;
    } else if (c == ']' || c == '}') {
      --depth;
    } else if (c == ',' && depth == 1) {
      want_element = true;
    }
  }
  return lines;
}

// RFC 4180 records with the line each starts on.
struct CsvRecord {
  int line = 0;
  std::vector<std::string> fields;
};
Result<std::vector<CsvRecord>> ParseCsv(std::string_view text) {
  std::vector<CsvRecord> out;
  CsvRecord rec{1, {}};
  std::string field;
  bool quoted = false, field_started = false;
  int line = 1;
  auto end_record = [&] {
    rec.fields.push_back(std::move(field));
    field.clear();
    const bool blank = rec.fields.size() == 1 && rec.fields[0].empty() && !field_started;
    if (!blank) out.push_back(std::move(rec));
    rec = CsvRecord{line, {}};
    field_started = false;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"') {
      if (!field.empty())
        return Status::InvalidArgument("line " + std::to_string(line) +
                                       ": a quote inside an unquoted field");
      quoted = true;
      field_started = true;
    } else if (c == ',') {
      rec.fields.push_back(std::move(field));
      field.clear();
      field_started = true;
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      continue;
    } else if (c == '\n') {
      ++line;
      end_record();
    } else {
      field += c;
      field_started = true;
    }
  }
  if (quoted) return Status::InvalidArgument("line " + std::to_string(rec.line) + ": an unclosed quote");
  if (!field.empty() || field_started || !rec.fields.empty()) end_record();
  return out;
}

constexpr const char* kCsvColumns[] = {"license_number", "name",      "jurisdiction", "license_type",
                                       "specialty",      "schedules", "valid_until"};

}  // namespace

DirectoryImport ParseDirectoryFile(std::string_view text, std::string_view format) {
  DirectoryImport out;
  std::vector<std::pair<int, json>> objects;  // (line, entry)
  if (format == "json") {
    // A directory is an array of flat entries (depth 3 with a schedules list): deeper text is
    // refused before a value is built (core/json.h: nlohmann's values are destroyed and dumped
    // recursively).
    if (JsonDepth(text, 8) > 8) {
      out.errors.push_back({1, "the directory nests deeper than 8 levels"});
      return out;
    }
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded()) {
      try {
        const json unused = json::parse(text);
        (void)unused;
      } catch (const json::parse_error& e) {
        out.errors.push_back({LineAt(text, e.byte), "not JSON: " + std::string(e.what())});
        return out;
      } catch (const json::out_of_range& e) {
        // A number beyond the double range ("1e400") is out_of_range (406), not a parse_error.
        out.errors.push_back({1, "not JSON: " + std::string(e.what())});
        return out;
      }
    }
    if (!j.is_array()) {
      out.errors.push_back({1, "the directory is a JSON array of entries"});
      return out;
    }
    const std::vector<int> lines = ElementLines(text);
    for (size_t i = 0; i < j.size(); ++i)
      objects.push_back({i < lines.size() ? lines[i] : 1, j[i]});
  } else if (format == "csv") {
    auto records = ParseCsv(text);
    if (!records) {
      out.errors.push_back({0, records.error().message()});
      return out;
    }
    if (records->empty()) {
      out.errors.push_back({1, "the file is empty"});
      return out;
    }
    std::vector<int> col(std::size(kCsvColumns), -1);
    const CsvRecord& header = (*records)[0];
    for (size_t c = 0; c < header.fields.size(); ++c) {
      std::string name = Lower(header.fields[c]);
      name.erase(0, name.find_first_not_of(' '));
      while (!name.empty() && name.back() == ' ') name.pop_back();
      for (size_t k = 0; k < std::size(kCsvColumns); ++k) {
        if (name == kCsvColumns[k]) col[k] = static_cast<int>(c);
      }
    }
    for (size_t k = 0; k < std::size(kCsvColumns); ++k) {
      if (col[k] < 0)
        out.errors.push_back({header.line, std::string("the header has no column ") + kCsvColumns[k]});
    }
    if (!out.errors.empty()) return out;
    for (size_t r = 1; r < records->size(); ++r) {
      const CsvRecord& rec = (*records)[r];
      if (rec.fields.size() != header.fields.size()) {
        out.errors.push_back({rec.line, std::to_string(rec.fields.size()) + " fields, the header has " +
                                            std::to_string(header.fields.size())});
        continue;
      }
      json e = json::object();
      for (size_t k = 0; k < std::size(kCsvColumns); ++k) {
        const std::string& v = rec.fields[static_cast<size_t>(col[k])];
        if (std::string(kCsvColumns[k]) == "schedules") {
          json list = json::array();
          std::string item;
          for (char ch : v + " ") {
            if (ch == ' ' || ch == ';') {
              if (!item.empty()) list.push_back(item);
              item.clear();
            } else {
              item += ch;
            }
          }
          e["schedules"] = list;
        } else {
          e[kCsvColumns[k]] = v;
        }
      }
      objects.push_back({rec.line, e});
    }
  } else {
    out.errors.push_back({0, "the format is csv or json"});
    return out;
  }
  std::map<std::string, int> seen;
  for (const auto& [line, e] : objects) {
    auto parsed = ParseDirectory(json::array({e}));
    if (!parsed) {
      std::string why = parsed.error().message();
      if (why.rfind("directory entry 0: ", 0) == 0) why = why.substr(19);
      out.errors.push_back({line, why});
      continue;
    }
    DirectoryEntry& d = (*parsed)[0];
    if (auto [it, fresh] = seen.emplace(d.license_number, line); !fresh) {
      out.errors.push_back({line, "license number " + d.license_number + " is also on line " +
                                      std::to_string(it->second)});
      continue;
    }
    out.entries.push_back(std::move(d));
  }
  if (!out.errors.empty()) out.entries.clear();
  std::stable_sort(out.errors.begin(), out.errors.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

Society::Society(sqlite3* db, SocietyOptions options, Env env)
    : db_(db), options_(std::move(options)), env_(env) {}
Society::~Society() { sqlite3_close(db_); }

Result<std::unique_ptr<Society>> Society::Open(const std::string& path, SocietyOptions options,
                                               Env env) {
  if (!did::IsValidDid(options.did) || !options.signer.sign || options.base_url.empty()) {
    return Status::InvalidArgument("society: a DID, a signer and a base URL are required");
  }
  sqlite3* db = nullptr;
  MDL_RETURN_IF_ERROR(sql::OpenDatabase(path, kWhat, kMigrations, &db));
  std::unique_ptr<Society> s(new Society(db, std::move(options), env));
  // The directory file given at start is imported (added or replaced by license number).
  if (!s->options_.directory.empty())
    MDL_RETURN_IF_ERROR(s->ImportDirectory(s->options_.directory, "file").status());
  // The lists are created once and then only ever loaded.
  Stmt q(db, "SELECT COUNT(*) FROM lists", kWhat);
  if (q.Step() == SQLITE_ROW && q.ColInt(0) == 0) {
    StatusListConfig config;
    config.revocation_list_url = s->options_.base_url + "/status/revocation";
    config.suspension_list_url = s->options_.base_url + "/status/suspension";
    config.length = s->options_.status_list_length;
    MDL_ASSIGN_OR_RETURN(StatusListIssuer lists, StatusListIssuer::Create(config));
    MDL_RETURN_IF_ERROR(sql::InTransaction(db, kWhat, [&]() -> Status {
      Stmt ins(db, "INSERT INTO lists (id, state) VALUES (1, ?)", kWhat);
      if (ins.Text(1, lists.Serialize()).Step() != SQLITE_DONE) return ins.Error();
      return Status::Ok();
    }));
  }
  return s;
}

Result<StatusListIssuer> Society::LoadLists() {
  Stmt q(db_, "SELECT state FROM lists WHERE id = 1", kWhat);
  if (q.Step() != SQLITE_ROW) return Status::DataLoss("society: the status lists are missing");
  return StatusListIssuer::Deserialize(q.Col(0));
}

Status Society::SaveLists(const StatusListIssuer& lists) {
  Stmt up(db_, "UPDATE lists SET state = ?, updated_at = ? WHERE id = 1", kWhat);
  if (up.Text(1, lists.Serialize()).Int(2, env_.clock->NowSeconds()).Step() != SQLITE_DONE)
    return up.Error();
  return Status::Ok();
}

Result<const DirectoryEntry*> Society::Match(const std::string& license_number,
                                             const std::string& name, DirectoryEntry* storage) {
  Stmt q(db_, "SELECT entry FROM directory WHERE license_number = ?", kWhat);
  const int rc = q.Text(1, license_number).Step();
  if (rc == SQLITE_DONE) return static_cast<const DirectoryEntry*>(nullptr);
  if (rc != SQLITE_ROW) return q.Error();
  auto parsed = json::parse(q.Col(0), nullptr, false);
  MDL_ASSIGN_OR_RETURN(auto entries, ParseDirectory(json::array({parsed})));
  *storage = std::move(entries[0]);
  if (Lower(storage->name) != Lower(name)) return static_cast<const DirectoryEntry*>(nullptr);
  return static_cast<const DirectoryEntry*>(storage);
}

Result<json> Society::Issue(const std::string& did, const DirectoryEntry& entry, int64_t now,
                            std::string* license_id) {
  MDL_ASSIGN_OR_RETURN(StatusListIssuer lists, LoadLists());
  // One live license per number: the previous one is revoked (and a revoked number stays out).
  std::vector<uint64_t> previous;
  {
    Stmt q(db_, "SELECT status_index FROM licenses WHERE license_number = ? AND superseded = 0",
           kWhat);
    q.Text(1, entry.license_number);
    while (q.Step() == SQLITE_ROW) previous.push_back(static_cast<uint64_t>(q.ColInt(0)));
  }
  for (uint64_t i : previous) {
    if (lists.State(i).revoked) return Status::FailedPrecondition("this license number was revoked");
  }
  for (uint64_t i : previous) MDL_RETURN_IF_ERROR(lists.Revoke(i));
  Stmt sup(db_, "UPDATE licenses SET superseded = 1 WHERE license_number = ?", kWhat);
  if (sup.Text(1, entry.license_number).Step() != SQLITE_DONE) return sup.Error();

  MDL_ASSIGN_OR_RETURN(uint64_t index, lists.Assign(*env_.rng));
  MDL_ASSIGN_OR_RETURN(json status, lists.CredentialStatus(index));
  const std::string id = NewCredentialId(*env_.rng);
  LicenseClaims c{did,                   entry.license_number, entry.jurisdiction,
                  entry.license_type,    entry.specialty,      entry.schedules,
                  did::XmlDateTime(now), entry.valid_until,    entry.name};
  MDL_ASSIGN_OR_RETURN(json unsigned_vc, BuildLicenseCredential(id, options_.did, c, status));
  ProofOptions po;
  po.created = did::XmlDateTime(now);
  MDL_ASSIGN_OR_RETURN(json vc, AddProof(unsigned_vc, options_.signer, po));
  Stmt ins(db_,
           "INSERT INTO licenses (id, did, license_number, status_index, vc, issued) VALUES "
           "(?,?,?,?,?,?)",
           kWhat);
  ins.Text(1, id)
      .Text(2, did)
      .Text(3, entry.license_number)
      .Int(4, static_cast<int64_t>(index))
      .Text(5, vc.dump())
      .Int(6, now);
  if (ins.Step() != SQLITE_DONE) return ins.Error();
  MDL_RETURN_IF_ERROR(SaveLists(lists));
  if (license_id != nullptr) *license_id = id;
  return vc;
}

Result<json> Society::Challenge() {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  const std::string nonce = Base64UrlEncode(env_.rng->RandomBytes(32));
  const int64_t expires = env_.clock->NowSeconds() + options_.challenge_ttl;
  MDL_RETURN_IF_ERROR(sql::InTransaction(db_, kWhat, [&]() -> Status {
    Stmt gc(db_, "DELETE FROM challenges WHERE expires <= ?", kWhat);
    if (gc.Int(1, env_.clock->NowSeconds()).Step() != SQLITE_DONE) return gc.Error();
    Stmt ins(db_, "INSERT INTO challenges (nonce, expires) VALUES (?,?)", kWhat);
    if (ins.Text(1, nonce).Int(2, expires).Step() != SQLITE_DONE) return ins.Error();
    return Status::Ok();
  }));
  return json{{"nonce", nonce}, {"audience", options_.did}, {"expires", expires}};
}

Result<json> Society::Onboard(std::string_view proof, const std::string& license_number,
                              const std::string& name, const did::Resolver& resolver) {
  const int64_t now = env_.clock->NowSeconds();
  JwtCheckOptions co;
  co.now = now;
  co.expected_audience = options_.did;
  VerifiedJwt info;
  auto payload = VerifyJwt(JwtKind::kDidAuth, proof, resolver, co, &info);
  if (!payload)
    return Status::Unauthenticated("the proof of DID control was refused: " +
                                   payload.error().message());
  if (!info.issued_at || !info.expires || *info.expires - *info.issued_at > 600) {
    return Status::Unauthenticated("the proof needs iat and exp at most 600 s apart");
  }
  const std::string nonce = StringOr(*payload, "nonce");
  json out;
  std::lock_guard<std::recursive_mutex> lock(mu_);
  Status st = sql::InTransaction(db_, kWhat, [&]() -> Status {
    Stmt del(db_, "DELETE FROM challenges WHERE nonce = ? AND expires > ?", kWhat);
    if (del.Text(1, nonce).Int(2, now).Step() != SQLITE_DONE) return del.Error();
    if (sqlite3_changes(db_) != 1)
      return Status::Unauthenticated("the challenge is unknown, used or expired");
    if (options_.review) {
      if (license_number.empty() || license_number.size() > 64 || name.empty() ||
          name.size() > 200) {
        return Status::InvalidArgument("a license number (1-64) and a name (1-200) are required");
      }
      const std::string id = NewCredentialId(*env_.rng).substr(9);  // the uuid of urn:uuid:
      Stmt ins(db_,
               "INSERT INTO onboarding (id, did, license_number, name, created, status) VALUES "
               "(?,?,?,?,?,'pending')",
               kWhat);
      ins.Text(1, id).Text(2, info.controller).Text(3, license_number).Text(4, name).Int(5, now);
      if (ins.Step() != SQLITE_DONE) return ins.Error();
      out = {{"request", id}, {"status", "pending"}};
      return Status::Ok();
    }
    DirectoryEntry storage;
    MDL_ASSIGN_OR_RETURN(const DirectoryEntry* entry, Match(license_number, name, &storage));
    if (entry == nullptr)
      return Status::NotFound("no directory entry matches that license number and name");
    MDL_ASSIGN_OR_RETURN(out, Issue(info.controller, *entry, now, nullptr));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Result<json> Society::Directory() {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  json out = json::array();
  Stmt q(db_, "SELECT entry, updated_at, source FROM directory ORDER BY license_number", kWhat);
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    json e = json::parse(q.Col(0), nullptr, false);
    if (!e.is_object()) return Status::DataLoss("society: a directory entry is not JSON");
    e["updated_at"] = q.ColInt(1);
    e["source"] = q.Col(2);
    out.push_back(std::move(e));
  }
  if (rc != SQLITE_DONE) return q.Error();
  return out;
}

Result<json> Society::ImportDirectory(const std::vector<DirectoryEntry>& entries,
                                      const std::string& source) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  const int64_t now = env_.clock->NowSeconds();
  int added = 0, updated = 0;
  const Status st = sql::InTransaction(db_, kWhat, [&]() -> Status {
    for (const DirectoryEntry& e : entries) {
      Stmt q(db_, "SELECT 1 FROM directory WHERE license_number = ?", kWhat);
      const bool exists = q.Text(1, e.license_number).Step() == SQLITE_ROW;
      Stmt up(db_,
              "INSERT INTO directory (license_number, entry, updated_at, source) VALUES (?,?,?,?) "
              "ON CONFLICT(license_number) DO UPDATE SET entry = excluded.entry, updated_at = "
              "excluded.updated_at, source = excluded.source",
              kWhat);
      up.Text(1, e.license_number).Text(2, DirectoryEntryJson(e).dump()).Int(3, now).Text(4, source);
      if (up.Step() != SQLITE_DONE) return up.Error();
      (exists ? updated : added) += 1;
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return json{{"added", added}, {"updated", updated}};
}

Result<json> Society::OnboardingRequests() {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  json out = json::array();
  Stmt q(db_,
         "SELECT id, did, license_number, name, created, status, decided_by, decided_at, reason, "
         "license_id FROM onboarding ORDER BY created DESC, rowid DESC LIMIT 500",
         kWhat);
  std::vector<json> rows;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    json r = {{"id", q.Col(0)},      {"did", q.Col(1)},    {"license_number", q.Col(2)},
              {"name", q.Col(3)},    {"created", q.ColInt(4)}, {"status", q.Col(5)}};
    if (!q.ColIsNull(6)) r["decided_by"] = q.Col(6);
    if (!q.ColIsNull(7)) r["decided_at"] = q.ColInt(7);
    if (!q.ColIsNull(8)) r["reason"] = q.Col(8);
    if (!q.ColIsNull(9)) r["license_id"] = q.Col(9);
    rows.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return q.Error();
  for (json& r : rows) {
    DirectoryEntry storage;
    auto m = Match(r["license_number"], r["name"], &storage);
    r["directory_match"] = static_cast<bool>(m) && *m != nullptr;
    out.push_back(std::move(r));
  }
  return out;
}

Result<json> Society::OnboardingRequest(const std::string& id) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  Stmt q(db_, "SELECT status, reason, license_id FROM onboarding WHERE id = ?", kWhat);
  const int rc = q.Text(1, id).Step();
  if (rc == SQLITE_DONE) return Status::NotFound("no such onboarding request");
  if (rc != SQLITE_ROW) return q.Error();
  json out = {{"request", id}, {"status", q.Col(0)}};
  if (!q.ColIsNull(1)) out["reason"] = q.Col(1);
  if (!q.ColIsNull(2)) {
    Stmt l(db_, "SELECT vc FROM licenses WHERE id = ?", kWhat);
    if (l.Text(1, q.Col(2)).Step() == SQLITE_ROW) out["credential"] = json::parse(l.Col(0));
  }
  return out;
}

Result<json> Society::DecideOnboarding(const std::string& id, bool approve,
                                       const std::string& reason, const std::string& clerk) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  if (!approve) MDL_RETURN_IF_ERROR(CheckReason(reason));
  const int64_t now = env_.clock->NowSeconds();
  json out;
  const Status st = sql::InTransaction(db_, kWhat, [&]() -> Status {
    Stmt q(db_, "SELECT did, license_number, name, status FROM onboarding WHERE id = ?", kWhat);
    const int rc = q.Text(1, id).Step();
    if (rc == SQLITE_DONE) return Status::NotFound("no such onboarding request");
    if (rc != SQLITE_ROW) return q.Error();
    if (q.Col(3) != "pending")
      return Status::FailedPrecondition("this request was already " + q.Col(3));
    const std::string did = q.Col(0), number = q.Col(1), name = q.Col(2);
    std::string license_id;
    if (approve) {
      DirectoryEntry storage;
      MDL_ASSIGN_OR_RETURN(const DirectoryEntry* entry, Match(number, name, &storage));
      if (entry == nullptr) {
        return Status::WithReason(StatusCode::kFailedPrecondition, "no_directory_match",
                                  "no directory entry has license number " + number +
                                      " and that name: import it first, or reject");
      }
      MDL_RETURN_IF_ERROR(Issue(did, *entry, now, &license_id).status());
    }
    Stmt up(db_,
            "UPDATE onboarding SET status = ?, decided_by = ?, decided_at = ?, reason = ?, "
            "license_id = ? WHERE id = ?",
            kWhat);
    up.Text(1, approve ? "approved" : "rejected").Text(2, clerk).Int(3, now).Text(6, id);
    if (reason.empty()) up.Null(4); else up.Text(4, reason);
    if (license_id.empty()) up.Null(5); else up.Text(5, license_id);
    if (up.Step() != SQLITE_DONE) return up.Error();
    out = {{"request", id}, {"status", approve ? "approved" : "rejected"}};
    if (!license_id.empty()) out["license_id"] = license_id;
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Status Society::SetStatus(const std::string& license_id, const std::string& action) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  return SetStatus(license_id, action, "", "");
}

Status Society::SetStatus(const std::string& license_id, const std::string& action,
                          const std::string& reason, const std::string& clerk) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  if (action != "revoke" && action != "suspend" && action != "reinstate") {
    return Status::InvalidArgument("action is revoke, suspend or reinstate");
  }
  if (!clerk.empty()) MDL_RETURN_IF_ERROR(CheckReason(reason));
  return sql::InTransaction(db_, kWhat, [&]() -> Status {
    Stmt q(db_, "SELECT status_index FROM licenses WHERE id = ?", kWhat);
    if (q.Text(1, license_id).Step() != SQLITE_ROW) return Status::NotFound("no such license");
    const uint64_t index = static_cast<uint64_t>(q.ColInt(0));
    MDL_ASSIGN_OR_RETURN(StatusListIssuer lists, LoadLists());
    if (action == "revoke") MDL_RETURN_IF_ERROR(lists.Revoke(index));
    if (action == "suspend") MDL_RETURN_IF_ERROR(lists.Suspend(index));
    if (action == "reinstate") MDL_RETURN_IF_ERROR(lists.Reinstate(index));
    Stmt ev(db_,
            "INSERT INTO status_events (license_id, action, reason, by, at) VALUES (?,?,?,?,?)",
            kWhat);
    ev.Text(1, license_id)
        .Text(2, action)
        .Text(3, reason)
        .Text(4, clerk.empty() ? "admin API" : clerk)
        .Int(5, env_.clock->NowSeconds());
    if (ev.Step() != SQLITE_DONE) return ev.Error();
    return SaveLists(lists);
  });
}

Result<json> Society::StatusListState() {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  MDL_ASSIGN_OR_RETURN(StatusListIssuer lists, LoadLists());
  Stmt q(db_, "SELECT updated_at FROM lists WHERE id = 1", kWhat);
  const int64_t updated = q.Step() == SQLITE_ROW ? q.ColInt(0) : 0;
  uint64_t revoked = 0, suspended = 0;
  Stmt l(db_, "SELECT status_index FROM licenses", kWhat);
  while (l.Step() == SQLITE_ROW) {
    const StatusEntryState st = lists.State(static_cast<uint64_t>(l.ColInt(0)));
    revoked += st.revoked ? 1 : 0;
    suspended += st.suspended ? 1 : 0;
  }
  return json{{"revocation",
               {{"url", options_.base_url + "/status/revocation"},
                {"length", options_.status_list_length},
                {"set", revoked}}},
              {"suspension",
               {{"url", options_.base_url + "/status/suspension"},
                {"length", options_.status_list_length},
                {"set", suspended}}},
              {"updated_at", updated},
              {"ttl_ms", options_.status_ttl_millis}};
}

Result<json> Society::StatusListCredential(StatusPurpose purpose) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  MDL_ASSIGN_OR_RETURN(StatusListIssuer lists, LoadLists());
  const int64_t now = env_.clock->NowSeconds();
  StatusListCredentialOptions o;
  o.issuer = options_.did;
  o.valid_from = did::XmlDateTime(now - 60);
  o.valid_until = did::XmlDateTime(now + 86400);
  o.ttl_millis = options_.status_ttl_millis;
  MDL_ASSIGN_OR_RETURN(json list, lists.StatusListCredential(purpose, o));
  ProofOptions po;
  po.created = did::XmlDateTime(now - 60);
  return AddProof(list, options_.signer, po);
}

Result<json> Society::LicenseCredential(const std::string& license_id) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  Stmt q(db_, "SELECT vc FROM licenses WHERE id = ?", kWhat);
  q.Text(1, license_id);
  const int rc = q.Step();
  if (rc == SQLITE_DONE) return Status::NotFound("no such license");
  if (rc != SQLITE_ROW) return q.Error();
  json vc = json::parse(q.Col(0), nullptr, false);
  if (!vc.is_object()) return Status::DataLoss("society: a license is not JSON");
  return vc;
}

Result<json> Society::Licenses() {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  MDL_ASSIGN_OR_RETURN(StatusListIssuer lists, LoadLists());
  json out = json::array();
  Stmt q(db_,
         "SELECT id, did, license_number, status_index, issued, superseded, vc FROM licenses "
         "ORDER BY issued, id",
         kWhat);
  while (q.Step() == SQLITE_ROW) {
    const StatusEntryState s = lists.State(static_cast<uint64_t>(q.ColInt(3)));
    const json vc = json::parse(q.Col(6), nullptr, false);
    json events = json::array();
    Stmt ev(db_,
            "SELECT action, reason, by, at FROM status_events WHERE license_id = ? ORDER BY id",
            kWhat);
    ev.Text(1, q.Col(0));
    while (ev.Step() == SQLITE_ROW)
      events.push_back(
          {{"action", ev.Col(0)}, {"reason", ev.Col(1)}, {"by", ev.Col(2)}, {"at", ev.ColInt(3)}});
    out.push_back({{"id", q.Col(0)},
                   {"did", q.Col(1)},
                   {"license_number", q.Col(2)},
                   {"name", StringOr(MemberOr(vc, "credentialSubject"), "name")},
                   {"status", s.revoked     ? "revoked"
                              : s.suspended ? "suspended"
                                            : "active"},
                   {"issued", q.ColInt(4)},
                   {"superseded", q.ColInt(5) != 0},
                   {"events", std::move(events)}});
  }
  return out;
}

}  // namespace medallion::claims
