/**
 * The floor under fluxgate's cold start and idle memory: bench/bare-server.ts plus the libraries a serving
 * fluxgate loads before its first answer (commander, js-yaml, TypeBox, lru-cache, prom-client's metric
 * modules and Elysia), each used once so its module and first call are paid, as fluxgate pays them. Whatever fluxgate costs
 * beyond this is its own code: config loading, the providers, the pipeline, the two listeners.
 * usage: bun bench/bare-libraries.ts PORT SECRET
 */
import { Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { Command } from 'commander';
import { Elysia } from 'elysia';
import { CORE_SCHEMA, load } from 'js-yaml';
import { LRUCache } from 'lru-cache';
import type * as PromClient from 'prom-client';

const Counter = require('prom-client/lib/counter') as typeof PromClient.Counter;
const Histogram = require('prom-client/lib/histogram') as typeof PromClient.Histogram;
const Registry = require('prom-client/lib/registry') as typeof PromClient.Registry;

const program = new Command().argument('<port>').argument('<secret>').parse(process.argv);
const schema = Type.Object({ server: Type.Object({ address: Type.String() }) });
const document = load('server: { address: 127.0.0.1:0 }', { schema: CORE_SCHEMA });
if (!Value.Check(schema, document) || !TypeCompiler.Compile(schema).Check(document)) throw new Error('schema');
const registry = new Registry();
const used = [program, new Elysia().get('/healthz', () => new Response('ok')), new LRUCache<string, true>({ max: 10 }), new Counter({ name: 'c', help: 'c', registers: [registry] }), new Histogram({ name: 'h', help: 'h', registers: [registry] })];
(globalThis as { keep?: unknown }).keep = used;
await import('./bare-server.ts');
