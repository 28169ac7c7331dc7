/** The provider plugins compiled into fluxgate. Runtime plugins from `pluginsDir` come on top of these. */
import type { PluginFactory } from '../src/plugins/plugin-api.ts';
import createGenericPlugin from './generic.ts';
import createGenericHmacPlugin from './generic-hmac.ts';
import createGithubPlugin from './github.ts';
import createGitlabPlugin from './gitlab.ts';

export const builtinPlugins: PluginFactory[] = [createGithubPlugin, createGitlabPlugin, createGenericHmacPlugin, createGenericPlugin];
