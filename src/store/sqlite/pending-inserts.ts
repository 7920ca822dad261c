import type { Db } from './database.js';
import type { WalSync } from './wal-sync.js';

export interface Inserted {
  id: number;
  duplicate: boolean;
}

interface Waiting<Row> {
  row: Row;
  resolve: (inserted: Inserted) => void;
  reject: (error: unknown) => void;
}

type Outcome = { inserted: Inserted } | { error: unknown };

export interface PendingInsertsOptions {
  /** Rows committed in one transaction at most. */
  maxBatch?: number;
  /** Batches committed and waiting for their WAL fsync at once (2 measured best, bench/ingest.ts). */
  maxInFlight?: number;
}

/**
 * Group commit of the PENDING rows of uploads in flight. Each commit of its own cost the HTTP process a commit's
 * CPU (WAL frames written for the table and its indexes) per upload; rows that arrive while the batches in flight
 * wait for their WAL fsync are queued and committed together, in one transaction, then share one fsync.
 *
 * A duplicate capture_id (of a row before, or of one earlier in the same batch) is answered to its own request as
 * a duplicate. A batch whose transaction fails is inserted again row by row, so one bad row fails only its own
 * request. A request is answered only once its batch survives a power cut.
 */
export class PendingInserts<Row> {
  private readonly queue: Waiting<Row>[] = [];
  private inFlight = 0;
  private scheduled = false;
  private readonly idle: (() => void)[] = [];
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  private readonly insertBatch;

  /** `insertOne` inserts a row (its own statement; an existing key answered as a duplicate), inside or outside a transaction. */
  constructor(
    db: Db,
    private readonly insertOne: (row: Row) => Inserted,
    private readonly wal: Pick<WalSync, 'sync'>,
    options: PendingInsertsOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 64;
    this.maxInFlight = options.maxInFlight ?? 2;
    this.insertBatch = db.transaction((rows: Row[]) => rows.map((row) => insertOne(row)));
  }

  /** Resolves with the new id, or the existing one (duplicate) for a known key, once it survives a power cut. */
  insert(row: Row): Promise<Inserted> {
    return new Promise<Inserted>((resolve, reject) => {
      this.queue.push({ row, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves once every insert asked for so far is committed and answered (at shutdown, before the WAL is let go). */
  drain(): Promise<void> {
    if (this.queue.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight || this.queue.length === 0) return;
    this.scheduled = true;
    // The rest of this turn's uploads join the batch.
    setImmediate(() => {
      this.scheduled = false;
      this.commitNext();
    });
  }

  private commitNext(): void {
    if (this.inFlight >= this.maxInFlight || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.maxBatch);
    this.inFlight++;
    const outcomes = this.commit(batch.map((w) => w.row));
    // Duplicates wait too: the row they name may be one still waiting for its fsync.
    this.wal
      .sync()
      .then(
        () => settleAll(batch, outcomes),
        (error: unknown) => settleAll(batch, outcomes, { error }),
      )
      .finally(() => {
        this.inFlight--;
        this.schedule();
        if (this.queue.length === 0 && this.inFlight === 0) for (const resolve of this.idle.splice(0)) resolve();
      });
    this.schedule(); // more than one batch was waiting
  }

  private commit(rows: Row[]): Outcome[] {
    try {
      return this.insertBatch.immediate(rows).map((inserted) => ({ inserted }));
    } catch {
      // One row broke the transaction (rolled back): each row on its own, so only that one fails.
      return rows.map((row) => {
        try {
          return { inserted: this.insertOne(row) };
        } catch (error) {
          return { error };
        }
      });
    }
  }
}

/** Answers each request of a batch with its own outcome; a row inserted fails as well when its batch's sync failed. */
function settleAll<Row>(batch: Waiting<Row>[], outcomes: Outcome[], syncFailed?: { error: unknown }): void {
  batch.forEach((waiting, i) => {
    const outcome = outcomes[i]!;
    if ('error' in outcome) waiting.reject(outcome.error);
    else if (syncFailed) waiting.reject(syncFailed.error);
    else waiting.resolve(outcome.inserted);
  });
}
