// The interop suite: the relay against peers built on code that others wrote (Fedify, and the
// signature libraries of Misskey, PeerTube and Joyent), all on loopback.
//
// usage: node run.mjs [--relay PATH] [--write-readme] [--keep]
//   --relay         the relay binary (default: $RELAY_BINARY)
//   --write-readme  put the compatibility table this run makes into README.md
//   --keep          keep the temporary directory (config, database, logs)
//
// Prints one line per scenario and peer, then "N passed, N failed"; exits 1 on any failure.
//
// Most scenarios run against one relay node (127.0.0.1). The peering scenario starts a second
// node (127.0.0.2) with members of its own, links the two with `relay peers add` run as an
// operator runs it, and checks that posts cross both ways once, in the form each receiver
// verifies, and that `relay peers remove` stops them.
import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const argv = process.argv.slice(2);
const option = (name) => argv.includes(name);
const value = (name, fallback) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : fallback);
const relayBinary = value("--relay", process.env.RELAY_BINARY);
if (!relayBinary || !fs.existsSync(relayBinary)) {
  console.error(`run.mjs: no relay binary (give --relay PATH or set RELAY_BINARY): ${relayBinary}`);
  process.exit(2);
}

// The peers of the table, and two witnesses (plain Mastodon-like members that stay subscribed
// to the end, so that "nothing arrived" is checked after something did arrive).
const PEERS = [
  { name: "mastodon", flavour: "mastodon", host: "127.0.0.11",
    label: "Mastodon-like", how: "instance actor `/actor` follows Public; posts carry LD signatures; cavage rsa-sha256" },
  { name: "misskey", flavour: "misskey", host: "127.0.0.12",
    label: "Misskey-like", how: "system user, Follow id `/activities/follow-relay/ID`; checks the Accept as Misskey does; LD signatures" },
  { name: "pleroma", flavour: "pleroma", host: "127.0.0.13",
    label: "Pleroma/Akkoma-like", how: "`/relay` follows the relay actor, expects a follow-back; publishes by Announce, no LD signatures" },
  { name: "rfc9421", flavour: "rfc9421", host: "127.0.0.14",
    label: "Fedify, RFC 9421", how: "signs RFC 9421 only; posts carry integrity proofs (FEP-8b32, eddsa-jcs-2022)" },
  { name: "secure", flavour: "secure", host: "127.0.0.15",
    label: "GoToSocial-like", how: "every GET must be signed; follows the relay actor; cavage hs2019; no LD signatures" },
];
const WITNESSES = [
  { name: "witness-a", flavour: "mastodon", host: "127.0.0.21", witness: true },
  { name: "witness-b", flavour: "mastodon", host: "127.0.0.22", witness: true },
];
const ALL = [...PEERS, ...WITNESSES];
// The members of the second node, for the peering scenario (they are not in ALL: until the two
// nodes are linked, nothing of node 1 reaches them)
const NODE2_MEMBERS = [
  { name: "n2-mastodon", flavour: "mastodon", host: "127.0.0.31", label: "Mastodon-like" },
  { name: "n2-pleroma", flavour: "pleroma", host: "127.0.0.32", label: "Pleroma/Akkoma-like" },
];
const POST_STYLE = { mastodon: "ld", misskey: "ld", pleroma: "announce", rfc9421: "proof", secure: "plain" };
for (const peer of [...ALL, ...NODE2_MEMBERS]) peer.postStyle = POST_STYLE[peer.flavour];
// scenario key, column title, and the result lines that make the cell (the key when none)
const SCENARIOS = [
  ["subscribe", "Subscribe"],
  ["posts-out", "Its posts reach all"],
  ["posts-in", "Receives all posts"],
  ["signatures", "Deliveries verify"],
  ["forged", "Forged sig. refused"],
  ["stale", "Stale Date refused"],
  ["tampered", "Tampered body refused"],
  ["undo", "Undo stops delivery"],
  ["non-member", "Non-member refused"],
  ["signed-get", "Signed GETs"],
  ["linked", "Across linked nodes", ["cross-out", "cross-in"]],
];

