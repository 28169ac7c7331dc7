/**
 * A real Kubernetes API server (etcd + kube-apiserver) for tests.
 *
 * startTestCluster() builds or reuses the cached binaries (prepare.sh), starts
 * etcd and kube-apiserver on free loopback ports with a fresh data dir, and
 * installs minimal Flux/Argo CRDs (./crds). Authentication is a static token
 * file: an admin in system:masters plus non-admin users; authorization is RBAC.
 *
 * With KUBECONFIG_FOR_TESTS set, an existing cluster is used instead (see
 * connectExternal below).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { appendFileSync, closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

export interface TestCluster {
  server: string; // https://127.0.0.1:PORT
  caPem: string; // the API server's CA
  adminToken: string; // a token in group system:masters ('' when an external cluster authenticates by client certificate)
  kubeconfigPath: string; // a kubeconfig file (cluster with certificate-authority-data, user with token = admin)
  /** Writes a kubeconfig for the given user token (and optional CA override) and returns its path. */
  writeKubeconfig(options: { token: string; caPem?: string; context?: string }): string;
  /**
   * Tokens for non-admin users, name -> token: at least 'fluxgate' and 'nobody', both without groups
   * and without any RBAC permission until a test grants some (use userSubjects for the bindings).
   */
  userTokens: Record<string, string>;
  /**
   * RBAC subject of each user in userTokens: a User on the local cluster; a ServiceAccount in
   * namespace `fluxgate-test-users` on an external cluster.
   */
  userSubjects: Record<string, RbacSubject>;
  /** True when KUBECONFIG_FOR_TESTS pointed at an existing cluster. */
  external: boolean;
  /** Authenticated request as admin. body: JSON-encoded unless a string; contentType defaults to application/json. */
  request(method: string, path: string, body?: unknown, contentType?: string): Promise<{ status: number; body: any }>;
  /** Creates or replaces an object given as a JSON manifest (apiVersion/kind/metadata); returns the stored object. */
  apply(manifest: any): Promise<any>;
  /** Reads an object; namespace '' for cluster-scoped ones. Returns null when it does not exist. */
  get(apiVersion: string, plural: string, namespace: string, name: string): Promise<any>;
  /** Kills both processes by PID and removes the data dir (no-op on an external cluster). */
  stop(): Promise<void>;
}

export interface RbacSubject {
  kind: 'User' | 'ServiceAccount';
  name: string;
  apiGroup?: string;
  namespace?: string;
}

export interface StartOptions {
  /** Receives progress lines (build progress, process starts, readiness). Default: build progress to stderr only. */
  log?: (line: string) => void;
  /** Extra non-admin users to register besides 'fluxgate' and 'nobody'. */
  users?: string[];
  /** Bound on the wait for /readyz after kube-apiserver starts. Default 90 s. */
  readyTimeoutMs?: number;
}

const HERE = import.meta.dir;
const CRD_DIR = join(HERE, 'crds');
const DEFAULT_USERS = ['fluxgate', 'nobody'];
/** Namespace holding the service accounts that stand in for users on an external cluster. */
const EXTERNAL_USERS_NAMESPACE = 'fluxgate-test-users';

// ---------------------------------------------------------------------------
// HTTP client

interface Credentials {
  server: string;
  caPem: string;
  token?: string;
  certPem?: string;
  keyPem?: string;
}

async function kubeFetch(
  creds: Credentials,
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (creds.token) headers.Authorization = `Bearer ${creds.token}`;
  let payload: string | undefined;
  if (body !== undefined) {
    payload = typeof body === 'string' ? body : JSON.stringify(body);
    headers['Content-Type'] = contentType;
  }
  const res = await fetch(creds.server + path, {
    method,
    headers,
    body: payload,
    tls: { ca: creds.caPem, cert: creds.certPem, key: creds.keyPem },
  });
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON (e.g. /readyz answers "ok"): keep the text.
  }
  return { status: res.status, body: parsed };
}

