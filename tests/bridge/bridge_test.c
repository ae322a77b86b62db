/* The mobile bridge's C ABI driven from plain C11 (compiled -std=c11 -Wall -Wextra -Werror):
 * wallet create/open/restore, the device key, signing, pairing against a running container
 * (and the refusals: guessed secret, expired offer, reused offer, not paired), pending
 * requests, and decisions (a co-signature, a fill authorization, a denial). Every returned
 * string is freed; run under valgrind by ctest (bridge:valgrind).
 *
 * usage: bridge_test WORKDIR PAIRING_URI WRONG_SECRET_URI EXPIRING_URI PAST_URI
 * Ends with "N passed, M failed"; exit 1 on any failure. */
#define _POSIX_C_SOURCE 200809L /* nanosleep */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "medallion/bridge.h"

static int passed = 0, failed = 0;

static void check(int ok, const char* what) {
  if (ok) {
    ++passed;
    printf("ok   - %s\n", what);
  } else {
    ++failed;
    printf("FAIL - %s\n", what);
  }
}

static void check_status(mdl_status got, mdl_status want, const char* what, const mdl_phone* phone) {
  if (got != want) {
    printf("       got %s, want %s (%s)\n", mdl_status_name(got), mdl_status_name(want),
           phone ? mdl_phone_last_error(phone) : "");
  }
  check(got == want, what);
}

static void sleep_ms(long ms) {
  struct timespec ts;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (ms % 1000) * 1000000L;
  nanosleep(&ts, NULL);
}

/* The id of the first pending item of `kind` in the JSON array `json` (keys are sorted, so an
 * item's "id" comes right before its "kind"). Returns a malloc'd string or NULL. */
static char* find_id(const char* json, const char* kind) {
  char needle[64];
  snprintf(needle, sizeof needle, "\"kind\":\"%s\"", kind);
  const char* k = strstr(json, needle);
  if (k == NULL) return NULL;
  const char* id = NULL;
  for (const char* p = json; p < k; ++p) {
    if (strncmp(p, "\"id\":\"", 6) == 0) id = p + 6;
  }
  if (id == NULL) return NULL;
  const char* end = strchr(id, '"');
  if (end == NULL) return NULL;
  size_t n = (size_t)(end - id);
  char* out = malloc(n + 1);
  if (out == NULL) return NULL;
  memcpy(out, id, n);
  out[n] = '\0';
  return out;
}

