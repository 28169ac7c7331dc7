/** The sample delivery of each built-in provider type, for `fluxgate send`. */
import type { Sample } from '../src/commands/sample.ts';
import generic from './generic.ts';
import github from './github.ts';
import gitlab from './gitlab.ts';

export const samples: Readonly<Record<string, Sample>> = {
  github,
  gitlab,
  generic,
  'generic-hmac': generic,
};
