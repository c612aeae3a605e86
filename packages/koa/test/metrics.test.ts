import { request } from 'node:http';
import { MetricNames, ServiceConventions } from '../src';
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
