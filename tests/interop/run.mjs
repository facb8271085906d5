// The interop suite: the relay against peers built on code that others wrote (Fedify, and the
// signature libraries of Misskey, PeerTube and Joyent), all on loopback.
//
// usage: node run.mjs [--relay PATH] [--write-readme] [--keep]
//   --relay         the relay binary (default: $RELAY_BINARY)
//   --write-readme  put the compatibility table this run makes into README.md
//   --keep          keep the temporary directory (config, database, logs)
//
// Prints one line per scenario and peer, then "N passed, N failed"; exits 1 on any failure.
import { spawn } from "node:child_process";
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

const relayPort = await freePort("127.0.0.1");
const relayOrigin = `http://127.0.0.1:${relayPort}`;
const relay = { actor: `${relayOrigin}/actor`, inbox: `${relayOrigin}/inbox` };
fs.writeFileSync(path.join(tmp, "relay.conf"), `[relay]
public-url = ${relayOrigin}
listen = 127.0.0.1:${relayPort}

[storage]
backend = sqlite
path = ${path.join(tmp, "relay.db")}

[admin]
socket = ${path.join(tmp, "admin.sock")}

[federation]
allow-private-addresses = true

[delivery]
retry-base = 1

[log]
level = info
`);

let relayChild = null;
async function startRelay() {
  const log = path.join(tmp, "relay.log");
  const child = spawn(relayBinary, ["serve", "-c", path.join(tmp, "relay.conf")],
    { stdio: ["ignore", fs.openSync(log, "a"), fs.openSync(log, "a")],
      env: { ...process.env, GIO_USE_PROXY_RESOLVER: "dummy" } });
  children.push(child);
  relayChild = child;
  const up = await waitFor(async () => {
    if (child.exitCode != null) throw new Error(`the relay exited (${child.exitCode}), see ${log}`);
    try { return (await fetch(`${relayOrigin}/healthz`)).status === 200; } catch { return false; }
  }, 30000);
  if (!up) throw new Error(`the relay did not answer /healthz, see ${log}`);
}

async function startPeer(peer) {
  peer.port = await freePort(peer.host);
  peer.origin = `http://${peer.host}:${peer.port}`;
  const config = JSON.stringify({ name: peer.name, flavour: peer.flavour, host: peer.host, port: peer.port, relay });
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
  await Promise.all(ALL.map(async (peer) => {
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

async function postAll() {
  const style = { mastodon: "ld", misskey: "ld", pleroma: "announce", rfc9421: "proof", secure: "plain" };
  for (const peer of ALL) peer.postStyle = style[peer.flavour];
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
      receivedForm(states.get(r.name), sender, posts.get(sender.name)).some((d) => d.fedify === "accepted" &&
        (d.kind === "create" || d.fetched))));
  });
  await sleep(300); // duplicates would arrive together with the first copy
  for (const r of receivers) states.set(r.name, await stateOf(r));

  const verdict = (sender, receiver) => {
    const post = posts.get(sender.name);
    const got = receivedForm(states.get(receiver.name), sender, post);
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
    if (d.fetched?.content !== `<p>${post.text}</p>`) return `${what}: could not fetch the object: ${JSON.stringify(d.fetched)}`;
    return null;
  };
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
  for (const peer of PEERS) {
    const cells = SCENARIOS.map(([scenario]) => {
      const rows = results.filter((r) => r.scenario === scenario && r.peer === peer.name);
      if (rows.length === 0) return "—";
      return rows.every((r) => r.ok) ? "✓" : "✗";
    });
    lines.push(`| ${peer.label} | ${peer.how} | ${cells.join(" | ")} |`);
  }
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
  await startRelay();
  await Promise.all(ALL.map(startPeer));
  await subscribeAll();
  await postAll();
  await refusals();
  await signatures();
  await undoAndNonMembers();
  await signedGets();
} catch (e) {
  failure = e;
  console.log(`FAIL suite      -         ${e.stack ?? e}`);
}

// the relay stops cleanly: under the sanitizers, a leak or an error makes this fail
if (relayChild != null && relayChild.exitCode == null) {
  relayChild.kill("SIGTERM");
  const code = await new Promise((resolve) => {
    const timer = setTimeout(() => resolve("still running after 20 s"), 20000);
    relayChild.on("exit", (c, signal) => { clearTimeout(timer); resolve(c ?? signal); });
  });
  check("shutdown", { name: "-" }, code === 0, `the relay stopped on SIGTERM with exit status ${code}`);
}

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
  for (const name of ["relay", ...ALL.map((p) => p.name)]) {
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
