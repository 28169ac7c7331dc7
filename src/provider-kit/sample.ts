/**
 * What `fluxgate send` needs to imitate a host: a small, realistic delivery — the fields the host's provider reads,
 * not its whole payload. Each built-in type's folder has one (`sample` in plugins/<type>/index.ts); the helpers
 * here are the parts several samples share.
 */
export interface SampleInput {
  /** The event to send, when the user names one (else the sample's usual push event). */
  event?: string;
  /** `org/repo` (or `group/sub/repo`) and the host, when the user gave a URL. */
  repository: { slug: string; host?: string };
  ref: { ref: string; branch?: string; tag?: string };
  /** A commit id made from the input and the clock, so two sends differ. */
  commit: string;
  /** Registry samples: the image pushed. */
  image: { name: string; tag: string; digest: string };
  deliveryId: string;
  now: Date;
}

export interface Sample {
  /** The JSON body. */
  body(input: SampleInput): unknown;
  /** The host's non-secret headers (event name, delivery id, content type). */
  headers(input: SampleInput): Record<string, string>;
}

/**
 * @example web('gitlab.com', input) // 'https://gitlab.com/org/app'
 */
export function web(defaultHost: string, input: SampleInput): string {
  return `https://${input.repository.host ?? defaultHost}/${input.repository.slug}`;
}

/**
 * The image a registry sample pushes: its registry host (the sample's default when the name has none) and path.
 *
 * @example sampleImage(input, 'quay.io') // { registry: 'quay.io', path: 'org/app', tag: 'v1', digest: 'sha256:…' }
 */
export function sampleImage(input: SampleInput, defaultRegistry: string): { registry: string; path: string; tag: string; digest: string } {
  const [first = '', ...rest] = input.image.name.split('/');
  const hasRegistry = rest.length > 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  return { registry: hasRegistry ? first : defaultRegistry, path: hasRegistry ? rest.join('/') : input.image.name, tag: input.image.tag, digest: input.image.digest };
}

/** The push body Gitea, Forgejo and Gogs send (GitHub's shape), for the `gitea` and `gogs` samples. */
export function giteaPush(input: SampleInput, defaultHost: string): unknown {
  const url = web(defaultHost, input);
  const host = new URL(url).host;
  return {
    ref: input.ref.ref,
    before: 'e1c5d07d6c4ab3a2bb54b09cc85b5eb0c0c1f1a2',
    after: input.commit,
    compare_url: `${url}/compare/e1c5d07d6c4a...${input.commit.slice(0, 12)}`,
    // Unknown changes: the sample passes every path filter, as a push whose files are not listed should.
    commits: [],
    total_commits: 1,
    repository: { full_name: input.repository.slug, html_url: url, clone_url: `${url}.git`, ssh_url: `git@${host}:${input.repository.slug}.git`, default_branch: 'main' },
    pusher: { login: 'fluxgate-send' },
  };
}

/** fluxgate's own payload (generic-payload.ts) for the input: the repository as given, the ref and the commit. */
export function genericPayload(input: SampleInput): { repository: string; ref: string; commit: string } {
  return { repository: input.repository.host ? `https://${input.repository.host}/${input.repository.slug}` : input.repository.slug, ref: input.ref.ref, commit: input.commit };
}

/** fluxgate's own payload with the headers its types read (`X-Event`, `X-Delivery`): the `generic`, `generic-hmac` and `generic-oidc` sample. */
export const genericSample: Sample = {
  headers: (input) => ({ 'Content-Type': 'application/json', 'User-Agent': 'fluxgate-send', 'X-Event': input.event ?? 'push', 'X-Delivery': input.deliveryId }),
  body: genericPayload,
};
