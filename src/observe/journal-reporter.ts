/**
 * The journal's reports as metrics and log lines. A store that cannot be written is logged at most once per
 * `quietMs` (with how many commits failed meanwhile), and once when it can be written again.
 */
import type { Clock } from '../core/index.ts';
import type { JournalReporter } from '../store/index.ts';
import type { Logger } from '../core/index.ts';
import type { ReplicaReporter } from '../store/index.ts';
import type { Metrics } from './metrics.ts';

/**
 * @example
 * const reporter = createJournalReporter(metrics, log, clock);
 * reporter.committed(0.8, 12); // one group commit of 12 webhooks in 0.8 ms
 */
export function createJournalReporter(metrics: Metrics, log: Logger, clock: Clock, quietMs = 10_000): JournalReporter {
  let loggedAt = Number.NEGATIVE_INFINITY;
  let failedSince = 0;
  let failing = false;
  return {
    committed(durationMs, deliveries, error) {
      metrics.storeCommitDuration.observe(durationMs / 1000);
      if (error === undefined) {
        if (failing) log.info('the state store can be written again: webhooks are accepted', { failedCommits: failedSince });
        failing = false;
        failedSince = 0;
        return;
      }
      metrics.storeErrors.inc({ operation: 'commit' });
      failing = true;
      failedSince += 1;
      if (clock.now() - loggedAt < quietMs) return;
      loggedAt = clock.now();
      log.error('the state store cannot be written: webhooks are answered 503 until it can', { error, refused: deliveries, failedCommits: failedSince });
    },
    pending(cluster, count) {
      metrics.journalPending.set(metrics.labels(cluster, {}), count);
    },
    failures(count) {
      metrics.journalFailures.set(count);
    },
  };
}

/**
 * What a shared store (`store: nats`) reports beside the journal: its failed operations other than commits
 * (counted by operation; the journal's health and its log line cover what matters to webhooks), and what this
 * replica owns.
 *
 * @example
 * const replica = createReplicaReporter(metrics);
 * replica.owned(11, 240); // 11 partitions, 240 items owed there
 */
export function createReplicaReporter(metrics: Metrics): ReplicaReporter {
  return {
    failed: (operation) => metrics.storeErrors.inc({ operation }),
    owned(partitions, items) {
      metrics.storeOwnedPartitions.set(partitions);
      metrics.storeOwnedItems.set(items);
    },
    acquired: () => metrics.storePartitionsAcquired.inc(),
  };
}
