/**
 * The Kubernetes API client fluxgate needs, and nothing more: discovery, list by label, JSON merge patch.
 *
 * Why not @kubernetes/client-node's HTTP layer: under Bun its undici `Agent` is a stub, so the kubeconfig CA,
 * insecure-skip-tls-verify and client certificates are silently ignored. Bun's own `fetch(url, { tls })` honours
 * all of them, so this module does the HTTP itself; kube-connect.ts uses client-node only to resolve a
 * kubeconfig into the options below.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { OutboundRefusal, pinnedFetch } from '../core/index.ts';
import { apiDiscovery } from './api-discovery.ts';
import { httpError, KubeError, transportError } from './kube-error.ts';

export { KubeError, type KubeFailure, parseRetryAfter } from './kube-error.ts';

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
}

/**
 * The transport under KubeClient, for the modules that need more than its methods (watches, Events, status
 * write-back): the same credentials, TLS settings and error messages. Paths are absolute API paths.
 */
export interface KubeApi {
  readonly target: string;
  /** One JSON request; the parsed body of a 2xx answer (undefined when `wantBody` is false). Failures are KubeErrors. */
  request(method: string, path: string, init: { body?: string; contentType?: string; signal?: AbortSignal; wantBody: boolean }): Promise<any>;
  /**
   * A long-lived GET (a watch): the 2xx response, its body left for the caller to read. No client timeout once
   * the headers have arrived: `signal` ends it. Failures before the body are KubeErrors, as for `request`.
   */
  stream(path: string, signal: AbortSignal): Promise<Response>;
  /** `/apis/<group>/<version>/[namespaces/<ns>/]<plural>`, from API discovery; every namespace when `namespace` is undefined. */
  collectionPath(apiVersion: string, kind: string, namespace?: string): Promise<string>;
  /** Forgets what API discovery said about `apiVersion`, so a kind installed since is found by the next call. */
  forgetDiscovery(apiVersion: string): void;
}

export interface KubeClient {
  /** The API server URL, e.g. `https://127.0.0.1:6443`; for logs and the status page, never with credentials. */
  readonly target: string;
  readonly api: KubeApi;
  /** Checks that the API server answers and accepts the credentials (GET /api, which needs authentication). */
  ping(signal?: AbortSignal): Promise<void>;
  /** Names of the objects of `kind` in `namespace` whose labels match every entry of `matchLabels`. */
  listNames(apiVersion: string, kind: string, namespace: string, matchLabels: Record<string, string>): Promise<string[]>;
  /**
   * JSON merge patch of `metadata.annotations` only, no resourceVersion precondition (what Flux's Receiver does).
   * Resolves with the object's uid from the answer (for the Event about it).
   */
  mergePatch(ref: ObjectRef, annotations: Record<string, string>, signal?: AbortSignal): Promise<{ uid?: string }>;
  /** Whether these credentials may `verb` the kind in the namespace (`''`: in every namespace) (SelfSubjectAccessReview). */
  canI(verb: 'patch' | 'list' | 'watch' | 'create' | 'get', apiVersion: string, kind: string, namespace: string): Promise<boolean>;
}

export interface KubeClientOptions {
  /** API server URL, e.g. `https://10.96.0.1:443`. A path prefix (for API proxies) is kept. */
  server: string;
  /** PEM bundle to trust instead of the system CAs. */
  caPem?: string;
  /** Client certificate and key, PEM. */
  certPem?: string;
  keyPem?: string;
  /** Called before each request; may refresh a rotating token. */
  token?: () => Promise<string | undefined>;
  /** Accept any server certificate (kubeconfig `insecure-skip-tls-verify`). */
  skipTlsVerify?: boolean;
  /** Name to verify the server certificate against instead of the URL's host (kubeconfig `tls-server-name`). */
  tlsServerName?: string;
  /** HTTP(S) proxy URL (kubeconfig `proxy-url`). Without it Bun honours HTTPS_PROXY / NO_PROXY. */
  proxy?: string;
  /** Per-request timeout, including reading the response. */
  timeoutMs: number;
  fetch?: typeof fetch;
}