int main(int argc, char** argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: bridge_test WORKDIR PAIRING_URI WRONG_SECRET_URI EXPIRING_URI PAST_URI\n");
    return 2;
  }
  const char* dir = argv[1];
  char store[1024], store2[1024], store3[1024];
  snprintf(store, sizeof store, "%s/phone.db", dir);
  snprintf(store2, sizeof store2, "%s/restored.db", dir);
  snprintf(store3, sizeof store3, "%s/unused.db", dir);
  const uint8_t pass[] = "correct horse";
  const size_t pass_len = sizeof pass - 1;

  /* The library. */
  check(mdl_abi_version() == MDL_BRIDGE_ABI_VERSION, "ABI version matches the header");
  check(strcmp(mdl_status_name(MDL_ERR_UNAVAILABLE), "unavailable") == 0, "status names");
  check(strcmp(mdl_status_name(12345), "unknown") == 0, "unknown status name");
  mdl_string_free(NULL);
  mdl_phone_destroy(NULL);

  /* Misuse is an error code, never a crash; outputs are NULL. */
  mdl_phone* phone = (mdl_phone*)0x1;
  char* mnemonic = (char*)0x1;
  check_status(mdl_phone_create(NULL, pass, pass_len, MDL_KDF_TEST, &phone, &mnemonic), MDL_ERR_INVALID_ARGUMENT,
               "create with a NULL path", NULL);
  check(phone == NULL && mnemonic == NULL, "outputs are NULL on failure");
  check_status(mdl_phone_create(store, pass, pass_len, 99, &phone, &mnemonic), MDL_ERR_INVALID_ARGUMENT, "unknown kdf", NULL);
  check_status(mdl_phone_open(store3, pass, pass_len, &phone), MDL_ERR_NOT_FOUND, "open a missing store", NULL);

  /* A new wallet. */
  check_status(mdl_phone_create(store, pass, pass_len, MDL_KDF_TEST, &phone, &mnemonic), MDL_OK, "create", NULL);
  int words = 1;
  for (const char* p = mnemonic; p && *p; ++p) words += *p == ' ';
  check(mnemonic != NULL && words == 24, "a 24-word mnemonic");
  mdl_phone* again = NULL;
  char* again_words = NULL;
  check_status(mdl_phone_create(store, pass, pass_len, MDL_KDF_TEST, &again, &again_words), MDL_ERR_ALREADY_EXISTS,
               "an existing store is never overwritten", NULL);

  char* key = NULL;
  char* did = NULL;
  check_status(mdl_phone_device_key(phone, &key), MDL_OK, "device key", phone);
  check(key != NULL && strncmp(key, "z6Mk", 4) == 0, "the device key is an Ed25519 Multikey");
  check_status(mdl_phone_did(phone, &did), MDL_OK, "did", phone);
  check(did != NULL && strncmp(did, "did:key:z6Mk", 12) == 0, "the phone's did:key");

  uint8_t sig[64];
  const uint8_t msg[] = "hello";
  check_status(mdl_phone_sign(phone, msg, 5, sig, sizeof sig), MDL_OK, "sign", phone);
  check_status(mdl_phone_sign(phone, msg, 5, sig, 32), MDL_ERR_INVALID_ARGUMENT, "a short signature buffer is refused", phone);
  check(strlen(mdl_phone_last_error(phone)) > 0, "last_error explains the failure");
  check_status(mdl_phone_sign(phone, NULL, 5, sig, sizeof sig), MDL_ERR_INVALID_ARGUMENT, "NULL message with a length", phone);

  /* Reopen: the wrong passphrase is refused; the right one gives the same keys. */
  mdl_phone* reopened = NULL;
  check_status(mdl_phone_open(store, (const uint8_t*)"wrong", 5, &reopened), MDL_ERR_UNAUTHENTICATED, "wrong passphrase", NULL);
  check_status(mdl_phone_open(store, pass, pass_len, &reopened), MDL_OK, "open", NULL);
  char* key2 = NULL;
  mdl_phone_device_key(reopened, &key2);
  check(key2 != NULL && strcmp(key, key2) == 0, "the same device key after reopening");
  mdl_string_free(key2);
  mdl_phone_destroy(reopened);

  /* Restore on a new phone: the same DID, a new device key. */
  mdl_phone* restored = NULL;
  check_status(mdl_phone_restore(store2, pass, pass_len, MDL_KDF_TEST, mnemonic, strlen(mnemonic), &restored), MDL_OK,
               "restore from the mnemonic", NULL);
  char* rkey = NULL;
  char* rdid = NULL;
  mdl_phone_device_key(restored, &rkey);
  mdl_phone_did(restored, &rdid);
  check(rdid != NULL && strcmp(rdid, did) == 0, "the restored wallet has the same DID");
  check(rkey != NULL && strcmp(rkey, key) != 0, "the restored phone has a new device key");
  check_status(mdl_phone_restore(store3, pass, pass_len, MDL_KDF_TEST, "not a mnemonic", 14, &reopened),
               MDL_ERR_INVALID_ARGUMENT, "an invalid mnemonic is refused", NULL);
  mdl_string_free(rkey);
  mdl_string_free(rdid);
  mdl_phone_destroy(restored);
  mdl_string_free(mnemonic);

  /* Not paired yet. */
  char* out = NULL;
  check_status(mdl_phone_pending(phone, &out), MDL_ERR_FAILED_PRECONDITION, "pending before pairing", phone);
  check_status(mdl_phone_pairing(phone, &out), MDL_ERR_FAILED_PRECONDITION, "no pairing yet", phone);

  /* Pairing refusals: a guessed secret, an offer that expired (its URI lying about it), an
   * expiry in the past (refused before any network), a malformed URI. */
  check_status(mdl_phone_pair(phone, argv[3], "test phone", &out), MDL_ERR_UNAUTHENTICATED, "a guessed secret is refused",
               phone);
  sleep_ms(2100);
  check_status(mdl_phone_pair(phone, argv[4], "test phone", &out), MDL_ERR_FAILED_PRECONDITION,
               "an expired offer is refused by the container", phone);
  check_status(mdl_phone_pair(phone, argv[5], "test phone", &out), MDL_ERR_FAILED_PRECONDITION,
               "an expired offer is refused by the phone", phone);
  check_status(mdl_phone_pair(phone, "https://example.com/?id=1", "test phone", &out), MDL_ERR_INVALID_ARGUMENT,
               "not a pairing URI", phone);

  /* Pairing. */
  check_status(mdl_phone_pair(phone, argv[2], "test phone", &out), MDL_OK, "pair", phone);
  check(out != NULL && strstr(out, "\"device_id\"") != NULL, "the container names the device");
  mdl_string_free(out);
  out = NULL;
  check_status(mdl_phone_pair(phone, argv[2], "test phone", &out), MDL_ERR_FAILED_PRECONDITION, "a used offer is refused",
               phone);
  check_status(mdl_phone_pairing(phone, &out), MDL_OK, "pairing info", phone);
  mdl_string_free(out);
  out = NULL;

  /* The container queues three requests once the phone is paired. */
  for (int i = 0; i < 100; ++i) {
    check_status(mdl_phone_pending(phone, &out), MDL_OK, i == 0 ? "pending" : "pending (again)", phone);
    if (out != NULL && strstr(out, "\"recovery\"") != NULL) break;
    mdl_string_free(out);
    out = NULL;
    sleep_ms(100);
  }
  check(out != NULL && strstr(out, "Co-sign the prescription") != NULL, "pending shows the human text");
  char* cosign = out ? find_id(out, "prescription_cosign") : NULL;
  char* fill = out ? find_id(out, "fill") : NULL;
  char* recovery = out ? find_id(out, "recovery") : NULL;
  check(cosign && fill && recovery, "three requests: co-sign, fill, recovery");
  mdl_string_free(out);
  out = NULL;

  if (cosign && fill && recovery) {
    check_status(mdl_phone_decide(phone, cosign, 1, &out), MDL_OK, "co-sign the prescription", phone);
    check(out != NULL && strstr(out, "\"approved\"") != NULL, "the container verified the co-signature");
    mdl_string_free(out);
    out = NULL;
    check_status(mdl_phone_decide(phone, fill, 1, &out), MDL_OK, "authorize the fill", phone);
    check(out != NULL && strstr(out, "\"approved\"") != NULL, "the container verified the fill authorization");
    mdl_string_free(out);
    out = NULL;
    check_status(mdl_phone_decide(phone, recovery, 0, &out), MDL_OK, "deny the recovery", phone);
    check(out != NULL && strstr(out, "\"denied\"") != NULL, "denied");
    mdl_string_free(out);
    out = NULL;
    check_status(mdl_phone_decide(phone, recovery, 1, &out), MDL_ERR_NOT_FOUND, "a decided request is no longer pending", phone);
  }
  check_status(mdl_phone_decide(phone, "no-such-request", 1, &out), MDL_ERR_NOT_FOUND, "an unknown request", phone);
  free(cosign);
  free(fill);
  free(recovery);

  mdl_string_free(key);
  mdl_string_free(did);
  mdl_phone_destroy(phone);
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
