/**
 * Signed, matching deliveries whose repository, ref and commit are 1.3 MB each (a 3.9 MB body, under the 4 MiB
 * limit): matching sees the whole values, but what fluxgate records, shows and logs of them is cut to 1024
 * characters and says so, so the status page, /api/deliveries and each log line stay small, and the delivery log
 * does not keep the payload's strings alive.
 */
import { heapStats } from 'bun:jsc';
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { githubPushWith, post } from '../support/webhooks.ts';

const SECRET = 'huge-values-secret-0c5e';
const SIZE = 1_300_000;
const KiB = 1024;
let gateway: TestGateway;

beforeAll(async () => {
  gateway = await startTestGateway({
    config: `server: { address: 127.0.0.1:0 }
kubernetes: { mode: dry-run }
providers: [{ name: github, type: github, secret: { env: HOOK_SECRET } }]
targets:
  - name: app
    providers: [github]
    match: { repository: Codertocat/Hello-World, branches: ['b*z'] }
    resources: [{ kind: GitRepository, name: app, namespace: flux-system }]
`,
    env: { HOOK_SECRET: SECRET },
  });
});
afterAll(async () => {
  await gateway.stop();
});

/** A push whose repository name, branch and commit are SIZE characters and more, each its own; `end` ends the branch. */
function hugePush(index: number, end = 'z') {
  return githubPushWith(SECRET, (payload) => {
    payload.repository.full_name = `your-org/${`${index}`.padEnd(SIZE, 'r')}`;
    payload.ref = `refs/heads/${`${index}`.padStart(SIZE, 'b')}${end}`;
    payload.head_commit.id = `${index}`.padEnd(SIZE, 'c');
  });
}

interface Shown {
  deliveryId: string;
  outcome: string;
  reason?: string;
  repository?: string;
  ref?: string;
  commit?: string;
}
const get = async (path: string) => new Uint8Array(await (await fetch(`${gateway.adminUrl}${path}`)).arrayBuffer());
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

test('the admin surface and the log carry 1024 characters of each value, marked as cut; matching saw them whole', async () => {
  const ids: string[] = [];
  for (let index = 0; index < 5; index += 1) {
    const hook = hugePush(index);
    // `b*z` matches only on the branch's last character, 1.3 MB past the cut: the target saw the whole ref (and
    // the repository by its other spellings).
    expect((await post(gateway.hook('github'), hook)).status).toBe(202);
    ids.push(hook.headers['x-github-delivery']!);
  }
  const unmatched = hugePush(5, 'y');
  expect((await post(gateway.hook('github'), unmatched)).status).toBe(200);

  const api = await get('/api/deliveries');
  expect(api.byteLength).toBeLessThan(6 * 8 * KiB);
  const { deliveries } = JSON.parse(text(api)) as { deliveries: Shown[] };
  expect(deliveries).toHaveLength(6);
  for (const record of deliveries) {
    expect(record.repository).toHaveLength(1024);
    expect(record.repository).toStartWith('your-org/');
    expect(record.repository).toEndWith(`r… (cut from ${SIZE + 9} characters)`);
    expect(record.ref).toHaveLength(1024);
    expect(record.ref).toEndWith(`b… (cut from ${SIZE + 12} characters)`);
    expect(record.commit).toHaveLength(1024);
    expect(record.commit).toEndWith(`c… (cut from ${SIZE} characters)`);
  }
  // The reason quotes the branch: cut too.
  const ignored = deliveries.find((record) => record.outcome === 'ignored')!;
  expect(ignored.reason!.length).toBeLessThanOrEqual(1024);
  expect(ignored.reason).toContain('… (cut from');

  const page = await get('/');
  expect(page.byteLength).toBeLessThan(64 * KiB);
  expect(text(page)).toContain(`b… (cut from ${SIZE + 12} characters)`);
  const one = await get(`/deliveries/${ids[0]}`);
  expect(one.byteLength).toBeLessThan(16 * KiB);
  expect(text(one)).toContain(`c… (cut from ${SIZE} characters)`);
  expect((await get(`/api/deliveries/${ids[0]}`)).byteLength).toBeLessThan(8 * KiB);

  const accepted = gateway.log.lines.filter((line) => line.msg === 'webhook accepted');
  expect(accepted).toHaveLength(5);
  for (const line of accepted) {
    expect(JSON.stringify(line).length).toBeLessThan(4 * KiB);
    expect(line).toMatchObject({ repository: expect.stringMatching(/… \(cut from 1300009 characters\)$/), ref: expect.stringMatching(/… \(cut from 1300012 characters\)$/), commit: expect.stringMatching(/… \(cut from 1300000 characters\)$/) });
  }
  for (const line of gateway.log.lines) expect(JSON.stringify(line).length).toBeLessThan(8 * KiB);
}, 60_000);

test('the delivery log and the matching caches do not keep the payloads alive', async () => {
  await post(gateway.hook('github'), hugePush(100)); // whatever a first delivery sets up is not counted
  Bun.gc(true);
  const before = heapStats().extraMemorySize;
  for (let index = 0; index < 10; index += 1) expect((await post(gateway.hook('github'), hugePush(200 + index))).status).toBe(202);
  Bun.gc(true);
  // 10 deliveries of 3 values of 1.3 MB: 39 MB if the records, the tickets or the spelling caches kept them.
  expect(heapStats().extraMemorySize - before).toBeLessThan(12 * 1024 * 1024);
}, 60_000);
