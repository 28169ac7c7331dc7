/** GitLab's `X-Gitlab-Event` names and the hook flag that subscribes to each (its registration and its client). */
export const GITLAB_EVENT_FLAGS: Readonly<Record<string, string>> = {
  'Push Hook': 'push_events',
  'Tag Push Hook': 'tag_push_events',
  'Merge Request Hook': 'merge_requests_events',
  'Issue Hook': 'issues_events',
  'Note Hook': 'note_events',
  'Pipeline Hook': 'pipeline_events',
  'Job Hook': 'job_events',
  'Wiki Page Hook': 'wiki_page_events',
  'Deployment Hook': 'deployment_events',
  'Release Hook': 'releases_events',
};
