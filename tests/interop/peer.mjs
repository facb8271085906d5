// One fediverse peer on its own loopback address, built on Fedify and the signature libraries
// that Misskey, PeerTube and Joyent publish. It speaks to the relay the way one server family
// does (see FLAVOURS) and records everything it receives, with the verdict of every verifier.
//
// usage: node peer.mjs '{"name":..,"flavour":..,"host":..,"port":..,"relay":{"actor":..,"inbox":..}}'
//
// The driver (run.mjs) steers it through /_ctl/ on the same port: subscribe, unsubscribe, post,
// bad (a refused request), state.
import http from "node:http";
import crypto from "node:crypto";
import {
  createFederation,
  generateCryptoKeyPair,
  getAuthenticatedDocumentLoader,
  MemoryKvStore,
  signJsonLd,
  signObject,
  signRequest,
  verifyRequest,
} from "@fedify/fedify";
import { Activity, Create } from "@fedify/vocab";
import { Temporal } from "@js-temporal/polyfill";
import { verifyDelivery } from "./verifiers.mjs";

const config = JSON.parse(process.argv[2]);
const origin = `http://${config.host}:${config.port}`;
const relay = config.relay;
const AS = "https://www.w3.org/ns/activitystreams";
const PUBLIC = `${AS}#Public`;
const SEC = "https://w3id.org/security/v1";

// How each server family subscribes, posts and signs (research/relays.md, section 3).
//   instance: the actor that follows the relay; protocol: mastodon = Follow of Public to the
//   inbox, litepub = Follow of the relay actor (then the relay follows back);
//   post: ld = Create with a Linked Data signature, proof = Create with an integrity proof
//   (FEP-8b32), plain = Create with neither, announce = the instance actor Announces the note
//   (Pleroma's Relay.publish); spec: how HTTP requests are signed.
const FLAVOURS = {
  mastodon: {
    instance: { path: "/actor", type: "Application", username: config.host },
    protocol: "mastodon", post: "ld", spec: "draft-cavage-http-signatures-12",
    followId: () => `${origin}/${crypto.randomUUID()}`,
  },
  misskey: {
    instance: { path: "/users/9relayactor0", type: "Service", username: "relay.actor" },
    protocol: "mastodon", post: "ld", spec: "draft-cavage-http-signatures-12",
    followId: () => `${origin}/activities/follow-relay/${misskeyId()}`,
  },
  pleroma: {
    instance: { path: "/relay", type: "Application", username: "relay" },
    protocol: "litepub", post: "announce", spec: "draft-cavage-http-signatures-12",
    followId: () => `${origin}/activities/${crypto.randomUUID()}`,
  },
  rfc9421: {
    instance: { path: "/users/relay-bot", type: "Service", username: "relay-bot" },
    protocol: "mastodon", post: "proof", spec: "rfc9421",
    followId: () => `${origin}/follows/${crypto.randomUUID()}`,
  },
  secure: {
    instance: { path: `/users/${config.host}`, type: "Application", username: config.host },
    protocol: "litepub", post: "plain", spec: "draft-cavage-http-signatures-12",
    hs2019: true, signedGets: true,
    followId: () => `${origin}/follows/${crypto.randomUUID()}`,
  },
};
const flavour = FLAVOURS[config.flavour];
if (flavour == null) throw new Error(`unknown flavour ${config.flavour}`);

function misskeyId() {
  return (Date.now().toString(36) + crypto.randomBytes(4).toString("hex")).slice(0, 16);
}

// --- keys and actors -------------------------------------------------------------------------

async function pemOf(publicKey) {
  const spki = Buffer.from(await crypto.webcrypto.subtle.exportKey("spki", publicKey));
  return `-----BEGIN PUBLIC KEY-----\n${spki.toString("base64").match(/.{1,64}/g).join("\n")}\n-----END PUBLIC KEY-----\n`;
}

const B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
function base58btc(bytes) {
  let n = BigInt("0x" + Buffer.from(bytes).toString("hex"));
  let out = "";
  while (n > 0n) { out = B58[Number(n % 58n)] + out; n /= 58n; }
  for (const b of bytes) { if (b !== 0) break; out = "1" + out; }
  return out;
}

