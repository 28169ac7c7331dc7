/**
 * A fake Kubernetes API server for tests: real HTTPS on loopback with its own CA, real discovery documents,
 * real `Status` error bodies, bearer-token and client-certificate authentication, JSON merge patch, and
 * injectable faults (429/503/reset/hang).
 *
 * Why node:https and not Bun.serve: under Bun, node:https exposes `req.socket.authorized` per request, so the
 * server can request a client certificate *optionally* (like kube-apiserver) and tell whether a valid one was
 * presented. Bun.serve can only require one at the handshake or ignore it.
 *
 * Client certificates are issued by a separate client CA (kube-apiserver's --client-ca-file may differ from the
 * serving CA). That matters: OpenSSL builds the served chain from the verify store, so if the serving CA were
 * also the client-verify CA it would be sent in the chain and a wrong-CA client would see
 * SELF_SIGNED_CERT_IN_CHAIN instead of the UNABLE_TO_VERIFY_LEAF_SIGNATURE a real API server produces.
 *
 * @example
 * const kube = await startFakeKubeApiServer();
 * kube.addObject({ apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', namespace: 'flux-system', name: 'app' });
 * // ... point a client at kube.url with kube.caPem and kube.token ...
 * await kube.stop();
 */
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { stringify as toYaml } from 'yaml';
import { createFaultQueue } from './fault-queue.ts';
import { loopbackServerExt, withPkiDir } from './test-pki.ts';

export interface RecordedPatch {
  method: string;
  path: string;
  contentType: string | null;
  body: any;
  authorization: string | null;
  at: number;
}
export interface RecordedRequest {
  method: string;
  /** Path with query string, as received. */
  path: string;
  at: number;
}
/**
 * An injected answer. `reset` destroys the connection after reading the request, `hang` never answers (stop()
 * closes the socket). Note: Bun's fetch silently retries an idempotent request (GET) once on a fresh connection
 * when a reused keep-alive connection is reset, so a single `reset` on a GET is usually invisible to the
 * client; PATCH is not retried. Use PATCH (or two resets) to test reset handling.
 */
export type Fault =
  | { status: number; retryAfter?: string; message?: string; location?: string }
  | { status: 'reset' }
  | { status: 'hang' };

export interface FakeKubeApiServer {
  url: string;
  caPem: string;
  token: string;
  clientCertPem?: string;
  clientKeyPem?: string;
  /** Every PATCH received (including failed/faulted ones), in order. */
  patches: RecordedPatch[];
  /** Every request received, in order (count discovery requests with it). */
  requests: RecordedRequest[];
  addObject(o: { apiVersion: string; kind: string; namespace: string; name: string; labels?: Record<string, string> }): void;
  /** Current stored object (annotations applied by merge patches). */
  object(apiVersion: string, kind: string, namespace: string, name: string): any | undefined;
  /** Queue responses for the next requests matching method + path substring; then normal behaviour resumes. */
  injectFaults(match: { method?: string; path?: string }, faults: Fault[]): void;
  /** PATCHes on that kind → 403 Status like RBAC. */
  forbid(kind: string): void;
  /** Writes a kubeconfig for this server; returns its path. */
  writeKubeconfig(
    dir: string,
    options?: { caPem?: string; token?: string; withClientCert?: boolean; insecureSkipTlsVerify?: boolean; context?: string },
  ): string;
  stop(): Promise<void>;
}

// ---- certificates -------------------------------------------------------------------------------------------

interface Pki {
  caPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  clientCaPem: string;
  clientCertPem: string;
  clientKeyPem: string;
}

function generatePki(): Promise<Pki> {
  return withPkiDir(async (dir) => {
    await Promise.all([dir.makeCa('ca', 'fake-kube-ca'), dir.makeCa('client-ca', 'fake-kube-client-ca')]);
    await Promise.all([
      dir.makeLeaf('server', 'ca', '/CN=kube-apiserver', loopbackServerExt('kubernetes.default.svc')),
      dir.makeLeaf('client', 'client-ca', '/O=fluxgate/CN=fluxgate', 'extendedKeyUsage=clientAuth\n'),
    ]);
    return {
      caPem: dir.read('ca.crt'), serverCertPem: dir.read('server.crt'), serverKeyPem: dir.read('server.key'),
      clientCaPem: dir.read('client-ca.crt'), clientCertPem: dir.read('client.crt'), clientKeyPem: dir.read('client.key'),
    };
  });
}

// Generated once per test process: every fake server shares the PKI (tests only need distinct servers).
let pkiOnce: Promise<Pki> | undefined;
const pki = () => (pkiOnce ??= generatePki());

