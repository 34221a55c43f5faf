// HTTP load with autocannon, used programmatically. Latencies are taken from every 2xx
// response's own high-resolution time (autocannon's histogram keeps whole milliseconds only).
import { get } from 'node:http';
import autocannon from 'autocannon';
import { quantile } from './stats.mjs';

/**
 * `rate`: requests per second over all connections (autocannon's overallRate: each connection
 * sends its share at the start of each second, then waits for the next); unset, as fast as the
 * server answers.
 */
export function load({ url, connections, durationSec, timeoutSec = 10, rate = undefined }) {
  return new Promise((resolve, reject) => {
    const latencies = [];
    const instance = autocannon(
      {
        url,
        connections,
        duration: durationSec,
        timeout: timeoutSec,
        ...(rate ? { overallRate: rate } : {}),
      },
      (error, result) => {
        if (error) return reject(error);
        const ok = result['2xx'];
        resolve({
          rps: ok / result.duration,
          p50: quantile(latencies, 0.5),
          p99: quantile(latencies, 0.99),
          ok,
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          durationSec: result.duration,
        });
      },
    );
    instance.on('response', (_client, status, _bytes, responseTime) => {
      if (status >= 200 && status < 300) latencies.push(responseTime);
    });
  });
}

/** One GET on a new connection, timed from just before connecting to the end of the body. */
export function timedGet(url, timeoutMs = 15_000) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = get(url, { agent: false, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () =>
        resolve({
          ms: performance.now() - t0,
          status: res.statusCode,
          body: Buffer.concat(chunks).toString(),
        }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}
