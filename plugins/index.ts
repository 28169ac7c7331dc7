/**
 * The providers compiled into fluxgate, one folder each (plugins/<type>/: codec, sample, registration where the host
 * has one, doc page), handed to the catalog by the composition root. Runtime ones from `pluginsDir` come on top.
 * Each folder is listed here once; test/plugins/builtins.test.ts checks that the list and the folders agree.
 */
import type { BuiltinProvider } from '../src/provider-kit/index.ts';
import * as acr from './acr/index.ts';
import * as azureDevops from './azure-devops/index.ts';
import * as bitbucket from './bitbucket/index.ts';
import * as bitbucketServer from './bitbucket-server/index.ts';
import * as cdevents from './cdevents/index.ts';
import * as dockerhub from './dockerhub/index.ts';
import * as gcr from './gcr/index.ts';
import * as generic from './generic/index.ts';
import * as genericHmac from './generic-hmac/index.ts';
import * as genericOidc from './generic-oidc/index.ts';
import * as gitea from './gitea/index.ts';
import * as github from './github/index.ts';
import * as gitlab from './gitlab/index.ts';
import * as gogs from './gogs/index.ts';
import * as harbor from './harbor/index.ts';
import * as nexus from './nexus/index.ts';
import * as quay from './quay/index.ts';
import * as standardWebhooks from './standard-webhooks/index.ts';

/** Git hosts first, then registries, then the generic types; `fluxgate send` and error messages list them in this order. */
export const builtinProviders: readonly BuiltinProvider[] = [
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
