/* Small HTTP helpers shared by the rate-limit and cache tests. */
import { Server } from 'node:http';
import { AddressInfo } from 'node:net';
import Koa from 'koa';

export interface Listening {
  readonly url: string;
  close(): Promise<void>;
}

export function listen(app: Koa): Promise<Listening> {
  return new Promise((resolve) => {
    const server: Server = app.listen(0, '127.0.0.1', () => {
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () => new Promise((r) => {
          server.closeAllConnections();
          server.close(() => r());
        }),
      });
    });
  });
}

export interface Hit {
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
  readonly ms: number;
}

export async function hit(url: string, init: RequestInit = {}): Promise<Hit> {
  const started = performance.now();
  const res = await fetch(url, init);
  const body = await res.text();
  return { status: res.status, headers: res.headers, body, ms: performance.now() - started };
}

export function uniquePrefix(name: string): string {
  return `test:${name}:${process.pid}:${Date.now().toString(36)}:`;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
