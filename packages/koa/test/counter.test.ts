import { Counter, Registry } from 'prom-client';
import { counterChild, sharedCounter } from '../src/redis/counter';

describe('counterChild', () => {
  test('counts on the request path and folds the counts in when scraped, per label set', async () => {
    const registry = new Registry();
    const counter = sharedCounter(registry, 'things_total', 'things', ['kind']);
    const a = counterChild(counter, { kind: 'a' })!;
    const b = counterChild(sharedCounter(registry, 'things_total', 'things', ['kind']), { kind: 'b' })!;
    for (let i = 0; i < 3; i++) a.inc();
    b.inc();
    expect(await registry.metrics()).toMatch(/things_total\{kind="a"\} 3\n/);
    expect(await registry.metrics()).toMatch(/things_total\{kind="b"\} 1\n/);
    a.inc();
    // A second scrape adds only what came since the first.
    expect(await registry.metrics()).toMatch(/things_total\{kind="a"\} 4\n/);
  });

  test('a counter registered by someone else is counted through prom-client', async () => {
    const registry = new Registry();
    new Counter({ name: 'theirs_total', help: 'x', labelNames: ['kind'], registers: [registry] });
    const child = counterChild(sharedCounter(registry, 'theirs_total', 'x', ['kind']), { kind: 'a' })!;
    child.inc();
    child.inc();
    expect(await registry.metrics()).toMatch(/theirs_total\{kind="a"\} 2\n/);
  });

  test('no registry, no counting', () => {
    expect(counterChild(sharedCounter(undefined, 'x_total', 'x', ['kind']), { kind: 'a' })).toBeUndefined();
  });
});
