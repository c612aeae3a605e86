import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { createHttpMetrics, MetricNames, ServiceConventions } from '../src';
import { Running, startService } from './helpers/service';

let svc: Running;
beforeAll(async () => {
  svc = await startService(7230, { RATE_LIMIT_REQUESTS: '100000' });
  svc.service.router.get('/orders/:id', (ctx) => {
    ctx.body = { id: ctx.params.id };
  });
  svc.service.router.post('/orders', (ctx) => {
    ctx.status = 201;
  });
});
afterAll(() => svc.stop());

async function scrape(): Promise<string> {
  const res = await fetch(svc.metricsUrl + ServiceConventions.METRICS_PATH);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return res.text();
}

function series(text: string, name: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`));
}

function rawMethod(method: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: 7230, method, path }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('metrics', () => {
  test('route label is the matched template; status and method labelled', async () => {
    for (let i = 0; i < 5; i++) await fetch(`${svc.url}/orders/${i}`);
    await fetch(`${svc.url}/orders`, { method: 'POST' });
    const text = await scrape();
    expect(text).toContain(`${MetricNames.HTTP_REQUESTS_TOTAL}{method="GET",route="/orders/:id",status="200"} 5`);
    expect(text).toContain(`${MetricNames.HTTP_REQUESTS_TOTAL}{method="POST",route="/orders",status="201"} 1`);
    expect(text).toContain(`${MetricNames.HTTP_REQUEST_DURATION_SECONDS}_count{method="GET",route="/orders/:id",status="200"} 5`);
    for (const le of MetricNames.HTTP_DURATION_BUCKETS) {
      expect(text).toContain(`${MetricNames.HTTP_REQUEST_DURATION_SECONDS}_bucket{le="${le}",method="GET",route="/orders/:id",status="200"}`);
    }
    // prom-client default metrics are there too.
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect(text).toContain(MetricNames.HTTP_REQUESTS_IN_FLIGHT);
  });

  test('cardinality stays bounded: 500 random paths and odd methods add a handful of series', async () => {
    const before = series(await scrape(), MetricNames.HTTP_REQUESTS_TOTAL).length;
    await Promise.all(Array.from({ length: 500 }, (_, i) => fetch(`${svc.url}/random/${i}/${Math.random()}?q=${i}`)));
    for (const m of ['PROPFIND', 'MKCOL', 'PURGE', 'LOCK']) await rawMethod(m, `/x/${m}`);
    const text = await scrape();
    const after = series(text, MetricNames.HTTP_REQUESTS_TOTAL);
    expect(after.length - before).toBeLessThanOrEqual(2);
    expect(text).toContain(`${MetricNames.HTTP_REQUESTS_TOTAL}{method="GET",route="${MetricNames.UNMATCHED_ROUTE}",status="404"} 500`);
    expect(text).toMatch(new RegExp(`${MetricNames.HTTP_REQUESTS_TOTAL}\\{method="OTHER",route="${MetricNames.UNMATCHED_ROUTE}",status="\\d+"\\} 4`));
    expect(text).not.toContain('/random/');
  });

  test('/metrics lives on its own port only', async () => {
    expect((await fetch(`${svc.url}${ServiceConventions.METRICS_PATH}`)).status).toBe(404);
    expect((await fetch(`${svc.metricsUrl}/other`)).status).toBe(404);
  });
});

describe('createHttpMetrics', () => {
  async function serve(metrics: ReturnType<typeof createHttpMetrics>, handler: Koa.Middleware): Promise<{ url: string; close: () => void }> {
    const app = new Koa();
    app.use(metrics.middleware);
    app.use(handler);
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
  }

  test('histogram buckets are cumulative, with sum and count, in the Prometheus text format', async () => {
    const metrics = createHttpMetrics({ collectDefaultMetrics: false, buckets: [0.001, 0.02, 1] });
    const app = await serve(metrics, async (ctx) => {
      if (ctx.path === '/slow') await new Promise((r) => setTimeout(r, 40));
      ctx.body = 'ok';
    });
    try {
      await fetch(`${app.url}/slow`);
      await fetch(`${app.url}/slow`);
    } finally {
      app.close();
    }
    const name = MetricNames.HTTP_REQUEST_DURATION_SECONDS;
    const labels = `method="GET",route="${MetricNames.UNMATCHED_ROUTE}",status="200"`;
    const text = await metrics.registry.metrics();
    expect(text).toContain(`# TYPE ${name} histogram`);
    expect(text).toContain(`# TYPE ${MetricNames.HTTP_REQUESTS_TOTAL} counter`);
    expect(text).toContain(`${name}_bucket{le="0.02",${labels}} 0`);
    expect(text).toContain(`${name}_bucket{le="1",${labels}} 2`);
    expect(text).toContain(`${name}_bucket{le="+Inf",${labels}} 2`);
    expect(text).toContain(`${name}_count{${labels}} 2`);
    const sum = Number(new RegExp(`${name}_sum\\{${labels}\\} ([\\d.e-]+)`).exec(text)![1]);
    expect(sum).toBeGreaterThanOrEqual(0.079);
    expect(sum).toBeLessThan(2);
    expect(text).toContain(`${MetricNames.HTTP_REQUESTS_TOTAL}{${labels}} 2`);

    // Registry-wide operations see the same series.
    const json = await metrics.registry.getMetricsAsJSON();
    expect(json.find((m) => m.name === MetricNames.HTTP_REQUESTS_TOTAL)?.values).toEqual([{ labels: { method: 'GET', route: MetricNames.UNMATCHED_ROUTE, status: '200' }, value: 2 }]);
    metrics.registry.resetMetrics();
    expect(await metrics.registry.metrics()).not.toContain(`${name}_count{`);
  });

  test('default labels reach every series', async () => {
    const metrics = createHttpMetrics({ collectDefaultMetrics: false, defaultLabels: { service: 'orders' } });
    const app = await serve(metrics, (ctx) => {
      ctx.status = 204;
    });
    await fetch(app.url).finally(() => app.close());
    expect(await metrics.registry.metrics()).toContain(`${MetricNames.HTTP_REQUESTS_TOTAL}{method="GET",route="${MetricNames.UNMATCHED_ROUTE}",status="204",service="orders"} 1`);
  });

  test.each([[[0.1, 0.05]], [[0]], [[Infinity]]])('buckets %j are refused with the option named', (buckets) => {
    expect(() => createHttpMetrics({ collectDefaultMetrics: false, buckets })).toThrow(/^buckets: .* increasing order$/);
  });
});
