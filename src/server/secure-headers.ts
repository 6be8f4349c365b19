import fastifyHelmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

export interface SecureHeadersOptions {
  /** the server itself speaks HTTPS (--tls-cert/--tls-key) */
  tls: boolean;
}

/** How long browsers keep to HTTPS after one visit: a year, the usual value for HSTS. */
export const HSTS_MAX_AGE_SECONDS = 31_536_000;

/**
 * Security headers (helmet) on every response of the app.
 *
 * The one Content-Security-Policy has to suit the only HTML the app serves
 * itself: Swagger UI at /docs (scripts and styles from its own static files,
 * inline style attributes from React, icons as data: URLs; no inline scripts)
 * and the consent pages, which send a stricter policy of their own that
 * replaces this one. Nothing is loaded from other sites, so helmet's
 * allowance of any https: style or font is dropped.
 */
export async function registerSecureHeaders(app: FastifyInstance, options: SecureHeadersOptions): Promise<void> {
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      directives: {
        'style-src': ["'self'", "'unsafe-inline'"],
        'font-src': ["'self'", 'data:'],
        // Over plain HTTP this would send browsers to https:// for /docs' own
        // scripts and styles, which nothing answers: the page would stay blank.
        'upgrade-insecure-requests': options.tls ? [] : null,
      },
    },
    // HSTS over plain HTTP is ignored by browsers at best; behind a TLS-terminating
    // proxy the proxy is the one to send it.
    hsts: options.tls ? { maxAge: HSTS_MAX_AGE_SECONDS, includeSubDomains: true } : false,
  });
}
