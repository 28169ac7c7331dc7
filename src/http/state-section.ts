/**
 * The state store on the status page: where accepted work is kept, whether it takes writes, what is owed, and the
 * failures kept for a retry by hand, each with a button (a form without a body: no script runs on the page).
 */
import type { FailureRecord } from '../store/index.ts';
import { escapeHtml as e, table } from './html.ts';

export interface StateView {
  /** `sqlite: /var/lib/fluxgate/fluxgate.db`, `memory (not durable)`, … */
  describe: string;
  durable: boolean;
  health: { ok: true } | { ok: false; error: string };
  /** Work items accepted and not yet settled. */
  owed: number;
  failures: readonly FailureRecord[];
  sizeBytes?: number;
}

/** Failures listed on the page at most (all are in /api/failures). */
const SHOWN_FAILURES = 20;

/** A failure as the API lists it: what was owed, where, why it ended, and the deliveries it served. */
export function failureView(failure: FailureRecord) {
  const { item } = failure;
  return {
    seq: failure.seq,
    object: item.selector.label,
    ...(item.cluster !== undefined ? { cluster: item.cluster } : {}),
    outcome: failure.outcome,
    error: failure.error,
    attempts: failure.attempts,
    failedAt: new Date(failure.failedAt).toISOString(),
    deliveries: item.tickets.map((ticket) => ticket.cause?.deliveryId ?? `fluxgate-${ticket.seq}`),
  };
}

export function stateSection(view: StateView): string {
  const health = view.health.ok ? '<span class="accepted">takes writes</span>' : `<span class="rejected">cannot be written: ${e(view.health.error)} (webhooks are answered 503)</span>`;
  const size = view.sizeBytes !== undefined ? ` · ${(view.sizeBytes / 2 ** 20).toFixed(1)} MiB` : '';
  const durable = view.durable ? '' : ' · <b class="problem">not durable</b>: what is owed is lost with the process';
  const rows = view.failures.slice(-SHOWN_FAILURES).reverse().map((failure) => {
    const shown = failureView(failure);
    return [
      e(shown.failedAt),
      `${shown.cluster ? `${e(shown.cluster)}: ` : ''}${e(shown.object)}`,
      `<b class="failed">${e(shown.outcome)}</b> ${e(shown.error)}`,
      e(shown.deliveries.join(', ')),
      `<form method="post" action="/api/failures/retry?seq=${shown.seq}"><button>retry</button></form>`,
    ];
  });
  const all = view.failures.length > 1 ? `<form method="post" action="/api/failures/retry"><button>retry all ${view.failures.length}</button></form>` : '';
  return `\n<h2>State</h2><p>${e(view.describe)}: ${health}${size} · ${view.owed} owed${durable}</p>
<h3>Failed reconcile requests</h3>${all}${table(['failed', 'object', 'why', 'deliveries', ''], rows)}`;
}
