/**
 * A URL as fluxgate may record, log, show or send it: without the credentials a Git or registry URL can carry
 * (`https://user:token@host/…`, `https://x-access-token:ghp_…@github.com/…`, `ssh://git:password@host/…`,
 * `user:password@host:path`). Every URL from a payload or a cluster object goes through it before it leaves the
 * code that matches on it.
 *
 * - `scheme://userinfo@host…`: the userinfo is dropped, except over SSH (`ssh`, `git+ssh`, `ssh+git`), where the
 *   user name stays (`ssh://git@host/…`: a key, not the name, is the credential) and only a password is dropped;
 *   over HTTPS a user name alone is often the token (`https://ghp_…@github.com/…`), so nothing of it stays.
 * - without a scheme (git's scp-like `user@host:path`, or `user:password@host/path`): a password is dropped, the
 *   user name stays.
 * - anything else is returned as it is (the same string).
 */

/** `scheme://` then the authority up to its last `@` (the userinfo ends there; `@` may appear in a password). */
const WITH_SCHEME = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)@/i;
/** No scheme: a user name without `:`, `@` or `/`, then `:password` up to the last `@` before any `/`. */
const WITHOUT_SCHEME = /^([^@/:]*):[^/]*@/;
const SSH_SCHEMES = new Set(['ssh', 'git+ssh', 'ssh+git']);

/**
 * @example
 * redactUrl('https://user:SuperSecretPass123@github.com/org/repo'); // 'https://github.com/org/repo'
 * redactUrl('ssh://git:pass@example.com/org/repo.git');            // 'ssh://git@example.com/org/repo.git'
 * redactUrl('deploy:pass@example.com:org/repo.git');              // 'deploy@example.com:org/repo.git'
 * redactUrl('git@github.com:org/repo.git');                       // unchanged
 */
export function redactUrl(url: string): string {
  const scheme = WITH_SCHEME.exec(url);
  if (scheme) {
    const [whole, name = '', userinfo = ''] = scheme;
    const user = userinfo.split(':', 1)[0]!;
    const kept = SSH_SCHEMES.has(name.toLowerCase()) && user !== '' ? `${user}@` : '';
    return `${url.slice(0, name.length + 3)}${kept}${url.slice(whole.length)}`;
  }
  const scp = WITHOUT_SCHEME.exec(url);
  if (scp) {
    const [whole, user = ''] = scp;
    return `${user === '' ? '' : `${user}@`}${url.slice(whole.length)}`;
  }
  return url;
}