/**
 * Creates a client for one API server. Throws at once if the CA, certificate or key is not valid PEM (Bun's
 * fetch would otherwise report a misleading "FailedToOpenSocket: Was there a typo in the url or port?").
 *
 * @example
 * const kube = createKubeClient({ server: 'https://127.0.0.1:6443', caPem, token: async () => token, timeoutMs: 10_000 });
 * await kube.mergePatch({ apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', namespace: 'flux-system', name: 'app' },
 *   { 'reconcile.fluxcd.io/requestedAt': requestedAt(new Date()) });
 */
export function createKubeClient(options: KubeClientOptions): KubeClient {
  const base = serverUrl(options.server);
  const target = base.toString().replace(/\/+$/, '');
  validateTlsMaterial(options);
  const send = createSender(options, base, target);

  /** One request; returns the parsed JSON body of a 2xx answer (or undefined if `wantBody` is false). */
  const request: KubeApi['request'] = (method, path, init) => send(method, path, init, (res, what) => readJson(res, what, init.wantBody, target));
  /** A watch: the timeout covers the headers only; the body is the caller's, ended by `signal`. */
  const stream: KubeApi['stream'] = (path, signal) => send('GET', path, { signal, headersOnly: true }, async (res) => res);
  const discovery = apiDiscovery((path) => request('GET', path, { wantBody: true }), target);
  const api: KubeApi = { target, request, stream, collectionPath: discovery.collectionPath, forgetDiscovery: discovery.forget };

  return {
    target,
    api,
    async ping(signal) {
      await request('GET', '/api', { signal, wantBody: false });
    },
    listNames: (apiVersion, kind, namespace, matchLabels) => listNames(api, apiVersion, kind, namespace, matchLabels),
    async mergePatch(ref, annotations, signal) {
      const path = `${await api.collectionPath(ref.apiVersion, ref.kind, ref.namespace)}/${encodeURIComponent(ref.name)}`;
      const body = JSON.stringify({ metadata: { annotations } });
      const patched = await request('PATCH', path, { body, contentType: 'application/merge-patch+json', signal, wantBody: true });
      const uid = patched?.metadata?.uid;
      return typeof uid === 'string' ? { uid } : {};
    },
    async canI(verb, apiVersion, kind, namespace) {
      const { plural } = await discovery.resource(apiVersion, kind);
      const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
      const review = {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { group, resource: plural, verb, namespace } },
      };
      const answer = await request('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
        body: JSON.stringify(review),
        contentType: 'application/json',
        wantBody: true,
      });
      return answer?.status?.allowed === true;
    },
  };
}

/** The API server URL without credentials, query or fragment (a path prefix, for API proxies, is kept). */
function serverUrl(server: string): URL {
  const base = new URL(server);
  if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new Error(`Kubernetes server URL must be http(s): ${base.protocol}`);
  base.username = '';
  base.password = '';
  base.search = '';
  base.hash = '';
  return base;
}

type Send = <T>(
  method: string,
  path: string,
  init: { body?: string; contentType?: string; signal?: AbortSignal; headersOnly?: boolean },
  read: (res: Response, what: string) => Promise<T>,
) => Promise<T>;

/**
 * Sends one request with the client's credentials and TLS settings, under its timeout, and hands a 2xx answer to
 * `read`; every failure becomes a KubeError worded for the user (or the caller's own abort reason).
 */
function createSender(options: KubeClientOptions, base: URL, target: string): Send {
  // The bearer token goes to this API server only: a 3xx is a failure, never followed (src/pinned-fetch.ts).
  const doFetch = pinnedFetch(base.origin, options.fetch);
  const tls = {
    ...(options.caPem && !options.skipTlsVerify ? { ca: options.caPem } : {}),
    ...(options.certPem ? { cert: options.certPem } : {}),
    ...(options.keyPem ? { key: options.keyPem } : {}),
    ...(options.tlsServerName ? { serverName: options.tlsServerName } : {}),
    ...(options.skipTlsVerify ? { rejectUnauthorized: false } : {}),
  };
  return async (method, path, init, read) => {
    const what = `${method} ${path}`;
    const headers = await requestHeaders(options, target, init.contentType);
    // A watch's timeout must stop once its headers are in; AbortSignal.timeout cannot be cancelled, a timer can.
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), options.timeoutMs);
    const signal = init.signal ? AbortSignal.any([timeout.signal, init.signal]) : timeout.signal;
    try {
      const res = await doFetch(`${target}${path}`, {
        method, headers, body: init.body, signal,
        ...(base.protocol === 'https:' ? { tls } : {}),
        ...(options.proxy ? { proxy: options.proxy } : {}),
      } as RequestInit);
      if (!res.ok) {
        const text = await res.text();
        throw httpError(target, what, res.status, text, res.headers.get('retry-after'));
      }
      if (init.headersOnly) clearTimeout(timer);
      return await read(res, what);
    } catch (e) {
      if (e instanceof KubeError) throw e;
      if (e instanceof OutboundRefusal) {
        throw new KubeError(`${target}: ${e.message} (fluxgate sends its credentials only to the configured server: set it to the API server's own address)`, 'http', e.status);
      }
      if (init.signal?.aborted && !timeout.signal.aborted) throw init.signal.reason; // the caller gave up: its own reason
      if (timeout.signal.aborted) throw new KubeError(`no answer from ${target} within ${options.timeoutMs}ms (${what})`, 'timeout');
      throw transportError(target, what, e);
    } finally {
      clearTimeout(timer);
    }
  };
}

