/** A journal for tests: in memory (no writer) unless one is given, feeding whatever the test hands it. */
import { createDeliveryDeduper } from '../../src/store/dedupe.ts';
import type { Clock } from '../../src/core/clock.ts';
import { createRequestedAtClock } from '../../src/core/kinds.ts';
import type { ObjectSelector } from '../../src/core/selector.ts';
import type { Ticket } from '../../src/core/ticket.ts';
import type { WorkItem } from '../../src/reconcile/work-item.ts';
import { createJournal, type Journal, type JournalOptions } from '../../src/store/journal.ts';

export const quietJournalReporter: JournalOptions['reporter'] = { committed() {}, pending() {}, failures() {} };

export interface TestJournalOptions extends Partial<Omit<JournalOptions, 'feed' | 'clock'>> {
  clock: Clock;
  feed(items: readonly WorkItem[]): void;
}

/**
 * @example
 * let reconciler: Reconciler;
 * const journal = testJournal({ clock, feed: (items) => reconciler.submit(items) });
 */
export function testJournal(options: TestJournalOptions): Journal {
  return createJournal({
    clusters: [undefined],
    maxPending: 10_000,
    dedupe: createDeliveryDeduper({ ttlMs: 11 * 60_000, maxEntriesPerProvider: 10_000, now: () => options.clock.now() }),
    requestedAt: createRequestedAtClock(),
    maxFailures: 1000,
    reporter: quietJournalReporter,
    ...options,
  });
}

/** Accepts a delivery of `selectors` (no delivery id) and returns its ticket; throws when the journal refuses it. */
export async function acceptAll(journal: Journal, selectors: readonly ObjectSelector[], provider = 'test'): Promise<Ticket> {
  const outcome = await journal.accept({ provider, cause: { provider }, selectors });
  if (outcome.kind !== 'accepted') throw new Error(`the journal answered ${outcome.kind}`);
  return outcome.ticket;
}

/** The same, for a journal without a writer, which answers at once. */
export function acceptNow(journal: Journal, selectors: readonly ObjectSelector[], provider = 'test'): Ticket {
  const outcome = journal.accept({ provider, cause: { provider }, selectors });
  if (outcome instanceof Promise) throw new Error('this journal has a writer: use acceptAll');
  if (outcome.kind !== 'accepted') throw new Error(`the journal answered ${outcome.kind}`);
  return outcome.ticket;
}
