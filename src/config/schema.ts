/**
 * The configuration schema: the single source of every config type in fluxgate.
 * Every object is closed (`additionalProperties: false`) so a typo'd key is an error, not a silent default.
 */
import { Type as T, type Static, type StaticDecode } from '@sinclair/typebox';
import { durationMs, formatDuration, formatSize, sizeBytes } from './units.ts';

const closed = { additionalProperties: false } as const;

/**
 * `250ms`, `2s`, `5m`, `1h` in the file; milliseconds once loaded. Parsed once, by the loader's decode step,
 * so nothing downstream handles duration strings.
 */
const duration = (fallback: string) =>
  T.Transform(T.String({ pattern: '^[0-9]+(ms|s|m|h)$', description: 'a duration such as 250ms, 2s, 5m', default: fallback }))
    .Decode(durationMs)
    .Encode(formatDuration);
/** `512KiB`, `25MiB`, `1GiB`, or a plain byte count in the file; bytes once loaded. */
const size = (fallback: string) =>
  T.Transform(T.String({ pattern: '^[0-9]+(B|KiB|MiB|GiB|KB|MB|GB)?$', description: 'a size such as 512KiB, 25MiB', default: fallback }))
    .Decode(sizeBytes)
    .Encode(formatSize);

/** Where a secret comes from. The value itself never appears in logs, metrics or errors. */
export const SecretRef = T.Union(
  [
    T.Object({ env: T.String({ minLength: 1 }) }, closed),
    T.Object({ file: T.String({ minLength: 1 }) }, closed),
    T.Object({ value: T.String({ minLength: 1 }) }, closed),
  ],
  { description: 'one of { env: NAME }, { file: PATH }, { value: "..." }' },
);
export type SecretRef = Static<typeof SecretRef>;

const Name = T.String({ pattern: '^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$', maxLength: 63, description: 'a lowercase name' });

export const ServerConfig = T.Object(
  {
    address: T.String({ default: '0.0.0.0:9292', pattern: '^(\\[[0-9a-fA-F:.]+\\]|[^:\\s]*):[0-9]{1,5}$', description: 'host:port' }),
    /** The admin listener: status page, /api, /metrics and probes. Loopback unless opened on purpose. */
    adminAddress: T.String({ default: '127.0.0.1:9293', pattern: '^(\\[[0-9a-fA-F:.]+\\]|[^:\\s]*):[0-9]{1,5}$', description: 'host:port' }),
    /** Larger bodies get 413. 4 MiB: about three times the largest push GitHub sends (2048 commits, ~1.3 MB). */
    maxBodySize: size('4MiB'),
    /** Bytes of request bodies being read at once, over all requests; beyond it 503 + Retry-After. */
    maxBodyBytesInFlight: size('32MiB'),
    /** A body must have arrived this long after its headers; else 408 and the connection is closed. */
    bodyTimeout: duration('10s'),
    /** Requests waiting for a body or a readiness check at once; beyond it 503 + Retry-After. */
    maxConcurrentRequests: T.Integer({ minimum: 1, default: 512 }),
    /** Keep-alive connections idle this long are closed (whole seconds, 1s to 255s: Bun's range). */
    /** Proxies (CIDRs or IPs) whose `X-Forwarded-For` is believed when a provider restricts `allowedSources`. */
    trustedProxies: T.Optional(T.Array(T.String({ minLength: 1 }), { minItems: 1 })),
    idleTimeout: T.Transform(T.String({ pattern: '^([1-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-5])s$', description: 'whole seconds from 1s to 255s', default: '10s' }))
      .Decode(durationMs)
      .Encode(formatDuration),
    tls: T.Optional(T.Object({ certFile: T.String({ minLength: 1 }), keyFile: T.String({ minLength: 1 }) }, closed)),
    /** The address hosts reach fluxgate at (behind a proxy or ingress); `fluxgate register` builds hook URLs from it. */
    publicUrl: T.Optional(T.String({ pattern: '^https?://', description: 'an http(s) URL' })),
    /** How long shutdown waits for in-flight patches before exiting anyway. */
    shutdownTimeout: duration('25s'),
  },
  { ...closed, default: {} },
);