/** The headers of one request, with a token fetched (or refreshed) for it. */
async function requestHeaders(options: KubeClientOptions, target: string, contentType: string | undefined): Promise<Record<string, string>> {
  let token: string | undefined;
  try {
    token = await options.token?.();
  } catch (e) {
    throw new KubeError(`could not obtain credentials for ${target}: ${(e as Error).message}`, 'unauthorized');
  }
  const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'fluxgate' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (contentType) headers['Content-Type'] = contentType;
  return headers;
}

/** The JSON body of a 2xx answer, or undefined (the body drained) when none is wanted. */
async function readJson(res: Response, what: string, wantBody: boolean, target: string): Promise<any> {
  if (!wantBody) {
    await res.arrayBuffer(); // drain, so the connection goes back to the pool
    return undefined;
  }
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new KubeError(`${what} on ${target}: the answer is not JSON (is it a Kubernetes API server?)`, 'http', res.status);
  }
}

/** Names of the objects of `kind` in `namespace` matching `matchLabels`, page by page. */
async function listNames(api: KubeApi, apiVersion: string, kind: string, namespace: string, matchLabels: Record<string, string>): Promise<string[]> {
  const path = await api.collectionPath(apiVersion, kind, namespace);
  const selector = labelSelector(matchLabels);
  const names: string[] = [];
  let next: string | undefined;
  do {
    const q = new URLSearchParams({ limit: '500' });
    if (selector) q.set('labelSelector', selector);
    if (next) q.set('continue', next);
    const list = await api.request('GET', `${path}?${q}`, { wantBody: true });
    for (const item of list?.items ?? []) if (typeof item?.metadata?.name === 'string') names.push(item.metadata.name);
    next = typeof list?.metadata?.continue === 'string' && list.metadata.continue ? list.metadata.continue : undefined;
  } while (next);
  return names;
}

const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

/** An equality-based label selector (`a=b,c=d`, keys sorted); throws on keys or values Kubernetes would reject. */
export function labelSelector(matchLabels: Record<string, string>): string {
  return Object.keys(matchLabels)
    .sort()
    .map((key) => {
      const value = matchLabels[key]!;
      if (!LABEL_KEY.test(key)) throw new KubeError(`invalid label key "${key}" in matchLabels`, 'http', 400);
      if (!LABEL_VALUE.test(value) || value.length > 63) throw new KubeError(`invalid label value "${value}" for ${key} in matchLabels`, 'http', 400);
      return `${key}=${value}`;
    })
    .join(',');
}

function validateTlsMaterial(o: KubeClientOptions): void {
  if (o.caPem && !o.skipTlsVerify) {
    const certs = o.caPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
    if (!certs) throw new Error('certificate-authority is not a PEM certificate');
    for (const pem of certs) {
      try { new X509Certificate(pem); } catch { throw new Error('certificate-authority contains an invalid certificate'); }
    }
  }
  if (!o.certPem !== !o.keyPem) throw new Error('a client certificate needs both the certificate and its key');
  if (o.certPem && o.keyPem) {
    let cert: X509Certificate;
    try { cert = new X509Certificate(o.certPem); } catch { throw new Error('client-certificate is not a valid PEM certificate'); }
    let matches: boolean;
    try { matches = cert.checkPrivateKey(createPrivateKey(o.keyPem)); } catch { throw new Error('client-key is not a valid PEM private key'); }
    if (!matches) throw new Error('client-key does not belong to client-certificate');
  }
}