function describeFailure(what: string, res: { status: number; body: any }): Error {
  const message = typeof res.body === 'object' && res.body?.message ? res.body.message : JSON.stringify(res.body);
  return new Error(`${what}: HTTP ${res.status}: ${message}`);
}

/** REST path of a resource; namespace '' (or undefined) for cluster-scoped ones. */
export function resourcePath(apiVersion: string, plural: string, namespace?: string, name?: string): string {
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const ns = namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${plural}${name ? `/${encodeURIComponent(name)}` : ''}`;
}

/** Resolves (apiVersion, kind) to the plural name and scope through API discovery, with a cache. */
class Discovery {
  private cache = new Map<string, Promise<Map<string, { plural: string; namespaced: boolean }>>>();

  constructor(private readonly call: Credentials) {}

  async resolve(apiVersion: string, kind: string): Promise<{ plural: string; namespaced: boolean }> {
    let found = (await this.resources(apiVersion)).get(kind);
    if (!found) {
      // A CRD created since the last lookup: refresh once.
      this.cache.delete(apiVersion);
      found = (await this.resources(apiVersion)).get(kind);
    }
    if (!found) throw new Error(`kind ${kind} is not served by ${apiVersion}`);
    return found;
  }

  private resources(apiVersion: string) {
    let entry = this.cache.get(apiVersion);
    if (!entry) {
      entry = (async () => {
        const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
        const res = await kubeFetch(this.call, 'GET', path);
        const byKind = new Map<string, { plural: string; namespaced: boolean }>();
        if (res.status === 404) return byKind;
        if (res.status !== 200) throw describeFailure(`discovery of ${apiVersion}`, res);
        for (const r of res.body.resources ?? []) {
          if (!r.name.includes('/')) byKind.set(r.kind, { plural: r.name, namespaced: r.namespaced });
        }
        return byKind;
      })();
      entry.catch(() => this.cache.delete(apiVersion));
      this.cache.set(apiVersion, entry);
    }
    return entry;
  }
}

/** The kubectl-like helpers shared by the local and external variants. */
function clientHelpers(admin: Credentials) {
  const discovery = new Discovery(admin);
  const request = (method: string, path: string, body?: unknown, contentType?: string) =>
    kubeFetch(admin, method, path, body, contentType);

  async function apply(manifest: any): Promise<any> {
    const { apiVersion, kind } = manifest ?? {};
    const name = manifest?.metadata?.name;
    if (!apiVersion || !kind || !name) throw new Error('apply: manifest needs apiVersion, kind and metadata.name');
    const { plural, namespaced } = await discovery.resolve(apiVersion, kind);
    const namespace = namespaced ? (manifest.metadata.namespace ?? 'default') : '';
    const object = { ...manifest, metadata: { ...manifest.metadata, ...(namespaced ? { namespace } : {}) } };
    const what = `apply ${kind} ${namespace ? `${namespace}/` : ''}${name}`;

    const created = await request('POST', resourcePath(apiVersion, plural, namespace), object);
    if (created.status === 201 || created.status === 200) return created.body;
    if (created.status !== 409) throw describeFailure(what, created);
    // Exists: replace it, carrying over the current resourceVersion; retry on write conflicts.
    for (let attempt = 0; ; attempt++) {
      const current = await request('GET', resourcePath(apiVersion, plural, namespace, name));
      if (current.status !== 200) throw describeFailure(what, current);
      object.metadata.resourceVersion = current.body.metadata.resourceVersion;
      const replaced = await request('PUT', resourcePath(apiVersion, plural, namespace, name), object);
      if (replaced.status === 200) return replaced.body;
      if (replaced.status !== 409 || attempt >= 5) throw describeFailure(what, replaced);
    }
  }

  async function get(apiVersion: string, plural: string, namespace: string, name: string): Promise<any> {
    const res = await request('GET', resourcePath(apiVersion, plural, namespace, name));
    if (res.status === 404) return null;
    if (res.status !== 200) throw describeFailure(`get ${plural} ${namespace}/${name}`, res);
    return res.body;
  }

  return { request, apply, get };
}

function kubeconfigYaml(server: string, caPem: string, user: Record<string, string>, context: string): string {
  return stringifyYaml({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: context, cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } },
    ],
    users: [{ name: context, user }],
    contexts: [{ name: context, context: { cluster: context, user: context } }],
    'current-context': context,
  });
}

/** Creates the CRDs in ./crds and waits until each is Established and listed in discovery. */
async function installCrds(
  helpers: ReturnType<typeof clientHelpers>,
  options: { replaceExisting: boolean; timeoutMs: number },
): Promise<void> {
  const crds = readdirSync(CRD_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => parseYaml(readFileSync(join(CRD_DIR, f), 'utf8')));
  const crdPath = (name?: string) => resourcePath('apiextensions.k8s.io/v1', 'customresourcedefinitions', '', name);
  for (const crd of crds) {
    if (options.replaceExisting) {
      await helpers.apply(crd);
      continue;
    }
    // Never overwrite a real CRD already on an external cluster.
    const res = await helpers.request('POST', crdPath(), crd);
    if (res.status !== 201 && res.status !== 409) throw describeFailure(`create CRD ${crd.metadata.name}`, res);
  }
  const deadline = Date.now() + options.timeoutMs;
  for (const crd of crds) {
    const { group } = crd.spec;
    const { plural } = crd.spec.names;
    for (;;) {
      const current = await helpers.get('apiextensions.k8s.io/v1', 'customresourcedefinitions', '', crd.metadata.name);
      const established = current?.status?.conditions?.some(
        (c: any) => c.type === 'Established' && c.status === 'True',
      );
      // Established can precede the discovery update; wait for every served version to list it.
      const versions: string[] = (current?.spec?.versions ?? []).filter((v: any) => v.served).map((v: any) => v.name);
      let served = established && versions.length > 0;
      for (const version of served ? versions : []) {
        const res = await helpers.request('GET', `/apis/${group}/${version}`);
        served &&= res.status === 200 && (res.body.resources ?? []).some((r: any) => r.name === plural);
      }
      if (served) break;
      if (Date.now() > deadline) throw new Error(`CRD ${crd.metadata.name} not established and served in time`);
      await Bun.sleep(100);
    }
  }
}

// ---------------------------------------------------------------------------
// Local cluster

/** Free TCP ports on 127.0.0.1, all held open together so they are distinct. */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const s = createServer();
          s.once('error', reject);
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

async function readLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<string> {
  let all = '';
  let pending = '';
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    const text = decoder.decode(chunk, { stream: true });
    all += text;
    pending += text;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  }
  if (pending) onLine(pending);
  return all;
}

/** Runs prepare.sh (instant when cached) and returns the bin dir holding etcd and kube-apiserver. */
async function prepareBinaries(log: ((line: string) => void) | undefined): Promise<string> {
  if (process.env.FLUXGATE_KUBE_BIN) return process.env.FLUXGATE_KUBE_BIN;
  const proc = Bun.spawn(['bash', join(HERE, 'prepare.sh')], { stdout: 'pipe', stderr: 'pipe', stdin: 'ignore' });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    readLines(proc.stderr, (line) => (log ? log(line) : process.stderr.write(`${line}\n`))),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`prepare.sh failed (exit ${code}):\n${stderr.trim()}`);
  const bin = stdout.trim().split('\n').pop();
  if (!bin) throw new Error('prepare.sh printed no bin directory');
  return bin;
}

function tailOf(path: string, lines = 30): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no output)';
  }
}

/** Polls fn until it returns true; throws the error from onTimeout() after timeoutMs. */
async function waitFor(fn: () => Promise<boolean>, timeoutMs: number, onTimeout: () => Error): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fn().catch(() => false)) return;
    if (Date.now() > deadline) throw onTimeout();
    await Bun.sleep(200);
  }
}

const token = () => randomBytes(24).toString('hex');

async function startLocal(options: StartOptions): Promise<TestCluster> {
  const log = options.log ?? (() => {});
  const bin = await prepareBinaries(options.log);
  const dataDir = mkdtempSync(join(tmpdir(), 'fluxgate-kube-'));
  const children: { name: string; pid: number; exited: Promise<number> }[] = [];
  let watchdogPid: number | undefined;

  // Synchronous so it can run from process.on('exit').
  const killAll = () => {
    for (const child of [...children].reverse()) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (watchdogPid) {
      try {
        process.kill(watchdogPid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  process.on('exit', killAll);

  const spawnLogged = (name: string, argv: string[]) => {
    const logPath = join(dataDir, `${name}.log`);
    const fd = openSync(logPath, 'w');
    const proc = Bun.spawn(argv, { stdin: 'ignore', stdout: fd, stderr: fd });
    closeSync(fd);
    proc.unref(); // a forgotten stop() must not keep the test process alive
    children.push({ name, pid: proc.pid, exited: proc.exited });
    appendFileSync(join(dataDir, 'pids'), `${proc.pid}\n`);
    log(`started ${name} (pid ${proc.pid}), log ${logPath}`);
    return { proc, logPath };
  };

  try {
    const [etcdClientPort, etcdPeerPort, apiPort] = (await freePorts(3)) as [number, number, number];

    // If this process dies without running its exit handlers (SIGKILL, a crash), a watchdog
    // kills the servers listed in <dataDir>/pids and removes the data dir once our PID is gone.
    // It ignores the terminal's signals so that it outlives us on Ctrl-C too.
    const watchdog = Bun.spawn(
      [
        'sh',
        '-c',
        'trap "" INT TERM HUP; while kill -0 "$1" 2>/dev/null; do sleep 1; done; ' +
          'for p in $(cat "$2/pids" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done; rm -rf "$2"',
        'fluxgate-kube-watchdog',
        String(process.pid),
        dataDir,
      ],
      { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' },
    );
    watchdog.unref();
    watchdogPid = watchdog.pid;

    // --- etcd
    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
    const peerUrl = `http://127.0.0.1:${etcdPeerPort}`;
    const etcd = spawnLogged('etcd', [
      join(bin, 'etcd'),
      '--name=fluxgate-test',
      `--data-dir=${join(dataDir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=fluxgate-test=${peerUrl}`,
      '--logger=zap',
    ]);
    await waitFor(
      async () => {
        if (etcd.proc.exitCode !== null) return true; // reported below
        const res = await fetch(`${etcdUrl}/health`);
        return res.ok && ((await res.json()) as { health?: string }).health === 'true';
      },
      20_000,
      () => new Error(`etcd did not become healthy (exit code ${etcd.proc.exitCode}):\n${tailOf(etcd.logPath)}`),
    );
    if (etcd.proc.exitCode !== null) {
      throw new Error(`etcd exited with code ${etcd.proc.exitCode}:\n${tailOf(etcd.logPath)}`);
    }

    // --- credentials
    const adminToken = token();
    const users = [...new Set([...DEFAULT_USERS, ...(options.users ?? [])])];
    const userTokens = Object.fromEntries(users.map((u) => [u, token()]));
    // token,user,uid[,"group1,group2"]
    const tokenFile = join(dataDir, 'tokens.csv');
    writeFileSync(
      tokenFile,
      [`${adminToken},admin,admin,"system:masters"`, ...users.map((u) => `${userTokens[u]},${u},${u}`)].join('\n') +
        '\n',
      { mode: 0o600 },
    );
    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    });
    const saKey = join(dataDir, 'sa.key');
    const saPub = join(dataDir, 'sa.pub');
    writeFileSync(saKey, privateKey, { mode: 0o600 });
    writeFileSync(saPub, publicKey);
    const certDir = join(dataDir, 'certs');
    mkdirSync(certDir);

    // --- kube-apiserver
    const server = `https://127.0.0.1:${apiPort}`;
    const api = spawnLogged('kube-apiserver', [
      join(bin, 'kube-apiserver'),
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      // v1.20 otherwise also serves an unauthenticated HTTP port on 8080.
      '--insecure-port=0',
      // Self-signed serving cert + CA generated here (apiserver.crt holds cert then CA).
      `--cert-dir=${certDir}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${saPub}`,
      `--service-account-signing-key-file=${saKey}`,
      '--authorization-mode=RBAC',
      `--token-auth-file=${tokenFile}`,
      '--anonymous-auth=false',
      '--profiling=false',
    ]);
    const readyTimeoutMs = options.readyTimeoutMs ?? 90_000;
    const started = Date.now();
    let caPem = '';
    await waitFor(
      async () => {
        if (api.proc.exitCode !== null) return true; // reported below
        if (!caPem) {
          const bundle = readFileSync(join(certDir, 'apiserver.crt'), 'utf8');
          const certs = bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
          if (certs.length < 2) return false;
          caPem = certs[certs.length - 1]!;
        }
        const res = await kubeFetch({ server, caPem, token: adminToken }, 'GET', '/readyz');
        return res.status === 200;
      },
      readyTimeoutMs,
      () =>
        new Error(
          `kube-apiserver not ready at ${server}/readyz after ${readyTimeoutMs} ms; last log lines:\n${tailOf(api.logPath)}`,
        ),
    );
    if (api.proc.exitCode !== null) {
      throw new Error(`kube-apiserver exited with code ${api.proc.exitCode}:\n${tailOf(api.logPath)}`);
    }
    log(`kube-apiserver ready at ${server} after ${Date.now() - started} ms`);

    const admin: Credentials = { server, caPem, token: adminToken };
    const helpers = clientHelpers(admin);
    await installCrds(helpers, { replaceExisting: true, timeoutMs: 30_000 });
    log('CRDs established');

    let kubeconfigCount = 0;
    const writeKubeconfig = (o: { token: string; caPem?: string; context?: string }) => {
      const context = o.context ?? 'fluxgate-test';
      const path = join(dataDir, `kubeconfig-${++kubeconfigCount}-${context.replace(/[^\w.-]/g, '_')}.yaml`);
      writeFileSync(path, kubeconfigYaml(server, o.caPem ?? caPem, { token: o.token }, context), { mode: 0o600 });
      return path;
    };
    const kubeconfigPath = writeKubeconfig({ token: adminToken, context: 'admin' });

    let stopped = false;
    return {
      server,
      caPem,
      adminToken,
      kubeconfigPath,
      writeKubeconfig,
      userTokens,
      userSubjects: Object.fromEntries(
        users.map((u) => [u, { kind: 'User', name: u, apiGroup: 'rbac.authorization.k8s.io' } as RbacSubject]),
      ),
      external: false,
      ...helpers,
      async stop() {
        if (stopped) return;
        stopped = true;
        // apiserver first so it does not log etcd connection errors while going down.
        for (const child of [...children].reverse()) {
          try {
            process.kill(child.pid, 'SIGTERM');
          } catch {
            continue;
          }
          const timeout = Bun.sleep(5_000).then(() => 'timeout');
          if ((await Promise.race([child.exited, timeout])) === 'timeout') {
            try {
              process.kill(child.pid, 'SIGKILL');
            } catch {
              // already gone
            }
            await child.exited;
          }
        }
        killAll();
        process.off('exit', killAll);
      },
    };
  } catch (err) {
    killAll();
    process.off('exit', killAll);
    throw err;
  }
}

