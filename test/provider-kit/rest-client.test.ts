/** The REST client host registrations use: following pages only on the configured API, and only so many. */
import { describe, expect, test } from 'bun:test';
import { nextLink, restClient } from '../../src/provider-kit/rest-client.ts';

describe('pagination', () => {
  test('nextLink reads rel="next" among the others', () => {
    expect(nextLink('<https://h/x?page=1>; rel="prev", <https://h/x?page=3>; rel="next", <https://h/x?page=9>; rel="last"')).toBe('https://h/x?page=3');
    expect(nextLink('<https://h/x?page=9>; rel="last"')).toBeUndefined();
    expect(nextLink(null)).toBeUndefined();
  });

  test('a next page on another origin is not followed: the token goes only to the configured API', async () => {
    const seen: string[] = [];
    const api = restClient({
      baseUrl: 'https://api.example.com',
      headers: { Authorization: 'Bearer t0ken' },
      pageSize: { per_page: '100' },
      send: async (request) => (seen.push(request.url), new Response('[]', { headers: { Link: '<https://evil.example.net/collect?page=2>; rel="next"' } })),
    });
    await expect(api.list('/repos/a/b/hooks')).rejects.toThrow('the next page is on another host; not followed');
    expect(seen).toEqual(['https://api.example.com/repos/a/b/hooks?per_page=100']);
  });

  test('a host that links pages forever is stopped after maxPages', async () => {
    let page = 0;
    const api = restClient({ baseUrl: 'https://api.example.com', headers: {}, pageSize: { per_page: '1' }, maxPages: 5, send: async () => new Response('[1]', { headers: { Link: `<https://api.example.com/x?page=${++page + 1}>; rel="next"` } }) });
    await expect(api.list('/x')).rejects.toThrow('more than 5 pages');
    expect(page).toBe(5);
  });
});
