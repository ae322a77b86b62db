/* Medallion mobile bridge: the C ABI a phone app (iOS, Android) links to hold a person's phone
 * keys and act for her with her container — a wallet restored from her mnemonic, a device key
 * kept apart from the container's keys, pairing with the container, and signed decisions on
 * the requests it queues for her (consent, a prescription to co-sign, a fill, a recovery).
 *
 * Conventions (docs/mobile-bridge.md has the reference and the protocols):
 *  - Every function returns an mdl_status (MDL_OK = 0) unless stated; nothing ever throws or
 *    aborts on bad input. Argument order: the handle, then outputs' inputs, a length right
 *    after the pointer it describes, outputs last (out_*).
 *  - Strings are NUL-terminated UTF-8. Returned strings (char** out_*) are owned by the caller
 *    and released with mdl_string_free (which wipes them first: some hold secrets). On failure
 *    every out_* pointer is set to NULL (handles too).
 *  - Handles are opaque; each *_create / *_open / *_restore has mdl_phone_destroy.
 *  - Thread safety: functions without a handle are thread-safe. A handle may be used from any
 *    thread but by one thread at a time (the app serializes calls on it); distinct handles are
 *    independent.
 *  - mdl_phone_last_error describes the last failure on a handle.
 */
#ifndef MEDALLION_BRIDGE_H_
#define MEDALLION_BRIDGE_H_

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define MDL_BRIDGE_API __declspec(dllexport)
#elif defined(__GNUC__)
#define MDL_BRIDGE_API __attribute__((visibility("default")))
#else
#define MDL_BRIDGE_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI version this header describes; mdl_abi_version() returns the library's. */
#define MDL_BRIDGE_ABI_VERSION 1u

/* Status codes: fixed values, never renumbered. */
typedef int32_t mdl_status;
#define MDL_OK 0
#define MDL_ERR_INVALID_ARGUMENT 1  /* bad input: a NULL pointer, malformed text, a wrong length */
#define MDL_ERR_NOT_FOUND 2         /* no such file, request or pairing */
#define MDL_ERR_ALREADY_EXISTS 3    /* a store already exists at that path */
#define MDL_ERR_PERMISSION_DENIED 4 /* the container refused (not an approver, a revoked device) \
                                     */
#define MDL_ERR_UNAUTHENTICATED \
  5 /* wrong passphrase, tampered store, refused signature or secret */
#define MDL_ERR_FAILED_PRECONDITION 6 /* not paired yet, an expired or used pairing offer */
#define MDL_ERR_RESOURCE_EXHAUSTED 7
#define MDL_ERR_DATA_LOSS 8   /* the store is damaged */
#define MDL_ERR_UNAVAILABLE 9 /* the container cannot be reached */
#define MDL_ERR_INTERNAL 10

/* Key-derivation cost of the phone's encrypted store (Argon2id). */
typedef int32_t mdl_kdf;
#define MDL_KDF_MODERATE 0    /* 256 MiB, the default for a real phone */
#define MDL_KDF_INTERACTIVE 1 /* 64 MiB */
#define MDL_KDF_TEST 2        /* the minimum: refused unless MEDALLION_ALLOW_TEST_KDF=1 is set */

typedef struct mdl_phone mdl_phone;

/* The library's ABI version (compare with MDL_BRIDGE_ABI_VERSION). Thread-safe. */
MDL_BRIDGE_API uint32_t mdl_abi_version(void);

/* A static name for a status ("ok", "invalid_argument", ...); never NULL. Thread-safe. */
MDL_BRIDGE_API const char* mdl_status_name(mdl_status status);

/* Releases a string returned by this library, wiping its bytes first. NULL is allowed. */
MDL_BRIDGE_API void mdl_string_free(char* s);

/* --- The phone's wallet --------------------------------------------------------------------- */

/* Creates a new wallet in a new encrypted store at `store_path` (mode 0600; an existing file is
 * refused with MDL_ERR_ALREADY_EXISTS) with a fresh 24-word mnemonic and a new device key.
 * `passphrase` (passphrase_len bytes, not NUL-terminated) seals the store. On success
 * *out_phone is a new handle and *out_mnemonic the mnemonic to show the person once (free it
 * with mdl_string_free as soon as it is shown). */
