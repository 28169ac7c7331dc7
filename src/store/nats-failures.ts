/**
 * Failures kept for a retry by hand, shared by replicas: the bucket `<name>-failures`, one key per failure
 * (`f.<seq>`, seq = the revision the failed item had in the work bucket, unique), watched into every replica's
 * memory so any replica's page, API and `fluxgate retry` see them all. At most `max` are kept: the replica that adds
 * one past it removes the oldest.
 */
import type { KV, KvEntry } from '@nats-io/kv';
import type { Clock } from '../core/index.ts';
import type { FailureRecord } from './journal.ts';
import { superviseWatch, type SupervisedWatch } from './nats-watch.ts';

export interface SharedFailures {
  ready: Promise<void>;
  watch: SupervisedWatch;
  list(): FailureRecord[];
  get(seq: number): FailureRecord | undefined;
  size(): number;
  add(failure: FailureRecord): Promise<void>;
  remove(seq: number): Promise<void>;
  stop(): void;
}

/**
 * @example
 * const failures = await watchFailures(layout.failures, { max: 1000, changed: () => report() });
 */
export function watchFailures(kv: KV, options: { max: number; clock: Clock; changed(): void; failed(operation: string, error: string): void }): SharedFailures {
  const bySeq = new Map<number, FailureRecord>();
  const apply = (entry: KvEntry) => {
    const seq = Number(entry.key.slice(2));
    if (entry.operation !== 'PUT') bySeq.delete(seq);
    else {
      try {
        const failure = entry.json<FailureRecord>();
        if (typeof failure?.seq === 'number' && failure.item) bySeq.set(seq, failure);
      } catch {
        // not a failure record (another version's): left alone
      }
    }
    options.changed();
  };
  let unconfirmed = new Set<number>();
  const watch = superviseWatch(
    kv,
    'f.*',
    options.clock,
    {
      begin: () => void (unconfirmed = new Set(bySeq.keys())),
      entry(entry) {
        unconfirmed.delete(Number(entry.key.slice(2)));
        apply(entry);
      },
      caughtUp() {
        for (const seq of unconfirmed) bySeq.delete(seq);
        unconfirmed.clear();
        options.changed();
      },
    },
    (error) => options.failed('watch', error),
  );
  const sorted = () => [...bySeq.values()].sort((a, b) => a.failedAt - b.failedAt || a.seq - b.seq);
  const remove = async (seq: number) => {
    bySeq.delete(seq);
    await kv.delete(`f.${seq}`);
  };
  return {
    ready: watch.ready,
    watch,
    list: sorted,
    get: (seq) => bySeq.get(seq),
    size: () => bySeq.size,
    async add(failure) {
      bySeq.set(failure.seq, failure);
      await kv.put(`f.${failure.seq}`, JSON.stringify(failure));
      const over = bySeq.size - options.max;
      if (over > 0) await Promise.all(sorted().slice(0, over).map((oldest) => remove(oldest.seq)));
    },
    remove,
    stop: () => watch.stop(),
  };
}
