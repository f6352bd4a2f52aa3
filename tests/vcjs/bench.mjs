#!/usr/bin/env node
// node bench.mjs [--n 200] [--warmup 20]
//
// How fast vc-js signs (issue) and verifies (verifyCredential) the official Open Badges 3.0
// basic example (tests/standards/ob3/examples, issuer set to the did:key of the W3C vc-di-eddsa
// test vector's key), eddsa-rdfc-2022, one operation at a time on one thread, contexts in
// memory, did:key resolved in-process: no I/O in the loop. bench/signing.py runs it as the
// reference for MESHE's own figures.
//
// Prints a JSON report: per operation median / p90 / min milliseconds, ops/s = 1000 / median,
// and the loop's throughput (operations over the total time).

import {readFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import * as vc from '@digitalbazaar/vc';
import {
  STANDARDS_DIR, loadKeyPair, makeDocumentLoader, parseArgs, signingSuite, verifyingSuite
} from './lib.mjs';

const KEY = path.join(STANDARDS_DIR, 'vectors', 'vc-di-eddsa', 'keyPair.json');
const EXAMPLE = path.join('ob3', 'examples', 'basicOpenBadgeCredential.json');

export function stats(ms) {
  const sorted = [...ms].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  const median = sorted.length % 2 ? sorted[Math.floor(middle)] :
    (sorted[middle - 1] + sorted[middle]) / 2;
  const total = ms.reduce((a, b) => a + b, 0);
  return {
    n: ms.length,
    median_ms: +median.toFixed(3),
    p90_ms: +sorted[Math.min(sorted.length - 1, Math.floor(0.9 * sorted.length))].toFixed(3),
    min_ms: +sorted[0].toFixed(3),
    median_ops_per_s: +(1000 / median).toFixed(1),
    loop_ops_per_s: +(ms.length * 1000 / total).toFixed(1)
  };
}

export async function timeLoop(n, warmup, operation) {
  for(let i = 0; i < warmup; ++i) {
    await operation();
  }
  const ms = [];
  for(let i = 0; i < n; ++i) {
    const started = process.hrtime.bigint();
    await operation();
    ms.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return stats(ms);
}

// Sign `credential` n times, then verify the last signature n times.
export async function benchmark(credential, {n, warmup, keyPair, documentLoader}) {
  const suite = verifyingSuite();
  let signed;
  const sign = await timeLoop(n, warmup, async () => {
    signed = await vc.issue({
      credential: structuredClone(credential), suite: signingSuite({keyPair}), documentLoader
    });
  });
  const verify = await timeLoop(n, warmup, async () => {
    const result = await vc.verifyCredential({
      credential: signed, suite, documentLoader, checkStatus: async () => ({verified: true})
    });
    if(!result.verified) {
      throw new Error(`verification failed: ${result.error?.message}`);
    }
  });
  return {credential_bytes: Buffer.byteLength(JSON.stringify(signed)), sign, verify};
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const n = Number(args.n || 200);
  const warmup = Number(args.warmup || 20);
  const keyPair = await loadKeyPair(KEY);
  const basic = JSON.parse(readFileSync(path.join(STANDARDS_DIR, EXAMPLE), 'utf8'));
  basic.issuer.id = keyPair.controller;
  const figures = await benchmark(basic, {n, warmup, keyPair, documentLoader: makeDocumentLoader()});
  const cpus = os.cpus();
  process.stdout.write(JSON.stringify({
    node: process.version,
    cpu: cpus[0]?.model,
    cpus: cpus.length,
    note: 'single thread, one operation at a time, cryptosuite eddsa-rdfc-2022, ' +
      'did:key resolved in-process, contexts in memory',
    n, warmup,
    results: [{example: EXAMPLE, ...figures}]
  }, null, 2) + '\n');
}

if(process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch(e => {
    process.stderr.write(`bench.mjs: ${e.stack || e}\n`);
    process.exit(1);
  });
}