const results = [];
function check(scenario, peer, ok, detail) {
  results.push({ scenario, peer: peer.name, ok: Boolean(ok), detail });
  const line = `${ok ? "ok  " : "FAIL"} ${scenario.padEnd(11)} ${peer.name.padEnd(9)} ${detail}`;
  console.log(line);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
async function waitFor(predicate, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) return null;
    await sleep(50);
  }
}

function freePort(host) {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on("error", reject);
    server.listen(0, host, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// --- processes ------------------------------------------------------------------------------

const children = [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "relay-interop-"));
function stopAll() {
  for (const child of children) if (child.exitCode == null) child.kill("SIGTERM");
}
process.on("exit", stopAll);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(1));

function start(name, command, args, logFile, readyPattern, env = {}) {
  const log = fs.openSync(logFile, "a");
  const child = spawn(command, args, { stdio: ["ignore", "pipe", log], env: { ...process.env, ...env } });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = "";
    // Node and Fedify load slowly on a loaded machine (the sanitizer pass runs beside it)
    const timer = setTimeout(() => reject(new Error(`${name} did not start (see ${logFile})`)), 120000);
    child.stdout.on("data", (chunk) => {
      fs.appendFileSync(logFile, chunk);
      out += chunk;
      if (readyPattern.test(out)) { clearTimeout(timer); resolve(child); }
    });
    child.on("exit", (code) => { clearTimeout(timer); reject(new Error(`${name} exited (${code}), see ${logFile}`)); });
  });
}

// A relay node: its own directory (configuration, database, admin socket, log) and address.
// Both nodes run the same binary with the same settings: fast retries, private addresses.
async function makeNode(name, host, dir) {
  fs.mkdirSync(dir, { recursive: true });
  const port = await freePort(host);
  const origin = `http://${host}:${port}`;
  const node = { name, host, port, origin, dir, actor: `${origin}/actor`, inbox: `${origin}/inbox`,
    conf: path.join(dir, "relay.conf"), log: path.join(dir, "relay.log"), child: null };
  fs.writeFileSync(node.conf, `[relay]
public-url = ${origin}
listen = ${host}:${port}

[storage]
backend = sqlite
path = ${path.join(dir, "relay.db")}

[admin]
socket = ${path.join(dir, "admin.sock")}

[federation]
allow-private-addresses = true

[delivery]
retry-base = 1

[log]
level = info
`);
  return node;
}

const node1 = await makeNode("node 1", "127.0.0.1", tmp);
const node2 = await makeNode("node 2", "127.0.0.2", path.join(tmp, "node2"));
const relayOrigin = node1.origin;
for (const peer of ALL) peer.node = node1;
for (const peer of NODE2_MEMBERS) peer.node = node2;

async function startRelay(node) {
  const child = spawn(relayBinary, ["serve", "-c", node.conf],
    { stdio: ["ignore", fs.openSync(node.log, "a"), fs.openSync(node.log, "a")],
      env: { ...process.env, GIO_USE_PROXY_RESOLVER: "dummy" } });
  children.push(child);
  node.child = child;
  const up = await waitFor(async () => {
    if (child.exitCode != null) throw new Error(`${node.name} exited (${child.exitCode}), see ${node.log}`);
    try { return (await fetch(`${node.origin}/healthz`)).status === 200; } catch { return false; }
  }, 30000);
  if (!up) throw new Error(`${node.name} did not answer /healthz, see ${node.log}`);
}

// the `relay` command against a node, as its operator runs it (`relay peers list -c FILE`)
function relayCli(node, args) {
  return new Promise((resolve) => {
    execFile(relayBinary, [...args, "-c", node.conf],
      { env: { ...process.env, GIO_USE_PROXY_RESOLVER: "dummy" }, timeout: 60000 },
      (error, stdout, stderr) => resolve({
        status: error == null ? 0 : (typeof error.code === "number" ? error.code : String(error.signal ?? error.code)),
        stdout, stderr, text: `${stdout}${stderr}`.trim(),
      }));
  });
}