// ---------------------------------------------------------------------------
// External cluster (KUBECONFIG_FOR_TESTS)

/**
 * Uses the admin kubeconfig at `path` (token or client certificate; inline *-data or file
 * references). No process is started; the CRDs are created only where missing. The non-admin
 * users are service accounts in EXTERNAL_USERS_NAMESPACE with tokens from the TokenRequest API.
 */
async function connectExternal(path: string, options: StartOptions): Promise<TestCluster> {
  const log = options.log ?? (() => {});
  const config = parseYaml(readFileSync(path, 'utf8'));
  const contextName = config['current-context'];
  const context = config.contexts?.find((c: any) => c.name === contextName)?.context;
  const cluster = config.clusters?.find((c: any) => c.name === context?.cluster)?.cluster;
  const user = config.users?.find((u: any) => u.name === context?.user)?.user ?? {};
  if (!cluster?.server) throw new Error(`${path}: no cluster for current-context ${contextName}`);
  const inline = (data?: string, file?: string) =>
    data ? Buffer.from(data, 'base64').toString('utf8') : file ? readFileSync(file, 'utf8') : undefined;
  const caPem = inline(cluster['certificate-authority-data'], cluster['certificate-authority']) ?? '';
  const admin: Credentials = {
    server: cluster.server.replace(/\/$/, ''),
    caPem,
    token: user.token ?? (user.tokenFile ? readFileSync(user.tokenFile, 'utf8').trim() : undefined),
    certPem: inline(user['client-certificate-data'], user['client-certificate']),
    keyPem: inline(user['client-key-data'], user['client-key']),
  };
  const helpers = clientHelpers(admin);
  await installCrds(helpers, { replaceExisting: false, timeoutMs: 60_000 });
  log(`using external cluster ${admin.server}`);

  const users = [...new Set([...DEFAULT_USERS, ...(options.users ?? [])])];
  await helpers.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: EXTERNAL_USERS_NAMESPACE } });
  const userTokens: Record<string, string> = {};
  const userSubjects: Record<string, RbacSubject> = {};
  for (const name of users) {
    await helpers.apply({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name, namespace: EXTERNAL_USERS_NAMESPACE },
    });
    const res = await helpers.request(
      'POST',
      `${resourcePath('v1', 'serviceaccounts', EXTERNAL_USERS_NAMESPACE, name)}/token`,
      { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
    );
    if (res.status !== 201) throw describeFailure(`token for service account ${name}`, res);
    userTokens[name] = res.body.status.token;
    userSubjects[name] = { kind: 'ServiceAccount', name, namespace: EXTERNAL_USERS_NAMESPACE };
  }

  const dir = mkdtempSync(join(tmpdir(), 'fluxgate-kubeconfig-'));
  let kubeconfigCount = 0;
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  process.on('exit', cleanup);
  return {
    server: admin.server,
    caPem,
    adminToken: admin.token ?? '',
    kubeconfigPath: path,
    writeKubeconfig(o) {
      const ctx = o.context ?? 'fluxgate-test';
      const file = join(dir, `kubeconfig-${++kubeconfigCount}-${ctx.replace(/[^\w.-]/g, '_')}.yaml`);
      writeFileSync(file, kubeconfigYaml(admin.server, o.caPem ?? caPem, { token: o.token }, ctx), { mode: 0o600 });
      return file;
    },
    userTokens,
    userSubjects,
    external: true,
    ...helpers,
    async stop() {
      cleanup();
      process.off('exit', cleanup);
    },
  };
}

/**
 * Starts etcd + kube-apiserver (or connects to KUBECONFIG_FOR_TESTS) with the CRDs installed.
 * A cold first call builds the binaries (a few minutes): give the calling hook a long timeout.
 */
export async function startTestCluster(options: StartOptions = {}): Promise<TestCluster> {
  const external = process.env.KUBECONFIG_FOR_TESTS;
  return external ? connectExternal(external, options) : startLocal(options);
}
