// A pharmacy's verification pipeline (claims/pharmacy.h) in plain words: each check, and each
// reason a prescription is refused. Shared by the patient's app and the pharmacy's counter.

export const RX_STEPS = {
  configuration: 'The pharmacy is set up to dispense',
  prescription: 'It is a prescription, valid today',
  holder_binding: 'The person presenting is the patient it was written for',
  prescription_proofs: 'The prescriber’s signature (and, for a controlled substance, her phone’s)',
  issuer_resolution: 'The prescriber’s identity',
  license_proof: 'The prescriber’s license was issued by a trusted medical society',
  license_status: 'The license is active now (not revoked or suspended)',
  schedule: 'The license covers this controlled substance',
  postmark: 'The prescription is stamped on the public ledger',
  fills: 'A fill is left',
  patient_approval: 'The patient approved this fill on her phone',
  dispense: 'The fill is recorded on the public ledger',
  receipt: 'The pharmacy signed the receipt',
};

export function rxStepWords(step) {
  return RX_STEPS[step] || step;
}

// Why a pharmacy refuses (claims::rx_reason, and the counter's own).
export const RX_REASONS = {
  presentation_malformed: 'The presentation could not be read.',
  holder_binding_failed: 'The presentation is not bound to the patient the prescription was written for.',
  challenge_refused: 'The presentation was not made for this request (or it expired or was used).',
  not_a_prescription: 'What was presented is not a prescription.',
  prescription_expired: 'The prescription is expired or not yet valid.',
  prescription_proof_invalid: 'The prescriber’s signature does not verify: the prescription was changed or forged.',
  controlled_substance_phone_proof_missing: 'A controlled substance needs the prescriber’s phone signature, and it is missing.',
  issuer_unresolved: 'The prescriber’s identity could not be found.',
  license_proof_invalid: 'The prescriber’s license does not verify.',
  license_issuer_untrusted: 'The license comes from a society this pharmacy does not trust.',
  license_not_for_prescriber: 'The license belongs to someone else.',
  license_malformed: 'The license could not be read.',
  license_not_yet_valid: 'The prescriber’s license is not valid yet.',
  license_expired: 'The prescriber’s license has expired.',
  license_revoked: 'The prescriber’s license was revoked.',
  license_suspended: 'The prescriber’s license is suspended.',
  license_status_unavailable: 'The license’s status could not be checked now.',
  schedule_not_covered: 'The license does not cover this controlled substance.',
  postmark_missing: 'The prescription is not stamped on the public ledger.',
  postmark_invalid: 'The prescription’s ledger stamp does not verify.',
  already_dispensed: 'Every fill of this prescription has been dispensed.',
  dispensed_elsewhere: 'This prescription is being filled at another pharmacy.',
  ledger_unavailable: 'The public ledger could not be reached.',
  controlled_substance_patient_approval_missing: 'The patient’s phone did not approve this fill.',
  refused_by_pharmacist: 'The pharmacist refused to dispense.',
};

export function rxReasonWords(reason) {
  return RX_REASONS[reason] || reason || 'No reason given.';
}