// the state of @peer in @node's `relay peers list --json` (null: not listed)
async function peerState(node, peer) {
  const answer = await relayCli(node, ["peers", "list", "--json"]);
  if (answer.status !== 0) throw new Error(`${node.name}: relay peers list: ${answer.status} ${answer.text}`);
  const listed = JSON.parse(answer.stdout).data.peers.find((p) => p.actor === peer.actor);
  return listed?.state ?? null;
}

// deliveries queued on @node (settled ones are gone), from /metrics
async function queueLength(node) {
  const metrics = await (await fetch(`${node.origin}/metrics`)).text();
  const match = metrics.match(/^relay_queue_deliveries (\d+)/m);
  if (!match) throw new Error(`${node.name}: no relay_queue_deliveries in /metrics`);
  return Number(match[1]);
}

// nothing travels any more: both nodes' queues empty twice in a row (a node answers a peer
// only once what it relays on is queued), then a moment for duplicates already on the wire
async function settled() {
  let rounds = 0;
  await waitFor(async () => {
    const lengths = await Promise.all([node1, node2].map(queueLength));
    rounds = lengths.every((n) => n === 0) ? rounds + 1 : 0;
    if (rounds < 2) await sleep(100);
    return rounds >= 2;
  }, 20000);
  await sleep(300);
}

async function startPeer(peer) {
  peer.port = await freePort(peer.host);
  peer.origin = `http://${peer.host}:${peer.port}`;
  const config = JSON.stringify({ name: peer.name, flavour: peer.flavour, host: peer.host, port: peer.port,
    relay: { actor: peer.node.actor, inbox: peer.node.inbox } });
  await start(peer.name, process.execPath, [path.join(here, "peer.mjs"), config],
    path.join(tmp, `${peer.name}.log`), /^ready /m);
}

async function ctl(peer, action, args = {}) {
  const response = await fetch(`${peer.origin}/_ctl/${action}`, { method: "POST", body: JSON.stringify(args) });
  if (!response.ok) throw new Error(`${peer.name} ${action}: ${response.status} ${await response.text()}`);
  return response.json();
}
const stateOf = (peer) => ctl(peer, "state");

// --- scenarios ------------------------------------------------------------------------------

async function subscribeAll() {
  await Promise.all([...ALL, ...NODE2_MEMBERS].map(async (peer) => {
    const answer = await ctl(peer, "subscribe");
    const litepub = ["pleroma", "secure"].includes(peer.flavour);
    const state = await waitFor(async () => {
      const s = await stateOf(peer);
      return s.accepted && (!litepub || s.followedBack?.accept === 202) ? s : null;
    });
    const last = state ?? (await stateOf(peer));
    const how = peer.flavour === "misskey" ? "as Misskey does (embedded Follow by our relay user, follow-relay id)"
      : peer.flavour === "mastodon" ? "as Mastodon does (object is our Follow's id)" : "(object is our Follow)";
    const detail = `Follow answered ${answer.status}; Accept verified by Fedify and checked ${how}` +
      (litepub ? `; the relay followed back and our Accept got ${last.followedBack?.accept ?? "nothing"}` : "") +
      (state ? "" : ` — not accepted: ${JSON.stringify(last.acceptProblems)}`);
    if (!peer.witness) check("subscribe", peer, answer.status === 202 && state != null, detail);
    else if (!state) throw new Error(`witness ${peer.name} could not subscribe: ${detail}`);
  }));
}

const posts = new Map(); // peer name -> its post
const expectsRaw = (sender, receiver) =>
  ["ld", "proof"].includes(sender.postStyle) && !["pleroma", "secure"].includes(receiver.flavour);

function receivedForm(state, sender, post) {
  const matches = state.deliveries.filter((d) =>
    d.id === post.id || (d.kind === "announce" && d.objectId === post.objectId));
  return matches;
}

