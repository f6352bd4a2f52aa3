#!/usr/bin/env node
// node keygen.mjs key [--seed-hex HEX64]
//
// Prints a new Ed25519 key pair as {publicKeyMultibase, privateKeyMultibase} (the shape of the
// W3C vc-di-eddsa keyPair.json, which sign.mjs reads). With --seed-hex the pair is derived from
// that 32-byte seed, so it is always the same; otherwise it is random.

import {generateKeyPair, parseArgs} from './lib.mjs';

function usage(message) {
  process.stderr.write(`keygen.mjs: ${message}\nusage: node keygen.mjs key [--seed-hex HEX64]\n`);
  process.exit(2);
}

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch(e) {
    usage(e.message);
  }
  if(args._.length !== 1 || args._[0] !== 'key') {
    usage('the subcommand "key" is required');
  }
  let seed;
  if(args['seed-hex'] !== undefined) {
    if(!/^[0-9a-fA-F]{64}$/.test(args['seed-hex'])) {
      usage('--seed-hex must be 64 hex digits (32 bytes)');
    }
    seed = Uint8Array.from(Buffer.from(args['seed-hex'], 'hex'));
  }
  process.stdout.write(JSON.stringify(await generateKeyPair({seed}), null, 2) + '\n');
}

main().catch(e => {
  process.stderr.write(`keygen.mjs: ${e.message}\n`);
  process.exit(1);
});
