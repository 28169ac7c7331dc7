/** The providers compiled into fluxgate, handed to the catalog by the composition root. Runtime ones from `pluginsDir` come on top. */
import type { ProviderFactory } from '../src/provider-kit/index.ts';
import acr from './acr.ts';
import azureDevops from './azure-devops.ts';
import bitbucket from './bitbucket.ts';
import bitbucketServer from './bitbucket-server.ts';
import cdevents from './cdevents.ts';
import dockerhub from './dockerhub.ts';
import gcr from './gcr.ts';
import generic from './generic.ts';
import genericHmac from './generic-hmac.ts';
import genericOidc from './generic-oidc.ts';
import gitea from './gitea.ts';
import github from './github.ts';
import gitlab from './gitlab.ts';
import gogs from './gogs.ts';
import harbor from './harbor.ts';
import nexus from './nexus.ts';
import quay from './quay.ts';
import standardWebhooks from './standard-webhooks.ts';

/** Git hosts first, then registries, then the generic types; `fluxgate send` and error messages list them in this order. */
export const builtinProviders: readonly ProviderFactory[] = [
  github,
  gitlab,
  bitbucket,
  bitbucketServer,
  gitea,
  gogs,
  azureDevops,
  harbor,
  dockerhub,
  quay,
  nexus,
  acr,
  gcr,
  genericHmac,
  generic,
  genericOidc,
  cdevents,
  standardWebhooks,
];
