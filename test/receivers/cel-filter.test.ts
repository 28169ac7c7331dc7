/**
 * resourceFilter expressions as Flux's documentation and tests write them, evaluated with the variables Flux
 * declares by the evaluator's worker, as a delivery's filters are; and the expressions refused because their
 * cost could outgrow their input.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { BUILT_LIST_LIMIT, BUILT_STRING_LIMIT } from '../../src/receivers/cel-bounds.ts';
import { createCelEvaluator, DELIVERY_TIME_LIMIT_MS } from '../../src/receivers/cel-evaluator.ts';
import { createFilterCompiler, largestCollection, type CompiledFilter, type FilterVariables } from '../../src/receivers/cel-filter.ts';
import type { FilterVerdict } from '../../src/core/selector.ts';
import { systemClock } from '../../src/core/clock.ts';
import { manualClock } from '../support/manual-clock.ts';
import { until } from '../support/until.ts';

const filters = createFilterCompiler();
const evaluator = createCelEvaluator({ clock: systemClock });
afterAll(() => evaluator.close());

/** One filter over one resource, as one delivery's job: its verdict, or why the delivery was stopped. */
async function evaluate(filter: CompiledFilter, { res, req, claims }: FilterVariables): Promise<FilterVerdict | { failed: string }> {
  const answer = await evaluator.filter({ req, ...(claims ? { claims } : {}), lists: [{ filters: [filter], objects: [res] }], stepsSpent: 0 });
  return 'failed' in answer ? answer : answer.verdicts[0]![0]!;
}

function compiled(expression: string, claims = false): CompiledFilter {
  const filter = filters.compile(expression, { claims });
  if ('problem' in filter) throw new Error(filter.problem);
  return filter;
}

function problem(expression: string, claims = false): string {
  const filter = filters.compile(expression, { claims });
  if (!('problem' in filter)) throw new Error(`compiled: ${expression}`);
  return filter.problem;
}

const podinfo = { apiVersion: 'image.toolkit.fluxcd.io/v1', kind: 'ImageRepository', metadata: { name: 'hello-world', namespace: 'apps', labels: { team: 'dev' }, annotations: { 'update-image': 'hello-world' } } };
// Google Artifact Registry's notification, as Flux hands it to the expression (docs/spec/v1/receivers.md).
const gar = { action: 'INSERT', digest: 'us-east1-docker.pkg.dev/my-project/my-repo/hello-world@sha256:6ec128e26cd5', tag: 'us-east1-docker.pkg.dev/my-project/my-repo/hello-world:1.1' };

describe('expressions from Flux', () => {
  test.each([
    ['req.tag.contains(res.metadata.name)', true],
    [`has(res.metadata.annotations) && req.tag.split('/').last().value().split(":").first().value() == res.metadata.annotations['update-image']`, true],
    [`res.metadata.labels['team'] == 'dev'`, true],
    [`res.metadata.labels['team'] == 'ops'`, false],
    [`'team' in res.metadata.labels && res.metadata.name.startsWith('hello')`, true],
    [`has(res.metadata.labels.missing)`, false],
    [`req.?missing.orValue('none') == 'none'`, true],
    [`req.action == 'INSERT' && req.tag.endsWith(':1.1')`, true],
  ])('%s → %p', async (expression, expected) => {
    expect(await evaluate(compiled(expression), { res: podinfo, req: gar })).toBe(expected);
  });

  test('claims are a variable only where the Receiver has them (generic-oidc)', async () => {
    expect(problem(`claims.repository == 'org/app'`)).toContain('claims');
    const filter = compiled(`claims.repository == res.metadata.annotations['source-repository']`, true);
    const res = { metadata: { name: 'app', annotations: { 'source-repository': 'org/app' } } };
    expect(await evaluate(filter, { res, req: {}, claims: { repository: 'org/app' } })).toBe(true);
    expect(await evaluate(filter, { res, req: {}, claims: { repository: 'org/other' } })).toBe(false);
  });

  test('a key the resource lacks is an error, not false and not true', async () => {
    const result = await evaluate(compiled(`res.metadata.annotations['update-image'] == 'x'`), { res: { metadata: { name: 'a' } }, req: {} });
    expect(result).toEqual({ error: expect.stringContaining('annotations') });
  });

  test('JSON numbers compare with integer literals', async () => {
    expect(await evaluate(compiled('req.count == 2 && req.count > 1'), { res: podinfo, req: { count: 2 } })).toBe(true);
  });
});

