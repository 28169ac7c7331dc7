/**
 * prom-client's metric classes, taken from their own modules: the package's index also loads its Pushgateway
 * (node:http, node:https, node:zlib) and default Node metrics (node:perf_hooks), which fluxgate never uses and
 * which cost tens of milliseconds of start-up.
 */
import type * as PromClient from 'prom-client';

export const Counter = require('prom-client/lib/counter') as typeof PromClient.Counter;
export const Gauge = require('prom-client/lib/gauge') as typeof PromClient.Gauge;
export const Histogram = require('prom-client/lib/histogram') as typeof PromClient.Histogram;
export const Registry = require('prom-client/lib/registry') as typeof PromClient.Registry;
export type Counter<T extends string = string> = PromClient.Counter<T>;
export type Gauge<T extends string = string> = PromClient.Gauge<T>;
export type Histogram<T extends string = string> = PromClient.Histogram<T>;
export type Registry = PromClient.Registry;
