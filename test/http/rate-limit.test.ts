/**
 * `providers[].rateLimit`: per sender (the client address, after `server.trustedProxies`), a token bucket; beyond
 * it `429` with `Retry-After`, counted, never a 5xx, and never felt by another sender or another provider's
 * senders. Real signed GitHub pushes over loopback; time is the manual clock's.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { senderKey } from '../../src/http/sender-rate-limit.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { manualClock, type ManualClock } from '../support/manual-clock.ts';
import { configProblems } from '../support/config-check.ts';
import { githubWebhook } from '../support/webhooks.ts';

const SECRET = 'rate-limit-secret-3d71';
let gateway: TestGateway;
let clock: ManualClock;

beforeAll(async () => {
  clock = manualClock();
  const target = (name: string) => `  - name: ${name}\n    providers: [${name}]\n    match: { repository: your-org/your-repo }\n    resources: [{ kind: GitRepository, name: ${name}, namespace: flux-system }]`;
  gateway = await startTestGateway({
    clock,
    config: `server: { trustedProxies: [127.0.0.1] }
kubernetes: { mode: dry-run }
providers:
  - { name: limited, type: github, secret: { value: ${SECRET} }, rateLimit: { perSecond: 0.5, burst: 2 } }
  - { name: other, type: github, secret: { value: ${SECRET} }, rateLimit: { perSecond: 0.5, burst: 2 } }
  - { name: open, type: github, secret: { value: ${SECRET} } }
  - { name: flooded, type: github, secret: { value: ${SECRET} }, rateLimit: { perSecond: 0.5, burst: 2 } }
targets:
${['limited', 'other', 'open', 'flooded'].map(target).join('\n')}
`,
  });
});

afterAll(async () => {
  await gateway?.stop();
});

/** A signed push to `provider` from `client` (as the trusted proxy at 127.0.0.1 reports it): status, Retry-After and body. */
async function push(provider: string, client: string, extra: Record<string, string> = {}) {
  const hook = githubWebhook(SECRET, { repository: 'your-org/your-repo' });
  const response = await fetch(gateway.hook(provider), { method: 'POST', headers: { ...hook.headers, 'x-forwarded-for': client, ...extra }, body: hook.body });
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as Record<string, unknown> };
}