// what is wrong with what @receiver got of @sender's @post (null: nothing): its author gets
// nothing back; anyone else exactly one copy that Fedify accepted, as is (same bytes) when
// signed and the receiver verifies signed posts, else an Announce by the relay it follows
// whose object it fetched
function judge(sender, post, receiver, state) {
  const got = receivedForm(state, sender, post);
  const what = `${receiver.name} (${sender.name}'s post)`;
  if (receiver === sender) return got.length === 0 ? null : `${sender.name} got its own post back`;
  if (got.length !== 1) return `${what}: ${got.length} copies`;
  const d = got[0];
  if (d.fedify !== "accepted") return `${what}: Fedify refused the ${d.type} (${d.status} ${d.fedifyAnswer ?? ""})`;
  if (expectsRaw(sender, receiver)) {
    if (d.kind !== "create") return `${what}: an ${d.kind}, not the signed Create as is`;
    if (d.sha256 !== post.sha256) return `${what}: different bytes`;
    return null;
  }
  if (d.kind !== "announce") return `${what}: a ${d.kind}, not an Announce`;
  if (d.problem) return `${what}: ${d.problem}`;
  if (d.fetched?.content !== `<p>${post.text}</p>`) return `${what}: could not fetch the object: ${JSON.stringify(d.fetched)}`;
  return null;
}

// has @receiver got @sender's @post in a usable form (for waiting; judge() decides)
function arrived(sender, post, receiver, state) {
  return receivedForm(state, sender, post).some((d) => d.fedify === "accepted" &&
    (d.kind === "create" || d.fetched));
}

async function postAll() {
  await Promise.all(PEERS.map(async (peer) => {
    const text = `hello from ${peer.name} ${Math.random().toString(36).slice(2)}`;
    posts.set(peer.name, { ...(await ctl(peer, "post", { text })), text });
  }));
  const receivers = ALL;
  // wait until every receiver has everything it should have, or 15 s
  const states = new Map();
  await waitFor(async () => {
    for (const r of receivers) states.set(r.name, await stateOf(r));
    return PEERS.every((sender) => receivers.every((r) => r === sender ||
      arrived(sender, posts.get(sender.name), r, states.get(r.name))));
  });
  await sleep(300); // duplicates would arrive together with the first copy
  for (const r of receivers) states.set(r.name, await stateOf(r));
  const verdict = (sender, receiver) =>
    judge(sender, posts.get(sender.name), receiver, states.get(receiver.name));
  for (const sender of PEERS) {
    const post = posts.get(sender.name);
    const problems = receivers.map((r) => verdict(sender, r)).filter(Boolean);
    const raw = receivers.filter((r) => r !== sender && expectsRaw(sender, r)).length;
    const wrapped = receivers.length - 1 - raw;
    const proof = sender.postStyle === "proof" ? "integrity proof" : "LD signature";
    check("posts-out", sender, post.status === 202 && problems.length === 0,
      `relay answered ${post.status}; ` + (raw ? `as is to ${raw} (same bytes, ${proof} verified by Fedify), ` : "") +
      `as Announce to ${wrapped} (object fetched)` + (problems.length ? ` — ${problems.join("; ")}` : ""));
  }
  for (const receiver of PEERS) {
    const problems = PEERS.filter((s) => s !== receiver).map((s) => verdict(s, receiver)).filter(Boolean);
    const forms = PEERS.filter((s) => s !== receiver).map((s) => (expectsRaw(s, receiver) ? "raw" : "Announce"));
    check("posts-in", receiver, problems.length === 0,
      `${forms.length} posts, each once (${forms.filter((f) => f === "raw").length} raw, ` +
      `${forms.filter((f) => f !== "raw").length} Announce)` + (problems.length ? ` — ${problems.join("; ")}` : ""));
  }
}

const badPosts = [];
async function refusals() {
  const expected = { forged: [401], stale: [401], tampered: [400, 401] };
  for (const peer of PEERS) {
    for (const kind of Object.keys(expected)) {
      const answer = await ctl(peer, "bad", { kind });
      badPosts.push({ peer, kind, answer, ok: expected[kind].includes(answer.status) });
    }
  }
}