/** The PEM of a CA unrelated to the fake server's: for wrong-CA tests. */
export function unrelatedCaPem(): Promise<string> {
  return withPkiDir(async (dir) => {
    await dir.makeCa('other', 'unrelated-ca');
    return dir.read('other.crt');
  });
}

// ---- API surface --------------------------------------------------------------------------------------------

interface ResourceDef {
  group: string; // '' = core
  version: string;
  kind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  status?: boolean; // has a /status subresource
}

const allVerbs = ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'];
const flux = (group: string, version: string, kind: string, plural: string, shortNames?: string[]): ResourceDef => ({
  group, version, kind, plural, singular: kind.toLowerCase(), namespaced: true, shortNames, status: true,
});

/** Mirrors the published CRDs (Flux 2.7 and Argo CD), plus a few core kinds. */
const RESOURCES: ResourceDef[] = [
  { group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', singular: 'namespace', namespaced: false, shortNames: ['ns'], status: true },
  { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', singular: 'configmap', namespaced: true, shortNames: ['cm'] },
  { group: '', version: 'v1', kind: 'Secret', plural: 'secrets', singular: 'secret', namespaced: true },
  flux('source.toolkit.fluxcd.io', 'v1', 'GitRepository', 'gitrepositories', ['gitrepo']),
  flux('source.toolkit.fluxcd.io', 'v1', 'OCIRepository', 'ocirepositories', ['ocirepo']),
  flux('source.toolkit.fluxcd.io', 'v1', 'Bucket', 'buckets'),
  flux('source.toolkit.fluxcd.io', 'v1', 'HelmRepository', 'helmrepositories', ['helmrepo']),
  flux('source.toolkit.fluxcd.io', 'v1', 'HelmChart', 'helmcharts', ['hc']),
  flux('source.toolkit.fluxcd.io', 'v1', 'ExternalArtifact', 'externalartifacts', ['ea']),
  flux('kustomize.toolkit.fluxcd.io', 'v1', 'Kustomization', 'kustomizations', ['ks']),
  flux('helm.toolkit.fluxcd.io', 'v2', 'HelmRelease', 'helmreleases', ['hr']),
  flux('image.toolkit.fluxcd.io', 'v1', 'ImageRepository', 'imagerepositories'),
  flux('image.toolkit.fluxcd.io', 'v1', 'ImagePolicy', 'imagepolicies'),
  flux('image.toolkit.fluxcd.io', 'v1', 'ImageUpdateAutomation', 'imageupdateautomations'),
  { group: 'argoproj.io', version: 'v1alpha1', kind: 'Application', plural: 'applications', singular: 'application', namespaced: true, shortNames: ['app', 'apps'] },
  { group: 'argoproj.io', version: 'v1alpha1', kind: 'AppProject', plural: 'appprojects', singular: 'appproject', namespaced: true, shortNames: ['appproj', 'appprojs'] },
];

const gvOf = (r: ResourceDef) => (r.group ? `${r.group}/${r.version}` : r.version);
const groupsInOrder = [...new Set(RESOURCES.filter((r) => r.group).map((r) => r.group))];

function apiResourceList(groupVersion: string) {
  const resources = RESOURCES.filter((r) => gvOf(r) === groupVersion).flatMap((r) => {
    const main: Record<string, unknown> = {
      name: r.plural, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: allVerbs,
      ...(r.shortNames ? { shortNames: r.shortNames } : {}),
      ...(r.group.endsWith('fluxcd.io') ? { categories: ['all', 'fluxcd'] } : {}),
      storageVersionHash: Buffer.from(r.plural).toString('base64').slice(0, 11),
    };
    // Subresources share the kind: discovery must skip them (their name contains a slash).
    const status = r.status ? [{ name: `${r.plural}/status`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: ['get', 'patch', 'update'] }] : [];
    return [main, ...status];
  });
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources };
}

function apiGroupList() {
  return {
    kind: 'APIGroupList', apiVersion: 'v1',
    groups: groupsInOrder.map((name) => {
      const versions = [...new Set(RESOURCES.filter((r) => r.group === name).map((r) => r.version))].map((version) => ({ groupVersion: `${name}/${version}`, version }));
      return { name, versions, preferredVersion: versions[0] };
    }),
  };
}

const statusBody = (code: number, reason: string, message: string, details?: Record<string, unknown>) => ({
  kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code,
});

const reasonFor: Record<number, string> = {
  400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 405: 'MethodNotAllowed', 409: 'Conflict',
  415: 'UnsupportedMediaType', 422: 'Invalid', 429: 'TooManyRequests', 500: 'InternalError', 503: 'ServiceUnavailable', 504: 'Timeout',
};

const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'];

/** RFC 7386 JSON merge patch. */
function applyMergePatch(target: any, patch: any): any {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const result: any = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete result[k];
    else result[k] = applyMergePatch(result[k], v);
  }
  return result;
}

