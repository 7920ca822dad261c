/*
** openrecall_bm25: FTS5's bm25 ranking with a capped count of each phrase's matches.
**
** FTS5's bm25() weighs each phrase of a query by its inverse document frequency, and finds that frequency by
** visiting every row of the table that matches the phrase (once per statement). For a common word in a year of
** screen memory (1 000 000 frames) that visit is most of a keyword search's time, although the search only ranks
** the 2 000 most recent matches. This function computes the same score (k1 = 1.2, b = 0.75, the same per-column
** weights, the same IDF and the same lower bound of 1e-6 for an IDF <= 0, the same sign: the better, the more
** negative), except that the matches of a phrase are counted up to a cap; past the cap their number is estimated
** from how densely the first cap + 1 matches fill the table's rowids:
**
**   count ~ (cap + 1) * (high - low + 1) / (rowid of the (cap + 1)th match - low + 1)
**
** where [low, high] is the table's rowid range (the caller passes it: FTS5 does not tell an auxiliary function),
** bounded below by cap + 1 and above by the number of rows. The matches come in increasing rowid order, so the
** estimate assumes the phrase is about as frequent in the oldest rows as in the whole table. A phrase matching at
** most `cap` rows is counted exactly: its score is bm25's.
**
** SQL:
**   openrecall_bm25(tbl [, w0, ..., wN-1 [, low, high [, cap]]])
**     w0..wN-1: the weights of the table's N columns, as bm25's (1.0 when absent). Without low and high (or with
**     either NULL) every match is counted: the value is bm25's. cap: the count's cap (OPENRECALL_BM25_DEFAULT_CAP
**     when absent or NULL).
**   openrecall_bm25_hits(tbl, phrase [, low, high [, cap]])
**     The number of rows matching the query's phrase number `phrase` (from 0) that openrecall_bm25 uses: counted,
**     or estimated as above (for tests and measurements).
**   openrecall_bm25_visits()
**     How many matches this connection's calls have visited while counting, in all: a test can check that a count
**     stopped at the cap.
**
** Built by scripts/build-native.mjs, with openrecall_idset.c (frame id sets for filtered searches, registered by the
** same entry point), into one library; loaded by src/store/sqlite/database.ts (entry point sqlite3_openrecallbm_init).
*/
#include <math.h>
#include <string.h>

#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT1
#include "fts5.h"

#ifndef OPENRECALL_BM25_DEFAULT_CAP
#define OPENRECALL_BM25_DEFAULT_CAP 20000
#endif

int openrecall_idset_register(sqlite3 *db); /* openrecall_idset.c */

/* State of one connection: the count behind openrecall_bm25_visits(). */
typedef struct Connection {
  sqlite3_int64 visits;
} Connection;

/* What one phrase's walk over its matches found. */
typedef struct Walk {
  sqlite3_int64 seen;   /* matches visited */
  sqlite3_int64 stopAt; /* stop at this many (0: never) */
  sqlite3_int64 lastRowid;
} Walk;

static int visitMatch(const Fts5ExtensionApi *api, Fts5Context *fts, void *user) {
  Walk *walk = (Walk *)user;
  walk->seen++;
  if (walk->stopAt > 0 && walk->seen >= walk->stopAt) {
    walk->lastRowid = api->xRowid(fts);
    return SQLITE_DONE; /* xQueryPhrase then returns SQLITE_OK */
  }
  return SQLITE_OK;
}

/* The range and cap a call asks for, from its arguments after the first `skip`. */
typedef struct Limits {
  int capped; /* low and high given: count up to `cap` */
  sqlite3_int64 low, high, cap;
} Limits;

static Limits readLimits(int nVal, sqlite3_value **apVal, int skip) {
  Limits limits = {0, 0, 0, OPENRECALL_BM25_DEFAULT_CAP};
  if (nVal >= skip + 2 && sqlite3_value_type(apVal[skip]) != SQLITE_NULL && sqlite3_value_type(apVal[skip + 1]) != SQLITE_NULL) {
    limits.capped = 1;
    limits.low = sqlite3_value_int64(apVal[skip]);
    limits.high = sqlite3_value_int64(apVal[skip + 1]);
  }
  if (nVal >= skip + 3 && sqlite3_value_type(apVal[skip + 2]) != SQLITE_NULL) limits.cap = sqlite3_value_int64(apVal[skip + 2]);
  if (limits.cap < 1) limits.cap = 1;
  return limits;
}