// --- peering: a second node, linked both ways --------------------------------------------------

const FOUR = ["fedify", "misskey", "peertube", "joyent"];
const otherNode = (node) => (node === node1 ? node2 : node1);
const membersOf = (node) => (node === node1 ? ALL : NODE2_MEMBERS);

async function peering() {
  // the operators link the nodes, each with the other's actor URL
  const started = Date.now();
  const added = await Promise.all([[node1, node2], [node2, node1]].map(async ([node, peer]) =>
    ({ node, answer: await relayCli(node, ["peers", "add", "relay", peer.actor]) })));
  const mutual = await waitFor(async () =>
    (await peerState(node1, node2)) === "mutual" && (await peerState(node2, node1)) === "mutual", 20000);
  const listed = `node 1 lists node 2 as ${await peerState(node1, node2)}, node 2 lists node 1 as ${await peerState(node2, node1)}`;
  check("link", { name: "-" }, added.every((a) => a.answer.status === 0) && mutual,
    added.map((a) => `\`relay peers add relay ${otherNode(a.node).actor}\` on ${a.node.name} exited ${a.answer.status}`).join(", ") +
    `; ${listed}` + (mutual ? ` after ${((Date.now() - started) / 1000).toFixed(1)} s` : " — never both mutual") +
    added.filter((a) => a.answer.status !== 0).map((a) => ` — ${a.node.name}: ${a.answer.text}`).join(""));
  if (!mutual) return;

  // every family on node 1 posts, and every member of node 2
  const senders = [...PEERS, ...NODE2_MEMBERS];
  const receivers = [...ALL, ...NODE2_MEMBERS];
  const crossed = new Map();
  await Promise.all(senders.map(async (peer) => {
    const text = `across from ${peer.name} ${Math.random().toString(36).slice(2)}`;
    crossed.set(peer.name, { ...(await ctl(peer, "post", { text })), text });
  }));
  const states = new Map();
  const readStates = async () => {
    for (const [name, state] of await Promise.all(receivers.map(async (r) => [r.name, await stateOf(r)])))
      states.set(name, state);
  };
  await waitFor(async () => {
    await readStates();
    return senders.every((sender) => receivers.every((r) => r === sender ||
      arrived(sender, crossed.get(sender.name), r, states.get(r.name))));
  });
  await settled();
  await readStates();

  const problemsOf = (sender, rs) =>
    rs.map((r) => judge(sender, crossed.get(sender.name), r, states.get(r.name))).filter(Boolean);
  for (const sender of senders) {
    const post = crossed.get(sender.name);
    const far = membersOf(otherNode(sender.node));
    const near = membersOf(sender.node);
    const problems = [...problemsOf(sender, far), ...problemsOf(sender, near)];
    const raw = far.filter((r) => expectsRaw(sender, r)).length;
    const proof = sender.postStyle === "proof" ? "integrity proof" : "LD signature";
    check("cross-out", sender, post.status === 202 && problems.length === 0,
      `relay answered ${post.status}; reached ${otherNode(sender.node).name}'s ${far.length} members: ` +
      (raw ? `as is to ${raw} (same bytes, ${proof} verified by Fedify), ` : "") +
      `as Announce by ${otherNode(sender.node).name}'s actor to ${far.length - raw} (object fetched); ` +
      `${sender.node.name}'s ${near.length - 1} others still got it once, and it did not come back` +
      (problems.length ? ` — ${problems.join("; ")}` : ""));
  }
  // each receiver, the posts of the other node's members: each once, in its form; and every
  // one of those deliveries verifies with the four libraries
  for (const receiver of [...PEERS, ...NODE2_MEMBERS]) {
    const from = senders.filter((s) => s.node !== receiver.node);
    const state = states.get(receiver.name);
    const problems = from.map((s) => judge(s, crossed.get(s.name), receiver, state)).filter(Boolean);
    const deliveries = from.flatMap((s) => receivedForm(state, s, crossed.get(s.name)));
    const unverified = deliveries.filter((d) => FOUR.some((v) => d.verifiers?.[v] !== "ok"));
    if (unverified.length) problems.push(`${unverified.length} did not verify: ${JSON.stringify(unverified[0].verifiers)}`);
    // and nothing at all, of the run so far, came twice
    const ids = state.deliveries.filter((d) => d.fedify === "accepted").map((d) => d.id);
    const twice = [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))];
    if (twice.length) problems.push(`delivered twice: ${twice.join(", ")}`);
    const raw = from.filter((s) => expectsRaw(s, receiver)).length;
    check("cross-in", receiver, problems.length === 0,
      `${from.length} posts from ${otherNode(receiver.node).name}'s members, each once ` +
      `(${raw} raw, ${from.length - raw} Announce by ${receiver.node.name}'s actor); all verify with the four libraries; ` +
      `no activity so far came twice` +
      (problems.length ? ` — ${problems.join("; ")}` : ""));
  }

  // node 2's operator cuts the link: node 1 hears of it, and nothing crosses any more
  const removed = await relayCli(node2, ["peers", "remove", "relay", node1.actor]);
  const rejected = await waitFor(async () => (await peerState(node1, node2)) === "rejected", 20000);
  const leftOnNode2 = await peerState(node2, node1);
  const [from1, witness1] = [PEERS.find((p) => p.name === "mastodon"), WITNESSES[0]];
  const [from2, witness2] = NODE2_MEMBERS;
  const later = new Map();
  for (const sender of [from1, from2]) {
    const text = `after peers remove ${sender.name} ${Math.random().toString(36).slice(2)}`;
    later.set(sender.name, { ...(await ctl(sender, "post", { text })), text });
  }
  // each post reaches a witness on its own node: the fan-out is done; then the queues drain
  const reached = await Promise.all([[from1, witness1], [from2, witness2]].map(([sender, witness]) =>
    waitFor(async () => arrived(sender, later.get(sender.name), witness, await stateOf(witness)), 15000)));
  await settled();
  for (const [sender, witness, ok] of [[from1, witness1, reached[0]], [from2, witness2, reached[1]]]) {
    const far = membersOf(otherNode(sender.node));
    const leaked = [];
    for (const r of far) {
      if (receivedForm(await stateOf(r), sender, later.get(sender.name)).length) leaked.push(r.name);
    }
    const post = later.get(sender.name);
    check("unlinked", { name: otherNode(sender.node).name },
      removed.status === 0 && rejected && post.status === 202 && ok && leaked.length === 0,
      `after \`relay peers remove relay ${node1.actor}\` on node 2 (exited ${removed.status}; node 1 lists it as ` +
      `${rejected ? "rejected" : await peerState(node1, node2)}, node 2 ${leftOnNode2 ? `as ${leftOnNode2}` : "not at all"}), ` +
      `${sender.name}'s post reached ${witness.name} on ${sender.node.name} ${ok ? "" : "NOT "}and none of ` +
      `${otherNode(sender.node).name}'s ${far.length} members` + (leaked.length ? ` — it reached ${leaked.join(", ")}` : "") +
      (removed.status !== 0 ? ` — ${removed.text}` : ""));
  }
}

