/**
 * Following on the admin pages: per delivery and object, how far the pushed commit got — push → patched → fetched →
 * applied (or failed, timed out, superseded) — each time counted from the push. The drill-down shows the table, the
 * status page one line per object under the delivery's row.
 */
import type { DeliveryRecord, FollowedObject } from '../store/index.ts';
import { escapeHtml as e, table } from './html.ts';

/** `+850 ms`, `+41 s`, `+3 min 5 s` after the push; '' when the stage was not reached. */
export function sincePush(ms: number | undefined): string {
  if (ms === undefined) return '';
  if (ms < 1000) return `+${Math.round(ms)} ms`;
  if (ms < 60_000) return `+${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const seconds = Math.round(ms / 1000);
  return `+${Math.floor(seconds / 60)} min${seconds % 60 ? ` ${seconds % 60} s` : ''}`;
}

/** Whether a row is still followed (its page keeps refreshing). */
export function stillFollowed(row: FollowedObject): boolean {
  return row.endedMs === undefined && row.stage !== 'not-followed';
}

const where = (row: FollowedObject) => `${row.cluster ? `${e(row.cluster)}: ` : ''}${e(row.object)}`;

/** The time that says the most about the row: when it applied, fetched, was handled, or ended. */
function headline(row: FollowedObject): string {
  if (row.stage === 'applied') return sincePush(row.appliedMs);
  if (row.stage === 'fetched') return sincePush(row.fetchedMs);
  if (row.stage === 'handled' && row.endedMs !== undefined) return sincePush(row.handledMs);
  return row.endedMs !== undefined ? sincePush(row.endedMs) : '';
}

/** The status page's lines for a delivery's followed objects (the first `shown`). */
export function followedLines(record: DeliveryRecord, shown: number): string[] {
  const rows = record.followed ?? [];
  const lines = rows.slice(0, shown).map((row) => {
    const time = headline(row);
    return `<li>↳ ${where(row)}: <b class="${e(row.stage)}">${e(row.stage)}</b>${time ? ` ${e(time)}` : ''}${row.detail && row.stage !== 'applied' ? ` <small>(${e(row.detail)})</small>` : ''}</li>`;
  });
  if (rows.length > shown) lines.push(`<li>↳ and ${rows.length - shown} more followed</li>`);
  return lines;
}

/** By cluster, each source followed by what applies it (rows arrive in the order the follows changed). */
function inOrder(rows: readonly FollowedObject[]): FollowedObject[] {
  const group = (row: FollowedObject) => `${row.cluster ?? ''}\u0000${row.via ?? row.object}\u0000${row.via === undefined ? 0 : 1}\u0000${row.object}`;
  return [...rows].sort((a, b) => (group(a) < group(b) ? -1 : group(a) > group(b) ? 1 : 0));
}

/** The drill-down's "Followed" section: one row per cluster and object, the stage times from the push. */
export function followedSection(record: DeliveryRecord): string {
  const rows = inOrder(record.followed ?? []);
  if (rows.length === 0) return '';
  const push = record.push ? `${e(record.push.at)} (${record.push.from === 'payload' ? 'the push time the host sent' : 'the delivery’s arrival: the host sends no push time'})` : '';
  const cells = rows.map((row) => [
    where(row),
    e(row.via ?? ''),
    `<b class="${e(row.stage)}">${e(row.stage)}</b>`,
    e(sincePush(row.patchedMs)),
    e(sincePush(row.fetchedMs)),
    e(sincePush(row.appliedMs ?? (row.stage === 'handled' ? row.handledMs : undefined))),
    e(row.revision ?? ''),
    e([row.health ? `health ${row.health}` : '', row.detail ?? ''].filter(Boolean).join(' · ')),
  ]);
  return `
<h2>Followed</h2><p>push: ${push}</p>${table(['object', 'through', 'stage', 'patched', 'fetched', 'applied', 'revision', 'detail'], cells)}`;
}