export const KubernetesConfig = T.Object(
  {
    mode: T.Union([T.Literal('auto'), T.Literal('kubeconfig'), T.Literal('in-cluster'), T.Literal('dry-run')], {
      default: 'auto',
    }),
    kubeconfig: T.Optional(T.String()),
    context: T.Optional(T.String()),
    /** Per-request timeout towards the API server; a timeout is retried. */
    requestTimeout: duration('10s'),
    /** A Kubernetes Event (ReconcileRequested) on each object patched; never in dry-run. */
    events: T.Boolean({ default: true }),
  },
  { ...closed, default: {} },
);

export const RetryConfig = T.Object(
  {
    /**
     * How long a patch is retried while the API server is unreachable or answers 5xx/429, counted from the oldest
     * delivery it serves: an outage is waited out, not counted in attempts. Answers that will not change (404, 403,
     * 422…) end it at once.
     */
    maxAge: duration('1h'),
    /** Optional: also end retries after this many attempts. */
    maxAttempts: T.Optional(T.Integer({ minimum: 1, maximum: 1_000_000 })),
    initialDelay: duration('250ms'),
    maxDelay: duration('30s'),
  },
  { ...closed, default: {} },
);

export const ReconcileConfig = T.Object(
  {
    debounce: duration('2s'),
    concurrency: T.Integer({ minimum: 1, maximum: 1024, default: 16 }),
    retry: RetryConfig,
    /** Objects waiting for a patch at most; beyond it webhooks get 503 + Retry-After. */
    maxPending: T.Integer({ minimum: 1, default: 10000 }),
  },
  { ...closed, default: {} },
);

/**
 * `providers[].register`: where `fluxgate register` keeps this provider's webhook on the host, and the API token
 * it uses. Which of the scope keys apply depends on the type (GitHub and Gitea: repositories, organization;
 * GitLab: projects, groups); the rules check that.
 */
export const RegisterConfig = T.Object(
  {
    /** An API token allowed to manage webhooks (scopes per host in the README). Never printed. */
    token: SecretRef,
    /** The host's API: GitHub Enterprise Server (`https://HOST/api/v3`), self-managed GitLab, Gitea/Forgejo. */
    apiUrl: T.Optional(T.String({ pattern: '^https?://[^\\s/]+', description: 'an http(s) URL' })),
    /** GitHub, Gitea: `owner/repo` each; `discovered` takes them from the discovered Flux sources. */
    repositories: T.Optional(
      T.Union([T.Literal('discovered'), T.Array(T.String({ pattern: '^[^/\\s]+/[^/\\s]+$' }), { minItems: 1 })], {
        description: 'a list of owner/repository, or "discovered"',
      }),
    ),
    /** GitHub, Gitea: one organization hook covering every repository of the organization. */
    organization: T.Optional(T.String({ pattern: '^[^/\\s]+$', description: 'an organization name' })),
    /** GitLab: `group/project` paths (subgroups allowed) or numeric ids; `discovered` as for repositories. */
    projects: T.Optional(
      T.Union([T.Literal('discovered'), T.Array(T.Union([T.Integer({ minimum: 1 }), T.String({ pattern: '^([0-9]+|[^/\\s]+(/[^/\\s]+)+)$' })]), { minItems: 1 })], {
        description: 'a list of group/project paths or ids, or "discovered"',
      }),
    ),
    /** GitLab: group hooks (`group` or `group/subgroup`), covering every project below the group. */
    groups: T.Optional(T.Array(T.Union([T.Integer({ minimum: 1 }), T.String({ pattern: '^[^/\\s]+(/[^/\\s]+)*$' })], { description: 'a group path or id' }), { minItems: 1 })),
    /** Reconcile this provider's hooks once when `serve` starts (as `serve --register` does for every provider). */
    onStart: T.Optional(T.Boolean()),
  },
  closed,
);
export type RegisterConfig = Static<typeof RegisterConfig>;

/** Deliveries one sender (a client address; an IPv6 /64) may make to one provider: a token bucket. */
export const RateLimit = T.Object(
  {
    /** Tokens added per second: the sustained rate (0.5 = one every two seconds). */
    perSecond: T.Number({ exclusiveMinimum: 0, maximum: 1_000_000 }),
    /** The bucket's size: how many may come at once after a quiet time. Default: perSecond rounded up. */
    burst: T.Optional(T.Integer({ minimum: 1, maximum: 1_000_000 })),
  },
  closed,
);
export type RateLimit = Static<typeof RateLimit>;