async function signatures() {
  for (const peer of PEERS) {
    const state = await stateOf(peer);
    const bad = state.deliveries.filter((d) =>
      ["fedify", "misskey", "peertube", "joyent"].some((v) => d.verifiers?.[v] !== "ok"));
    const kinds = [...new Set(state.deliveries.map((d) => d.type))].sort().join(", ");
    check("signatures", peer, state.deliveries.length > 0 && bad.length === 0,
      `${state.deliveries.length} deliveries (${kinds}): Fedify, Misskey, PeerTube and Joyent verify every one` +
      (bad.length ? ` — ${bad.length} did not: ${JSON.stringify(bad[0].verifiers)}` : ""));
  }
}

async function undoAndNonMembers() {
  const undone = new Map();
  for (const peer of PEERS) undone.set(peer.name, await ctl(peer, "unsubscribe"));
  // a witness posts; once the other witness has it, the fan-out is done
  const [a, b] = WITNESSES;
  const text = `after the Undo ${Math.random().toString(36).slice(2)}`;
  const post = await ctl(a, "post", { text });
  const arrived = await waitFor(async () =>
    (await stateOf(b)).deliveries.some((d) => d.id === post.id && d.fedify === "accepted"));
  await sleep(1000);
  for (const peer of PEERS) {
    const state = await stateOf(peer);
    const got = state.deliveries.filter((d) => d.id === post.id || d.objectId === post.objectId);
    check("undo", peer, undone.get(peer.name).status === 202 && arrived && got.length === 0,
      `Undo answered ${undone.get(peer.name).status}; a later post reached the witness ` +
      `${arrived ? "" : "NOT "}and not this peer (${got.length} copies)`);
  }
  // refused requests were delivered nowhere
  const everywhere = await Promise.all(ALL.map(stateOf));
  for (const bad of badPosts) {
    const leaked = everywhere.filter((s) => s.deliveries.some((d) => d.id === bad.answer.id ||
      d.objectId === bad.answer.objectId)).map((s) => s.name);
    check(bad.kind, bad.peer, bad.ok && leaked.length === 0,
      `relay answered ${bad.answer.status} ${bad.answer.body.trim()}` +
      (leaked.length ? ` — but it reached ${leaked.join(", ")}` : "; delivered nowhere"));
  }
  for (const peer of PEERS) {
    const answer = await ctl(peer, "post", { text: `not a member ${peer.name}` });
    check("non-member", peer, answer.status === 403, `after the Undo, a post got ${answer.status} ${answer.body.trim()}`);
  }
}

