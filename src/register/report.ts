/**
 * What `register` prints: a table for people, or JSON for scripts, and the exit code (0 in sync, 1 a failure,
 * 2 changes planned by a dry run). Rows never carry a secret (sync-hooks.ts redacts what hosts say).
 */
import type { RegisterJob } from './jobs.ts';
import type { SyncRow } from './sync-hooks.ts';

export interface Summary {
  create: number;
  update: number;
  remove: number;
  unchanged: number;
  failed: number;
}

export function summarize(rows: readonly SyncRow[]): Summary {
  const summary: Summary = { create: 0, update: 0, remove: 0, unchanged: 0, failed: 0 };
  for (const row of rows) {
    if (row.error !== undefined) summary.failed += 1;
    else if (row.action !== 'error') summary[row.action] += 1;
  }
  return summary;
}

/**
 * 1 when anything failed; else 2 when a dry run found changes to make; else 0 (in sync).
 *
 * @example
 * exitCode(summarize(rows), true); // 2 when the dry run planned a create
 */
export function exitCode(summary: Summary, dryRun: boolean): number {
  if (summary.failed > 0) return 1;
  return dryRun && summary.create + summary.update + summary.remove > 0 ? 2 : 0;
}

function details(row: SyncRow): string {
  if (row.action === 'error') return row.error ?? '';
  const parts: string[] = [];
  if (row.action === 'create') parts.push(`events ${row.events?.join(', ') || '(none)'}`);
  if (row.action === 'update') parts.push(...(row.fields ?? []).map((change) => `${change.field}: ${change.from} → ${change.to}`));
  if (row.action === 'remove') parts.push(`hook ${row.hookId} ${row.url}`);
  if (row.note) parts.push(row.note);
  if (row.error !== undefined) parts.push(`failed: ${row.error}`);
  return parts.join('; ');
}

const scopeText = (row: SyncRow) => `${row.scope.kind} ${row.scope.name}`;

/**
 * The plan or result as lines: the hook each provider wants, a table of rows, and a summary.
 *
 * @example
 * for (const line of renderTable(jobs, rows, { dryRun: true })) console.log(line);
 */
export function renderTable(jobs: readonly RegisterJob[], rows: readonly SyncRow[], options: { dryRun: boolean }): string[] {
  const lines = jobs.map((job) => `${job.provider}: ${job.wanted.url} on ${new URL(job.apiUrl).host} (events ${job.wanted.events.join(', ') || '(none)'})`);
  const table = [['PROVIDER', 'SCOPE', 'ACTION', 'DETAILS'], ...rows.map((row) => [row.provider, scopeText(row), row.error !== undefined && row.action !== 'error' ? `${row.action} failed` : row.action, details(row)])];
  const widths = [0, 1, 2].map((column) => Math.max(...table.map((cells) => cells[column]!.length)));
  if (rows.length > 0) {
    lines.push('', ...table.map((cells) => cells.map((cell, column) => (column < 3 ? cell.padEnd(widths[column]!) : cell)).join('  ').trimEnd()));
  }
  const summary = summarize(rows);
  const failed = summary.failed > 0 ? `; ${summary.failed} failed` : '';
  lines.push(
    '',
    options.dryRun
      ? `dry run, nothing changed: would create ${summary.create}, update ${summary.update}, remove ${summary.remove}; ${summary.unchanged} unchanged${failed}`
      : `created ${summary.create}, updated ${summary.update}, removed ${summary.remove}; ${summary.unchanged} unchanged${failed}`,
  );
  return lines;
}

/** The same as one JSON document. */
export function renderJson(jobs: readonly RegisterJob[], rows: readonly SyncRow[], options: { dryRun: boolean; prune: boolean; rotateSecret: boolean }): string {
  const summary = summarize(rows);
  return JSON.stringify(
    {
      ...options,
      hooks: jobs.map((job) => ({ provider: job.provider, host: job.host, api: job.apiUrl, url: job.wanted.url, events: job.wanted.events, scopes: job.scopes })),
      changes: rows,
      summary,
      exitCode: exitCode(summary, options.dryRun),
    },
    null,
    2,
  );
}
