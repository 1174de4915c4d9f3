// A fediverse follower built on Fedify 1.5 (the last line that runs on
// Node 20), for herald's CI. It discovers a herald actor by WebFinger,
// follows it, waits for the Accept, writes a new article into herald's
// store and waits for its Create (Fedify delivers an activity to the inbox
// listeners only after verifying its HTTP signature with the sender's key),
// then Undoes the follow, writes a second article and checks that nothing
// more arrives. Every wait is bounded; any failure exits 1.
//
//   node follower.mjs HERALD_URL USERNAME STORE_DIR
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import {
  Accept, Create, Endpoints, Follow, MemoryKvStore, Person, Undo, createFederation,
  exportJwk, generateCryptoKeyPair, importJwk, isActor, lookupObject, lookupWebFinger,
} from "@fedify/fedify";

const [heraldUrl, username, storeDir] = process.argv.slice(2);
if (!heraldUrl || !username || !storeDir) {
  console.error("usage: node follower.mjs HERALD_URL USERNAME STORE_DIR");
  process.exit(2);
}
const herald = new URL(heraldUrl);
const fail = (message) => { console.error(`FAIL: ${message}`); process.exit(1); };
const log = (message) => console.log(`peer: ${message}`);

async function until(what, seconds, check) {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    const value = await check();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  fail(`timed out after ${seconds} s waiting for ${what}`);
}

const received = [];
const federation = createFederation({ kv: new MemoryKvStore(), allowPrivateAddress: true });
const keys = await generateCryptoKeyPair("RSASSA-PKCS1-v1_5");
federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
    if (identifier !== "reader") return null;
    const pairs = await ctx.getActorKeyPairs(identifier);
    return new Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      name: "CI reader",
      inbox: ctx.getInboxUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      publicKey: pairs[0].cryptographicKey,
    });
  })
  .setKeyPairsDispatcher(async () => [{
    privateKey: await importJwk(await exportJwk(keys.privateKey), "private"),
    publicKey: await importJwk(await exportJwk(keys.publicKey), "public"),
  }]);
federation
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .on(Accept, async (_ctx, activity) => { received.push({ type: "Accept", activity }); })
  .on(Create, async (_ctx, activity) => {
    const object = await activity.getObject();
    received.push({ type: "Create", activity, object });
  });

// A plain Node server in front of Fedify's fetch handler.
const server = http.createServer(async (req, res) => {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const body = Buffer.concat(chunks);
  const url = new URL(req.url, `http://${req.headers.host}`);
  const request = new Request(url, {
    method: req.method,
    headers: req.headers,
    body: req.method === "GET" || req.method === "HEAD" ? undefined : body,
  });
  const response = await federation.fetch(request, { contextData: undefined });
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(Buffer.from(await response.arrayBuffer()));
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const origin = `http://127.0.0.1:${server.address().port}`;
const ctx = federation.createContext(new URL(origin), undefined);
log(`listening on ${origin}`);

// 1. Discovery: the acct: form (herald's host with its port) and the
//    actor-URL form must name the same actor; Fedify's own WebFinger client
//    asks with the actor URL (it always uses https for acct: resources).
const acct = `acct:${username}@${herald.host}`;
const jrd = await (await fetch(`${herald.origin}/.well-known/webfinger?resource=${encodeURIComponent(acct)}`)).json();
const self = jrd.links?.find((l) => l.rel === "self" && l.type === "application/activity+json")?.href;
if (!self) fail(`WebFinger for ${acct} names no actor: ${JSON.stringify(jrd)}`);
const viaFedify = await lookupWebFinger(self, { allowPrivateAddress: true });
const selfAgain = viaFedify?.links?.find((l) => l.rel === "self")?.href;
if (selfAgain !== self) fail(`Fedify's WebFinger lookup of ${self} gave ${selfAgain}`);
const actor = await lookupObject(self, { documentLoader: ctx.documentLoader });
if (!isActor(actor)) fail(`${self} is not an actor`);
log(`discovered ${acct} -> ${actor.id.href} (${actor.constructor.name}), inbox ${actor.inboxId?.href}`);

// 2. Follow, and wait for the Accept.
const followId = new URL(`${origin}/follows/1`);
const follow = new Follow({ id: followId, actor: ctx.getActorUri("reader"), object: actor.id });
await ctx.sendActivity({ identifier: "reader" }, actor, follow);
await until("the Accept", 60, () => received.find((r) => r.type === "Accept"));
log("the follow was accepted");

// 3. A new article in the actor's section: its Create must arrive, signed.
const section = path.join(storeDir, "thoi-su");
fs.mkdirSync(section, { recursive: true });
const now = new Date(Date.now() - 60_000).toISOString();
fs.writeFileSync(path.join(section, "fediverse-ci-1.vi.md"),
  `+++\ntitle = "Bài kiểm tra liên hợp"\ndate = ${now}\nsummary = "Một bài mới cho người theo dõi."\n` +
  `tags = ["Thừa Thiên Huế"]\n+++\nNội dung.\n`);
const create = await until("the Create of the new article", 90,
  () => received.find((r) => r.type === "Create" && String(r.object?.url?.href ?? r.object?.url).includes("fediverse-ci-1")));
log(`received a Create, signature verified by Fedify: ${create.object.id.href}`);
if (create.activity.actorId?.href !== actor.id.href) fail(`the Create is from ${create.activity.actorId?.href}`);

// 4. Undo the follow; herald's followers collection must drop to 0.
await ctx.sendActivity({ identifier: "reader" }, actor,
  new Undo({ id: new URL(`${origin}/follows/1/undo`), actor: ctx.getActorUri("reader"), object: follow }));
await until("the follower to be removed", 30, async () => {
  const collection = await (await fetch(`${actor.id.href}/followers`, { headers: { accept: "application/activity+json" } })).json();
  return collection.totalItems === 0;
});
log("unfollowed");

// 5. A second article: once herald's outbox lists it (the announcement
//    that would have queued a delivery is committed before that), nothing
//    may arrive. Deliveries on loopback take milliseconds; two seconds are
//    a wide margin.
const creates = received.filter((r) => r.type === "Create").length;
fs.writeFileSync(path.join(section, "fediverse-ci-2.vi.md"),
  `+++\ntitle = "Bài thứ hai"\ndate = ${now}\n+++\nNội dung.\n`);
await until("the second article in the outbox", 60, async () => {
  const page = await (await fetch(`${actor.id.href}/outbox?page=1`, { headers: { accept: "application/activity+json" } })).json();
  return JSON.stringify(page).includes("fediverse-ci-2");
});
await new Promise((r) => setTimeout(r, 2000));
const after = received.filter((r) => r.type === "Create").length;
if (after !== creates) fail(`${after - creates} activities arrived after the Undo`);
log("nothing arrived after the Undo");
server.close();
console.log("PASS: Fedify discovered, followed, received a verified Create, unfollowed");
process.exit(0);