export const ProviderConfig = T.Object(
  {
    name: Name,
    type: T.String({ minLength: 1, description: 'a provider plugin id' }),
    secret: T.Optional(SecretRef),
    /** A second secret some providers use, e.g. GitLab's signing token (Standard Webhooks). */
    signingSecret: T.Optional(SecretRef),
    /**
     * The secret being retired while the host switches to `secret`: a delivery it verifies is accepted too, and
     * counted (`fluxgate_webhook_verified_with_previous_secret_total`), so a rotation has no gap.
     */
    previousSecret: T.Optional(SecretRef),
    /** The same for `signingSecret`. */
    previousSigningSecret: T.Optional(SecretRef),
    events: T.Optional(T.Array(T.String({ minLength: 1 }), { minItems: 1 })),
    /**
     * Accept requests without verifying them: with no secret configured, the route is the only secret. Required
     * for types that check no signature (`generic`, `dockerhub`, `quay`).
     */
    allowUnsigned: T.Optional(T.Boolean()),
    /** Settings of this provider's type (e.g. OIDC issuers, a header name); checked against the type's own schema. */
    options: T.Optional(T.Unknown()),
    /** The route, instead of `/hook/<name>` (e.g. a Flux Receiver's `/hook/<sha256>`), so a hook can move without touching the host. */
    path: T.Optional(T.String({ pattern: '^/hook/[A-Za-z0-9._~-]{1,128}$', description: 'a path /hook/<letters, digits, . _ ~ ->' })),
    /** Addresses (CIDRs or single IPs) the provider accepts requests from; others get 401. */
    allowedSources: T.Optional(T.Array(T.String({ minLength: 1 }), { minItems: 1 })),
    /** Keep this provider's webhook registered on the host (`fluxgate register`). */
    register: T.Optional(RegisterConfig),
    /** At most this many deliveries per sender (after `server.trustedProxies`); beyond it 429 with Retry-After. */
    rateLimit: T.Optional(RateLimit),
  },
  closed,
);
export type ProviderConfig = Static<typeof ProviderConfig>;

export const TargetMatch = T.Object(
  {
    repository: T.Optional(T.String({ minLength: 1 })),
    branches: T.Optional(T.Array(T.String({ minLength: 1 }))),
    tags: T.Optional(T.Array(T.String({ minLength: 1 }))),
    paths: T.Optional(T.Array(T.String({ minLength: 1 }))),
    /** Registry events: globs over normalized image names (`ghcr.io/org/app`, `docker.io/library/nginx` = `nginx`). */
    images: T.Optional(T.Array(T.String({ minLength: 1 }))),
  },
  closed,
);
export type TargetMatch = Static<typeof TargetMatch>;

export const ResourceSelector = T.Object(
  {
    kind: T.String({ minLength: 1 }),
    apiVersion: T.Optional(T.String({ pattern: '^([a-z0-9.-]+/)?v[0-9a-z]+$' })),
    name: T.Optional(T.String({ minLength: 1 })),
    namespace: T.String({ minLength: 1 }),
    matchLabels: T.Optional(T.Record(T.String(), T.String())),
    /** Annotation to set; defaults to Flux's requestedAt (or Argo CD's refresh for Application). */
    annotation: T.Optional(T.String({ minLength: 1 })),
  },
  closed,
);
export type ResourceSelector = Static<typeof ResourceSelector>;

export const TargetConfig = T.Object(
  {
    name: Name,
    providers: T.Array(T.String({ minLength: 1 }), { minItems: 1 }),
    match: T.Optional(TargetMatch),
    resources: T.Array(ResourceSelector, { minItems: 1 }),
    /** Names from `clusters:` this target reconciles in; omitted: every cluster. */
    clusters: T.Optional(T.Array(Name, { minItems: 1 })),
  },
  closed,
);
export type TargetConfig = Static<typeof TargetConfig>;

/** The admin listener's page and API. */
export const AdminConfig = T.Object(
  {
    /** A bearer token the status page and /api/* require (not /metrics or the probes). */
    token: T.Optional(SecretRef),
    /** The status page at `/`; false turns it off (404). */
    statusPage: T.Boolean({ default: true }),
    /** Deliveries kept for the page and /api/deliveries (each a few KB at most). */
    recentDeliveries: T.Integer({ minimum: 1, maximum: 10_000, default: 100 }),
  },
  { ...closed, default: {} },
);

