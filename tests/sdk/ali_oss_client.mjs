// Drives the embedded bucket with Alibaba's official Node SDK, ali-oss 6.23.0, and checks it answers
// as OSS does. One run is one configuration; scripts/sdk.sh runs the matrix.
//
// Configuration (environment):
//   SDK_ENDPOINT  the bucket's endpoint, an IP: http://127.0.0.1:9300
//   SDK_BUCKET, SDK_AK, SDK_SK, SDK_REGION (without the oss- prefix: local; the client is given
//                 'oss-' + it, as ali-oss documents, and strips the prefix again for V4)
//   SDK_STYLE     path:  sldEnable: true, so requests are /<bucket>/<key>. ali-oss never writes the
//                        bucket into the path of an IP endpoint on its own, and with an IP endpoint it
//                        overwrites Host with <bucket>.oss-<region>.aliyuncs.com, so the endpoint is
//                        given as `localhost` (resolved to the endpoint's IP in this process).
//                 cname: cname: true with a host name (SDK_CNAME_HOST, default sdk-cname.test,
//                        resolved to the endpoint's IP in this process): /<key>, Host that name.
//                 ip:    the bare IP endpoint, no option: /<key> with Host
//                        <bucket>.oss-<region>.aliyuncs.com (what ali-oss does with an IP). Its V1
//                        signatureUrl refuses IP endpoints, so those checks are skipped.
//   SDK_VERSION   v1, or v4 (authorizationV4: true; presigned URLs by signatureUrlV4)
//
// Prints one line per check, `ok  <what>` or `FAIL <what>: <detail>` (`skip` where the SDK itself
// cannot do it), and exits 1 if any failed. Everything is written under
// sdk/js-<style>-<version>-<random>/ and removed at the end; the bucket's CORS rules are put back
// exactly as they were.

import { createHash, createHmac, randomBytes } from 'node:crypto';
import dns from 'node:dns';
import http from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const OSS = require('ali-oss');
// ali-oss's own HTTP client, wrapped below to pin host names and keep the last raw response.
const urllib = createRequire(require.resolve('ali-oss'))('urllib');

const env = name => {
  const v = process.env[name];
  if (v === undefined) throw new Error(`${name} is not set`);
  return v;
};
const ENDPOINT = new URL(env('SDK_ENDPOINT'));
const BUCKET = env('SDK_BUCKET');
const AK = env('SDK_AK');
const SK = env('SDK_SK');
const REGION = process.env.SDK_REGION || 'local';
const STYLE = process.env.SDK_STYLE || 'path';
const VERSION = process.env.SDK_VERSION || 'v1';
const CNAME_HOST = (process.env.SDK_CNAME_HOST || 'sdk-cname.test').toLowerCase();
const TIMEOUT = 5000;
if (!['path', 'cname', 'ip'].includes(STYLE) || !['v1', 'v4'].includes(VERSION)) {
  console.error(`SDK_STYLE must be path|cname|ip and SDK_VERSION v1|v4 (got ${STYLE}, ${VERSION})`);
  process.exit(2);
}

// The names this run gives the SDK stand for the endpoint's IP; every other name resolves as usual.
const PINNED = new Set(['localhost', CNAME_HOST]);
function lookup(host, options, callback) {
  if (typeof options === 'function') [callback, options] = [options, {}];
  if (!PINNED.has(String(host).toLowerCase())) return dns.lookup(host, options, callback);
  const address = ENDPOINT.hostname;
  const family = address.includes(':') ? 6 : 4;
  if (options && options.all) return process.nextTick(callback, null, [{ address, family }]);
  return process.nextTick(callback, null, address, family);
}

const port = ENDPOINT.port || '80';
const SDK_ENDPOINT = {
  path: `${ENDPOINT.protocol}//localhost:${port}`,
  cname: `${ENDPOINT.protocol}//${CNAME_HOST}:${port}`,
  ip: ENDPOINT.origin
}[STYLE];

let lastResponse = null;
const recordingUrllib = {
  async request(url, params) {
    const result = await urllib.request(url, { ...params, lookup });
    lastResponse = result;
    return result;
  }
};