async function signedGets() {
  for (const peer of PEERS) {
    const state = await stateOf(peer);
    const byRelay = state.gets.filter((g) => g.keyId?.startsWith(relayOrigin) || g.userAgent?.startsWith("relay/"));
    const bad = byRelay.filter((g) => !g.signed || !g.keyId?.startsWith(relayOrigin) || g.status !== 200);
    let detail = `${byRelay.length} GETs by the relay, all signed with its key and verified by Fedify`;
    let ok = byRelay.length > 0 && bad.length === 0;
    if (peer.flavour === "secure") {
      const unsigned = await fetch(state.instance, { headers: { accept: "application/activity+json" } });
      detail += `; an unsigned GET gets ${unsigned.status}`;
      ok = ok && unsigned.status === 401;
    }
    if (bad.length) detail += ` — ${JSON.stringify(bad[0])}`;
    check("signed-get", peer, ok, detail);
  }
}

// --- the table ------------------------------------------------------------------------------

function versions() {
  const version = (name) => JSON.parse(fs.readFileSync(path.join(here, "node_modules", name, "package.json"))).version;
  return `Fedify ${version("@fedify/fedify")}, @misskey-dev/node-http-message-signatures ` +
    `${version("@misskey-dev/node-http-message-signatures")}, @peertube/http-signature ` +
    `${version("@peertube/http-signature")}, http-signature ${version("http-signature")}, Node ${process.versions.node}`;
}