/** The cluster's Flux Receivers (notification.toolkit.fluxcd.io/v1), served on their own paths (src/receivers/). */
export const FluxReceiversConfig = T.Object(
  {
    enabled: T.Boolean({ default: false }),
    /** Watch Receivers in these namespaces only (default: all). */
    namespaces: T.Optional(T.Array(T.String({ pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63, description: 'a namespace name' }), { minItems: 1 })),
    /** Write status.webhookPath and a Ready condition back to each Receiver (while notification-controller runs, it owns them). */
    writeStatus: T.Boolean({ default: false }),
    /** False: refuse Receivers naming resources in other namespaces, as notification-controller's --no-cross-namespace-refs. */
    crossNamespaceRefs: T.Boolean({ default: true }),
    /**
     * True: read Receivers' deliveries as fluxgate's providers do (only the type's default events without
     * spec.events, the body and signature as the host sends them). False (default): as notification-controller
     * does. A Receiver's `fluxgate.io/strict` annotation ("true" or "false") decides for that Receiver.
     */
    strict: T.Boolean({ default: false }),
    /** How often the Secrets that Receivers name are read again, so a rotated token moves the path. */
    secretRefresh: duration('1m'),
  },
  { ...closed, default: {} },
);

/** Discovery: reconcile the Flux sources and Argo CD Applications a push concerns without a target naming them. */
export const DiscoveryConfig = T.Object(
  {
    enabled: T.Boolean({ default: false }),
    /** Namespaces to watch; omitted: all of them (one cluster-wide watch per kind). */
    namespaces: T.Optional(T.Array(T.String({ minLength: 1 }), { minItems: 1 })),
    /** Kinds to watch; omitted: all four. */
    kinds: T.Optional(
      T.Array(T.Union([T.Literal('GitRepository'), T.Literal('OCIRepository'), T.Literal('ImageRepository'), T.Literal('Application')], { description: 'GitRepository, OCIRepository, ImageRepository or Application' }), {
        minItems: 1,
      }),
    ),
    /** Providers whose deliveries use discovery; omitted: all. */
    providers: T.Optional(T.Array(T.String({ minLength: 1 }), { minItems: 1 })),
  },
  { ...closed, default: {} },
);
export type DiscoveryConfig = Static<typeof DiscoveryConfig>;

/**
 * Following (`feedback:`): after its patches, each object a delivery reconciled, and the Flux objects that use it as
 * their source, are watched until the pushed commit is applied there or `timeout` passes (src/feedback/); with
 * `commitStatus`, each is reported on the commit with the host credentials `register` uses.
 */
export const FeedbackConfig = T.Object(
  {
    enabled: T.Boolean({ default: false }),
    /** How long an object is followed after its patch before it is reported timed out. */
    timeout: duration('10m'),
    /** A commit status per cluster and object on the pushed commit (needs the provider's `register.token`). */
    commitStatus: T.Boolean({ default: false }),
    /**
     * Where people reach the admin pages (the admin listener, behind whatever guards it): statuses link to the
     * delivery's page there. Omitted: `server.publicUrl`, whose listener serves only webhooks — a proxy must then
     * route `/deliveries/` to the admin address for the link to work.
     */
    detailsUrl: T.Optional(T.String({ pattern: '^https?://', description: 'an http(s) URL' })),
    /** The status's name on the commit; `{cluster}`, `{kind}`, `{namespace}` and `{name}` are replaced. */
    context: T.String({ minLength: 1, maxLength: 200, default: 'fluxgate/{cluster}/{kind}/{namespace}/{name}' }),
    /** Namespaces where the objects that use a followed source are looked for; omitted: those of discovery, the targets and the Receivers. */
    namespaces: T.Optional(T.Array(T.String({ pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63, description: 'a namespace name' }), { minItems: 1 })),
    /** Objects followed at once at most (in all clusters); a new follow beyond it ends the oldest one. */
    maxFollowed: T.Integer({ minimum: 1, maximum: 100_000, default: 10_000 }),
  },
  { ...closed, default: {} },
);
export type FeedbackConfig = StaticDecode<typeof FeedbackConfig>;

