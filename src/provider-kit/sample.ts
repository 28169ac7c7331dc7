/**
 * What `fluxgate send` needs to imitate a host: a small, realistic delivery — the fields the host's provider reads,
 * not its whole payload. One file per type under `samples/`, handed to `send` by the command line.
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