const counted = async (provider: string) => {
  const text = await (await fetch(`${gateway.adminUrl}/metrics`)).text();
  return Number(new RegExp(`^fluxgate_webhook_requests_total\\{provider="${provider}",type="github",event="push",outcome="rate_limited"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
};

describe('one sender past its limit', () => {
  test('the burst is accepted, the next is 429 with Retry-After and a reason, counted; after Retry-After seconds it is accepted again', async () => {
    const first = [await push('limited', '192.0.2.10'), await push('limited', '192.0.2.10')];
    expect(first.map((answer) => answer.status)).toEqual([202, 202]);
    const refused = await push('limited', '192.0.2.10');
    expect(refused).toEqual({ status: 429, retryAfter: '2', body: { error: 'too many deliveries from this address: at most 0.5 per second (burst 2) for this provider' } });
    expect(await counted('limited')).toBe(1);
    await clock.advance(2_000);
    expect((await push('limited', '192.0.2.10')).status).toBe(202);
    expect((await push('limited', '192.0.2.10')).status).toBe(429);
    expect(await counted('limited')).toBe(2);
  });

  test('another sender of the same provider, the same sender on another provider, and a provider without a limit are not affected', async () => {
    for (let sent = 0; sent < 3; sent += 1) await push('limited', '192.0.2.20');
    expect((await push('limited', '192.0.2.20')).status).toBe(429);
    expect([(await push('limited', '192.0.2.21')).status, (await push('other', '192.0.2.20')).status, (await push('other', '192.0.2.20')).status]).toEqual([202, 202, 202]);
    const open = [];
    for (let sent = 0; sent < 10; sent += 1) open.push((await push('open', '192.0.2.20')).status);
    expect(open).toEqual(Array(10).fill(202));
  });

  test('the address is the one the trusted proxy reports: a client cannot escape its bucket by writing X-Forwarded-For itself', async () => {
    // What the client wrote is left of what the proxy appended: the proxy's hop decides.
    expect((await push('limited', 'spoofed-1, 192.0.2.30')).status).toBe(202);
    expect((await push('limited', '198.51.100.1, 192.0.2.30')).status).toBe(202);
    expect((await push('limited', '198.51.100.2, 192.0.2.30')).status).toBe(429);
  });

  test('an IPv6 sender is its /64: walking through its addresses does not give it more', async () => {
    expect([(await push('limited', '2001:db8:1:2::1')).status, (await push('limited', '2001:db8:1:2::ffff:1')).status, (await push('limited', '2001:db8:1:2:abcd::9')).status]).toEqual([202, 202, 429]);
    expect((await push('limited', '2001:db8:1:3::1')).status).toBe(202);
  });

  test('a flood of refusals is never a 5xx, and the refused body is not read', async () => {
    const statuses = new Set<number>();
    for (let sent = 0; sent < 50; sent += 1) statuses.add((await push('other', '192.0.2.40')).status);
    expect([...statuses].sort()).toEqual([202, 429]);
    // A refusal before the body is read closes the connection rather than read on.
    const refused = await fetch(gateway.hook('other'), { method: 'POST', headers: { 'x-forwarded-for': '192.0.2.40', 'content-type': 'application/json' }, body: 'x'.repeat(1024) });
    expect({ status: refused.status, connection: refused.headers.get('connection') }).toEqual({ status: 429, connection: 'close' });
  });

  test('a flood is counted in full but recorded and logged once per 10 s per provider, with how many were not: the recent deliveries stay readable', async () => {
    // A provider of its own: no other test's refusals are in its window.
    const before = await counted('flooded');
    for (let sent = 0; sent < 30; sent += 1) await push('flooded', '192.0.2.50');
    expect(await counted('flooded')).toBe(before + 28);
    const rateLimitedRecords = async () => {
      const { deliveries } = (await (await fetch(`${gateway.adminUrl}/api/deliveries?provider=flooded&outcome=rejected`)).json()) as { deliveries: { status: number; reason: string }[] };
      return deliveries.filter((record) => record.status === 429).map((record) => record.reason);
    };
    const reason = 'too many deliveries from this address: at most 0.5 per second (burst 2) for this provider';
    expect(await rateLimitedRecords()).toEqual([reason]);
    await clock.advance(10_000);
    // 10 s fill the bucket again (2 pass); the next refusal opens a new window and is recorded, with the 27 before it.
    const after = [];
    for (let sent = 0; sent < 6; sent += 1) after.push((await push('flooded', '192.0.2.50')).status);
    expect(after).toEqual([202, 202, 429, 429, 429, 429]);
    expect(await rateLimitedRecords()).toEqual([`${reason} (and 27 more refused since the last one recorded)`, reason]);
  });
});

test('senders: IPv4 as is (mapped ones too), IPv6 by /64, anything else unknown', () => {
  expect(['192.0.2.1', '::ffff:192.0.2.1', '2001:db8::1', '2001:DB8:0:0:1::1', 'fe80::1%eth0', '::1', 'nope', undefined].map(senderKey)).toEqual([
    '192.0.2.1',
    '192.0.2.1',
    '2001:db8:0:0::/64',
    '2001:db8:0:0::/64',
    'fe80:0:0:0::/64',
    '0:0:0:0::/64',
    '?',
    '?',
  ]);
});

test('config: perSecond must be above 0, burst a whole number of at least 1', () => {
  const config = (limit: string) => `providers:\n  - name: github\n    type: github\n    secret: { env: S }\n    rateLimit: ${limit}\ntargets:\n  - name: app\n    providers: [github]\n    resources: [{ kind: GitRepository, name: app, namespace: flux-system }]\n`;
  expect(configProblems(config('{ perSecond: 0, burst: 1 }'))).toEqual([expect.stringMatching(/^fluxgate\.yaml:5:\d+ providers\[0\]\.rateLimit\.perSecond: /)]);
  expect(configProblems(config('{ perSecond: 1, burst: 0.5 }'))).toEqual([expect.stringMatching(/^fluxgate\.yaml:5:\d+ providers\[0\]\.rateLimit\.burst: /)]);
});