describe('refused expressions', () => {
  test.each([
    ['req.tag', 'not bool'],
    ['res.metadata.name ==', 'invalid CEL expression'],
    ['undefinedVariable == 1', 'invalid CEL expression'],
    [`req.tag.matches('^v[0-9]+$')`, 'matches() is not supported'],
    ['cel.bind(x, req.tag, x == res.metadata.name)', 'cel.bind() is not in the CEL environment'],
    [`req.commits.exists(c, c.modified.exists(p, p.startsWith('apps/')))`, 'inside another comprehension'],
    [`req.commits.exists(c, c.id in req.ids)`, 'reads req'],
    [`req.a + req.a + req.a + req.a + req.a + req.a + req.a + req.a + req.a + req.a == ''`, 'concatenations'],
    [Array.from({ length: 120 }, () => 'true').join(' && '), 'maxAstNodes'],
  ])('%s', (expression, reason) => {
    expect(problem(expression)).toContain(reason);
  });

  test('a comprehension over the request is not evaluated when the request is too large for it', async () => {
    const filter = compiled(`req.commits.exists(c, c.id.startsWith(res.metadata.name))`);
    const commits = Array.from({ length: 2048 }, (_, index) => ({ id: `hello-world-${index}` }));
    expect(await evaluate(filter, { res: podinfo, req: { commits } })).toBe(true);
    const flood = Array.from({ length: 200_000 }, () => 0);
    expect(await evaluate(filter, { res: podinfo, req: { commits, flood } })).toEqual({ error: expect.stringContaining('too large') });
  });
});

describe('bounded evaluation', () => {
  const hostile = { a: 'x'.repeat(1000), b: 'y'.repeat(1_000_000) };
  const join = `req.a.split('').join(req.b).size() > 0`;
  const joinBound = `join() would build a string of more than ${BUILT_STRING_LIMIT} characters`;

  test('a join that would build 1,000 × 1 MB is stopped before it allocates, with the size bound as the reason', async () => {
    expect(await evaluate(compiled(join), { res: podinfo, req: hostile })).toEqual({ failed: joinBound });
  });

  test('a bound that CEL logic would absorb (error || true) still fails the delivery: never "match all"', async () => {
    expect(await evaluate(compiled(`${join} || true`), { res: podinfo, req: hostile })).toEqual({ failed: joinBound });
  });

  test('the bound holds across the whole delivery: one object past it, and no object of any list is decided', async () => {
    const filter = compiled(`res.metadata.name == 'web' || ${join}`);
    const object = (name: string) => ({ metadata: { name } });
    const answer = await evaluator.filter({ req: hostile, lists: [{ filters: [filter], objects: [object('web')] }, { filters: [filter], objects: [object('web'), object('api')] }], stepsSpent: 0 });
    expect(answer).toEqual({ failed: joinBound });
  });

  test('a split into more elements than the bound is stopped', async () => {
    const result = await evaluate(compiled(`req.a.split('').size() > 0`), { res: podinfo, req: { a: 'x'.repeat(BUILT_LIST_LIMIT + 1) } });
    expect(result).toEqual({ failed: `split() would build a list of more than ${BUILT_LIST_LIMIT} elements` });
  });

  test('joins and splits within the bounds work as before', async () => {
    const req = { images: ['ghcr.io/org/hello-world', 'ghcr.io/org/other'], path: 'apps/'.repeat(10_000) };
    expect(await evaluate(compiled(`req.images.join(',').contains(res.metadata.name) && req.path.split('/').size() == 10001`), { res: podinfo, req })).toBe(true);
  });

  test('a generic-oidc rule past the bound refuses the token with the reason', async () => {
    const answer = await evaluator.claims({ claims: { parts: Array.from({ length: 1000 }, () => 'x'), glue: 'y'.repeat(1_000_000) }, variables: [{ name: 'joined', expression: 'claims.parts.join(claims.glue)' }], validations: [] });
    expect(answer).toEqual({ failed: joinBound });
  });

  test('an evaluation past the time limit is stopped, and the next delivery gets a new worker', async () => {
    const clock = manualClock();
    const timed = createCelEvaluator({ clock });
    try {
      // Each object walks a 3.5 MB string 33 times: seconds of work, interrupted at the limit.
      const slow = compiled(Array.from({ length: 33 }, () => 'req.a.size() > 0').join(' && '));
      const answer = timed.filter({ req: { a: 'x'.repeat(3_500_000) }, lists: [{ filters: [slow], objects: Array.from({ length: 20 }, () => podinfo) }], stepsSpent: 0 });
      await until(() => clock.timers() === 1, 'the job to reach the worker');
      await clock.advance(DELIVERY_TIME_LIMIT_MS);
      expect(await answer).toEqual({ failed: `the evaluation took longer than ${DELIVERY_TIME_LIMIT_MS} ms and was stopped` });
      const next = await timed.filter({ req: gar, lists: [{ filters: [compiled('req.tag.contains(res.metadata.name)')], objects: [podinfo] }], stepsSpent: 0 });
      expect(next).toEqual({ verdicts: [[true]], stepsSpent: 0 });
    } finally {
      timed.close();
    }
  });
});

describe('largestCollection', () => {
  test('the largest list or map at any depth', () => {
    expect(largestCollection({ a: [1, 2], b: { c: [1, 2, 3, 4] } }, { x: 1 })).toBe(4);
    expect(largestCollection(undefined, 'text', 3)).toBe(0);
  });

  test('a deeply nested body does not overflow the stack', () => {
    let value: unknown = [];
    for (let depth = 0; depth < 100_000; depth += 1) value = [value];
    expect(largestCollection(value)).toBe(1);
  });
});
