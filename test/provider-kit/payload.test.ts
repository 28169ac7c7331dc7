import { describe, expect, test } from 'bun:test';
import { changedPaths, createOrDelete, isZeroId, ref, refOf, typedRef } from '../../src/provider-kit/git.ts';
import { formField, json, payloadLimits, read, repositoryNames, repositorySpellings, signedJson } from '../../src/provider-kit/payload.ts';
import { basicAuth, bearerToken } from '../../src/provider-kit/credentials.ts';

const error = (run: () => unknown): string => {
  try {
    run();
  } catch (e) {
    expect((e as Error).name).toBe('PayloadError');
    return (e as Error).message;
  }
  throw new Error('no error');
};

describe('read: errors name the field', () => {
  const payload = read({ ref: 7, push: { changes: [{ new: { name: 'main' } }, { new: 'x' }] }, repository: null, list: 'no' });
  test.each<[string, () => unknown, string]>([
    ['missing string', () => payload.string('after'), 'after is missing'],
    ['wrong type', () => payload.string('ref'), 'ref is not a string'],
    ['nested wrong type', () => payload.object('push').objects('changes', 10)[1]!.object('new'), 'push.changes[1].new is not an object'],
    ['null object is missing', () => payload.object('repository'), 'repository is missing'],
    ['not an array', () => payload.list('list', 10), 'list is not an array'],
    ['over the cap', () => read({ a: [1, 2, 3] }).list('a', 2), 'a has more than 2 entries (the limit)'],
    ['the root', () => read([1]), 'payload is not a JSON object'],
  ])('%s', (_name, run, message) => expect(error(run)).toBe(message));

  test('optional fields: missing and null are undefined', () => {
    expect(payload.optionalString('nope')).toBeUndefined();
    expect(payload.optionalObject('repository')).toBeUndefined();
    expect(payload.list('nope', 1)).toEqual([]);
    expect(payload.object('push').objects('changes', 5)[0]!.object('new').string('name')).toBe('main');
  });

  test('strings gathers the non-empty string fields, in order', () => {
    expect(read({ a: 'x', b: '', c: null, d: 'y' }).strings('a', 'b', 'c', 'd', 'e')).toEqual(['x', 'y']);
    expect(error(() => read({ a: 1 }).strings('a'))).toBe('a is not a string');
  });

  test('json and form bodies', () => {
    expect(error(() => json('{"a":'))).toStartWith('payload is not valid JSON');
    expect(formField(new TextEncoder().encode('payload=%7B%22a%22%3A1%7D'), 'payload')).toBe('{"a":1}');
    expect(error(() => formField(new TextEncoder().encode('x=1'), 'payload'))).toBe('form-encoded body has no payload field');
  });
});

describe('repositoryNames', () => {
  test('distinct, in order, capped', () => {
    const names = repositoryNames('repository');
    names.add('a', 'b', 'a', '', 'c');
    expect(names.list()).toEqual(['a', 'b', 'c']);
    const many = repositoryNames('repository');
    for (let i = 0; i < payloadLimits.repositories; i += 1) many.add(`r${i}`, `r${i}`);
    expect(error(() => many.add('one-more'))).toBe(`repository names more than ${payloadLimits.repositories} repositories (the limit)`);
  });
});

describe('git', () => {
  test('refs', () => {
    expect(ref('refs/heads/release/1.2')).toEqual({ ref: 'refs/heads/release/1.2', branch: 'release/1.2' });
    expect(ref('refs/tags/v1')).toEqual({ ref: 'refs/tags/v1', tag: 'v1' });
    expect(ref('refs/pull/1/head')).toEqual({ ref: 'refs/pull/1/head' });
    expect(refOf('tag', 'v2')).toEqual({ ref: 'refs/tags/v2', tag: 'v2' });
    expect(isZeroId('0000000000000000000000000000000000000000')).toBe(true);
    expect(isZeroId('0'.repeat(64))).toBe(true);
    expect(isZeroId('000000')).toBe(false);
    expect(isZeroId(undefined)).toBe(false);
  });

  const commit = (...paths: string[]) => ({ added: paths.slice(0, 1), modified: paths.slice(1), removed: [] });
  test.each<[string, unknown[], boolean, string[] | undefined]>([
    ['union of the file lists', [commit('a', 'b'), commit('b', 'c')], true, ['a', 'b', 'c']],
    ['the host says the list is cut', [commit('a')], false, undefined],
    ['no commits: unknown', [], true, undefined],
    ['a commit without file lists: unknown', [commit('a'), { id: 'x' }], true, undefined],
    ['more commits than the cap: unknown', Array.from({ length: payloadLimits.commits + 1 }, () => commit('a')), true, undefined],
    ['more paths than the cap: unknown', [{ added: Array.from({ length: payloadLimits.changedPaths + 1 }, (_, i) => `p${i}`) }], true, undefined],
  ])('%s', (_name, commits, complete, expected) => {
    expect(changedPaths(commits, { label: 'commits', complete })).toEqual(expected);
  });

  test('wrong types are named', () => {
    expect(error(() => changedPaths([{ added: 'a' }], { label: 'commits', complete: true }))).toBe('commits[0].added is not an array');
    expect(error(() => changedPaths([{ added: [1] }], { label: 'commits', complete: true }))).toBe('commits[0].added holds a non-string path');
  });
});

describe('credentials', () => {
  test('basic and bearer', () => {
    expect(basicAuth(`Basic ${Buffer.from('user:pa:ss').toString('base64')}`)).toEqual({ username: 'user', password: 'pa:ss' });
    expect(basicAuth('Basic !!!')).toBeUndefined();
    expect(basicAuth(null)).toBeUndefined();
    expect(bearerToken('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerToken('Basic abc')).toBeUndefined();
  });
});

describe('GitHub-shaped payloads (GitHub, Gitea, Forgejo, Gogs)', () => {
  test('repositorySpellings: the named fields, distinct, capped', () => {
    const repository = read({ repository: { full_name: 'org/app', html_url: 'https://h/org/app', clone_url: 'https://h/org/app.git', ssh_url: null, id: 3 } }).object('repository');
    expect(repositorySpellings(repository, 'full_name', 'html_url', 'clone_url', 'ssh_url', 'full_name')).toEqual(['org/app', 'https://h/org/app', 'https://h/org/app.git']);
  });

  test('createOrDelete and typedRef', () => {
    const base = { event: 'create', repositories: ['org/app'] };
    expect(createOrDelete(read({ ref: 'v1', ref_type: 'tag', sha: 'abc' }), base)).toEqual({ ...base, ref: 'refs/tags/v1', tag: 'v1', commit: 'abc' });
    expect(createOrDelete(read({ ref: 'old', ref_type: 'branch' }), { ...base, event: 'delete' })).toEqual({ event: 'delete', repositories: ['org/app'], ref: 'refs/heads/old', branch: 'old', deleted: true });
    expect(error(() => typedRef(read({ ref: 'x', ref_type: 'repository' })))).toBe('ref_type is neither branch nor tag');
  });

  test('signedJson: the body, or the payload field of a form body', () => {
    const json = new TextEncoder().encode('{"a":1}');
    expect(signedJson({ body: json, headers: new Headers({ 'content-type': 'application/json' }) })).toBe(json);
    const form = { body: new TextEncoder().encode('payload=%7B%22a%22%3A1%7D'), headers: new Headers({ 'content-type': 'application/x-www-form-urlencoded' }) };
    expect(new TextDecoder().decode(signedJson(form))).toBe('{"a":1}');
  });
});
