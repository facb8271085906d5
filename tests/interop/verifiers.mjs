// Verifies one signed request with four independent implementations: Fedify's, Misskey's
// (@misskey-dev/node-http-message-signatures), PeerTube's (@peertube/http-signature) and
// Joyent's reference (http-signature). Each verdict is "ok" or the reason it failed.
import { verifyRequest } from "@fedify/fedify";
import {
  parseRequestSignature,
  verifyDigestHeader,
  verifyDraftSignature,
} from "@misskey-dev/node-http-message-signatures";
import joyent from "http-signature";
import peertube from "@peertube/http-signature";

const pems = new Map();

// the PEM of a keyId of the form ACTOR#main-key, as Misskey and PeerTube look it up
async function pemOf(keyId) {
  if (!pems.has(keyId)) {
    const response = await fetch(keyId, { headers: { accept: "application/activity+json" } });
    if (!response.ok) throw new Error(`GET ${keyId}: ${response.status}`);
    const actor = await response.json();
    const key = [actor.publicKey].flat().find((k) => k?.id === keyId) ?? actor.publicKey;
    if (!key?.publicKeyPem) throw new Error(`${keyId}: no publicKeyPem`);
    pems.set(keyId, key.publicKeyPem);
  }
  return pems.get(keyId);
}

// nodeRequest: the http.IncomingMessage (body already read); request: a fetch Request of the
// same; body: the Buffer; context: a Fedify context (its loaders)
export async function verifyDelivery(nodeRequest, request, body, context) {
  const verdicts = {};
  try {
    const key = await verifyRequest(request, {
      documentLoader: context.documentLoader, contextLoader: context.contextLoader,
    });
    verdicts.fedify = key ? "ok" : "refused";
  } catch (e) {
    verdicts.fedify = `error: ${e.message}`;
  }
  try {
    const parsed = parseRequestSignature(nodeRequest, { clockSkew: { now: new Date() } });
    if (parsed.version !== "draft") throw new Error(`signature version ${parsed.version}`);
    const signatureOk = await verifyDraftSignature(parsed.value, await pemOf(parsed.value.keyId));
    const digestOk = await verifyDigestHeader(nodeRequest, body, true);
    verdicts.misskey = signatureOk === true && digestOk === true
      ? "ok" : `refused (signature ${signatureOk}, digest ${digestOk})`;
  } catch (e) {
    verdicts.misskey = `error: ${e.message}`;
  }
  for (const [name, library] of [["joyent", joyent], ["peertube", peertube]]) {
    try {
      const parsed = library.parseRequest(nodeRequest, { clockSkew: 300 });
      verdicts[name] = library.verifySignature(parsed, await pemOf(parsed.keyId)) ? "ok" : "refused";
    } catch (e) {
      verdicts[name] = `error: ${e.message}`;
    }
  }
  return verdicts;
}