/** RFC 6902 JSON patch, the operations a client would plausibly send (add, remove, replace, test). */
function applyJsonPatch(doc: any, ops: unknown): any {
  if (!Array.isArray(ops)) throw new Error('a JSON patch must be an array of operations');
  const out = structuredClone(doc);
  for (const op of ops) {
    if (!op || typeof op !== 'object' || typeof op.path !== 'string') throw new Error('invalid JSON patch operation');
    const parts = op.path.split('/').slice(1).map((p: string) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = parts.pop();
    let parent = out;
    for (const p of parts) {
      parent = parent?.[p];
      if (parent === undefined) throw new Error(`path ${op.path} does not exist`);
    }
    if (last === undefined || parent === null || typeof parent !== 'object') throw new Error(`invalid path ${op.path}`);
    switch (op.op) {
      case 'add':
      case 'replace':
        if (op.op === 'replace' && !(last in parent)) throw new Error(`replace: path ${op.path} does not exist`);
        parent[last] = op.value;
        break;
      case 'remove':
        if (!(last in parent)) throw new Error(`remove: path ${op.path} does not exist`);
        delete parent[last];
        break;
      case 'test':
        if (JSON.stringify(parent[last]) !== JSON.stringify(op.value)) throw new Error(`test failed at ${op.path}`);
        break;
      default:
        throw new Error(`unsupported JSON patch op ${String(op.op)}`);
    }
  }
  return out;
}

/** Equality-based label selectors: `a=b`, `a==b`, `a!=b`, comma-separated. */
function parseSelector(selector: string): ((labels: Record<string, string>) => boolean) | string {
  const tests: ((l: Record<string, string>) => boolean)[] = [];
  for (const term of selector.split(',').map((t) => t.trim()).filter(Boolean)) {
    const m = /^([A-Za-z0-9._/-]+)\s*(!=|==|=)\s*([A-Za-z0-9._-]*)$/.exec(term);
    if (!m) return `unable to parse requirement: found '${term}', expected: key=value, key==value or key!=value`;
    const [, key, op, value] = m as unknown as [string, string, string, string];
    tests.push(op === '!=' ? (l) => l[key] !== value : (l) => l[key] === value);
  }
  return (labels) => tests.every((t) => t(labels));
}

// ---- the server ---------------------------------------------------------------------------------------------

/**
 * Starts the fake API server on 127.0.0.1 with a random port.
 * `requireClientCert`: only a valid client certificate authenticates (bearer tokens are refused), so a passing
 * request proves the client presented its certificate.
 */
export async function startFakeKubeApiServer(options: { requireClientCert?: boolean; token?: string } = {}): Promise<FakeKubeApiServer> {
  const keys = await pki();
  const token = options.token ?? `fake-token-${randomBytes(12).toString('hex')}`;
  const store = new Map<string, any>(); // `${group}|${plural}|${namespace}|${name}` → object
  const forbidden = new Set<string>();
  const faults = createFaultQueue<Fault>();
  const patches: RecordedPatch[] = [];
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  let resourceVersion = 1000;

  const byKind = (apiVersion: string, kind: string) => {
    const r = RESOURCES.find((d) => d.kind === kind && (gvOf(d) === apiVersion || d.group === apiVersion.split('/')[0]));
    if (!r) throw new Error(`fake kube: kind ${kind} (${apiVersion}) is not served`);
    return r;
  };
  const keyOf = (r: ResourceDef, namespace: string, name: string) => `${r.group}|${r.plural}|${r.namespaced ? namespace : ''}|${name}`;

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', ...headers });
    res.end(JSON.stringify(body));
  }
  const fail = (res: ServerResponse, code: number, message: string, details?: Record<string, unknown>, headers?: Record<string, string>) =>
    send(res, code, statusBody(code, reasonFor[code] ?? 'Unknown', message, details), headers);


  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const rawPath = req.url ?? '/';
    const url = new URL(rawPath, 'https://fake');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const at = Date.now();
    requests.push({ method, path: rawPath, at });
    let body: any = text;
    try { body = text ? JSON.parse(text) : undefined; } catch { /* keep the raw text */ }
    if (method === 'PATCH') {
      patches.push({ method, path: url.pathname, contentType: req.headers['content-type'] ?? null, body, authorization: req.headers.authorization ?? null, at });
    }

    const fault = faults.take(method, rawPath);
    if (fault?.status === 'reset') { req.socket.destroy(); return; }
    if (fault?.status === 'hang') return; // never answer; stop() closes the socket
    if (fault) {
      const headers: Record<string, string> = { ...(fault.retryAfter !== undefined ? { 'Retry-After': fault.retryAfter } : {}), ...(fault.location !== undefined ? { Location: fault.location } : {}) };
      return fail(res, fault.status, fault.message ?? `injected ${fault.status}`, undefined, headers);
    }

    const p = url.pathname.replace(/\/+$/, '') || '/';
    if (p === '/healthz' || p === '/readyz' || p === '/livez') { res.writeHead(200, { 'Content-Type': 'text/plain' }); res.end('ok'); return; }
    if (p === '/version') {
      return send(res, 200, { major: '1', minor: '34', gitVersion: 'v1.34.1', gitCommit: 'fake', gitTreeState: 'clean', buildDate: '2026-01-01T00:00:00Z', goVersion: 'go1.24.6', compiler: 'gc', platform: 'linux/amd64' });
    }

    // Authentication: a valid client certificate, or (unless certificates are required) the bearer token.
    const certOk = (req.socket as any).authorized === true;
    const bearerOk = !options.requireClientCert && req.headers.authorization === `Bearer ${token}`;
    if (!certOk && !bearerOk) return fail(res, 401, 'Unauthorized');
    const user = certOk ? 'fluxgate' : 'system:serviceaccount:flux-system:fluxgate';

    if (p === '/api') return send(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1:6443' }] });
    if (p === '/apis') return send(res, 200, apiGroupList());

    // /api/v1[/namespaces/<ns>]/<plural>[/<name>]  or  /apis/<group>/<version>[/namespaces/<ns>]/<plural>[/<name>]
    const segs = p.split('/').slice(1).map(decodeURIComponent);
    let group: string, version: string, rest: string[];
    if (segs[0] === 'api' && segs.length >= 2) [group, version, rest] = ['', segs[1]!, segs.slice(2)];
    else if (segs[0] === 'apis' && segs.length >= 3) [group, version, rest] = [segs[1]!, segs[2]!, segs.slice(3)];
    else return fail(res, 404, 'the server could not find the requested resource');
    const gv = group ? `${group}/${version}` : version;
    if (!RESOURCES.some((r) => gvOf(r) === gv)) return fail(res, 404, 'the server could not find the requested resource');
    if (rest.length === 0) return method === 'GET' ? send(res, 200, apiResourceList(gv)) : fail(res, 405, `${method} is not supported`);

    let namespace = '';
    if (rest[0] === 'namespaces' && rest.length >= 3) { namespace = rest[1]!; rest = rest.slice(2); }
    const [plural, name, sub] = rest as [string, string | undefined, string | undefined];
    const def = RESOURCES.find((r) => gvOf(r) === gv && r.plural === plural);
    if (!def || sub !== undefined || (def.namespaced && !namespace && name)) return fail(res, 404, 'the server could not find the requested resource');
    const details = (n: string) => ({ name: n, group: def.group, kind: def.plural });
    const qualified = def.group ? `${def.plural}.${def.group}` : def.plural;

    if (!name) {
      if (method !== 'GET') return fail(res, 405, `${method} on a collection is not supported by the fake`);
      const selector = parseSelector(url.searchParams.get('labelSelector') ?? '');
      if (typeof selector === 'string') return fail(res, 400, selector);
      const prefix = `${def.group}|${def.plural}|`;
      const all = [...store.entries()]
        .filter(([k, o]) => k.startsWith(prefix) && (!namespace || o.metadata.namespace === namespace) && selector(o.metadata.labels ?? {}))
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([, o]) => ({ ...o, apiVersion: gv }));
      const offset = Number(Buffer.from(url.searchParams.get('continue') ?? '', 'base64').toString() || 0);
      const limit = Number(url.searchParams.get('limit') ?? 0);
      const items = limit > 0 ? all.slice(offset, offset + limit) : all.slice(offset);
      const next = limit > 0 && offset + limit < all.length ? Buffer.from(String(offset + limit)).toString('base64') : undefined;
      return send(res, 200, { kind: `${def.kind}List`, apiVersion: gv, metadata: { resourceVersion: String(resourceVersion), ...(next ? { continue: next } : {}) }, items });
    }

    const key = keyOf(def, namespace, name);
    const current = store.get(key);
    if (method === 'GET') {
      return current ? send(res, 200, { ...current, apiVersion: gv }) : fail(res, 404, `${qualified} "${name}" not found`, details(name));
    }
    if (method !== 'PATCH') return fail(res, 405, `${method} is not supported by the fake`);

    if (forbidden.has(def.kind)) {
      const where = def.namespaced ? ` in the namespace "${namespace}"` : '';
      return fail(res, 403, `${qualified} "${name}" is forbidden: User "${user}" cannot patch resource "${def.plural}" in API group "${def.group}"${where}`, details(name));
    }
    const mediaType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (!PATCH_TYPES.includes(mediaType)) {
      return fail(res, 415, `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.join(', ')}`);
    }
    if (!current) return fail(res, 404, `${qualified} "${name}" not found`, details(name));
    if (mediaType === 'application/apply-patch+yaml') return fail(res, 422, 'server-side apply is not implemented by the fake');
    if (typeof body !== 'object' || body === null) return fail(res, 400, `error decoding patch: ${text ? 'invalid JSON' : 'empty body'}`);

    let next: any;
    try {
      next = mediaType === 'application/merge-patch+json' ? applyMergePatch(current, body) : applyJsonPatch(current, body);
    } catch (e) {
      return fail(res, 422, `${qualified} "${name}" is invalid: ${(e as Error).message}`, details(name));
    }
    if (next?.metadata?.name !== name) return fail(res, 400, `the name of the object (${next?.metadata?.name}) does not match the name on the URL (${name})`);
    for (const field of ['annotations', 'labels'] as const) {
      const m = next.metadata[field];
      if (m !== undefined && (typeof m !== 'object' || Array.isArray(m) || Object.values(m).some((v) => typeof v !== 'string'))) {
        return fail(res, 400, `json: cannot unmarshal into Go struct field ObjectMeta.metadata.${field} of type map[string]string`);
      }
    }
    next.metadata.resourceVersion = String(++resourceVersion);
    store.set(key, next);
    return send(res, 200, { ...next, apiVersion: gv });
  }

  const server = https.createServer(
    { key: keys.serverKeyPem, cert: keys.serverCertPem, ca: keys.clientCaPem, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      handle(req, res).catch((e) => { if (!res.headersSent) fail(res, 500, `fake kube: ${(e as Error).message}`); });
    },
  );
  server.on('connection', (s: Socket) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', resolve); });
  const port = (server.address() as { port: number }).port;
  const url = `https://127.0.0.1:${port}`;
  let kubeconfigs = 0;

  return {
    url, caPem: keys.caPem, token, clientCertPem: keys.clientCertPem, clientKeyPem: keys.clientKeyPem, patches, requests,
    addObject(o) {
      const def = byKind(o.apiVersion, o.kind);
      const namespace = def.namespaced ? o.namespace : undefined;
      store.set(keyOf(def, o.namespace, o.name), {
        apiVersion: gvOf(def), kind: def.kind,
        metadata: {
          name: o.name, ...(namespace ? { namespace } : {}), uid: randomUUID(), resourceVersion: String(++resourceVersion), generation: 1,
          creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), ...(o.labels ? { labels: { ...o.labels } } : {}),
        },
        spec: {},
      });
    },
    object(apiVersion, kind, namespace, name) {
      const o = store.get(keyOf(byKind(apiVersion, kind), namespace, name));
      return o === undefined ? undefined : structuredClone(o);
    },
    injectFaults: (match, queued) => faults.inject(match, queued),
    forbid(kind) { forbidden.add(kind); },
    writeKubeconfig(dir, o = {}) {
      const context = o.context ?? 'fake';
      const cluster: Record<string, unknown> = { server: url };
      if (o.insecureSkipTlsVerify) cluster['insecure-skip-tls-verify'] = true;
      else cluster['certificate-authority-data'] = Buffer.from(o.caPem ?? keys.caPem).toString('base64');
      const user: Record<string, unknown> = o.withClientCert
        ? { 'client-certificate-data': Buffer.from(keys.clientCertPem).toString('base64'), 'client-key-data': Buffer.from(keys.clientKeyPem).toString('base64') }
        : { token: o.token ?? token };
      const doc = {
        apiVersion: 'v1', kind: 'Config', preferences: {},
        clusters: [{ name: `${context}-cluster`, cluster }],
        users: [{ name: `${context}-user`, user }],
        contexts: [{ name: context, context: { cluster: `${context}-cluster`, user: `${context}-user`, namespace: 'flux-system' } }],
        'current-context': context,
      };
      const path = join(dir, `kubeconfig-${port}-${++kubeconfigs}.yaml`);
      writeFileSync(path, toYaml(doc), { mode: 0o600 });
      return path;
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