/** NATS JetStream, for several replicas sharing one journal (`state.store: nats`). */
export const NatsConfig = T.Object(
  {
    /** Server URLs, e.g. `nats://nats-0.nats:4222`. */
    servers: T.Array(T.String({ pattern: '^(nats|tls|wss?)://[^\\s]+$', description: 'a nats:// or tls:// URL' }), { minItems: 1 }),
    /** A NATS credentials file (JWT and NKey seed), as `nsc` writes it. */
    credentials: T.Optional(T.String({ minLength: 1 })),
    /** TLS towards the servers: a CA to trust, and a client certificate for mutual TLS. */
    tls: T.Optional(T.Object({ caFile: T.Optional(T.String({ minLength: 1 })), certFile: T.Optional(T.String({ minLength: 1 })), keyFile: T.Optional(T.String({ minLength: 1 })) }, closed)),
    /** Prefix of the stream and buckets fluxgate creates, so several gateways can share one NATS. */
    name: T.String({ pattern: '^[A-Za-z0-9_-]{1,32}$', default: 'fluxgate', description: 'letters, digits, _ and -' }),
    /** Copies JetStream keeps of each message: 3 on a three-node cluster, 1 on a single server. */
    replicas: T.Integer({ minimum: 1, maximum: 5, default: 1 }),
    /** A replica that stops renewing its objects' lease loses them to another after this long. */
    lease: duration('15s'),
  },
  closed,
);
export type NatsConfig = StaticDecode<typeof NatsConfig>;

/** Where accepted work, delivery ids, the delivery log and failures are kept (src/store/). */
export const StateConfig = T.Object(
  {
    /** `sqlite`: a file on this machine (one gateway); `nats`: JetStream, shared by replicas; `memory`: nothing survives the process. */
    store: T.Union([T.Literal('sqlite'), T.Literal('nats'), T.Literal('memory')], { default: 'sqlite' }),
    /** sqlite: the directory of `fluxgate.db`, relative to the config file. Default: `$STATE_DIRECTORY` (systemd), else `fluxgate-state` beside the config. */
    path: T.Optional(T.String({ minLength: 1 })),
    /** sqlite: `full` syncs each group commit to disk (survives a power loss); `normal` survives a crash of the process only. */
    sync: T.Union([T.Literal('full'), T.Literal('normal')], { default: 'full' }),
    /** sqlite: the file never grows past this; when full, webhooks get 503 until retention frees room. */
    maxSize: size('256MiB'),
    retention: T.Object(
      {
        /** Delivery records and kept failures older than this are dropped (the newest admin.recentDeliveries are kept at most). */
        maxAge: duration('168h'),
        /** Failures kept for a retry (`fluxgate retry`, the status page) at most; the oldest go first. */
        failures: T.Integer({ minimum: 1, maximum: 100_000, default: 1000 }),
      },
      { ...closed, default: {} },
    ),
    nats: T.Optional(NatsConfig),
  },
  { ...closed, default: {} },
);
export type StateConfig = StaticDecode<typeof StateConfig>;

/** One agent the edge keeps events for: a private cluster's fluxgate that connects out to this one (src/relay/). */
export const RelaySubscriberConfig = T.Object(
  {
    name: Name,
    /** What the agent authenticates with (its `upstream.token`); never sent as it is: see docs/private-clusters.md. */
    token: SecretRef,
    /** Only events of these providers (their names here); omitted: every provider. */
    providers: T.Optional(T.Array(T.String({ minLength: 1 }), { minItems: 1 })),
    /** Git events of these repositories (slugs, URLs or globs, as targets' match.repository). */
    repositories: T.Optional(T.Array(T.String({ minLength: 1 }), { minItems: 1 })),
    /** Registry events of these images (globs, as targets' match.images). With repositories or images, other events are not kept for it. */
    images: T.Optional(T.Array(T.String({ minLength: 1 }), { minItems: 1 })),
  },
  closed,
);
export type RelaySubscriberConfig = Static<typeof RelaySubscriberConfig>;

