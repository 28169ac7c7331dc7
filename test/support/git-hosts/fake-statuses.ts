/**
 * Fake commit-status APIs of GitHub, GitLab, Gitea and Bitbucket Cloud, as following writes them: real HTTP on
 * loopback, every request recorded (fake-api.ts), and each host's own checks — its credential header, its states,
 * GitHub's 140-character description (422 beyond), GitLab's refusal of a state a status already has (400 "Cannot
 * transition status"), Bitbucket's key of at most 40 characters and required `url`.
 *
 * @example
 * const github = startFakeStatuses('github', 'ghp_status');
 * // providers[].register: { token: { value: 'ghp_status' }, apiUrl: github.origin }
 * github.statuses(); // [{ repository: 'your-org/app', sha, context, state: 'pending', … }]
 */
import { json, startFakeApi, type FakeApi } from './fake-api.ts';

export type StatusHost = 'github' | 'gitlab' | 'gitea' | 'bitbucket';

export interface StatusRecord {
  repository: string;
  sha: string;
  /** GitHub, Gitea `context`; GitLab `name`; Bitbucket `name` (its `key` is in `key`). */
  context: string;
  state: string;
  description: string;
  targetUrl?: string;
  key?: string;
}

export interface FakeStatuses extends FakeApi {
  /** Every status accepted, in order. */
  statuses(): StatusRecord[];
  /** The states one context went through on one commit, in order. */
  history(sha: string, context: string): string[];
}

interface HostRules {
  header: string;
  credential(token: string): string;
  route: RegExp;
  states: readonly string[];
  read(body: Record<string, any>, match: RegExpExecArray): StatusRecord;
  refuse(record: StatusRecord, accepted: readonly StatusRecord[]): Response | undefined;
}

const HOSTS: Record<StatusHost, HostRules> = {
  github: {
    header: 'authorization',
    credential: (token) => `Bearer ${token}`,
    route: /^\/repos\/([^/]+)\/([^/]+)\/statuses\/([0-9a-f]+)$/,
    states: ['error', 'failure', 'pending', 'success'],
    read: (body, match) => ({ repository: `${decodeURIComponent(match[1]!)}/${decodeURIComponent(match[2]!)}`, sha: match[3]!, context: body.context ?? 'default', state: body.state, description: body.description ?? '', ...(body.target_url ? { targetUrl: body.target_url } : {}) }),
    refuse: (record) => (record.description.length > 140 ? json({ message: 'Validation Failed', errors: [{ resource: 'Status', code: 'custom', field: 'description', message: 'description is too long (maximum is 140 characters)' }] }, 422) : undefined),
  },
  gitlab: {
    header: 'private-token',
    credential: (token) => token,
    route: /^\/api\/v4\/projects\/([^/]+)\/statuses\/([0-9a-f]+)$/,
    states: ['pending', 'running', 'success', 'failed', 'canceled'],
    read: (body, match) => ({ repository: decodeURIComponent(match[1]!), sha: match[2]!, context: body.name ?? body.context ?? 'default', state: body.state, description: body.description ?? '', ...(body.target_url ? { targetUrl: body.target_url } : {}) }),
    refuse(record, accepted) {
      const last = accepted.filter((earlier) => earlier.sha === record.sha && earlier.context === record.context).at(-1);
      if (last?.state === record.state) return json({ message: `Cannot transition status via :${record.state === 'pending' ? 'enqueue' : record.state} from :${last.state}` }, 400);
      return undefined;
    },
  },
  gitea: {
    header: 'authorization',
    credential: (token) => `token ${token}`,
    route: /^\/api\/v1\/repos\/([^/]+)\/([^/]+)\/statuses\/([0-9a-f]+)$/,
    states: ['pending', 'success', 'error', 'failure', 'warning'],
    read: (body, match) => ({ repository: `${decodeURIComponent(match[1]!)}/${decodeURIComponent(match[2]!)}`, sha: match[3]!, context: body.context ?? '', state: body.state, description: body.description ?? '', ...(body.target_url ? { targetUrl: body.target_url } : {}) }),
    refuse: () => undefined,
  },
  bitbucket: {
    header: 'authorization',
    credential: (token) => `Bearer ${token}`,
    route: /^\/2\.0\/repositories\/([^/]+)\/([^/]+)\/commit\/([0-9a-f]+)\/statuses\/build$/,
    states: ['INPROGRESS', 'SUCCESSFUL', 'FAILED', 'STOPPED'],
    read: (body, match) => ({ repository: `${decodeURIComponent(match[1]!)}/${decodeURIComponent(match[2]!)}`, sha: match[3]!, context: body.name ?? '', key: body.key, state: body.state, description: body.description ?? '', ...(body.url ? { targetUrl: body.url } : {}) }),
    refuse(record) {
      if (typeof record.key !== 'string' || record.key.length === 0 || record.key.length > 40) return json({ type: 'error', error: { message: 'key: Ensure this value has at most 40 characters' } }, 400);
      if (record.targetUrl === undefined) return json({ type: 'error', error: { message: 'url: This field is required.' } }, 400);
      return undefined;
    },
  },
};

export function startFakeStatuses(host: StatusHost, token: string): FakeStatuses {
  const rules = HOSTS[host];
  const accepted: StatusRecord[] = [];
  const api = startFakeApi(rules.header, (request, url) => {
    if (request.auth !== rules.credential(token)) return json({ message: 'Bad credentials' }, 401);
    const match = rules.route.exec(url.pathname);
    if (!match || request.method !== 'POST') return json({ message: 'Not Found' }, 404);
    const record = rules.read((request.body ?? {}) as Record<string, any>, match);
    if (!rules.states.includes(record.state)) return json({ message: `state ${record.state} is not one of ${rules.states.join(', ')}` }, 422);
    const refused = rules.refuse(record, accepted);
    if (refused) return refused;
    accepted.push(record);
    return json({ id: accepted.length, ...request.body }, 201);
  });
  return {
    ...api,
    statuses: () => accepted,
    history: (sha, context) => accepted.filter((record) => record.sha === sha && record.context === context).map((record) => record.state),
  };
}
