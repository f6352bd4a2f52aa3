// What keygen.mjs, sign.mjs, verify.mjs and bench.mjs share: MESHE's strictly local document
// loader, did:key and loopback did:web resolution, key files and the eddsa-rdfc-2022 suite.
//
// Nothing here reaches the network: JSON-LD contexts come from the files the portal itself
// ships (credentials/standards/jsonld/contexts, through its index.json), did:key is resolved in-process,
// and did:web and --map look-ups only ever go to a loopback address.

import {readFileSync} from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import * as DidKey from '@digitalbazaar/did-method-key';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';

const HERE = path.dirname(fileURLToPath(import.meta.url));
// The MESHE repository: MESHE_REPOSITORY (the Python tests set it), else two folders up, which
// holds both for tests/vcjs and for its installed copy in var/interop.
export const REPOSITORY = path.resolve(process.env.MESHE_REPOSITORY || path.join(HERE, '..', '..'));
export const CONTEXTS_DIR = path.join(REPOSITORY, 'credentials', 'standards', 'jsonld', 'contexts');
export const STANDARDS_DIR = path.join(REPOSITORY, 'tests', 'standards');

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
// MESHE_LOOPBACK_CA (a CA certificate file) makes did:web and --map look-ups speak HTTPS to the
// loopback host, trusting that CA alone: the two-node tests' nodes serve HTTPS under a
// throw-away CA. Without it they speak plain http, as a test server does.
const LOOPBACK_CA = process.env.MESHE_LOOPBACK_CA ? readFileSync(process.env.MESHE_LOOPBACK_CA) : null;
const LOOPBACK_SCHEME = LOOPBACK_CA ? 'https:' : 'http:';

// ------------------------------------------------------------------ contexts

let contexts;

export function bundledContexts() {
  if(!contexts) {
    const index = JSON.parse(readFileSync(path.join(CONTEXTS_DIR, 'index.json'), 'utf8'));
    contexts = new Map(Object.entries(index).map(([url, file]) => [
      url, JSON.parse(readFileSync(path.join(CONTEXTS_DIR, file), 'utf8'))
    ]));
  }
  return contexts;
}

// ------------------------------------------------------------------ DIDs

const didKeyDriver = DidKey.driver();
didKeyDriver.use({multibaseMultikeyHeader: 'z6Mk', fromMultibase: Ed25519Multikey.from});

function assertLoopback(urlString, what) {
  const url = new URL(urlString);
  if(url.protocol !== LOOPBACK_SCHEME || !LOOPBACK_HOSTS.has(url.hostname)) {
    throw new Error(`${what}: only ${LOOPBACK_SCHEME} to a loopback host is allowed, got ${urlString}`);
  }
  return url;
}

function getLoopbackJson(urlString) {
  const url = assertLoopback(urlString, 'fetch');
  return new Promise((resolve, reject) => {
    const request = (LOOPBACK_CA ? https : http).get(url, {
      headers: {accept: 'application/did+json, application/ld+json, application/json'},
      timeout: 10000,
      ...(LOOPBACK_CA ? {ca: LOOPBACK_CA} : {})
    }, response => {
      const chunks = [];
      response.on('data', chunk => chunks.push(chunk));
      response.on('end', () => {
        if(response.statusCode !== 200) {
          reject(new Error(`GET ${url} -> HTTP ${response.statusCode}`));
          return;
        }
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch(e) {
          reject(new Error(`GET ${url}: not JSON (${e.message})`));
        }
      });
    });
    request.on('timeout', () => request.destroy(new Error(`GET ${url}: timed out`)));
    request.on('error', reject);
  });
}

function splitFragment(url) {
  const at = url.indexOf('#');
  return at === -1 ? [url, undefined] : [url.slice(0, at), url.slice(at + 1)];
}

// The verification method `id` of a DID or controller document, with the document's context.
function findVerificationMethod(doc, id) {
  for(const relation of ['verificationMethod', 'assertionMethod', 'authentication']) {
    for(const method of [].concat(doc[relation] || [])) {
      if(method && typeof method === 'object' && method.id === id) {
        return {'@context': doc['@context'], ...method};
      }
    }
  }
  return undefined;
}

// did:web:127.0.0.1%3A8000:issuers:1 -> http://127.0.0.1:8000/issuers/1/did.json
async function resolveDidWeb(didUrl) {
  const [did, fragment] = splitFragment(didUrl);
  const parts = did.slice('did:web:'.length).split(':').map(decodeURIComponent);
  const host = parts.shift();
  const where = parts.length ? `/${parts.map(encodeURIComponent).join('/')}/did.json` :
    '/.well-known/did.json';
  const doc = await getLoopbackJson(`${LOOPBACK_SCHEME}//${host}${where}`);
  if(doc.id !== did) {
    throw new Error(`DID document of ${did} has id "${doc.id}"`);
  }
  if(fragment === undefined) {
    return doc;
  }
  const method = findVerificationMethod(doc, didUrl);
  if(!method) {
    throw new Error(`verification method "${didUrl}" not found in the DID document of ${did}`);
  }
  return method;
}

