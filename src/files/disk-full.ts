/**
 * The one test for "the disk is full", whatever reported it: ENOSPC and EDQUOT from the filesystem,
 * SQLITE_FULL (the `code` of better-sqlite3's SqliteError) from the database.
 */
export function isDiskFull(error: unknown): boolean {
  const code = String((error as { code?: unknown } | null)?.code ?? '');
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL';
}
