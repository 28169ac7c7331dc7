/** The image a registry sample pushes: its registry host (the sample's default when the name has none) and path. */
import type { SampleInput } from '../src/provider-kit/index.ts';

export function imageOf(input: SampleInput, defaultRegistry: string): { registry: string; path: string; tag: string; digest: string } {
  const [first = '', ...rest] = input.image.name.split('/');
  const hasRegistry = rest.length > 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  return { registry: hasRegistry ? first : defaultRegistry, path: hasRegistry ? rest.join('/') : input.image.name, tag: input.image.tag, digest: input.image.digest };
}
