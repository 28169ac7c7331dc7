/**
 * What an attacker does to the bytes and headers of a delivery: an empty, cut or BOM-prefixed body, bytes that are
 * not UTF-8 inserted anywhere, the body form-encoded (`payload=…`, as GitHub, Gitea and Gogs may send it, and the
 * ways that goes wrong); a header missing, empty, duplicated, 1 MiB long, in odd case, or a prototype word.
 */
import { MiB } from './mutations.ts';

/** An edit of the encoded body. */
export type BytesMutation =
  | { kind: 'empty' }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: number[] }
  | { kind: 'bom' }
  | { kind: 'form'; as: (typeof FORMS)[number] };

/** A body form-encoded (`payload=<the JSON>`): as hosts send it, and the ways a form can be wrong. */
export const FORMS = ['payload', 'no content type', 'no payload field', 'two payload fields', 'form header on JSON'] as const;

/** Bytes inserted in the encoded body: invalid UTF-8, a NUL, a quote, a brace. */
export const INSERTED_BYTES: readonly number[][] = [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0x00], [0x22], [0x7b], [0x5d]];

export type HeaderMutation = { header: string; edit: 'delete' | 'empty' | 'duplicate' | 'huge' | 'upper-case name' | 'upper-case value' | 'latin-1' | 'word'; word?: string };
export const HEADER_EDITS = ['delete', 'empty', 'duplicate', 'huge', 'upper-case name', 'upper-case value', 'latin-1', 'word'] as const;
export const HEADER_WORDS = ['__proto__', 'constructor', 'toString', 'push', 'ping'] as const;

const FORM = 'application/x-www-form-urlencoded';

/** The encoded body and its headers after `mutations` (each applied to the bytes the previous one left). */
export function mutateBytes(body: Uint8Array, headers: Headers, mutations: readonly BytesMutation[]): Uint8Array {
  let bytes = body;
  for (const mutation of mutations) {
    const at = (fraction: number) => Math.floor(fraction * bytes.length);
    switch (mutation.kind) {
      case 'empty':
        bytes = new Uint8Array();
        break;
      case 'truncate':
        bytes = bytes.slice(0, at(mutation.at));
        break;
      case 'insert':
        bytes = Buffer.concat([bytes.subarray(0, at(mutation.at)), Uint8Array.from(mutation.bytes), bytes.subarray(at(mutation.at))]);
        break;
      case 'bom':
        bytes = Buffer.concat([Uint8Array.from([0xef, 0xbb, 0xbf]), bytes]);
        break;
      case 'form':
        bytes = formOf(bytes, headers, mutation.as);
        break;
    }
  }
  return bytes;
}

function formOf(body: Uint8Array, headers: Headers, as: Extract<BytesMutation, { kind: 'form' }>['as']): Uint8Array {
  const field = `payload=${percentEncoded(body)}`;
  if (as === 'no content type') headers.delete('content-type');
  else headers.set('content-type', FORM);
  if (as === 'form header on JSON') return body;
  const form = as === 'no payload field' ? field.replace('payload=', 'payloads=') : as === 'two payload fields' ? `${field}&payload=%7B%7D` : field;
  return new TextEncoder().encode(form);
}

/** Every byte but letters and digits as `%XX`: the form carries the body's exact bytes, invalid UTF-8 included. */
function percentEncoded(bytes: Uint8Array): string {
  const parts = new Array<string>(bytes.length);
  for (let index = 0; index < bytes.length; index++) parts[index] = PERCENT[bytes[index]!]!;
  return parts.join('');
}
const PERCENT = Array.from({ length: 256 }, (_, byte) => (/[A-Za-z0-9]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).padStart(2, '0')}`));

/** `headers` with `mutation` applied. */
export function mutateHeaders(headers: Headers, mutation: HeaderMutation): void {
  const value = headers.get(mutation.header) ?? 'push';
  const set = (name: string, next: string) => {
    headers.delete(mutation.header);
    headers.set(name, next);
  };
  switch (mutation.edit) {
    case 'delete':
      return headers.delete(mutation.header);
    case 'empty':
      return set(mutation.header, '');
    case 'duplicate':
      return headers.append(mutation.header, value);
    case 'huge':
      return set(mutation.header, `${value}${'a/:'.repeat(Math.floor(MiB / 3))}`);
    case 'upper-case name':
      return set(mutation.header.toUpperCase(), value);
    case 'upper-case value': // ASCII only: a header value is Latin-1, and `ÿ` upper-cases beyond it
      return set(mutation.header, value.replace(/[a-z]+/g, (letters) => letters.toUpperCase()));
    case 'latin-1':
      return set(mutation.header, `${value}\u00ff\u00e9`);
    case 'word':
      return set(mutation.header, mutation.word ?? '__proto__');
  }
}