// ------------------------------------------------------------------ loader

// Contexts from the portal's own files, did:key in-process, did:web on loopback, and any URL
// starting with a --map PREFIX fetched from its loopback target instead (status lists of a test
// server). Everything else is refused.
export function makeDocumentLoader({maps = []} = {}) {
  const known = bundledContexts();
  for(const {target} of maps) {
    assertLoopback(target, '--map');
  }
  return async function documentLoader(url) {
    const found = document => ({contextUrl: null, documentUrl: url, document});
    if(known.has(url)) {
      return found(structuredClone(known.get(url)));
    }
    if(url.startsWith('did:key:')) {
      return found(await didKeyDriver.get({url}));
    }
    if(url.startsWith('did:web:')) {
      return found(await resolveDidWeb(url));
    }
    for(const {prefix, target} of maps) {
      if(url.startsWith(prefix)) {
        const [base, fragment] = splitFragment(url);
        const doc = await getLoopbackJson(target + base.slice(prefix.length));
        return found(fragment === undefined ? doc : findVerificationMethod(doc, url));
      }
    }
    const error = new Error(`strictly local document loader refused "${url}" ` +
      '(not in credentials/standards/jsonld/contexts/index.json, not did:key or did:web, no --map)');
    error.name = 'NotFoundError';
    throw error;
  };
}

// ------------------------------------------------------------------ keys and suites

// A key file is {publicKeyMultibase, privateKeyMultibase} (the W3C vc-di-eddsa keyPair.json
// shape, which keygen.mjs writes); the private key must derive the public one.
export async function loadKeyPair(file) {
  const {publicKeyMultibase, privateKeyMultibase} = JSON.parse(readFileSync(file, 'utf8'));
  if(!publicKeyMultibase || !privateKeyMultibase) {
    throw new Error(`${file}: needs publicKeyMultibase and privateKeyMultibase`);
  }
  const controller = `did:key:${publicKeyMultibase}`;
  const keyPair = await Ed25519Multikey.from({
    type: 'Multikey', id: `${controller}#${publicKeyMultibase}`, controller,
    publicKeyMultibase, secretKeyMultibase: privateKeyMultibase
  });
  const {secretKey} = await keyPair.export({
    publicKey: false, secretKey: true, raw: true, canonicalize: true});
  const derived = await Ed25519Multikey.generate({seed: secretKey});
  if(derived.publicKeyMultibase !== publicKeyMultibase) {
    throw new Error(`${file}: the private key does not derive publicKeyMultibase`);
  }
  return keyPair;
}

export async function generateKeyPair({seed} = {}) {
  const keyPair = await Ed25519Multikey.generate(seed ? {seed} : {});
  const exported = await keyPair.export({
    publicKey: true, secretKey: true, includeContext: false, canonicalize: true});
  return {
    publicKeyMultibase: exported.publicKeyMultibase,
    privateKeyMultibase: exported.secretKeyMultibase
  };
}

export function signingSuite({keyPair, date} = {}) {
  return new DataIntegrityProof({signer: keyPair.signer(), cryptosuite: eddsaRdfc2022, date});
}

export function verifyingSuite() {
  return new DataIntegrityProof({cryptosuite: eddsaRdfc2022});
}

// ------------------------------------------------------------------ command lines

// Positional arguments and --name VALUE (or --name=VALUE) options; `repeatable` ones collect
// into a list.
export function parseArgs(argv, {repeatable = []} = {}) {
  const out = {_: []};
  for(let i = 0; i < argv.length; ++i) {
    const arg = argv[i];
    if(!arg.startsWith('--')) {
      out._.push(arg);
      continue;
    }
    let name = arg.slice(2);
    let value;
    const eq = name.indexOf('=');
    if(eq !== -1) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    } else {
      if(i + 1 >= argv.length) {
        throw new Error(`--${name} needs a value`);
      }
      value = argv[++i];
    }
    if(repeatable.includes(name)) {
      (out[name] ||= []).push(value);
    } else {
      out[name] = value;
    }
  }
  return out;
}

// Every message of a (possibly nested) vc-js / jsonld error, without repeats.
export function errorMessages(err) {
  const out = [];
  const seen = new Set();
  const walk = e => {
    if(!e || seen.has(e)) {
      return;
    }
    seen.add(e);
    if(Array.isArray(e)) {
      e.forEach(walk);
      return;
    }
    if(Array.isArray(e.errors) && e.errors.length) {
      e.errors.forEach(walk);
      if(e.message && !/^Verification error/.test(e.message)) {
        out.push(e.message);
      }
      return;
    }
    out.push(e.message || String(e));
    walk(e.cause);
    walk(e.details?.cause);
  };
  walk(err);
  return [...new Set(out)];
}
