// Shared helpers of the test wallet: keys, compact JWTs, and resolving an issuer's key from its
// did:web document (loopback only: this wallet talks to the portal under test and nothing else).
import crypto from 'node:crypto'

export const b64u = (bytes) => Buffer.from(bytes).toString('base64url')

export function parseArgs (argv) {
  const args = {}
  for (let i = 0; i < argv.length; i++) {
    if (!argv[i].startsWith('--')) throw new Error(`unexpected argument ${argv[i]}`)
    args[argv[i].slice(2)] = argv[i + 1]
    i++
  }
  return args
}

export function signCompact (header, payload, privateKey) {
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}`
  return `${input}.${b64u(crypto.sign(null, Buffer.from(input), privateKey))}`
}

export function verifySignature (data, signature, publicJwk) {
  const key = crypto.createPublicKey({ key: publicJwk, format: 'jwk' })
  return crypto.verify(null, Buffer.from(data), key, Buffer.from(signature, 'base64url'))
}

export function decodePart (part) {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
}

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

function base58Decode (text) {
  let number = 0n
  for (const char of text) {
    const value = BASE58.indexOf(char)
    if (value < 0) throw new Error('not base58')
    number = number * 58n + BigInt(value)
  }
  const hex = number.toString(16)
  const body = Buffer.from(hex.length % 2 ? '0' + hex : hex, 'hex')
  const zeros = text.length - text.replace(/^1+/, '').length
  return Buffer.concat([Buffer.alloc(zeros), body])
}

// did:web:127.0.0.1%3A8000:institutions:uni → http://127.0.0.1:8000/institutions/uni/did.json
export function didWebUrl (did) {
  const [host, ...path] = did.replace(/^did:web:/, '').split(':')
  const authority = decodeURIComponent(host)
  const hostname = authority.replace(/:\d+$/, '').replace(/^\[|\]$/g, '')
  if (!['127.0.0.1', 'localhost', '::1'].includes(hostname)) {
    throw new Error(`refusing to resolve a non-loopback did:web: ${did}`)
  }
  return `http://${authority}/${path.length ? path.join('/') : '.well-known'}/did.json`
}

// The public JWK of a did:web verification method (Multikey, Ed25519).
export async function resolveIssuerKey (kid) {
  const did = kid.split('#')[0]
  const response = await fetch(didWebUrl(did))
  if (!response.ok) throw new Error(`DID document of ${did}: HTTP ${response.status}`)
  const document = await response.json()
  if (document.id !== did) throw new Error('the DID document names another DID')
  const method = (document.verificationMethod ?? []).find((m) => m.id === kid)
  if (!method) throw new Error(`${kid} is not in the DID document`)
  if (!(document.assertionMethod ?? []).some((m) => (m.id ?? m) === kid)) {
    throw new Error(`${kid} is not an assertion method`)
  }
  const raw = base58Decode(method.publicKeyMultibase.slice(1))
  if (raw[0] !== 0xed || raw[1] !== 0x01 || raw.length !== 34) throw new Error('not an Ed25519 Multikey')
  return { kty: 'OKP', crv: 'Ed25519', x: b64u(raw.subarray(2)) }
}