/*
** The number of rows matching phrase `phrase` of the current query, in *count: every match counted, or (capped)
** the first cap + 1 and the rest estimated.
*/
static int phraseRows(const Fts5ExtensionApi *api, Fts5Context *fts, Connection *connection, int phrase, const Limits *limits,
                      sqlite3_int64 rows, sqlite3_int64 *count) {
  Walk walk = {0, limits->capped ? limits->cap + 1 : 0, 0};
  int rc = api->xQueryPhrase(fts, phrase, &walk, visitMatch);
  connection->visits += walk.seen;
  if (rc != SQLITE_OK) return rc;
  if (walk.stopAt == 0 || walk.seen < walk.stopAt) {
    *count = walk.seen;
    return SQLITE_OK;
  }
  /* Capped: the first walk.seen matches lie in [low, lastRowid]. A range that does not hold them is widened. */
  sqlite3_int64 low = limits->low, high = limits->high;
  if (walk.lastRowid < low) low = walk.lastRowid;
  if (high < walk.lastRowid) high = walk.lastRowid;
  double estimate = (double)walk.seen * ((double)(high - low) + 1.0) / ((double)(walk.lastRowid - low) + 1.0);
  sqlite3_int64 n = (sqlite3_int64)llround(estimate);
  if (n > rows) n = rows;
  if (n < walk.seen) n = walk.seen;
  *count = n;
  return SQLITE_OK;
}

/* What a statement computes once (kept with xSetAuxdata, as bm25 does). */
typedef struct Statistics {
  int phrases;
  double averageLength; /* tokens per row */
  double *idf;          /* per phrase */
  double *frequency;    /* per phrase: the current row's weighted count of its matches */
} Statistics;

static int statistics(const Fts5ExtensionApi *api, Fts5Context *fts, Connection *connection, const Limits *limits, Statistics **out) {
  Statistics *s = (Statistics *)api->xGetAuxdata(fts, 0);
  if (s) {
    *out = s;
    return SQLITE_OK;
  }
  *out = 0;
  int phrases = api->xPhraseCount(fts);
  sqlite3_int64 bytes = (sqlite3_int64)sizeof(Statistics) + (sqlite3_int64)phrases * 2 * (sqlite3_int64)sizeof(double);
  s = (Statistics *)sqlite3_malloc64((sqlite3_uint64)bytes);
  if (!s) return SQLITE_NOMEM;
  memset(s, 0, (size_t)bytes);
  s->phrases = phrases;
  s->idf = (double *)&s[1];
  s->frequency = s->idf + phrases;

  sqlite3_int64 rows = 0, tokens = 0;
  int rc = api->xRowCount(fts, &rows);
  if (rc == SQLITE_OK) rc = api->xColumnTotalSize(fts, -1, &tokens);
  if (rc == SQLITE_OK) s->averageLength = (double)tokens / (double)rows;
  for (int i = 0; rc == SQLITE_OK && i < phrases; i++) {
    sqlite3_int64 matching = 0;
    rc = phraseRows(api, fts, connection, i, limits, rows, &matching);
    if (rc == SQLITE_OK) {
      /* Robertson-Sparck Jones IDF; a phrase in more than half of the rows would weigh negatively: 1e-6 instead. */
      double idf = log((rows - matching + 0.5) / (matching + 0.5));
      s->idf[i] = idf <= 0.0 ? 1e-6 : idf;
    }
  }
  if (rc != SQLITE_OK) {
    sqlite3_free(s);
    return rc;
  }
  rc = api->xSetAuxdata(fts, s, sqlite3_free); /* on failure FTS5 frees s */
  if (rc == SQLITE_OK) *out = s;
  return rc;
}

