/*
** openrecall_idset: a set of frame ids as one blob, built and tested inside SQLite.
**
** A filtered keyword search walks a word's matches newest first and keeps those passing the filters. Checking a
** match in an index is a B-tree seek (0.7-2 microseconds at 1 000 000 frames, a page read when the page is not in
** SQLite's cache); walking the match itself costs ~0.05. When the filters select a few tens of thousands of frames
** (an app over months, a word of the window titles), the search first collects them into a bitmap with one
** aggregate over an index range, then tests each match against that bitmap and seeks only for the matches inside it.
**
** The blob: the lowest id as a little-endian 64-bit integer, then one bit per id from it to the highest (bit i of
** byte j is id low + 8 * j + i). src/store/sqlite/frame-set.ts reads and writes the same layout.
**
** SQL:
**   openrecall_idset(id)          aggregate: the set of the non-NULL ids given (NULL when there are none)
**   openrecall_idset_has(set, id) 1 when `id` is in `set`, else 0 (0 for a NULL set or id)
*/
#include <stdint.h>
#include <string.h>

#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT3

/* A span of ids the bitmap may cover: 2^31 ids, 256 MiB of bits. Beyond it the aggregate fails with an error. */
#define IDSET_MAX_SPAN ((sqlite3_int64)1 << 31)
#define IDSET_HEADER 8

typedef struct Collected {
  sqlite3_int64 *ids;
  sqlite3_int64 count, capacity;
  sqlite3_int64 low, high;
  int failed;
} Collected;

static void idsetStep(sqlite3_context *ctx, int nVal, sqlite3_value **apVal) {
  (void)nVal;
  Collected *c = (Collected *)sqlite3_aggregate_context(ctx, sizeof(Collected));
  if (!c || c->failed || sqlite3_value_type(apVal[0]) == SQLITE_NULL) {
    if (!c) sqlite3_result_error_nomem(ctx);
    return;
  }
  sqlite3_int64 id = sqlite3_value_int64(apVal[0]);
  if (c->count == c->capacity) {
    sqlite3_int64 capacity = c->capacity ? c->capacity * 2 : 1024;
    sqlite3_int64 *grown = (sqlite3_int64 *)sqlite3_realloc64(c->ids, (sqlite3_uint64)capacity * sizeof(sqlite3_int64));
    if (!grown) {
      c->failed = 1;
      sqlite3_result_error_nomem(ctx);
      return;
    }
    c->ids = grown;
    c->capacity = capacity;
  }
  if (c->count == 0 || id < c->low) c->low = id;
  if (c->count == 0 || id > c->high) c->high = id;
  c->ids[c->count++] = id;
}

static void idsetFinal(sqlite3_context *ctx) {
  Collected *c = (Collected *)sqlite3_aggregate_context(ctx, 0);
  if (!c || c->count == 0 || c->failed) {
    if (c) sqlite3_free(c->ids);
    sqlite3_result_null(ctx);
    return;
  }
  if (c->high - c->low >= IDSET_MAX_SPAN) {
    sqlite3_free(c->ids);
    sqlite3_result_error(ctx, "openrecall_idset: the ids span more than 2^31", -1);
    return;
  }
  sqlite3_int64 bytes = IDSET_HEADER + (c->high - c->low) / 8 + 1;
  unsigned char *blob = (unsigned char *)sqlite3_malloc64((sqlite3_uint64)bytes);
  if (!blob) {
    sqlite3_free(c->ids);
    sqlite3_result_error_nomem(ctx);
    return;
  }
  memset(blob, 0, (size_t)bytes);
  uint64_t low = (uint64_t)c->low;
  for (int i = 0; i < 8; i++) blob[i] = (unsigned char)(low >> (8 * i));
  for (sqlite3_int64 i = 0; i < c->count; i++) {
    sqlite3_int64 offset = c->ids[i] - c->low;
    blob[IDSET_HEADER + offset / 8] |= (unsigned char)(1u << (offset % 8));
  }
  sqlite3_free(c->ids);
  sqlite3_result_blob64(ctx, blob, (sqlite3_uint64)bytes, sqlite3_free);
}

static void idsetHas(sqlite3_context *ctx, int nVal, sqlite3_value **apVal) {
  (void)nVal;
  if (sqlite3_value_type(apVal[0]) != SQLITE_BLOB || sqlite3_value_type(apVal[1]) == SQLITE_NULL) {
    sqlite3_result_int(ctx, 0);
    return;
  }
  const unsigned char *blob = (const unsigned char *)sqlite3_value_blob(apVal[0]);
  sqlite3_int64 bytes = sqlite3_value_bytes(apVal[0]);
  if (!blob || bytes <= IDSET_HEADER) {
    sqlite3_result_int(ctx, 0);
    return;
  }
  uint64_t low = 0;
  for (int i = 0; i < 8; i++) low |= (uint64_t)blob[i] << (8 * i);
  sqlite3_int64 offset = sqlite3_value_int64(apVal[1]) - (sqlite3_int64)low;
  if (offset < 0 || offset / 8 >= bytes - IDSET_HEADER) {
    sqlite3_result_int(ctx, 0);
    return;
  }
  sqlite3_result_int(ctx, (blob[IDSET_HEADER + offset / 8] >> (offset % 8)) & 1);
}

/* Called by the extension's entry point (openrecall_bm25.c). */
int openrecall_idset_register(sqlite3 *db) {
  const int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
  int rc = sqlite3_create_function(db, "openrecall_idset", 1, flags, 0, 0, idsetStep, idsetFinal);
  if (rc == SQLITE_OK) rc = sqlite3_create_function(db, "openrecall_idset_has", 2, flags, 0, idsetHas, 0, 0);
  return rc;
}