function table() {
  const lines = [
    `Peers and verifiers: ${versions()}.`,
    "",
    `| Peer | How it talks | ${SCENARIOS.map(([, title]) => title).join(" | ")} |`,
    `|---|---|${SCENARIOS.map(() => ":-:").join("|")}|`,
  ];
  const cell = (scenarios, names) => {
    const rows = results.filter((r) => scenarios.includes(r.scenario) && names.includes(r.peer));
    if (rows.length === 0) return "—";
    return rows.every((r) => r.ok) ? "✓" : "✗";
  };
  for (const peer of PEERS) {
    const cells = SCENARIOS.map(([scenario, , parts]) => cell(parts ?? [scenario], [peer.name]));
    lines.push(`| ${peer.label} | ${peer.how} | ${cells.join(" | ")} |`);
  }
  const node2Members = NODE2_MEMBERS.map((p) => p.name);
  lines.push("",
    `Across linked nodes: a second node, with a ${NODE2_MEMBERS.map((p) => p.label).join(" and a ")} member, ` +
    "linked with the first by `relay peers add` on both (mutual: " +
    `${cell(["link"], ["-"])}); its members' posts reach the first node's members once ` +
    `(${cell(["cross-out"], node2Members)}), and they receive the first node's posts once ` +
    `(${cell(["cross-in"], node2Members)}); after \`relay peers remove\` nothing crosses either way ` +
    `(${cell(["unlinked"], ["node 1", "node 2"])}).`);
  return lines.join("\n");
}

const BEGIN = "<!-- interop-table: begin (made by tests/interop/run.sh --write-readme) -->";
const END = "<!-- interop-table: end -->";
function readmeTable(text) {
  const begin = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  return begin < 0 || end < begin ? null : text.slice(begin + BEGIN.length, end).trim();
}

// --- main -----------------------------------------------------------------------------------

const started = Date.now();
let failure = null;
try {
  await Promise.all([node1, node2].map(startRelay));
  await Promise.all([...ALL, ...NODE2_MEMBERS].map(startPeer));
  await subscribeAll();
  await postAll();
  await refusals();
  try {
    await peering();
  } catch (e) {
    check("peering", { name: "-" }, false, `${e.stack ?? e}`);
  }
  await signatures();
  await undoAndNonMembers();
  await signedGets();
} catch (e) {
  failure = e;
  console.log(`FAIL suite      -         ${e.stack ?? e}`);
}

// both nodes stop cleanly: under the sanitizers, a leak or an error makes this fail
await Promise.all([node1, node2].map(async (node) => {
  const child = node.child;
  if (child == null || child.exitCode != null) return;
  child.kill("SIGTERM");
  const code = await new Promise((resolve) => {
    const timer = setTimeout(() => resolve("still running after 20 s"), 20000);
    child.on("exit", (c, signal) => { clearTimeout(timer); resolve(c ?? signal); });
  });
  check("shutdown", node, code === 0, `the relay stopped on SIGTERM with exit status ${code}`);
}));

const made = table();
const readmePath = path.join(root, "README.md");
const readme = fs.readFileSync(readmePath, "utf8");
if (failure == null && option("--write-readme")) {
  if (readmeTable(readme) == null) throw new Error(`README.md has no ${BEGIN} ... ${END} section`);
  fs.writeFileSync(readmePath, readme.replace(readme.slice(readme.indexOf(BEGIN), readme.indexOf(END)),
    `${BEGIN}\n${made}\n`));
  console.log("README.md: compatibility table written");
} else if (failure == null) {
  const current = readmeTable(readme);
  check("readme", { name: "-" }, current === made,
    current === made ? "README's compatibility table is the one this run made"
      : "README's compatibility table differs from this run's (run tests/interop/run.sh --write-readme)");
}
console.log("");
console.log(made);
console.log("");
const failed = results.filter((r) => !r.ok).length + (failure ? 1 : 0);
const passed = results.length - results.filter((r) => !r.ok).length;
if (failed > 0) {
  console.log(`logs in ${tmp}`);
  for (const name of ["relay", "node2/relay", ...[...ALL, ...NODE2_MEMBERS].map((p) => p.name)]) {
    const file = path.join(tmp, `${name}.log`);
    if (fs.existsSync(file)) {
      const lines = fs.readFileSync(file, "utf8").trim().split("\n");
      console.log(`--- ${name}.log (last 15 lines)\n${lines.slice(-15).join("\n")}`);
    }
  }
}
console.log(`interop suite took ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`${passed} passed, ${failed} failed`);
stopAll();
if (failed === 0 && !option("--keep")) fs.rmSync(tmp, { recursive: true, force: true });
process.exit(failed > 0 ? 1 : 0);
