// tlog-witness add-checkpoint and the client-side LogVerifier.
#include "medallion/ledger/witness.h"

#include <charconv>

#include "medallion/core/encoding.h"

namespace medallion::ledger {

Result<AddCheckpointRequest> ParseAddCheckpointRequest(std::string_view body) {
  if (body.size() > kMaxNoteBytes + 64 * 64)
    return Status::InvalidArgument("add-checkpoint: body too large");
  size_t nl = body.find('\n');
  if (nl == std::string_view::npos || body.substr(0, 4) != "old ") {
    return Status::InvalidArgument("add-checkpoint: first line must be \"old <size>\"");
  }
  std::string_view num = body.substr(4, nl - 4);
  AddCheckpointRequest req;
  if (num.empty() || (num.size() > 1 && num[0] == '0') ||
      std::from_chars(num.data(), num.data() + num.size(), req.old_size).ptr !=
          num.data() + num.size()) {
    return Status::InvalidArgument("add-checkpoint: bad old size");
  }
  body.remove_prefix(nl + 1);
  while (true) {
    nl = body.find('\n');
    if (nl == std::string_view::npos)
      return Status::InvalidArgument("add-checkpoint: missing blank line");
    std::string_view line = body.substr(0, nl);
    body.remove_prefix(nl + 1);
    if (line.empty()) break;
    if (req.proof.size() == 63) return Status::InvalidArgument("add-checkpoint: proof too long");
    auto h = Base64Decode(line);
    if (!h || h->size() != kHashSize)
      return Status::InvalidArgument("add-checkpoint: bad proof hash");
    req.proof.push_back(*HashFromBytes(*h));
  }
  req.note = std::string(body);
  return req;
}

std::string FormatAddCheckpointRequest(const AddCheckpointRequest& r) {
  std::string out = "old " + std::to_string(r.old_size) + "\n";
  for (const Hash& h : r.proof) out += Base64Encode(h) + "\n";
  out += "\n";
  out += r.note;
  return out;
}

int AddCheckpointHttpStatus(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kUnauthenticated:
      return 403;
    case StatusCode::kAlreadyExists:
      return 409;
    case StatusCode::kFailedPrecondition:
      return 422;
    default:
      return 500;
  }
}

Witness::Witness(LeafStore* state, CosignatureV1Signer signer, Env env, std::vector<KnownLog> logs)
    : state_(state), signer_(std::move(signer)), env_(env), logs_(std::move(logs)) {
  MDL_CHECK(state_ != nullptr);
}

Result<std::string> Witness::AddCheckpoint(std::string_view body, uint64_t* current_size) {
  MDL_ASSIGN_OR_RETURN(AddCheckpointRequest req, ParseAddCheckpointRequest(body));
  MDL_ASSIGN_OR_RETURN(Note note, ParseNote(req.note));
  MDL_ASSIGN_OR_RETURN(Checkpoint cp, ParseCheckpoint(note.text));
  const KnownLog* log = nullptr;
  for (const KnownLog& l : logs_) {
    if (l.origin == cp.origin) log = &l;
  }
  if (log == nullptr) return Status::NotFound("add-checkpoint: unknown log " + cp.origin);
  auto opened = OpenCheckpoint(req.note, log->key, log->origin, nullptr);
  if (!opened) {
    if (opened.error().code() == StatusCode::kInvalidArgument) return opened.error();
    return Status::Unauthenticated("add-checkpoint: " + opened.error().message());
  }
  if (req.old_size > cp.size)
    return Status::InvalidArgument("add-checkpoint: old size > checkpoint size");

  MDL_ASSIGN_OR_RETURN(auto state, state_->GetWitnessState(cp.origin));
  uint64_t have = state ? state->size : 0;
  if (req.old_size != have) {
    if (current_size) *current_size = have;
    return Status::AlreadyExists("add-checkpoint: witness is at size " + std::to_string(have));
  }
  // c2sp.org/tlog-witness §add-checkpoint: "If the old size matches the checkpoint size, the
  // witness MUST check that the root hashes are also identical. If they don't match, the
  // witness MUST respond with a 409 Conflict".
  if (state && req.old_size == cp.size && state->root != cp.root) {
    if (current_size) *current_size = have;
    return Status::AlreadyExists("add-checkpoint: a different root for size " +
                                 std::to_string(cp.size) + " was already cosigned");
  }
  if (req.old_size == 0) {
    if (!req.proof.empty())
      return Status::FailedPrecondition("add-checkpoint: proof from size 0 must be empty");
  } else {
    ProofCheck c = VerifyConsistency(req.old_size, cp.size, req.proof, state->root, cp.root);
    if (!c.ok()) return Status::FailedPrecondition("add-checkpoint: " + c.ToStatus().message());
  }
  std::optional<uint64_t> expected;
  if (state) expected = state->size;
  Status st = state_->CompareAndSetWitnessState(cp.origin, expected, {cp.size, cp.root});
  if (st.code() == StatusCode::kFailedPrecondition) {
    auto now = state_->GetWitnessState(cp.origin);
    if (current_size && now && *now) *current_size = (*now)->size;
    return Status::AlreadyExists("add-checkpoint: witness state moved concurrently");
  }
  MDL_RETURN_IF_ERROR(st);
  return signer_.SignatureLine(note.text, static_cast<uint64_t>(env_.clock->NowSeconds()));
}

LogVerifier::LogVerifier(Ed25519NoteVerifier log_key, std::string origin, WitnessPolicy policy,
                         std::string_view trusted_note)
    : log_key_(std::move(log_key)), origin_(std::move(origin)), policy_(std::move(policy)) {
  if (!trusted_note.empty()) {
    auto cp = OpenCheckpoint(trusted_note, log_key_, origin_, &policy_);
    if (cp) {
      trusted_ = cp->checkpoint;
      trusted_note_ = std::string(trusted_note);
    }
  }
}

Result<Checkpoint> LogVerifier::Update(std::string_view note,
                                       std::span<const Hash> consistency_proof) {
  MDL_ASSIGN_OR_RETURN(VerifiedCheckpoint v, OpenCheckpoint(note, log_key_, origin_, &policy_));
  const Checkpoint& cp = v.checkpoint;
  if (trusted_) {
    if (cp.size < trusted_->size) {
      return Status::FailedPrecondition("rollback: log offers size " + std::to_string(cp.size) +
                                        " after " + std::to_string(trusted_->size));
    }
    if (cp.size == trusted_->size && cp.root != trusted_->root) {
      return Status::FailedPrecondition("split view: two roots for size " +
                                        std::to_string(cp.size));
    }
    if (trusted_->size > 0 && cp.size > trusted_->size) {
      ProofCheck c =
          VerifyConsistency(trusted_->size, cp.size, consistency_proof, trusted_->root, cp.root);
      if (!c.ok()) return Status::FailedPrecondition("split view: " + c.ToStatus().message());
    }
  }
  trusted_ = cp;
  trusted_note_ = std::string(note);
  return cp;
}

Status LogVerifier::VerifyInclusion(uint64_t index, const Hash& leaf_hash,
                                    std::span<const Hash> proof) const {
  if (!trusted_) return Status::FailedPrecondition("no trusted checkpoint yet");
  return ledger::VerifyInclusion(index, trusted_->size, leaf_hash, proof, trusted_->root)
      .ToStatus();
}

}  // namespace medallion::ledger
