import type { PgMigration } from '../pg-migrations.js';
import { coreMigration } from './001-core.js';
import { searchMigration } from './002-search.js';
import { clientSuppliedMigration } from './003-client-supplied.js';
import { redactionMigration } from './004-redaction.js';
import { incomingIndexMigration } from './005-incoming-index.js';
import { wordStatisticsMigration } from './006-word-statistics.js';
import { wordPacksMigration } from './007-word-packs.js';
import { shortTextTrigramsMigration } from './008-short-text-trigrams.js';
import { packedAppsAndTimesMigration } from './009-packed-apps-and-times.js';

/** Every schema version of the PostgreSQL store, oldest first. Kept apart from the runner so no import cycle forms. */
export const pgMigrations: PgMigration[] = [
  coreMigration,
  searchMigration,
  clientSuppliedMigration,
  redactionMigration,
  incomingIndexMigration,
  wordStatisticsMigration,
  wordPacksMigration,
  shortTextTrigramsMigration,
  packedAppsAndTimesMigration,
];
