import { get } from 'node:http';
import { buildSecurityHeaders, SecurityHeaders } from '../src';
import { Running, startService } from './helpers/service';

describe('security headers', () => {
  test('the guide\'s set, with X-XSS-Protection: 0', () => {
    expect(buildSecurityHeaders()).toEqual({
      'X-Frame-Options': 'DENY',
      'X-Content-Type-Options': 'nosniff',
      'X-XSS-Protection': '0',
      'Strict-Transport-Security': 'max-age=31536000; includeSubDomains',
      'Content-Security-Policy': SecurityHeaders.HEADERS['Content-Security-Policy'],
      'Referrer-Policy': 'strict-origin-when-cross-origin',
    });
  });

  test('development mode drops HSTS; CSP and the rest are configurable', () => {
    const dev = buildSecurityHeaders({ mode: 'development' });
    expect(dev['Strict-Transport-Security']).toBeUndefined();
    expect(dev['X-Frame-Options']).toBe('DENY');
    const custom = buildSecurityHeaders({
      contentSecurityPolicy: "default-src 'none'",
      contentSecurityPolicyReportOnly: "default-src 'self'; report-uri /csp",
      hsts: { maxAgeSeconds: 600, includeSubDomains: false, preload: true },
      xssProtection: false,
      extra: { 'Permissions-Policy': 'camera=()' },
    });
    expect(custom['Content-Security-Policy']).toBe("default-src 'none'");
    expect(custom['Content-Security-Policy-Report-Only']).toContain('report-uri');
    expect(custom['Strict-Transport-Security']).toBe('max-age=600; preload');
    expect(custom['X-XSS-Protection']).toBeUndefined();
    expect(custom['Permissions-Policy']).toBe('camera=()');
    expect(buildSecurityHeaders({ contentSecurityPolicy: false })['Content-Security-Policy']).toBeUndefined();
    expect(() => buildSecurityHeaders({ extra: { 'X-Bad': 'a\r\nSet-Cookie: x=1' } })).toThrow(/line breaks/);
  });

  test('behind the edge, only what the edge does not set is left', () => {
    expect(buildSecurityHeaders({ behindEdge: true })).toEqual({});
    // The edge replaces these names whatever the service sends; the others still come from the service.
    expect(buildSecurityHeaders({
      behindEdge: true,
      contentSecurityPolicy: "default-src 'none'",
      contentSecurityPolicyReportOnly: "default-src 'self'; report-uri /csp",
      extra: { 'Permissions-Policy': 'camera=()', 'x-frame-options': 'SAMEORIGIN' },
    })).toEqual({ 'Content-Security-Policy-Report-Only': "default-src 'self'; report-uri /csp", 'Permissions-Policy': 'camera=()' });
  });

  describe('on a running service', () => {
    let prod: Running;
    let dev: Running;
    let behindEdge: Running;
    beforeAll(async () => {
      prod = await startService(7220, { NODE_ENV: 'production' });
      prod.service.router.get('/ok', (ctx) => {
        ctx.body = 'ok';
      });
      prod.service.router.get('/boom', () => {
        throw new Error('secret internals');
      });
      dev = await startService(7222, { NODE_ENV: 'development' });
      behindEdge = await startService(7224, { NODE_ENV: 'production', SECURITY_HEADERS: 'edge' }, { headers: { extra: { 'Permissions-Policy': 'camera=()' } } });
      behindEdge.service.router.get('/ok', (ctx) => {
        ctx.body = 'ok';
      });
    });
    afterAll(async () => {
      await prod.stop();
      await dev.stop();
      await behindEdge.stop();
    });

    test.each(['/ok', '/boom', '/missing', '/healthz'])('%s carries every header', async (path) => {
      const res = await fetch(prod.url + path);
      for (const [name, value] of Object.entries(buildSecurityHeaders())) {
        expect(res.headers.get(name)).toBe(value);
      }
      if (path === '/boom') {
        expect(res.status).toBe(500);
        expect(await res.text()).not.toContain('secret internals');
      }
    });

    test('names go out in lowercase (the cheaper path in Node), security and RateLimit headers alike', async () => {
      const rawNames = await new Promise<string[]>((resolve, reject) => {
        get(`${prod.url}/ok`, (res) => {
          res.resume();
          resolve(res.rawHeaders.filter((_, i) => i % 2 === 0));
        }).on('error', reject);
      });
      const expected = [...Object.keys(buildSecurityHeaders()), 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset'].map((n) => n.toLowerCase());
      expect(rawNames).toEqual(expect.arrayContaining(expected));
    });

    test('SECURITY_HEADERS=edge: the service sends none of the headers the edge sets, and the rest as before', async () => {
      const res = await fetch(`${behindEdge.url}/ok`);
      expect(res.status).toBe(200);
      for (const name of Object.keys(SecurityHeaders.HEADERS)) expect([name, res.headers.get(name)]).toEqual([name, null]);
      expect(res.headers.get('permissions-policy')).toBe('camera=()');
      expect(res.headers.get('ratelimit-limit')).toBe('100');
    });

    test('development service sends no HSTS', async () => {
      const res = await fetch(`${dev.url}/healthz`);
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.has('strict-transport-security')).toBe(false);
    });
  });
});