MDL_BRIDGE_API mdl_status mdl_phone_create(const char* store_path, const uint8_t* passphrase,
                                           size_t passphrase_len, mdl_kdf kdf,
                                           mdl_phone** out_phone, char** out_mnemonic);

/* Restores the wallet from a BIP-39 mnemonic (mnemonic_len bytes) into a new store; the phone
 * gets a new device key (a device key never moves: the new phone is paired again). */
MDL_BRIDGE_API mdl_status mdl_phone_restore(const char* store_path, const uint8_t* passphrase,
                                            size_t passphrase_len, mdl_kdf kdf,
                                            const char* mnemonic, size_t mnemonic_len,
                                            mdl_phone** out_phone);

/* Opens an existing store. MDL_ERR_UNAUTHENTICATED for a wrong passphrase. */
MDL_BRIDGE_API mdl_status mdl_phone_open(const char* store_path, const uint8_t* passphrase,
                                         size_t passphrase_len, mdl_phone** out_phone);

/* Destroys a handle (wiping its keys). NULL is allowed. */
MDL_BRIDGE_API void mdl_phone_destroy(mdl_phone* phone);

/* The last failure on this handle, or "" — owned by the handle, valid until the next call on it. */
MDL_BRIDGE_API const char* mdl_phone_last_error(const mdl_phone* phone);

/* The device key's public part as a Multikey ("z6Mk..."). */
MDL_BRIDGE_API mdl_status mdl_phone_device_key(mdl_phone* phone, char** out_multikey);

/* The wallet's did:key (its authentication key): the identity the phone shows. */
MDL_BRIDGE_API mdl_status mdl_phone_did(mdl_phone* phone, char** out_did);

/* Signs `message` with the device key (Ed25519). out_signature must have room for
 * out_signature_len >= 64 bytes; exactly 64 are written. */
MDL_BRIDGE_API mdl_status mdl_phone_sign(mdl_phone* phone, const uint8_t* message,
                                         size_t message_len, uint8_t* out_signature,
                                         size_t out_signature_len);

/* --- Pairing with the container -------------------------------------------------------------- */

/* Pairs with the container whose pairing URI (the QR code: medallion-pair://v1?url=...&id=...
 * &secret=...&expires=...) is given: proves knowledge of the one-time secret over a transcript
 * that includes the device key, and remembers the container. *out_json is the container's
 * answer {"device_id", "owner", "container"}. MDL_ERR_FAILED_PRECONDITION for an expired
 * offer (checked here first), MDL_ERR_UNAUTHENTICATED if the container refuses the proof. */
MDL_BRIDGE_API mdl_status mdl_phone_pair(mdl_phone* phone, const char* pairing_uri,
                                         const char* device_name, char** out_json);

/* The paired container's URL and this device's id as JSON {"container", "device_id"}
 * (MDL_ERR_FAILED_PRECONDITION when not paired). */
MDL_BRIDGE_API mdl_status mdl_phone_pairing(mdl_phone* phone, char** out_json);

/* --- Approvals -------------------------------------------------------------------------------- */

/* The requests awaiting this person's decision, as a JSON array; each item has "id", "kind"
 * (consent, prescription_cosign, fill, recovery), "hash" (of what is approved), "summary" (the
 * container's structured summary), "text" (a human sentence to show) and "payload" (what the
 * approval asks the phone to sign; {} when it asks for nothing but the decision, as for consent).
 */
MDL_BRIDGE_API mdl_status mdl_phone_pending(mdl_phone* phone, char** out_json);

/* Decides a request: approve != 0 approves, 0 denies. The device signs the decision over the
 * request's hash; when the request asks for a signature (a prescription to co-sign, a fill to
 * authorize) and approve != 0, the device also signs that document or token. *out_json is the
 * container's answer {"id", "status", "approver"}. MDL_ERR_NOT_FOUND if the request is no
 * longer pending. */
MDL_BRIDGE_API mdl_status mdl_phone_decide(mdl_phone* phone, const char* request_id,
                                           int32_t approve, char** out_json);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MEDALLION_BRIDGE_H_ */
