/**
 * The config: its schema (the single source of config types), the YAML reader that places every problem at its
 * line and column, and the rules a schema cannot say. Knows nothing of providers or Kubernetes.
 */
export { type FileWatch, watchFiles, type WatchSet } from './file-watch.ts';
export { LARGE_CONFIG_TARGETS, MAX_CONFIG_BYTES, MAX_KUBE_FILE_BYTES, MAX_KUBECONFIG_BYTES, MAX_PLUGIN_FILE_BYTES, MAX_SECRET_FILE_BYTES, MAX_TLS_FILE_BYTES } from './limits.ts';
export { isPlaceholderSecret } from './placeholder-secrets.ts';
export { routeOf } from './routes.ts';
export { checkConfigRules, type RuleIssue } from './rules.ts';
export { schemaProblems } from './schema-problems.ts';
export { type Config, type FluxReceiversConfig, type KubernetesConfig, type ProviderConfig, type RateLimit, type RegisterConfig, type ResourceSelector, type RetryConfig, type SecretRef, type StateConfig, type TargetMatch } from './schema.ts';
export { MIN_RELAY_TOKEN_LENGTH, type RelaySecrets, resolveRelaySecrets } from './relay-secrets.ts';
export { PREVIOUS_SECRET_FIELDS, type ProviderSecrets, readSecretFile, resolveAdminToken, resolveProviderSecrets, resolveSecret, secretOrigin, type SecretSources } from './secrets.ts';
export { closestName } from './suggest.ts';
export { loadTlsFiles, type TlsPem } from './tls-files.ts';
export { durationMs } from './units.ts';
export { type CheckedConfig, ConfigError, parseConfig, plural } from './validate.ts';
export { formatPath } from './yaml-source.ts';
export { type FeedbackConfig, type NatsConfig, type RelayConfig, type RelaySubscriberConfig, type UpstreamConfig } from './schema.ts';
export { followedKinds, followedNamespaces } from './feedback-rules.ts';