static void bm25Function(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx, int nVal, sqlite3_value **apVal) {
  const double k1 = 1.2, b = 0.75;
  int columns = api->xColumnCount(fts);
  int weights = nVal < columns ? nVal : columns;
  Limits limits = readLimits(nVal, apVal, columns);
  Statistics *s = 0;
  int rc = statistics(api, fts, (Connection *)api->xUserData(fts), &limits, &s);
  int instances = 0;
  if (rc == SQLITE_OK) {
    for (int i = 0; i < s->phrases; i++) s->frequency[i] = 0.0;
    rc = api->xInstCount(fts, &instances);
  }
  for (int i = 0; rc == SQLITE_OK && i < instances; i++) {
    int phrase, column, offset;
    rc = api->xInst(fts, i, &phrase, &column, &offset);
    if (rc == SQLITE_OK) s->frequency[phrase] += column < weights ? sqlite3_value_double(apVal[column]) : 1.0;
  }
  int length = 0;
  if (rc == SQLITE_OK) rc = api->xColumnSize(fts, -1, &length);
  if (rc != SQLITE_OK) {
    sqlite3_result_error_code(ctx, rc);
    return;
  }
  double D = (double)length, score = 0.0;
  for (int i = 0; i < s->phrases; i++) {
    double f = s->frequency[i];
    score += s->idf[i] * ((f * (k1 + 1.0)) / (f + k1 * (1 - b + b * D / s->averageLength)));
  }
  sqlite3_result_double(ctx, -1.0 * score);
}

static void hitsFunction(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx, int nVal, sqlite3_value **apVal) {
  if (nVal < 1 || sqlite3_value_numeric_type(apVal[0]) != SQLITE_INTEGER) {
    sqlite3_result_error(ctx, "openrecall_bm25_hits(tbl, phrase [, low, high [, cap]])", -1);
    return;
  }
  int phrase = sqlite3_value_int(apVal[0]);
  if (phrase < 0 || phrase >= api->xPhraseCount(fts)) {
    sqlite3_result_error(ctx, "openrecall_bm25_hits: no such phrase", -1);
    return;
  }
  Limits limits = readLimits(nVal, apVal, 1);
  sqlite3_int64 rows = 0, count = 0;
  int rc = api->xRowCount(fts, &rows);
  if (rc == SQLITE_OK) rc = phraseRows(api, fts, (Connection *)api->xUserData(fts), phrase, &limits, rows, &count);
  if (rc == SQLITE_OK) sqlite3_result_int64(ctx, count);
  else sqlite3_result_error_code(ctx, rc);
}

static void visitsFunction(sqlite3_context *ctx, int nVal, sqlite3_value **apVal) {
  (void)nVal;
  (void)apVal;
  sqlite3_result_int64(ctx, ((Connection *)sqlite3_user_data(ctx))->visits);
}

/* The connection's FTS5 API (the way FTS5's documentation shows), or 0. */
static fts5_api *fts5Api(sqlite3 *db) {
  fts5_api *api = 0;
  sqlite3_stmt *statement = 0;
  if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &statement, 0) == SQLITE_OK) {
    sqlite3_bind_pointer(statement, 1, (void *)&api, "fts5_api_ptr", 0);
    sqlite3_step(statement);
  }
  sqlite3_finalize(statement);
  return api;
}

#ifdef _WIN32
__declspec(dllexport)
#endif
int sqlite3_openrecallbm_init(sqlite3 *db, char **error, const sqlite3_api_routines *routines) {
  SQLITE_EXTENSION_INIT2(routines);
  fts5_api *fts5 = fts5Api(db);
  if (!fts5 || fts5->iVersion < 2) {
    *error = sqlite3_mprintf("openrecall_bm25: this SQLite has no FTS5 (version 2 or later)");
    return SQLITE_ERROR;
  }
  Connection *connection = (Connection *)sqlite3_malloc(sizeof(Connection));
  if (!connection) return SQLITE_NOMEM;
  connection->visits = 0;
  /* openrecall_bm25 owns the connection's state: FTS5 frees it (at close) with that function. */
  int rc = fts5->xCreateFunction(fts5, "openrecall_bm25", connection, bm25Function, sqlite3_free);
  if (rc != SQLITE_OK) {
    sqlite3_free(connection);
    return rc;
  }
  rc = fts5->xCreateFunction(fts5, "openrecall_bm25_hits", connection, hitsFunction, 0);
  if (rc == SQLITE_OK) rc = sqlite3_create_function(db, "openrecall_bm25_visits", 0, SQLITE_UTF8, connection, visitsFunction, 0, 0);
  if (rc == SQLITE_OK) rc = openrecall_idset_register(db);
  return rc;
}
