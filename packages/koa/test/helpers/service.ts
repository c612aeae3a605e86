/* Test helpers for the core parts (service, health, limits, logging). Ports: 7200-7299. */
import { createLogger, createService, CreateServiceOptions, Logger, Service } from '../../src';

export const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const SECRET = 'test-secret-that-is-at-least-32-bytes-long!';

export interface CapturedLogger {
  readonly logger: Logger;
  readonly lines: string[];
  records(): { [key: string]: unknown }[];
}

export function captureLogger(level: 'debug' | 'info' | 'warn' = 'info', format: 'json' | 'text' = 'json'): CapturedLogger {
  const lines: string[] = [];
  const logger = createLogger({ level, format, output: { write: (l: string) => lines.push(l) }, base: { service: 'test' } });
  return { logger, lines, records: () => lines.map((l) => JSON.parse(l)) };
}

export interface Running {
  readonly service: Service;
  readonly url: string;
  readonly metricsUrl: string;
  readonly log: CapturedLogger;
  stop(): Promise<void>;
}

/** A service on `port` (metrics on port + 1), signals not handled, logs captured. */
export async function startService(port: number, env: { [k: string]: string } = {}, options: CreateServiceOptions = {}): Promise<Running> {
  const log = captureLogger();
  const service = createService({
    env: { NODE_ENV: 'test', JWT_SECRET: SECRET, PORT: String(port), METRICS_PORT: String(port + 1), SERVICE_NAME: `t${port}`, ...env },
    logger: log.logger,
    handleSignals: false,
    host: '127.0.0.1',
    ...options,
  });
  const { metricsPort } = await service.start();
  return {
    service,
    url: `http://127.0.0.1:${port}`,
    metricsUrl: `http://127.0.0.1:${metricsPort}`,
    log,
    stop: () => service.stop({ drainMs: 0 }),
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
