export interface PgMigration {
  version: number;
  name: string;
  sql: string;
}
