// A wallet of the drafts' era, built from @sphereon/oid4vci-client 0.20 (OpenID4VCI draft 15,
// before 1.0): it resolves the offer, reads the issuer's metadata where the drafts put it (the
// well-known segment appended to the issuer URL), redeems the pre-authorised code with the PIN,
// and asks for each offered configuration with the draft's singular `proof`.
//
//   node draft-wallet.mjs --offer 'openid-credential-offer://?credential_offer=…' --pin 123456 --out DIR
//
// The library keeps the c_nonce it fetched and signs the next request with it again. The issuer
// uses a c_nonce once; when a request fails for that reason, this wallet does what the error
// tells it: it takes a new c_nonce (the error carries one; the Nonce Endpoint gives another)
// and asks again, once. Writes DIR/wallet.json ({holder, credentials: {<format>: …}, retried})
// and prints {received, retried, errors}. Loopback http:// issuers only (tests).
//
// package.json pins @sphereon/ssi-types to 0.37.1 ("overrides"): 0.20.1 names a prerelease of it
// (0.36.1-next.159) that the npm registry no longer serves.
import crypto from 'node:crypto'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'

import { parseArgs, signCompact } from './lib.mjs'

const args = parseArgs(process.argv.slice(2))
if (!args.offer || !args.pin || !args.out) {
  console.error('usage: node draft-wallet.mjs --offer URI --pin PIN --out DIR')
  process.exit(2)
}

const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519')
const publicJwk = publicKey.export({ format: 'jwk' })
const proofCallbacks = {
  signCallback: async ({ header, payload }) => signCompact(header, payload, privateKey)
}

// What the issuer answered, for the report: the library's own errors name only the status. It
// fetches through cross-fetch, which takes node-fetch when it loads; so node-fetch is wrapped
// first, and the library imported after.
const answers = []
const requireFromCrossFetch = createRequire(createRequire(import.meta.url).resolve('cross-fetch'))
const nodeFetch = requireFromCrossFetch('node-fetch')
const fetchAsSent = nodeFetch.default
nodeFetch.default = async (url, init) => {
  const response = await fetchAsSent(url, init)
  const text = await response.clone().text()
  answers.push({ url: String(url), status: response.status, type: response.headers.get('content-type'), text })
  return response
}
const { OpenID4VCIClientV1_0_15 } = await import('@sphereon/oid4vci-client')

const client = await OpenID4VCIClientV1_0_15.fromURI({ uri: args.offer, alg: 'EdDSA' })
await client.acquireAccessToken({ pin: args.pin })

const metadata = client.endpointMetadata.credentialIssuerMetadata
const credentials = {}
const retried = []
const errors = []
for (const id of client.credentialOffer.credential_offer.credential_configuration_ids) {
  const format = metadata.credential_configurations_supported[id].format
  const request = () => client.acquireCredentials({
    credentialConfigurationId: id, proofCallbacks, alg: 'EdDSA', jwk: publicJwk
  })
  let response
  try {
    response = await request()
  } catch (failure) {
    const refusal = lastCredentialError()
    errors.push({ configuration: id, ...refusal })
    if (refusal?.error !== 'invalid_nonce' && !refusal?.c_nonce) throw failure
    // The error's own c_nonce would do; this wallet asks the Nonce Endpoint, as 1.0 says.
    await client.acquireNonce()
    retried.push(id)
    response = await request()
  }
  credentials[format] = response.credentials?.[0]?.credential ?? response.credential
}

function lastCredentialError () {
  const endpoint = client.endpointMetadata.credential_endpoint
  const answer = answers.findLast((a) => a.url === endpoint && a.status >= 400)
  return answer ? JSON.parse(answer.text) : undefined
}

fs.mkdirSync(args.out, { recursive: true })
const holder = { publicJwk, privateJwk: privateKey.export({ format: 'jwk' }) }
fs.writeFileSync(path.join(args.out, 'wallet.json'), JSON.stringify({
  issuer: client.getIssuer(),
  holder,
  credentials,
  retried
}, null, 2))
const asked = answers.map((a) => ({ url: a.url, status: a.status, type: a.type }))
console.log(JSON.stringify({ received: Object.keys(credentials), retried, errors, asked }))