async function makeActor(path, type, username) {
  const id = `${origin}${path}`;
  const rsa = await generateCryptoKeyPair("RSASSA-PKCS1-v1_5");
  const ed = await generateCryptoKeyPair("Ed25519");
  const raw = new Uint8Array(await crypto.webcrypto.subtle.exportKey("raw", ed.publicKey));
  const actor = { id, rsa, ed, keyId: `${id}#main-key`, edKeyId: `${id}#ed25519-key` };
  actor.document = {
    // the contexts Fedify gives its own actors: assertionMethod comes from DID core
    "@context": [AS, SEC, "https://w3id.org/security/data-integrity/v1",
      "https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
    id, type, preferredUsername: username, name: username,
    inbox: `${origin}/inbox`, outbox: `${id}/outbox`,
    followers: `${id}/followers`, following: `${id}/following`,
    endpoints: { sharedInbox: `${origin}/inbox` },
    publicKey: { id: actor.keyId, owner: id, publicKeyPem: await pemOf(rsa.publicKey) },
    assertionMethod: [{
      id: actor.edKeyId, type: "Multikey", controller: id,
      publicKeyMultibase: "z" + base58btc(Buffer.concat([Buffer.from([0xed, 0x01]), raw])),
    }],
  };
  return actor;
}

const instance = await makeActor(flavour.instance.path, flavour.instance.type, flavour.instance.username);
const alice = await makeActor("/users/alice", "Person", "alice");
const actors = new Map([[instance.id, instance], [alice.id, alice]]);

// --- what we record --------------------------------------------------------------------------

const state = {
  name: config.name, flavour: config.flavour, origin, instance: instance.id,
  follow: null,          // our Follow of the relay: { id, status (relay's answer) }
  accepted: false,       // the relay's Accept passed our checks
  acceptProblems: [],    // why an Accept did not
  followedBack: null,    // LitePub: the relay's Follow of us, and our Accept's status
  deliveries: [],        // every POST the relay made to us
  gets: [],              // every GET of our actors and notes
  sent: [],              // what we POSTed to the relay, with its answers
};
const notes = new Map(); // id -> note document

// --- Fedify: the inbox ------------------------------------------------------------------------

const federation = createFederation({ kv: new MemoryKvStore(), allowPrivateAddress: true, origin });
const documentLoader = getAuthenticatedDocumentLoader(
  { keyId: new URL(instance.keyId), privateKey: instance.rsa.privateKey },
  { allowPrivateAddress: true });
const context = federation.createContext(new URL(origin), undefined);
const contextLoader = context.contextLoader;
const pending = new Map(); // activity id -> the delivery record of the POST being handled

// Fedify wants an actor dispatcher before it handles inboxes; our actors are served by hand
// (below), in each family's shape, so this one never answers
federation.setActorDispatcher("/users/{identifier}", async () => null);
federation.setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .on(Activity, async (ctx, activity) => {
    const record = pending.get(activity.id?.href);
    if (record == null) return;
    record.fedify = "accepted";
    await onActivity(record, activity);
  })
  .onError((ctx, error) => {
    console.error(`${config.name}: inbox: ${error?.stack ?? error}`);
  });

function isRelayActor(url) {
  return url === relay.actor;
}

async function onActivity(record, activity) {
  const json = record.json;
  const type = json.type;
  const objectId = typeof json.object === "string" ? json.object : json.object?.id;
  if (type === "Accept") {
    // each family checks the Accept its own way
    const problems = [];
    const embedded = typeof json.object === "object" ? json.object : null;
    if (!isRelayActor(json.actor)) problems.push(`actor ${json.actor} is not the relay`);
    if (state.follow == null || objectId !== state.follow.id)
      problems.push(`object ${objectId} is not our Follow ${state.follow?.id}`);
    if (config.flavour === "misskey") {
      // ApInboxService.acceptFollow: the object resolves to a Follow by a local user whose id
      // matches follow-relay/ID
      if (embedded == null || embedded.type !== "Follow") problems.push("the Follow is not embedded");
      if (embedded && embedded.actor !== instance.id) problems.push("the embedded Follow's actor is not our relay user");
      const match = objectId?.match(/follow-relay\/(\w+)/);
      if (!match || state.follow?.id.match(/follow-relay\/(\w+)/)[1] !== match[1]) problems.push("no follow-relay id");
    }
    if (typeof json.id !== "string" || new URL(json.id).host !== new URL(relay.actor).host)
      problems.push("the Accept's id is not on the relay's host");
    if (problems.length === 0) state.accepted = true;
    else state.acceptProblems.push(...problems);
    record.kind = "accept";
  } else if (type === "Reject") {
    state.rejected = true;
    record.kind = "reject";
  } else if (type === "Follow" && flavour.protocol === "litepub" && isRelayActor(json.actor) &&
             objectId === instance.id) {
    // the relay follows us back: accept, as Pleroma and GoToSocial do for their relay actor
    record.kind = "follow-back";
    state.followedBack = { id: json.id, accept: null };
    setImmediate(async () => {
      const accept = { "@context": AS, id: `${origin}/accepts/${crypto.randomUUID()}`,
        type: "Accept", actor: instance.id, object: json };
      const answer = await send(relay.inbox, accept, instance);
      state.followedBack.accept = answer.status;
    });
  } else if (type === "Announce") {
    record.kind = "announce";
    record.objectId = objectId;
    if (!isRelayActor(json.actor)) {
      record.problem = `Announce by ${json.actor}, not the relay`;
      return;
    }
    try {
      // fetch the object the way a server does, with a signed GET by our instance actor
      const { document } = await documentLoader(objectId);
      record.fetched = { id: document.id, content: document.content };
    } catch (e) {
      record.fetched = { error: String(e.message ?? e) };
    }
  } else if (type === "Create") {
    record.kind = "create";
    record.objectId = objectId;
    record.actor = json.actor;
  } else {
    record.kind = type;
  }
}

// --- outgoing requests ----------------------------------------------------------------------

async function signed(url, body, actor, { spec = flavour.spec, time = null, key = null } = {}) {
  let request = new Request(url, {
    method: "POST", body,
    headers: { "content-type": "application/activity+json", accept: "application/activity+json" },
  });
  request = await signRequest(request, key ?? actor.rsa.privateKey, new URL(actor.keyId), {
    spec, ...(time ? { currentTime: time } : {}),
  });
  if (flavour.hs2019 && request.headers.has("signature")) {
    // GoToSocial labels its RSA-SHA256 signatures hs2019
    const headers = new Headers(request.headers);
    headers.set("signature", headers.get("signature").replace('algorithm="rsa-sha256"', 'algorithm="hs2019"'));
    request = new Request(url, { method: "POST", body, headers });
  }
  return request;
}

async function answerOf(request) {
  try {
    const response = await fetch(request);
    return { status: response.status, body: await response.text() };
  } catch (e) {
    return { status: 0, body: String(e.message ?? e) };
  }
}

async function send(url, json, actor) {
  const body = typeof json === "string" ? json : JSON.stringify(json);
  const answer = await answerOf(await signed(url, body, actor));
  const parsed = typeof json === "string" ? JSON.parse(json) : json;
  state.sent.push({ id: parsed.id, type: parsed.type, spec: flavour.spec, status: answer.status,
    answer: answer.body, sha256: sha256(body) });
  return answer;
}

function sha256(body) {
  return crypto.createHash("sha256").update(body).digest("hex");
}

function followActivity() {
  const id = flavour.followId();
  if (flavour.protocol === "litepub")
    // Pleroma's relay Follow has no Public in to/cc (Activity-Relay #41)
    return { "@context": [AS, { "@language": "und" }], id, type: "Follow", actor: instance.id,
      object: relay.actor, to: [relay.actor], cc: [], state: "pending" };
  return { "@context": AS, id, type: "Follow", actor: instance.id, object: PUBLIC };
}

async function subscribe() {
  const follow = followActivity();
  state.follow = { id: follow.id, json: follow };
  state.accepted = false;
  const answer = await send(relay.inbox, follow, instance);
  state.follow.status = answer.status;
  return answer;
}

async function unsubscribe() {
  const undo = { "@context": AS, id: `${origin}/undo/${crypto.randomUUID()}`, type: "Undo",
    actor: instance.id, object: state.follow.json };
  return send(relay.inbox, undo, instance);
}

let counter = 0;
function newNote(text) {
  const n = `${Date.now().toString(36)}${++counter}`;
  const id = config.flavour === "mastodon" ? `${alice.id}/statuses/${n}` : `${origin}/notes/${n}`;
  const note = { id, type: "Note", attributedTo: alice.id, content: `<p>${text}</p>`,
    published: new Date().toISOString().replace(/\.\d+Z$/, "Z"), to: [PUBLIC],
    cc: [`${alice.id}/followers`], url: id, sensitive: false };
  notes.set(id, note);
  return note;
}

// A post the way the flavour makes one; returns { id, objectId, body (exact bytes) }.
async function makePost(text) {
  const note = newNote(text);
  if (flavour.post === "announce") {
    const announce = { "@context": [AS, { "@language": "und" }], id: `${origin}/activities/${crypto.randomUUID()}`,
      type: "Announce", actor: instance.id, object: note.id, published: note.published,
      to: [`${instance.id}/followers`, relay.actor], cc: [], bto: [] };
    return { id: announce.id, objectId: note.id, body: JSON.stringify(announce), actor: instance };
  }
  let create = { "@context": [AS, SEC, { sensitive: "as:sensitive" }], id: `${note.id}/activity`, type: "Create", actor: alice.id,
    published: note.published, to: note.to, cc: note.cc, object: note };
  if (flavour.post === "ld") {
    create = await signJsonLd(create, alice.rsa.privateKey, new URL(alice.keyId),
      { contextLoader });
  } else if (flavour.post === "proof") {
    const object = await Create.fromJsonLd(create, { documentLoader, contextLoader });
    const proofed = await signObject(object, alice.ed.privateKey, new URL(alice.edKeyId), { contextLoader });
    create = await proofed.toJsonLd({ format: "compact", contextLoader });
  }
  return { id: create.id, objectId: note.id, body: JSON.stringify(create), actor: alice };
}

async function post(text) {
  const p = await makePost(text);
  const answer = await send(relay.inbox, p.body, p.actor);
  return { ...answer, id: p.id, objectId: p.objectId, sha256: sha256(p.body), signature: flavour.post };
}

// Requests the relay must refuse: a forged signature, a stale Date, a tampered body.
async function bad(kind) {
  const p = await makePost(`${kind} ${config.name}`);
  let request;
  if (kind === "forged") {
    const other = await generateCryptoKeyPair("RSASSA-PKCS1-v1_5");
    request = await signed(relay.inbox, p.body, p.actor, { key: other.privateKey });
  } else if (kind === "stale") {
    const time = Temporal.Now.instant().subtract({ hours: 2 });
    request = await signed(relay.inbox, p.body, p.actor, { time });
  } else if (kind === "tampered") {
    const original = await signed(relay.inbox, p.body, p.actor);
    // what a man in the middle would do: the same activity, one field changed
    const changed = JSON.parse(p.body);
    changed.published = new Date(Date.parse(changed.published) - 3600e3).toISOString();
    const tampered = JSON.stringify(changed);
    request = new Request(relay.inbox, { method: "POST", body: tampered, headers: original.headers });
  } else {
    throw new Error(`unknown kind ${kind}`);
  }
  const answer = await answerOf(request);
  return { ...answer, id: p.id, objectId: p.objectId };
}

// --- HTTP -------------------------------------------------------------------------------------

function json(res, status, value, type = "application/json") {
  res.writeHead(status, { "content-type": type });
  res.end(JSON.stringify(value));
}

async function control(req, res, body) {
  const url = new URL(req.url, origin);
  const args = body.length ? JSON.parse(body.toString()) : {};
  switch (url.pathname) {
    case "/_ctl/subscribe": return json(res, 200, await subscribe());
    case "/_ctl/unsubscribe": return json(res, 200, await unsubscribe());
    case "/_ctl/post": return json(res, 200, await post(args.text));
    case "/_ctl/bad": return json(res, 200, await bad(args.kind));
    case "/_ctl/state": return json(res, 200, state);
    default: return json(res, 404, { error: "no such control" });
  }
}

// GETs of our documents; the secure flavour answers only signed ones, like GoToSocial
async function serveDocument(req, res, request) {
  const url = new URL(req.url, origin);
  const path = url.pathname;
  const actor = [...actors.values()].find((a) => new URL(a.id).pathname === path);
  const document = actor ? actor.document : notes.get(`${origin}${path}`);
  const record = { path, signed: Boolean(req.headers.signature || req.headers["signature-input"]),
    keyId: null, status: 0, userAgent: req.headers["user-agent"] ?? null };
  if (record.signed) {
    try {
      const key = await verifyRequest(request, { documentLoader: context.documentLoader, contextLoader });
      record.keyId = key ? key.id.href : null;
    } catch (e) {
      record.error = String(e.message ?? e);
    }
  }
  if (document == null) record.status = 404;
  else if (flavour.signedGets && record.keyId == null) record.status = 401;
  else record.status = 200;
  state.gets.push(record);
  if (record.status !== 200) return json(res, record.status, { error: record.status === 401 ? "signature required" : "not found" });
  return json(res, 200, { "@context": document["@context"] ?? [AS, SEC], ...document }, "application/activity+json");
}

async function nodeinfo(req, res) {
  const path = new URL(req.url, origin).pathname;
  if (path === "/.well-known/nodeinfo")
    return json(res, 200, { links: [{ rel: "http://nodeinfo.diaspora.software/ns/schema/2.1", href: `${origin}/nodeinfo/2.1` }] });
  const software = { mastodon: "mastodon", misskey: "misskey", pleroma: "pleroma", rfc9421: "fedify", secure: "gotosocial" }[config.flavour];
  return json(res, 200, { version: "2.1", software: { name: software, version: "interop" }, protocols: ["activitypub"],
    services: { inbound: [], outbound: [] }, openRegistrations: false, usage: { users: {} }, metadata: {} });
}

const server = http.createServer(async (req, res) => {
  try {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url, origin);
    if (url.pathname.startsWith("/_ctl/")) return await control(req, res, body);
    const init = { method: req.method, headers: req.headers, ...(body.length ? { body } : {}) };
    if (url.pathname.startsWith("/.well-known/nodeinfo") || url.pathname.startsWith("/nodeinfo/"))
      return await nodeinfo(req, res);
    if (req.method === "GET") return await serveDocument(req, res, new Request(url, init));
    if (req.method !== "POST" || !url.pathname.endsWith("/inbox")) return json(res, 404, { error: "not found" });

    const record = { path: url.pathname, sha256: sha256(body), json: null, fedify: "refused",
      signature: req.headers["signature-input"] ? "rfc9421" : req.headers.signature ? "cavage" : "none" };
    try { record.json = JSON.parse(body.toString()); } catch { record.json = {}; }
    record.type = record.json.type;
    record.kind = `refused ${record.type}`;
    record.id = record.json.id;
    record.verifiers = await verifyDelivery(req, new Request(url, init), body, context);
    if (typeof record.id === "string") pending.set(record.id, record);
    const response = await federation.fetch(new Request(url, init), { contextData: undefined });
    pending.delete(record.id);
    record.status = response.status;
    if (response.status >= 300) record.fedifyAnswer = await response.clone().text();
    state.deliveries.push(record);
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  } catch (e) {
    console.error(`${config.name}: ${e.stack ?? e}`);
    if (!res.headersSent) json(res, 500, { error: String(e.message ?? e) });
  }
});
server.keepAliveTimeout = 5000;
server.listen(config.port, config.host, () => {
  process.stdout.write(`ready ${origin}\n`);
});
process.on("SIGTERM", () => process.exit(0));
