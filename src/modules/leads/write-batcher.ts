import type { Queryable } from '../../db/database.ts';
import { Batcher } from '../../lib/batcher.ts';
import { leadWriteShape, writeLeadUpdates, type LeadRow, type LeadWrite } from './store.ts';

const batchers = new WeakMap<Queryable, Batcher<LeadWrite, LeadRow | undefined>>();

/**
 * The unlocked update path's write, shared by the requests that send it at the same moment
 * (see Batcher): one write statement at a time per database, so that under load the writes
 * queued behind it go together, in one statement and one commit. A batch holds writes of
 * one shape and distinct leads (an UPDATE … FROM applies one source row per target row).
 * Never a transaction's: a transaction's writes are its own.
 */
export function leadWritesOf(db: Queryable): Batcher<LeadWrite, LeadRow | undefined> {
  let batcher = batchers.get(db);
  if (!batcher) {
    batcher = new Batcher((writes) => writeLeadUpdates(db, writes), {
      maxInFlight: 1,
      maxBatch: 64,
      joins: (batch, write) => leadWriteShape(write) === leadWriteShape(batch[0]) && !batch.some((other) => other.id === write.id),
    });
    batchers.set(db, batcher);
  }
  return batcher;
}