/** The edge of a relay: accepted events kept in the store for agents that connect out to it (docs/private-clusters.md). */
export const RelayConfig = T.Object(
  {
    subscribers: T.Array(RelaySubscriberConfig, { minItems: 1 }),
    /** Events kept this long and at most this many (all subscribers together); an agent away longer is told so. */
    retention: T.Object({ maxAge: duration('72h'), maxEvents: T.Integer({ minimum: 1, maximum: 1_000_000, default: 10_000 }) }, { ...closed, default: {} }),
    /** An event larger than this loses its changed paths (then path filters pass), like a host that truncates them. */
    maxEventSize: size('64KiB'),
    /** Streams one subscriber's token may hold open at once; beyond it 429 + Retry-After. */
    maxConnectionsPerSubscriber: T.Integer({ minimum: 1, maximum: 64, default: 4 }),
    /** Bytes written to one stream and not yet taken by the agent; past it the edge stops reading for that stream. */
    maxBufferedBytes: size('256KiB'),
    /** A stream with nothing to send gets a heartbeat this often (and proxies see it alive). */
    heartbeat: duration('15s'),
    /** A stream whose agent takes nothing for this long is closed (the agent resumes from what it acknowledged). */
    stallTimeout: duration('60s'),
  },
  closed,
);
export type RelayConfig = StaticDecode<typeof RelayConfig>;

/** The agent side of a relay: this fluxgate connects out to an edge and reconciles the events it relays. */
export const UpstreamConfig = T.Object(
  {
    /** The edge's base URL, e.g. `https://hooks.example.com` (events at /relay/v1/events). */
    url: T.String({ pattern: '^https?://[^\\s/]+', description: 'an http(s) URL' }),
    /** The token of this agent's subscriber on the edge. */
    token: SecretRef,
    /** What targets' `providers` and `discovery.providers` call the events relayed from the edge. */
    name: T.String({ pattern: '^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$', maxLength: 63, description: 'a lowercase name', default: 'upstream' }),
    /** A PEM file of the CA the edge's certificate is checked with (default: the system's). */
    caFile: T.Optional(T.String({ minLength: 1 })),
    /** Waits between reconnects: from initialDelay, doubling, up to maxDelay, with jitter. */
    reconnect: T.Object({ initialDelay: duration('1s'), maxDelay: duration('30s') }, { ...closed, default: {} }),
  },
  closed,
);
export type UpstreamConfig = StaticDecode<typeof UpstreamConfig>;

/** One cluster of a fleet: a kubeconfig (and context), or the pod's own service account. */
export const ClusterConfig = T.Object(
  {
    name: Name,
    kubeconfig: T.Optional(T.String({ minLength: 1 })),
    context: T.Optional(T.String({ minLength: 1 })),
    inCluster: T.Optional(T.Boolean()),
  },
  closed,
);
export type ClusterConfig = Static<typeof ClusterConfig>;

export const Config = T.Object(
  {
    server: ServerConfig,
    admin: AdminConfig,
    kubernetes: KubernetesConfig,
    reconcile: ReconcileConfig,
    state: StateConfig,
    /** Directory of extra provider plugins (`*.ts` / `*.js`, one provider each). */
    pluginsDir: T.Optional(T.String({ minLength: 1 })),
    /** At least one, unless fluxReceivers is enabled (config/rules.ts). */
    providers: T.Array(ProviderConfig, { default: [] }),
    targets: T.Array(TargetConfig, { default: [] }),
    fluxReceivers: FluxReceiversConfig,
    discovery: DiscoveryConfig,
    feedback: FeedbackConfig,
    /** Several clusters, each with its own connection and queue; omitted: the one `kubernetes:` connection. */
    clusters: T.Optional(T.Array(ClusterConfig, { minItems: 1 })),
    /** The edge of a relay: events kept for agents in private clusters (docs/private-clusters.md). */
    relay: T.Optional(RelayConfig),
    /** This fluxgate is an agent: it connects out to an edge and reconciles what it relays. */
    upstream: T.Optional(UpstreamConfig),
  },
  closed,
);
/** The config as loaded: durations in milliseconds, sizes in bytes. */
export type Config = StaticDecode<typeof Config>;
/** The config as written in the file (durations and sizes as strings). */
export type ConfigText = Static<typeof Config>;
export type ServerConfig = StaticDecode<typeof ServerConfig>;
export type KubernetesConfig = StaticDecode<typeof KubernetesConfig>;
export type ReconcileConfig = StaticDecode<typeof ReconcileConfig>;
export type RetryConfig = StaticDecode<typeof RetryConfig>;
export type FluxReceiversConfig = StaticDecode<typeof FluxReceiversConfig>;
