/**
 * The commit-status writer against a fake GitHub statuses API on loopback (the real GitHub client, every request
 * recorded), on a manual clock: states coalesced per commit and context, a superseded commit that never got a
 * status left alone, a rate limit waited out by pausing the host, a 5xx retried, a refusal dropped and said once.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { commitStatus } from '../../plugins/github/commit-status.ts';
import { createStatusWriter, type StatusRoute } from '../../src/feedback/status-writer.ts';
import { json } from '../support/git-hosts/fake-api.ts';
import { startFakeStatuses, type FakeStatuses } from '../support/git-hosts/fake-statuses.ts';
import { manualClock } from '../support/manual-clock.ts';
import { memoryLogger } from '../support/memory-logger.ts';

const TOKEN = 'ghp_writer_test_4d1a';
const SHA = 'a'.repeat(40);
const NEWER = 'b'.repeat(40);
const CONTEXT = 'fluxgate/prod/Kustomization/flux-system/apps';
let host: FakeStatuses | undefined;

afterEach(async () => {
  await host?.stop();
  host = undefined;
});

/** Lets the writer's requests on loopback run until `done` (bounded: a broken writer fails, never hangs). */
async function until(done: () => boolean): Promise<void> {
  for (let round = 0; round < 2000 && !done(); round += 1) await Bun.sleep(1);
  expect(done()).toBe(true);
}

function setup() {
  host = startFakeStatuses('github', TOKEN);
  const clock = manualClock();
  const log = memoryLogger();
  const outcomes: string[] = [];
  const writer = createStatusWriter({ clock, log, random: () => 0.5, reporter: { outcome: (type, outcome) => outcomes.push(`${type} ${outcome}`) } });
  const route: StatusRoute = { provider: 'github', type: 'github', statuses: commitStatus, apiUrl: host.origin, token: TOKEN };
  const target = (sha = SHA) => ({ repository: 'your-org/app', sha });
  const status = (state: 'pending' | 'success' | 'failure' | 'error' | 'superseded', description: string = state) => ({ state, context: CONTEXT, description });
  return { host, clock, log, outcomes, writer, route, target, status };
}

describe('coalescing', () => {
  test('a state still waiting is replaced by a newer one; a state the host has is not sent again', async () => {
    const { host, writer, route, target, status } = setup();
    writer.write(route, target(), status('pending', 'reconcile requested')); // sent at once
    writer.write(route, target(), status('pending', 'reconciling')); // the same state as in flight: not sent
    writer.write(route, target(), status('success', 'applied')); // waits for the pending one…
    writer.write(route, target(), status('failure', 'BuildFailed')); // …and is replaced before it goes
    await writer.idle();
    expect(host.history(SHA, CONTEXT)).toEqual(['pending', 'failure']);
    writer.write(route, target(), status('failure', 'BuildFailed'));
    await writer.idle();
    expect(host.requests).toHaveLength(2);
  });

  test('a burst of commits: the superseded ones that got a status get a final one; one that never did is left alone', async () => {
    const { host, writer, route, target, status } = setup();
    writer.write(route, target(SHA), status('pending'));
    await writer.idle();
    writer.write(route, target(SHA), status('superseded', `superseded by ${NEWER.slice(0, 12)}`));
    writer.write(route, target('c'.repeat(40)), status('superseded', `superseded by ${NEWER.slice(0, 12)}`));
    writer.write(route, target(NEWER), status('pending'));
    await writer.idle();
    // Sent side by side (4 at once per host): compared in order per commit.
    expect(host.statuses().map((record) => [record.sha.slice(0, 1), record.state, record.description]).sort((x, y) => x[0]!.localeCompare(y[0]!))).toEqual([
      ['a', 'pending', 'pending'],
      ['a', 'error', `superseded by ${NEWER.slice(0, 12)}`],
      ['b', 'pending', 'pending'],
    ]);
  });
});

describe('a host in trouble', () => {
  test.each([
    ['a 429', () => json({ message: 'API rate limit exceeded' }, 429, { 'retry-after': '120' })],
    ['GitHub’s secondary rate limit (403 with Retry-After)', () => json({ message: 'You have exceeded a secondary rate limit' }, 403, { 'retry-after': '120' })],
  ])('%s pauses the host until it resets, then the status goes', async (_name, answer) => {
    const { host, clock, writer, route, target, status, outcomes } = setup();
    host.queue(answer);
    writer.write(route, target(), status('pending'));
    await until(() => writer.waiting() === 1 && host.requests.length === 1 && outcomes.length === 1);
    expect(host.statuses()).toEqual([]);
    expect(writer.waiting()).toBe(1);
    await clock.advance(60_000);
    expect(host.requests).toHaveLength(1); // still paused
    await clock.advance(61_000);
    await writer.idle();
    expect(host.history(SHA, CONTEXT)).toEqual(['pending']);
    expect(outcomes).toEqual(['github rate_limited', 'github sent']);
  });

  test('a 502 is retried with backoff; a 404 is dropped and said, without the token', async () => {
    const { host, clock, writer, route, target, status, outcomes, log } = setup();
    host.queue(() => json({ message: 'Bad Gateway' }, 502));
    writer.write(route, target(), status('pending'));
    await until(() => host.requests.length === 1 && clock.timers() > 0);
    await clock.advance(30_000); // past the longest first backoff
    await until(() => host.statuses().length === 1);
    await writer.idle();
    expect(host.history(SHA, CONTEXT)).toEqual(['pending']);
    host.queue(() => json({ message: 'Not Found' }, 404));
    writer.write(route, target(), status('success'));
    await writer.idle();
    expect(host.history(SHA, CONTEXT)).toEqual(['pending']);
    expect(outcomes).toEqual(['github sent', 'github failed']);
    const said = log.lines.filter((line) => line.msg === 'commit status not written');
    expect(said).toHaveLength(1);
    expect(JSON.stringify(said)).not.toContain(TOKEN);
  });
});