function makeClient(secret = SK) {
  return new OSS({
    endpoint: SDK_ENDPOINT,
    bucket: BUCKET,
    region: `oss-${REGION}`,
    accessKeyId: AK,
    accessKeySecret: secret,
    cname: STYLE === 'cname',
    sldEnable: STYLE === 'path',
    authorizationV4: VERSION === 'v4',
    timeout: TIMEOUT,
    urllib: recordingUrllib
  });
}
const client = makeClient();

const PREFIX = `sdk/js-${STYLE}-${VERSION}-${randomBytes(4).toString('hex')}/`;
const created = new Set();
const openUploads = new Map(); // uploadId -> key, for uploads a check may leave open
let passes = 0;
let failures = 0;

class Failed extends Error {}
const expect = (cond, detail) => {
  if (!cond) throw new Failed(detail);
};
const show = v => {
  const s = Buffer.isBuffer(v) ? `<${v.length} bytes>` : JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 160 ? `${s.slice(0, 160)}...(${s.length} chars)` : s;
};
function expectEq(got, want, what) {
  const same = Buffer.isBuffer(got) && Buffer.isBuffer(want) ? got.equals(want) : show(got) === show(want);
  if (!same) throw new Failed(`${what}: got ${show(got)}, want ${show(want)}`);
}
const describe = e =>
  e instanceof Failed
    ? e.message
    : e.status !== undefined || e.code !== undefined
      ? `${e.name} status=${e.status} code=${e.code}: ${String(e.message).split('\n')[0].slice(0, 200)}`
      : `${e.name}: ${String(e.message).split('\n')[0].slice(0, 200)} [${(e.stack || '').split('\n')[1]?.trim()}]`;

async function expectError(fn, status, code) {
  let result;
  try {
    result = await fn();
  } catch (e) {
    if (e instanceof Failed) throw e;
    expect(e.status === status && (code === null || e.code === code), `want ${status} ${code}, got ${describe(e)}`);
    return e;
  }
  throw new Failed(`want ${status} ${code}, but it succeeded (status ${result?.res?.status})`);
}

async function check(what, fn) {
  try {
    const note = await fn();
    if (typeof note === 'string' && note.startsWith('skip:')) {
      console.log(`skip ${what}: ${note.slice(5).trim()}`);
      return;
    }
    console.log(`ok  ${what}${note ? ` (${note})` : ''}`);
    passes += 1;
  } catch (e) {
    console.log(`FAIL ${what}: ${describe(e)}`);
    failures += 1;
  }
}

const md5 = data => createHash('md5').update(data).digest();
const ossEtag = data => `"${md5(data).toString('hex').toUpperCase()}"`;
const key = name => {
  created.add(PREFIX + name);
  return PREFIX + name;
};

