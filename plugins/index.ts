/** The providers compiled into fluxgate, handed to the catalog by the composition root. Runtime ones from `pluginsDir` come on top. */
import type { ProviderFactory } from '../src/pipeline/provider.ts';
import generic from './generic.ts';
import genericHmac from './generic-hmac.ts';
import github from './github.ts';
import gitlab from './gitlab.ts';

export const builtinProviders: readonly ProviderFactory[] = [github, gitlab, genericHmac, generic];
