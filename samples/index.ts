/** The sample delivery of each built-in provider type, for `fluxgate send`. */
import type { Sample } from '../src/provider-kit/index.ts';
import acr from './acr.ts';
import azureDevops from './azure-devops.ts';
import bitbucket from './bitbucket.ts';
import bitbucketServer from './bitbucket-server.ts';
import cdevents from './cdevents.ts';
import dockerhub from './dockerhub.ts';
import gcr from './gcr.ts';
import generic from './generic.ts';
import gitea from './gitea.ts';
import github from './github.ts';
import gitlab from './gitlab.ts';
import gogs from './gogs.ts';
import harbor from './harbor.ts';
import nexus from './nexus.ts';
import quay from './quay.ts';
import standardWebhooks from './standard-webhooks.ts';

export const samples: Readonly<Record<string, Sample>> = {
  github,
  gitlab,
  bitbucket,
  'bitbucket-server': bitbucketServer,
  gitea,
  gogs,
  'azure-devops': azureDevops,
  harbor,
  dockerhub,
  quay,
  nexus,
  acr,
  gcr,
  'generic-hmac': generic,
  generic,
  'generic-oidc': generic,
  cdevents,
  'standard-webhooks': standardWebhooks,
};