// Plain HTTP, for presigned URLs and the PostObject seed: the same pinned names as the SDK.
function rawRequest(method, url, { headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, lookup, timeout: TIMEOUT }, res => {
      const chunks = [];
      res.on('data', c => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: ${method} ${url}`)));
    req.on('error', reject);
    req.end(body);
  });
}

// A V1 PostObject form straight to the endpoint (bucket as host), the portal's own way in: seeds
// objects when the SDK's PutObject is refused, so the reads are checked regardless.
async function postObject(k, data, contentType, meta) {
  const policy = Buffer.from(
    JSON.stringify({
      expiration: new Date(Date.now() + 300000).toISOString(),
      conditions: [['starts-with', '$key', PREFIX]]
    })
  ).toString('base64');
  const fields = {
    key: k,
    OSSAccessKeyId: AK,
    policy,
    Signature: createHmac('sha1', SK).update(policy).digest('base64'),
    success_action_status: '200',
    'Content-Type': contentType
  };
  for (const [m, v] of Object.entries(meta)) fields[`x-oss-meta-${m}`] = v;
  const boundary = `----sdk${randomBytes(8).toString('hex')}`;
  const parts = Object.entries(fields).map(
    ([n, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${n}"\r\n\r\n${v}\r\n`
  );
  parts.push(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="seed.bin"\r\n` +
      `Content-Type: ${contentType}\r\n\r\n`
  );
  const body = Buffer.concat([Buffer.from(parts.join('')), data, Buffer.from(`\r\n--${boundary}--\r\n`)]);
  const r = await rawRequest('POST', `${ENDPOINT.origin}/`, {
    headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'Content-Length': body.length },
    body
  });
  if (Math.floor(r.status / 100) !== 2) throw new Failed(`seeding ${k} by PostObject too: ${r.status} ${r.body}`);
}

const seedNotes = new Set();
async function seed(name, data, contentType = 'application/octet-stream', meta = {}) {
  const k = key(name);
  try {
    await client.put(k, data, { mime: contentType, meta });
  } catch (e) {
    seedNotes.add(describe(e));
    await postObject(k, data, contentType, meta);
  }
  return k;
}
async function seedOrNote(name, data, contentType, meta) {
  try {
    return await seed(name, data, contentType, meta);
  } catch (e) {
    console.log(`note could not seed ${name}: ${describe(e)}`);
    return PREFIX + name;
  }
}

async function headStatus(k) {
  try {
    return (await client.head(k)).res.status;
  } catch (e) {
    return e.status;
  }
}

// A presigned URL in the signature version of the run: signatureUrl (V1) or signatureUrlV4.
async function presign(method, k, { contentType, response } = {}) {
  if (VERSION === 'v4') {
    const queries = {};
    for (const [h, v] of Object.entries(response || {})) queries[`response-${h}`] = v;
    const headers = contentType ? { 'Content-Type': contentType } : {};
    return client.signatureUrlV4(method, 60, { headers, queries }, k);
  }
  const options = { method, expires: 60 };
  if (contentType) options['Content-Type'] = contentType;
  if (response) options.response = response;
  return client.signatureUrl(k, options);
}
const presignSkip = () =>
  VERSION === 'v1' && STYLE === 'ip' ? 'skip: ali-oss signatureUrl throws on an IP endpoint' : null;

// ---------------------------------------------------------------- the checks

const BODY = randomBytes(3000);
const CT = 'text/plain';
const META = { color: 'blue-green' };

await check('put: bytes with Content-Type and x-oss-meta-*, ETag is the upper-case MD5', async () => {
  const k = key('put/plain.txt');
  const r = await client.put(k, BODY, { mime: CT, meta: META });
  expectEq(r.res.status, 200, 'status');
  expectEq(r.res.headers.etag, ossEtag(BODY), 'ETag header');
  const h = await client.head(k);
  expectEq(h.res.headers['content-length'], String(BODY.length), 'stored size');
  expectEq(h.res.headers['content-type'], CT, 'stored Content-Type');
  expectEq(h.meta, META, 'stored meta');
});

await check("put with the body's Content-MD5 succeeds", async () => {
  const data = Buffer.from('content-md5 body '.repeat(40));
  const r = await client.put(key('put/md5-ok.bin'), data, { headers: { 'Content-MD5': md5(data).toString('base64') } });
  expectEq(r.res.status, 200, 'status');
  expectEq(r.res.headers.etag, ossEtag(data), 'ETag');
});

await check('put with a wrong Content-MD5 is refused: InvalidDigest (400), nothing stored', async () => {
  const data = Buffer.from('wrong digest body '.repeat(40));
  const k = key('put/md5-bad.bin');
  const wrong = md5(Buffer.from('other bytes')).toString('base64');
  await expectError(() => client.put(k, data, { headers: { 'Content-MD5': wrong } }), 400, 'InvalidDigest');
  expectEq(await headStatus(k), 404, 'HEAD after the refused put');
});

await check('put x-oss-forbid-overwrite: true over an existing key: FileAlreadyExists (409), old bytes kept', async () => {
  const k = await seed('put/forbid.bin', BODY);
  await expectError(
    () => client.put(k, Buffer.from('replacement'), { headers: { 'x-oss-forbid-overwrite': 'true' } }),
    409,
    'FileAlreadyExists'
  );
  expectEq((await client.get(k)).content, BODY, 'bytes after the refused overwrite');
});

const OBJ = await seedOrNote('get/object.txt', BODY, CT, META);

await check('get whole: bytes, Content-Type, Content-Length, ETag', async () => {
  const r = await client.get(OBJ);
  expectEq(r.res.status, 200, 'status');
  expectEq(r.content, BODY, 'body');
  expectEq(r.res.headers['content-type'], CT, 'Content-Type');
  expectEq(r.res.headers['content-length'], String(BODY.length), 'Content-Length');
  expectEq(r.res.headers.etag, ossEtag(BODY), 'ETag');
});

await check('get Range bytes=10-19: 206, those 10 bytes, Content-Range bytes 10-19/<size>', async () => {
  const r = await client.get(OBJ, { headers: { Range: 'bytes=10-19' } });
  expectEq(r.res.status, 206, 'status');
  expectEq(r.content, BODY.subarray(10, 20), 'body');
  expectEq(r.res.headers['content-range'], `bytes 10-19/${BODY.length}`, 'Content-Range');
});

const past = `bytes=${BODY.length + 10}-${BODY.length + 20}`;
await check('get range starting past the end, no x-oss-range-behavior: OSS ignores it (200, whole object)', async () => {
  const r = await client.get(OBJ, { headers: { Range: past } });
  expectEq(r.res.status, 200, 'status');
  expectEq(r.content, BODY, 'body');
  expectEq(r.res.headers['content-range'], undefined, 'Content-Range on a 200');
});

await check('get range starting past the end with x-oss-range-behavior: standard: InvalidRange (416)', async () => {
  await expectError(
    () => client.get(OBJ, { headers: { Range: past, 'x-oss-range-behavior': 'standard' } }),
    416,
    'InvalidRange'
  );
});

await check('head: Content-Length, ETag "<MD5 upper>", x-oss-meta-* back', async () => {
  const h = await client.head(OBJ);
  expectEq(h.status, 200, 'status');
  expectEq(h.res.headers['content-length'], String(BODY.length), 'Content-Length');
  expectEq(h.res.headers.etag, ossEtag(BODY), 'ETag');
  expectEq(h.meta, META, 'meta');
  expectEq(h.res.headers['content-type'], CT, 'Content-Type');
});

await check('get If-None-Match: <ETag>: status 304 (ali-oss returns it, no error)', async () => {
  const r = await client.get(OBJ, { headers: { 'If-None-Match': ossEtag(BODY) } });
  expectEq(r.res.status, 304, 'status');
  const other = await client.get(OBJ, { headers: { 'If-None-Match': '"0123456789ABCDEF0123456789ABCDEF"' } });
  expectEq([other.res.status, other.content.equals(BODY)], [200, true], '[status, whole body] for another ETag');
});

const LIST_TREE = ['a.txt', 'b.txt', 'sub1/c.txt', 'sub1/d.txt', 'sub2/e.txt'];
for (const name of LIST_TREE) await seedOrNote(`tree/${name}`, Buffer.from(name));
const TREE = `${PREFIX}tree/`;

await check("list (V1) prefix + delimiter '/': keys, sizes, ETags and common prefixes", async () => {
  const r = await client.list({ prefix: TREE, delimiter: '/', 'max-keys': 100 });
  expectEq(r.objects.map(o => o.name), [`${TREE}a.txt`, `${TREE}b.txt`], 'keys');
  expectEq(r.objects.map(o => o.size), [5, 5], 'sizes');
  expectEq(r.objects.map(o => o.etag), [ossEtag(Buffer.from('a.txt')), ossEtag(Buffer.from('b.txt'))], 'etags');
  expectEq(r.prefixes, [`${TREE}sub1/`, `${TREE}sub2/`], 'common prefixes');
  expectEq(r.isTruncated, false, 'isTruncated');
});

await check('list (V1) max-keys=2 over 5 objects: marker pages 2+2+1, every key once, in order', async () => {
  const seen = [];
  let marker;
  let pages = 0;
  for (;;) {
    const query = { prefix: TREE, 'max-keys': 2 };
    if (marker) query.marker = marker;
    const r = await client.list(query);
    pages += 1;
    expect(r.objects.length <= 2, `page ${pages} has ${r.objects.length} keys`);
    seen.push(...r.objects.map(o => o.name));
    if (!r.isTruncated) break;
    expect(r.nextMarker, `page ${pages} is truncated without NextMarker`);
    marker = r.nextMarker;
    expect(pages < 10, 'more than 10 pages');
  }
  expectEq(seen, LIST_TREE.map(n => TREE + n), 'keys over all pages');
  expectEq(pages, 3, 'pages');
});

await check("listV2 prefix + delimiter '/': keys and common prefixes", async () => {
  const r = await client.listV2({ prefix: TREE, delimiter: '/', 'max-keys': 100 });
  expectEq(r.objects.map(o => o.name), [`${TREE}a.txt`, `${TREE}b.txt`], 'keys');
  expectEq(r.prefixes, [`${TREE}sub1/`, `${TREE}sub2/`], 'common prefixes');
  expectEq(r.isTruncated, false, 'isTruncated');
  expectEq(r.keyCount, 4, 'KeyCount (2 keys + 2 prefixes)');
});

await check('listV2 max-keys=2 over 5 objects: continuation tokens 2+2+1, every key once', async () => {
  const seen = [];
  let token;
  let pages = 0;
  for (;;) {
    const query = { prefix: TREE, 'max-keys': 2 };
    if (token) query['continuation-token'] = token;
    const r = await client.listV2(query);
    pages += 1;
    expect(r.objects.length <= 2, `page ${pages} has ${r.objects.length} keys`);
    seen.push(...r.objects.map(o => o.name));
    if (!r.isTruncated) break;
    expect(r.nextContinuationToken, `page ${pages} is truncated without NextContinuationToken`);
    token = r.nextContinuationToken;
    expect(pages < 10, 'more than 10 pages');
  }
  expectEq(seen, LIST_TREE.map(n => TREE + n), 'keys over all pages');
  expectEq(pages, 3, 'pages');
});

await check('delete: 204, then head: 404 NoSuchKey', async () => {
  const k = await seed('del/one.bin', Buffer.from('to be deleted'));
  const r = await client.delete(k);
  expectEq(r.res.status, 204, 'delete status');
  // HEAD has no body; ali-oss names a bodiless 404 NoSuchKey itself.
  await expectError(() => client.head(k), 404, 'NoSuchKey');
  await expectError(() => client.get(k), 404, 'NoSuchKey');
});

await check('deleteMulti of 3 keys: all listed as deleted, all gone', async () => {
  const keys = [];
  for (const i of [1, 2, 3]) keys.push(await seed(`multi/${i}.bin`, Buffer.alloc(i, 'x')));
  const r = await client.deleteMulti(keys);
  expectEq(r.res.status, 200, 'status');
  expectEq(r.deleted.map(d => d.Key).sort(), [...keys].sort(), 'deleted keys');
  expectEq(await Promise.all(keys.map(headStatus)), [404, 404, 404], 'HEAD after');
});

const PART1 = randomBytes(100 * 1024 + 17);
const PART2 = randomBytes(7 * 1024 + 3);
const asArray = v => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

await check('multipart: init, 2 parts, listParts, complete, get: same bytes, ETag "<HEX>-2"', async () => {
  const k = key('mp/object.bin');
  const { uploadId } = await client.initMultipartUpload(k);
  expect(uploadId, 'empty UploadId');
  openUploads.set(uploadId, k);
  const p1 = await client.uploadPart(k, uploadId, 1, PART1, 0, PART1.length);
  const p2 = await client.uploadPart(k, uploadId, 2, PART2, 0, PART2.length);
  expectEq(p1.etag, ossEtag(PART1), 'part 1 ETag');
  expectEq(p2.etag, ossEtag(PART2), 'part 2 ETag');
  const listed = asArray((await client.listParts(k, uploadId)).parts);
  expectEq(
    listed.map(p => [Number(p.PartNumber), Number(p.Size), p.ETag]),
    [
      [1, PART1.length, p1.etag],
      [2, PART2.length, p2.etag]
    ],
    'listParts [number, size, etag]'
  );
  const c = await client.completeMultipartUpload(k, uploadId, [
    { number: 1, etag: p1.etag },
    { number: 2, etag: p2.etag }
  ]);
  openUploads.delete(uploadId);
  expectEq(c.res.status, 200, 'complete status');
  expect(/^"[0-9A-F]{32}-2"$/.test(c.etag || ''), `complete ETag ${show(c.etag)}, want "<HEX>-2"`);
  expectEq((await client.get(k)).content, Buffer.concat([PART1, PART2]), 'object');
});

await check('multipart abort: 204, then listParts: NoSuchUpload (404)', async () => {
  const k = key('mp/aborted.bin');
  const { uploadId } = await client.initMultipartUpload(k);
  openUploads.set(uploadId, k);
  const part = Buffer.from('part that is thrown away');
  await client.uploadPart(k, uploadId, 1, part, 0, part.length);
  const r = await client.abortMultipartUpload(k, uploadId);
  openUploads.delete(uploadId);
  expectEq(r.res.status, 204, 'abort status');
  await expectError(() => client.listParts(k, uploadId), 404, 'NoSuchUpload');
  expectEq(await headStatus(k), 404, 'HEAD of the aborted key');
});

await check("listUploads: under a prefix, max-uploads=2 pages by key and upload id, folded at '/'", async () => {
  const base = `${PREFIX}mp/list/`;
  const started = [];
  for (const name of ['a.bin', 'a.bin', 'a.bin', 'b/1.bin', 'c.bin']) { // a page ends among the a.bin
    const { uploadId } = await client.initMultipartUpload(base + name);
    openUploads.set(uploadId, base + name);
    started.push([base + name, uploadId]);
  }
  started.sort(([k1, i1], [k2, i2]) => (k1 < k2 ? -1 : k1 > k2 ? 1 : i1 < i2 ? -1 : i1 > i2 ? 1 : 0));
  const seen = [];
  let query = { prefix: base, 'max-uploads': 2 };
  for (let pages = 0; pages < 10; pages++) {
    const r = await client.listUploads(query);
    expect(r.uploads.length <= 2, `a page of ${r.uploads.length} uploads, asked for 2`);
    seen.push(...r.uploads.map(u => [u.name, u.uploadId]));
    if (!r.isTruncated) break;
    query = { ...query, 'key-marker': r.nextKeyMarker, 'upload-id-marker': r.nextUploadIdMarker };
  }
  expectEq(seen, started, 'every upload once, by key and upload id');
  const folded = await client.listUploads({ prefix: base, delimiter: '/' });
  expectEq(folded.uploads.map(u => u.name), [`${base}a.bin`, `${base}a.bin`, `${base}a.bin`, `${base}c.bin`], 'uploads folded at /');
  for (const [k, uploadId] of started) {
    await client.abortMultipartUpload(k, uploadId);
    openUploads.delete(uploadId);
  }
  expectEq((await client.listUploads({ prefix: base })).uploads, [], 'uploads left after aborting');
});

const presignName = VERSION === 'v4' ? 'signatureUrlV4' : 'signatureUrl';

await check(`presigned GET URL (${presignName}) fetched with plain HTTP: same bytes`, async () => {
  const skip = presignSkip();
  if (skip) return skip;
  const url = await presign('GET', OBJ);
  const r = await rawRequest('GET', url);
  expectEq(r.status, 200, `status of ${url}`);
  expectEq(r.body, BODY, 'body');
});

await check(`presigned PUT URL (${presignName}) with a signed Content-Type: upload, then read back`, async () => {
  const skip = presignSkip();
  if (skip) return skip;
  const k = key('presign/put.txt');
  const data = Buffer.from('uploaded through a presigned PUT\n'.repeat(10));
  const url = await presign('PUT', k, { contentType: CT });
  const r = await rawRequest('PUT', url, { headers: { 'Content-Type': CT, 'Content-Length': data.length }, body: data });
  expectEq(r.status, 200, `PUT status (${r.body.toString().slice(0, 200)})`);
  expectEq(r.headers.etag, ossEtag(data), 'ETag');
  const g = await client.get(k);
  expectEq([g.content.toString(), g.res.headers['content-type']], [data.toString(), CT], '[bytes, Content-Type] read back');
});

await check(`presigned GET (${presignName}) with response-content-disposition: the header comes back`, async () => {
  const skip = presignSkip();
  if (skip) return skip;
  const disposition = 'attachment; filename="report 1.txt"';
  const url = await presign('GET', OBJ, { response: { 'content-disposition': disposition } });
  const r = await rawRequest('GET', url);
  expectEq(r.status, 200, 'status');
  expectEq(r.headers['content-disposition'], disposition, 'Content-Disposition');
  expectEq(r.body, BODY, 'body');
});

async function corsRules() {
  try {
    return (await client.getBucketCORS(BUCKET)).rules;
  } catch (e) {
    if (e.code === 'NoSuchCORSConfiguration') return null;
    throw e;
  }
}
// getBucketCORS gives one string where the XML has one element, an array where it has several.
const normalRule = r => ({
  allowedOrigin: asArray(r.allowedOrigin),
  allowedMethod: asArray(r.allowedMethod),
  allowedHeader: asArray(r.allowedHeader),
  exposeHeader: asArray(r.exposeHeader),
  maxAgeSeconds: r.maxAgeSeconds === undefined ? undefined : String(r.maxAgeSeconds)
});

await check('putBucketCORS / getBucketCORS round trip; the rules there before are put back exactly', async () => {
  const before = await corsRules();
  const rule = {
    allowedOrigin: ['https://sdk-check.example'],
    allowedMethod: ['GET', 'PUT'],
    allowedHeader: ['x-sdk-check'],
    exposeHeader: ['ETag'],
    maxAgeSeconds: '42'
  };
  try {
    const r = await client.putBucketCORS(BUCKET, [rule]);
    expectEq(r.res.status, 200, 'put status');
    const got = (await client.getBucketCORS(BUCKET)).rules.map(normalRule);
    expectEq(
      got.map(g => [g.allowedOrigin, g.allowedMethod]),
      [[['https://sdk-check.example'], ['GET', 'PUT']]],
      'rules read back [origins, methods]'
    );
    expectEq(got[0], rule, 'rule read back (all fields)');
  } finally {
    if (before === null) await client.deleteBucketCORS(BUCKET);
    else await client.putBucketCORS(BUCKET, before);
  }
  const after = await corsRules();
  expectEq(after && after.map(normalRule), before && before.map(normalRule), 'rules after restoring');
});

await check(
  `a wrong secret: SignatureDoesNotMatch (403)${VERSION === 'v1' ? ', the error echoes StringToSign' : ''}`,
  async () => {
    const wrong = makeClient(`${SK}-wrong`);
    await expectError(() => wrong.get(OBJ), 403, 'SignatureDoesNotMatch');
    // ali-oss keeps only Code/Message/RequestId/HostId/EC of the error: read the raw body.
    const body = String(lastResponse?.data ?? '');
    const sts = /<StringToSign>([\s\S]*?)<\/StringToSign>/.exec(body)?.[1];
    if (VERSION === 'v1') {
      expect(sts !== undefined, `no <StringToSign> in the error body: ${body.slice(0, 300)}`);
      expect(
        sts.startsWith('GET\n') && sts.endsWith(`/${BUCKET}/${OBJ}`),
        `StringToSign ${show(sts)}: want GET\\n... ending /${BUCKET}/${OBJ}`
      );
    } else {
      expect(sts === undefined || sts.startsWith('OSS4-HMAC-SHA256\n'), `StringToSign ${show(sts)}`);
    }
  }
);

// ---------------------------------------------------------------- cleanup

for (const [uploadId, k] of openUploads) {
  await client.abortMultipartUpload(k, uploadId).catch(() => {});
}
for (const k of [...created].sort()) {
  await client.delete(k).catch(() => {});
}
try {
  const left = (await client.listV2({ prefix: PREFIX, 'max-keys': 100 })).objects.map(o => o.name);
  if (left.length) console.log(`note cleanup: ${left.length} objects left under ${PREFIX}: ${left.slice(0, 5)}`);
} catch (e) {
  console.log(`note cleanup: could not list ${PREFIX} to confirm (${describe(e)})`);
}
for (const n of seedNotes) console.log(`note some objects were seeded by PostObject: put failed with ${n}`);
console.log(`ali-oss ${STYLE} ${VERSION}: ${passes} passed, ${failures} failed`);
process.exit(failures ? 1 : 0);
