/**
 * The real deliveries each built-in codec is fuzzed from: every request body in `test/plugins/<type>/fixtures/` with the
 * headers in its `NAME.headers.json` (a directory with header files: only the files that have one are request
 * bodies), plus what a few types need besides: fixtures of the same wire format filed under another name, headers
 * for fixtures published without them, the verified claims an OIDC type parses, and options.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixturePath } from '../fixture-path.ts';
import { withEmbedded, type Doc } from './json-document.ts';
import type { FuzzRequest } from './mutations.ts';

export interface Seed {
  /** `<directory>/<name>`, as a failing case names it. */
  name: string;
  request: FuzzRequest;
  headers: Readonly<Record<string, string>>;
}

interface Extras {
  /** Other fixture directories of the same wire format (`<type>/<folder>`). */
  directories?: string[];
  /** Headers of fixtures published without a headers file, by `<directory>/<name>`. */
  headers?: Record<string, Record<string, string>>;
  /** Documented bodies of the type's own format, which no host publishes. */
  bodies?: Record<string, Doc>;
  /** OIDC types: each claim set in this directory, with each body (`undefined`: none). */
  claims?: { directory: string; bodies: (Doc | undefined)[] };
  /** `providers[].options`, valid for the type's schema. */
  options?: Record<string, unknown>;
}

/** fluxgate's own payload, as plugins/generic/README.md documents it (no host publishes this one). */
const GENERIC_PAYLOAD: Doc = {
  repository: 'my-org/my-repo',
  ref: 'refs/heads/main',
  commit: '3f2a9c0e6b1d4a7f8c5e2b9d0a3f6c1e4b7d8a2f',
  paths: ['apps/web/deploy.yaml', 'apps/api/deploy.yaml'],
  deleted: false,
};
const GITHUB_PUSH = { 'X-GitHub-Event': 'push', 'X-GitHub-Delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958', 'Content-Type': 'application/json' };
const GENERIC = { directories: ['github'], bodies: { 'docs/generic': GENERIC_PAYLOAD }, headers: { 'github/push-new-branch': { 'X-Event': 'push', 'X-Delivery': 'd-1' }, 'github/push-tag-deleted': { 'X-Event': 'push' } } };

/** What each type needs beyond its own `test/plugins/<type>/fixtures/`. */
const EXTRAS: Record<string, Extras> = {
  github: {
    directories: ['github/packages'],
    headers: { 'github/push-new-branch': GITHUB_PUSH, 'github/push-tag-deleted': GITHUB_PUSH, 'github/ping': { ...GITHUB_PUSH, 'X-GitHub-Event': 'ping' } },
  },
  gitlab: {
    headers: {
      'gitlab/push-hook': { 'X-Gitlab-Event': 'Push Hook', 'Idempotency-Key': 'idem-0001' },
      'gitlab/tag-push-hook': { 'X-Gitlab-Event': 'Tag Push Hook' },
      'gitlab/system-hook-push': { 'X-Gitlab-Event': 'System Hook' },
      'gitlab/system-hook-tag-push': { 'X-Gitlab-Event': 'System Hook' },
      'gitlab/system-hook-user-create': { 'X-Gitlab-Event': 'System Hook' },
    },
  },
  gitea: { directories: ['gitea/forgejo'] },
  generic: GENERIC,
  'generic-hmac': GENERIC,
  'generic-oidc': {
    claims: { directory: 'generic-oidc/claims', bodies: [undefined, { paths: ['apps/web/deploy.yaml'] }, GENERIC_PAYLOAD] },
    options: { issuers: ['https://token.actions.githubusercontent.com'], audience: 'https://github.com/octo-org', claims: { repository: 'octo-org/*' } },
  },
  gcr: { options: { audience: 'https://hooks.example.com/hook/gcr', serviceAccount: 'pusher@my-project.iam.gserviceaccount.com' } },
  nexus: { options: { registry: 'nexus.example.com:8082' } },
  'standard-webhooks': { options: { repository: 'data.repository', ref: 'data.ref', commit: 'data.commit', paths: 'data.paths', event: 'type' } },
};

/** The options a type is fuzzed with (`{}` for types whose options all have defaults or that take none). */
export function optionsOf(type: string): Record<string, unknown> {
  return EXTRAS[type]?.options ?? {};
}

/** Every seed of `type`; empty when no fixture exists for it (the test refuses that). */
export function seedsOf(type: string): Seed[] {
  const extras = EXTRAS[type] ?? {};
  const seeds: Seed[] = [];
  for (const directory of [type, ...(extras.directories ?? [])]) {
    for (const file of requestFiles(directory)) {
      const name = `${directory}/${file}`;
      const body = withEmbedded(JSON.parse(readFileSync(join(fixturePath(directory), `${file}.json`), 'utf8')) as Doc);
      seeds.push({ name, request: { body }, headers: { ...headersOf(directory, file), ...extras.headers?.[name] } });
    }
  }
  for (const [name, body] of Object.entries(extras.bodies ?? {})) seeds.push({ name, request: { body }, headers: {} });
  if (extras.claims) {
    for (const file of requestFiles(extras.claims.directory)) {
      const claims = JSON.parse(readFileSync(join(fixturePath(extras.claims.directory), `${file}.json`), 'utf8')) as Doc;
      extras.claims.bodies.forEach((body, index) => seeds.push({ name: `${extras.claims!.directory}/${file} + body ${index}`, request: body === undefined ? { claims } : { claims, body }, headers: {} }));
    }
  }
  return seeds;
}

/** The names of a directory's request bodies: with a headers file each, where the directory has any. */
function requestFiles(directory: string): string[] {
  const path = fixturePath(directory);
  if (!existsSync(path)) return [];
  const files = readdirSync(path).filter((file) => file.endsWith('.json')).sort();
  const bodies = files.filter((file) => !file.endsWith('.headers.json')).map((file) => file.slice(0, -'.json'.length));
  const withHeaders = bodies.filter((name) => files.includes(`${name}.headers.json`));
  return withHeaders.length > 0 ? withHeaders : bodies;
}

/** The headers file's headers; a placeholder (`<uuid>`, `<computed>`) is a fixed id or, for a signature, left out. */
function headersOf(directory: string, file: string): Record<string, string> {
  const path = join(fixturePath(directory), `${file}.headers.json`);
  if (!existsSync(path)) return {};
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>)) {
    if (value === '<uuid>') headers[key] = '6f1e2d3c-0000-4000-8000-000000000001';
    else if (!(value.startsWith('<') && value.endsWith('>'))) headers[key] = value;
  }
  return headers;
}
