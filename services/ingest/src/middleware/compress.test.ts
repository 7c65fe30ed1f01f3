import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptsGzip, COMPRESS_MIN_BYTES, compressLargeResponses } from './compress.js';

const big = { items: Array.from({ length: 400 }, (_, i) => ({ taskId: `task-${i}`, status: 'SUCCESS' })) };

function app(): Hono {
  const a = new Hono();
  a.use('*', compressLargeResponses());
  a.get('/big', (c) => c.json(big));
  a.get('/small', (c) => c.json({ ok: true }, 201));
  a.get('/binary', (c) => c.body(new Uint8Array(4096), 200, { 'Content-Type': 'application/octet-stream' }));
  a.get('/lying', (c) =>
    c.body(JSON.stringify(big), 200, { 'Content-Type': 'application/json', 'Content-Length': '5' }),
  );
  a.get('/varied', (c) => c.json(big, 200, { Vary: 'Origin' }));
  return a;
}

describe('acceptsGzip', () => {
  it.each([
    ['gzip', true],
    ['gzip, deflate, br', true],
    ['br;q=1.0, gzip;q=0.8', true],
    ['GZIP', true],
    ['x-gzip', true],
    ['*', true],
    ['gzip;q=0', false],
    ['*, gzip;q=0', false],
    ['*;q=0', false],
    ['deflate, br', false],
    ['identity', false],
    ['', false],
    [undefined, false],
  ])('%s -> %s', (header, expected) => {
    expect(acceptsGzip(header)).toBe(expected);
  });
});

describe('compressLargeResponses', () => {
  it('gzips a large JSON answer for a client that accepts gzip, with its length', async () => {
    const res = await app().request('/big', { headers: { 'Accept-Encoding': 'gzip, deflate' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Encoding')).toBe('gzip');
    expect(res.headers.get('Vary')).toBe('Accept-Encoding');
    expect(res.headers.get('Content-Type')).toBe('application/json');
    const zipped = Buffer.from(await res.arrayBuffer());
    expect(Number(res.headers.get('Content-Length'))).toBe(zipped.length);
    expect(zipped.length).toBeLessThan(JSON.stringify(big).length / 5);
    expect(JSON.parse(gunzipSync(zipped).toString('utf8'))).toEqual(big);
  });

  it('sends a large answer as it is to a client that does not accept gzip, still saying it varies', async () => {
    const res = await app().request('/big');
    expect(res.headers.get('Content-Encoding')).toBeNull();
    expect(res.headers.get('Vary')).toBe('Accept-Encoding');
    expect(await res.json()).toEqual(big);
  });

  it(`leaves answers under ${COMPRESS_MIN_BYTES} bytes uncompressed, status kept`, async () => {
    const res = await app().request('/small', { headers: { 'Accept-Encoding': 'gzip' } });
    expect(res.status).toBe(201);
    expect(res.headers.get('Content-Encoding')).toBeNull();
    expect(res.headers.get('Content-Type')).toBe('application/json');
    expect(await res.json()).toEqual({ ok: true });
  });

  it('never gzips what is not JSON or text, nor a HEAD', async () => {
    const binary = await app().request('/binary', { headers: { 'Accept-Encoding': 'gzip' } });
    expect(binary.headers.get('Content-Encoding')).toBeNull();
    expect((await binary.arrayBuffer()).byteLength).toBe(4096);
    const head = await app().request('/big', { method: 'HEAD', headers: { 'Accept-Encoding': 'gzip' } });
    expect(head.headers.get('Content-Encoding')).toBeNull();
  });

  it("replaces a handler's Content-Length with the zipped body's and keeps its other Vary", async () => {
    const lying = await app().request('/lying', { headers: { 'Accept-Encoding': 'gzip' } });
    const zipped = Buffer.from(await lying.arrayBuffer());
    expect(Number(lying.headers.get('Content-Length'))).toBe(zipped.length);
    expect(JSON.parse(gunzipSync(zipped).toString('utf8'))).toEqual(big);
    const varied = await app().request('/varied', { headers: { 'Accept-Encoding': 'gzip' } });
    expect(varied.headers.get('Vary')).toBe('Origin, Accept-Encoding');
  });

  describe('over a real socket', () => {
    let server: ReturnType<typeof serve>;
    let port = 0;
    beforeAll(async () => {
      server = serve({ fetch: app().fetch, port: 0, hostname: '127.0.0.1' });
      await once(server, 'listening');
      port = (server.address() as AddressInfo).port;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('answers a Node client that asks for gzip with a body that gunzips to the JSON', async () => {
      const { headers, body } = await new Promise<{ headers: http.IncomingHttpHeaders; body: Buffer }>(
        (resolve, reject) => {
          http
            .get({ port, host: '127.0.0.1', path: '/big', headers: { 'accept-encoding': 'gzip' } }, (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
            })
            .on('error', reject);
        },
      );
      expect(headers['content-encoding']).toBe('gzip');
      expect(Number(headers['content-length'])).toBe(body.length);
      expect(JSON.parse(gunzipSync(body).toString('utf8'))).toEqual(big);
    });
  });
});
