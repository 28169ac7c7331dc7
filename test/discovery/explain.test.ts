/** The discovered view of `fluxgate explain`: from a repository and ref (or a payload's events) and listed objects. */
import { describe, expect, test } from 'bun:test';
import { explainDiscovered, pushEvent } from '../../src/discovery/explain.ts';
import type { WatchedObject } from '../../src/kube/informer.ts';

const git = (namespace: string, name: string, spec: Record<string, unknown>, annotations?: Record<string, string>): WatchedObject => ({
  apiVersion: 'source.toolkit.fluxcd.io/v1',
  kind: 'GitRepository',
  metadata: { name, namespace, ...(annotations ? { annotations } : {}) },
  spec,
});

describe('explainDiscovered', () => {
  const prod = [
    git('flux-system', 'app', { url: 'https://github.com/org/app', ref: { branch: 'main' } }),
    git('flux-system', 'app-dev', { url: 'git@github.com:org/app.git', ref: { branch: 'dev' } }),
    git('flux-system', 'app-pinned', { url: 'https://github.com/org/app', ref: { commit: 'abcdefabcdefabcdefabcdefabcdefabcdefabcd' } }),
    git('flux-system', 'app-paused', { url: 'https://github.com/org/app', ref: { branch: 'main' }, suspend: true }),
    git('flux-system', 'elsewhere', { url: 'https://github.com/org/other', ref: { branch: 'main' } }),
  ];
  const staging = [
    git('flux-system', 'app', { url: 'https://github.com/org/app' }),
    { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name: 'app', namespace: 'flux-system' }, spec: { source: { repoURL: 'https://github.com/org/app', targetRevision: 'main' } } },
  ];

  test('what would be reconciled in which cluster and why, and each near miss with its reason', () => {
    const explained = explainDiscovered({ repository: 'https://github.com/Org/App.git', ref: 'refs/heads/main', defaultBranch: 'main' }, [
      { cluster: 'prod', objects: prod },
      { cluster: 'staging', objects: staging },
    ]);
    expect(explained.reconcile).toEqual([
      { cluster: 'prod', object: 'GitRepository flux-system/app', why: 'discovered: GitRepository flux-system/app, url https://github.com/org/app, ref branch main' },
      { cluster: 'staging', object: 'GitRepository flux-system/app', why: 'discovered: GitRepository flux-system/app, url https://github.com/org/app, no ref: the default branch main' },
      { cluster: 'staging', object: 'Application flux-system/app', why: 'discovered: Application flux-system/app, source https://github.com/org/app, revision main (branch)' },
    ]);
    expect(explained.nearMisses).toEqual([
      { cluster: 'prod', object: 'GitRepository flux-system/app-dev', why: 'follows branch dev, not branch main' },
      { cluster: 'prod', object: 'GitRepository flux-system/app-pinned', why: 'pinned to commit abcdefabcdef' },
      { cluster: 'prod', object: 'GitRepository flux-system/app-paused', why: 'suspended (spec.suspend: true)' },
    ]);
  });

  test('a bare branch name, changed paths, and the events of a payload', () => {
    const filtered = [git('ns', 'apps', { url: 'https://github.com/org/app', ref: { branch: 'main' } }, { 'fluxgate.io/paths': 'apps/**' })];
    expect(pushEvent({ repository: 'org/app', ref: 'main', paths: ['docs/a.md'] })).toEqual({ event: 'push', repositories: ['org/app'], ref: 'refs/heads/main', branch: 'main', changedPaths: ['docs/a.md'] });
    expect(explainDiscovered({ repository: 'org/app', ref: 'main', paths: ['docs/a.md'] }, [{ objects: filtered }])).toEqual({
      reconcile: [],
      nearMisses: [{ object: 'GitRepository ns/apps', why: 'no changed path matches [apps/**] (fluxgate.io/paths)' }],
    });
    const events = [pushEvent({ repository: 'github.com/org/app', ref: 'refs/tags/v1' }), pushEvent({ repository: 'github.com/org/app', ref: 'refs/heads/main', paths: ['apps/x.yaml'] })];
    expect(explainDiscovered({ events }, [{ objects: filtered }]).reconcile.map((item) => item.object)).toEqual(['GitRepository ns/apps']);
    expect(explainDiscovered({ events }, [{ objects: filtered }]).nearMisses).toEqual([]);
  });
});
