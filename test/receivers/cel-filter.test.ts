/**
 * resourceFilter expressions as Flux's documentation and tests write them, evaluated with the variables Flux
 * declares; and the expressions refused because their cost could outgrow their input.
 */
import { describe, expect, test } from 'bun:test';
import { createFilterCompiler, largestCollection, type CompiledFilter } from '../../src/receivers/cel-filter.ts';

const filters = createFilterCompiler();

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
  ])('%s → %p', (expression, expected) => {
    expect(compiled(expression).evaluate({ res: podinfo, req: gar }, largestCollection(gar))).toBe(expected);
  });

  test('claims are a variable only where the Receiver has them (generic-oidc)', () => {
    expect(problem(`claims.repository == 'org/app'`)).toContain('claims');
    const filter = compiled(`claims.repository == res.metadata.annotations['source-repository']`, true);
    const res = { metadata: { name: 'app', annotations: { 'source-repository': 'org/app' } } };
    expect(filter.evaluate({ res, req: {}, claims: { repository: 'org/app' } }, 0)).toBe(true);
    expect(filter.evaluate({ res, req: {}, claims: { repository: 'org/other' } }, 0)).toBe(false);
  });

  test('a key the resource lacks is an error, not false and not true', () => {
    const result = compiled(`res.metadata.annotations['update-image'] == 'x'`).evaluate({ res: { metadata: { name: 'a' } }, req: {} }, 0);
    expect(result).toEqual({ error: expect.stringContaining('annotations') });
  });

  test('JSON numbers compare with integer literals', () => {
    expect(compiled('req.count == 2 && req.count > 1').evaluate({ res: podinfo, req: { count: 2 } }, 0)).toBe(true);
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

  test('a comprehension over the request is not evaluated when the request is too large for it', () => {
    const filter = compiled(`req.commits.exists(c, c.id.startsWith(res.metadata.name))`);
    const commits = Array.from({ length: 2048 }, (_, index) => ({ id: `hello-world-${index}` }));
    expect(filter.evaluate({ res: podinfo, req: { commits } }, largestCollection({ commits }))).toBe(true);
    const flood = Array.from({ length: 200_000 }, () => 0);
    expect(filter.evaluate({ res: podinfo, req: { commits, flood } }, largestCollection({ commits, flood }))).toEqual({ error: expect.stringContaining('too large') });
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
